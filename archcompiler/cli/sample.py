"""`archc sample BASE --dist KEY=KIND(LO,HI[,STEP]) ... --count N --seed S`: a random design space.

Models are drawn from one seeded generator in the parent process, analysed in order (in
--jobs processes), and kept when they pass the constraints, until --count are kept: the same
seed gives the same models whatever --jobs is. Rows, files and tables are the sweep's.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from ..core.diagnostics import SpecError
from ..explore import sweep as backend
from ..explore.objectives import unique, variant_name
from ..explore.sample import SPACES, Dist, draw, parse_dist, plot_edf
from ..language.sources import SpecText
from .codes import EXIT_OK, EXIT_SPEC
from .common import UsageError, analyze_source, output_path, parse_input, shown_ref
from .sweep import _check_keys, _context, base_of
from .sweep_write import check_write, plan_write, write_variants
from .term import Progress

MAX_COUNT = 100_000
MAX_DRAWS = 2_000_000
_GC_THRESHOLDS = (50_000, 20, 20)
_BATCH = 64  # draws a worker analyses at a time (about 0.1 s)

Draws = Sequence[tuple[int, dict[str, object]]]


@dataclass(frozen=True)
class SampleJob:
    """What every draw of a sample shares: enough to analyse a batch in another process."""

    base: str | SpecText  # a path or a name, or the text read from stdin
    shape: tuple[int, int, int] | None
    allow_outside: bool
    sets: tuple[str, ...]
    name: str | None  # the base's name, which model names are derived from
    keys: tuple[str, ...]  # the drawn fields


def analyse_draws(job: SampleJob, draws: Draws) -> list[backend.SweepRow]:
    """Analyse numbered draws: one row each, named for its values (the sweep's rows)."""
    rows = []
    name, keys = job.name, job.keys
    for n, values in draws:
        try:
            report = analyze_source(job.base, job.shape, job.allow_outside,
                                    [*job.sets, *(f"{k}={backend.flow(v)}"
                                                  for k, v in values.items())])
        except SpecError as exc:
            rows.append(backend.failed_row(n, values, exc.diagnostics))
            continue
        label = None if name is None else variant_name(name, values, keys,
                                                       report.weighted_depth, n)
        rows.append(backend.row_of(n, values, report, label))
    return rows


def _passes(args: argparse.Namespace, r: backend.SweepRow) -> bool:
    """Whether a drawn model meets the constraints."""
    if not backend.keep(r, args.max_params, args.max_macs, args.valid_only):
        return False
    if args.no_warnings and r.warnings:
        return False
    if args.min_params is not None and (r.params is None or r.params < args.min_params):
        return False
    return not (args.min_macs is not None and (r.macs is None or r.macs < args.min_macs))


def _dists(args: argparse.Namespace) -> list[Dist]:
    entries = list(SPACES[args.space]) if args.space else []
    given = list(args.dist or ())
    try:
        dists = [parse_dist(e) for e in [*entries, *given]]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    by_key = {d.key: d for d in dists}  # a --dist replaces the preset's for its key
    if not by_key:
        raise UsageError("sample needs a space: --dist KEY=KIND(LOW,HIGH[,STEP]) (repeatable) "
                         f"or --space {'|'.join(SPACES)}")
    return list(by_key.values())


def _check(args: argparse.Namespace) -> None:
    if not 1 <= args.count <= MAX_COUNT:
        raise UsageError(f"--count {args.count}: draw from 1 to {MAX_COUNT:,} models")
    if args.jobs is not None and not 1 <= args.jobs <= 256:
        raise UsageError(f"--jobs {args.jobs}: give a number of processes from 1 to 256")
    if args.max_draws is not None and not 1 <= args.max_draws <= MAX_DRAWS:
        raise UsageError(f"--max-draws {args.max_draws}: give 1 to {MAX_DRAWS:,}")


def cmd_sample(args: argparse.Namespace) -> int:
    """Draw models from a design space until --count pass the constraints; print, write, plot."""
    _check(args)
    dists = _dists(args)
    plot_path = None
    if args.plot is not None:
        plot_path = output_path(argparse.Namespace(output=args.plot), backend.PLOT_SUFFIXES,
                                "--plot")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'archcompiler[plot]'") from None
    if args.write is not None:
        check_write(args)
    shape = parse_input(args.input)
    rng = random.Random(args.seed)
    first_values = draw(dists, random.Random(args.seed))
    grid = [(k, [backend.flow(v)]) for k, v in first_values.items()]
    code, first = _check_keys(args, grid)
    if code is not None:
        if args.json and first.not_found:  # a spec was looked for: --json still answers
            print("[]")
        return code
    plan = None
    if args.write is not None:
        planned = plan_write(args, grid, first)
        if isinstance(planned, int):
            return planned
        plan = planned
    limit = args.max_draws or min(MAX_DRAWS, 200 * args.count)
    keys = tuple(d.key for d in dists)
    name = first.spec.name if first.spec is not None else None
    job = SampleJob(base_of(args), shape, args.allow_outside, tuple(args.set or ()), name, keys)
    start = time.perf_counter()
    kept, drawn, rows_seen = _run(args, job, dists, rng, limit)
    elapsed = time.perf_counter() - start
    print(f"sample: {drawn:,} models drawn from {shown_ref(args.base)} (seed {args.seed}) in "
          f"{elapsed:.2f} s; {len(kept):,} kept", file=sys.stderr)
    if len(kept) < args.count:
        print(f"archc: error: only {len(kept):,} of {drawn:,} draws pass the constraints, "
              f"fewer than --count {args.count:,}; widen the bounds, or raise --max-draws "
              f"(now {limit:,})", file=sys.stderr)
        if not kept:
            if args.json:  # --json promises one JSON document on stdout
                print("[]")
            return EXIT_SPEC
    kept = unique(kept)
    if args.json:
        print(backend.format_json(kept))
    elif args.csv:
        sys.stdout.write(backend.format_csv(kept, list(keys)))
    else:
        print(backend.format_table(kept, list(keys)))
    if plan is not None:
        write_variants(args, kept, rows_seen, plan)
    if plot_path is not None:
        plot_edf([r.macs or 0 for r in kept], [r.params or 0 for r in kept], plot_path,
                 f"archc sample {shown_ref(args.base)}: {len(kept):,} models (seed {args.seed}); "
                 "empirical CDFs")
        print(f"wrote {plot_path}", file=sys.stderr)
    return EXIT_OK if len(kept) >= args.count else EXIT_SPEC


def _run(args: argparse.Namespace, job: SampleJob, dists: list[Dist],
         rng: random.Random, limit: int) -> tuple[list[backend.SweepRow], int, list[backend.SweepRow]]:
    """Draw in batches, analyse them (in order), keep those that pass, until --count."""
    jobs = max(1, args.jobs or 1)
    with _quiet_gc():
        return _analyse(args, job, dists, rng, limit, jobs)


def _analyse(args: argparse.Namespace, job: SampleJob, dists: list[Dist], rng: random.Random,
             limit: int, jobs: int) -> tuple[list[backend.SweepRow], int, list[backend.SweepRow]]:
    """`_run`'s loop: in this process, or over `jobs` workers."""
    kept: list[backend.SweepRow] = []
    drawn = 0  # draws whose rows were looked at, not those analysed ahead and left over
    counter = itertools.count(1)
    progress = Progress(args.count)
    pool = ProcessPoolExecutor(jobs, mp_context=_context()) if jobs > 1 else None
    # With workers, a few batches are in flight at once and read back in the order drawn: the
    # workers never wait for the parent to filter a batch, and the kept models are the same
    # whatever --jobs is. Small batches keep the workers evenly loaded to the end.
    pending: deque[Future[list[backend.SweepRow]]] = deque()
    submitted = 0
    try:
        while len(kept) < args.count and (pending or submitted < limit):
            while pool is not None and len(pending) < 3 * jobs and submitted < limit:
                size = min(_BATCH, limit - submitted)
                batch = [(next(counter), draw(dists, rng)) for _ in range(size)]
                submitted += size
                pending.append(pool.submit(analyse_draws, job, batch))
            if pool is None:
                size = min(_BATCH, limit - submitted)
                part = analyse_draws(job, [(next(counter), draw(dists, rng))
                                           for _ in range(size)])
                submitted += size
            else:
                part = pending.popleft().result()
            drawn += len(part)
            for row in part:
                if len(kept) < args.count and _passes(args, row):
                    kept.append(row)
            progress.update(len(kept))
    finally:
        progress.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return kept, drawn, kept


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Spare the garbage collector what a sample never frees (as mypy tunes it for a run).

    Everything made so far (modules, the parsed base, its first analysis) lives to the end, so
    it is frozen out of every collection; and a sample allocates a thousand short-lived objects
    a model, almost none in cycles, so collections wait for more of them. Workers forked inside
    inherit both; the caller's settings come back after (tests run samples in-process).
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()

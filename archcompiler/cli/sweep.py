"""`archc sweep BASE --grid KEY=V1,V2 ...`: analyse every combination of overrides in-process.

Each variant is `api.analyze(BASE, overrides=[*--set, KEY=V, ...])`, the one resolve-then-analyze
path, so a variant is exactly what `archc summary BASE --set KEY=V` would show. The rows, the
Pareto front, the variant files and the plot are made by explore/sweep.py.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import multiprocessing.context
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ..analysis.report import Report
from ..api import analyze
from ..core import diagnostics as dg
from ..core.diagnostics import Diagnostic, SpecError
from ..explore import sweep as backend
from ..explore.objectives import (
    Objective,
    default_pair,
    mark_front,
    parse_objective,
    parse_pair,
    rank,
    unique,
    variant_name,
)
from ..language.load import Resolution, resolve
from ..language.sources import SpecText, parse_overrides
from ..language.yamlload import to_plain
from ..language.zoo import builtin_names
from ..report.summary import traits
from .codes import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from .common import (
    UsageError,
    analyze_source,
    not_an_input,
    output_path,
    parse_input,
    print_diags,
    shown_ref,
    spec_source,
)
from .sweep_write import WritePlan, check_write, plan_write, write_variants
from .term import Progress

MAX_VARIANTS = 100_000  # about five minutes of analysis: a larger grid is more likely a typo
# The cost bound: blocks analysed in all variants. An analysis costs about 0.1 ms a block, so the
# default is about ten minutes; 99,999 variants of a 5,000-block net (15 hours) are refused.
MAX_WORK = 6_000_000
_SECONDS_PER_BLOCK = 1e-4
_ESTIMATE_TRIES = 64
_SLICE = 256  # variants a process analyses between progress updates
_PER_JOB_MIN = 64  # fewer variants per process than this are not worth a process
_OPEN, _CLOSE = "[{(", "]})"

Grid = list[tuple[str, list[str]]]  # key -> the YAML text of each value
def split_values(text: str) -> list[str]:
    """Split `V1,V2,...` on the commas outside brackets and quotes: `[2,2],[3,4]` is 2 values."""
    values, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                raise UsageError(f"--grid value {text!r}: '{ch}' at {i + 1} closes nothing")
        elif ch == "," and depth == 0:
            values.append(text[start:i])
            start = i + 1
    if quote or depth:
        raise UsageError(f"--grid value {text!r}: an unclosed {'quote' if quote else 'bracket'}")
    values.append(text[start:])
    if any(not v.strip() for v in values):
        raise UsageError(f"--grid value {text!r}: an empty value (two commas in a row, or one at "
                         "an end); write null to reset a field")
    return [v.strip() for v in values]


def parse_grid(entries: Sequence[str]) -> Grid:
    """Parse every `--grid KEY=V1,V2,...`; UsageError for a malformed one."""
    grid: Grid = []
    for entry in entries:
        key, eq, rest = entry.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"--grid {entry!r}: write KEY=V1,V2,..., e.g. "
                             "--grid stages.depths=[2,2,2,2],[3,4,6,3]")
        if any(k == key for k, _ in grid):
            raise UsageError(f"--grid {key} is given twice; list all its values in one --grid")
        grid.append((key, split_values(rest)))
    if not grid:
        raise UsageError("sweep needs at least one --grid KEY=V1,V2,... (nothing to vary)")
    count = 1
    for _, values in grid:
        count *= len(values)
    if count > MAX_VARIANTS:
        raise UsageError(f"the grid has {count:,} variants, more than {MAX_VARIANTS:,}; split the "
                         "sweep or coarsen a --grid")
    return grid


def _relabel(diags: Sequence[Diagnostic], sources: dict[str, str], first: int,
             grid_entries: Sequence[str]) -> tuple[list[Diagnostic], dict[str, str]]:
    """Name the sources of grid overrides `<--grid KEY=VALUE>` instead of `<--set N>`."""
    names = {f"<--set {first + i + 1}>": f"<--grid {e}>" for i, e in enumerate(grid_entries)}
    out = []
    for d in diags:
        if d.span is not None and d.span.file in names:
            d = replace(d, span=replace(d.span, file=names[d.span.file]))
        out.append(d)
    return out, {names.get(k, k): v for k, v in sources.items()}


def typed_values(grid: Grid) -> list[list[object]]:
    """Read each grid value with the spec loader (so `10` is an int); UsageError if not YAML."""
    out = []
    for key, texts in grid:
        typed = []
        for text in texts:
            sources: dict[str, str] = {}
            parsed, diags = parse_overrides([f"{key}={text}"], sources)
            if dg.has_errors(diags) or not parsed:
                diags, sources = _relabel(diags, sources, 0, [f"{key}={text}"])
                print_diags(diags, sources)
                raise UsageError(f"--grid {key}: the value {text!r} is not a spec value")
            typed.append(to_plain(parsed[0].value))
        out.append(typed)
    return out


def _in_key(d: Diagnostic, sources: dict[str, str]) -> bool:
    """Whether a diagnostic points into the KEY part of an override (unknown field, bad index)."""
    if d.span is None or not d.span.file.startswith("<--"):
        return False
    key = sources.get(d.span.file, "").partition("=")[0]
    return d.severity is dg.Severity.ERROR and d.span.col <= len(key)


def _check_keys(args: argparse.Namespace, grid: Grid) -> tuple[int | None, Resolution]:
    """Resolve BASE with --set and the first value of each key: bad keys fail the whole grid."""
    first = [f"{k}={v[0]}" for k, v in grid]
    sets = list(args.set or ())
    res = resolve(base_of(args), allow_outside=args.allow_outside, overrides=[*sets, *first])
    if res.not_found:
        print_diags(res.diagnostics, res.sources)
        return EXIT_USAGE, res
    bad = [d for d in res.diagnostics if _in_key(d, res.sources)]
    if bad:
        diags, sources = _relabel(bad, res.sources, len(sets), first)
        print_diags(diags, sources)
        where = "a --set" if any(d.span and d.span.file.startswith("<--set") for d in diags) \
            else "the grid"
        print(f"archc: error: {where} names a field that {shown_ref(args.base)} does not have",
              file=sys.stderr)
        return EXIT_USAGE, res
    return None, res


def estimate_work(args: argparse.Namespace, grid: Grid, first: Resolution,
                  bound: int | None = None) -> tuple[int, int]:
    """The variant count, and the most blocks one variant has (each value of each key tried).

    A sweep's time is about variants x blocks (0.1 ms a block); resolving one variant per grid
    value costs milliseconds, so the estimate is made before the sweep starts. It stops as soon
    as the work is known to pass `bound`.
    """
    variants = 1
    for _, values in grid:
        variants *= len(values)
    most = len(first.spec.blocks) if first.spec is not None else 0
    if bound is not None and variants * max(most, 1) > bound:
        return variants, most
    sets = list(args.set or ())
    firsts = [f"{k}={v[0]}" for k, v in grid]
    tried = 0
    for i, (key, values) in enumerate(grid):
        for text in values[1:]:
            if tried >= _ESTIMATE_TRIES:  # enough to see a depth grid's largest member
                return variants, most
            tried += 1
            overrides = [*sets, *firsts[:i], f"{key}={text}", *firsts[i + 1:]]
            res = resolve(base_of(args), allow_outside=args.allow_outside, overrides=overrides)
            if res.spec is not None:
                most = max(most, len(res.spec.blocks))
                if bound is not None and variants * most > bound:
                    return variants, most
    return variants, most


def _check_work(args: argparse.Namespace, grid: Grid, first: Resolution) -> None:
    """Refuse, before it starts, a sweep that would analyse more blocks than --max-work."""
    bound = args.max_work if args.max_work is not None else MAX_WORK
    variants, blocks = estimate_work(args, grid, first, bound)
    work = variants * max(blocks, 1)
    if work > bound:
        raise UsageError(f"the sweep would analyse about {work:,} blocks ({variants:,} variants "
                         f"of up to {blocks:,} blocks), more than --max-work {bound:,} (about "
                         f"{bound * _SECONDS_PER_BLOCK / 60:.0f} minutes); coarsen a --grid, or "
                         "raise --max-work")


@dataclass(frozen=True)
class Job:
    """What every variant of a sweep shares: enough to analyse a slice in another process."""

    base: str | SpecText  # a path or a name, or the text read from stdin
    shape: tuple[int, int, int] | None
    allow_outside: bool
    sets: tuple[str, ...]
    grid: tuple[tuple[str, tuple[str, ...]], ...]
    values: tuple[tuple[object, ...], ...]
    name: str | None  # the base's name, which variant names are derived from
    varying: tuple[str, ...]  # the grid keys with more than one value


def analyse_slice(job: Job, combos: Sequence[tuple[int, tuple[int, ...]]]
                  ) -> list[backend.SweepRow]:
    """Analyse the numbered grid combinations `combos`: one row each, named for its values."""
    keys = [k for k, _ in job.grid]
    rows = []
    for n, combo in combos:
        overrides = [*job.sets, *(f"{k}={job.grid[i][1][j]}"
                                  for i, (k, j) in enumerate(zip(keys, combo)))]
        typed = {k: job.values[i][j] for i, (k, j) in enumerate(zip(keys, combo))}
        try:
            report = analyze_source(job.base, job.shape, job.allow_outside, overrides)
        except SpecError as exc:
            rows.append(backend.failed_row(n, typed, exc.diagnostics))
            continue
        name = None if job.name is None else variant_name(
            job.name, typed, job.varying, report.weighted_depth, n)
        rows.append(backend.row_of(n, typed, report, name))
    return rows


def run_sweep(args: argparse.Namespace, grid: Grid, values: list[list[object]],
              name: str | None = None) -> list[backend.SweepRow]:
    """Analyse every combination of the grid; one row each, in grid order (in --jobs processes)."""
    job = Job(base_of(args), parse_input(args.input), args.allow_outside, tuple(args.set or ()),
              tuple((k, tuple(v)) for k, v in grid), tuple(tuple(v) for v in values), name,
              tuple(k for k, v in grid if len(v) > 1))
    combos = list(enumerate(itertools.product(*(range(len(v)) for _, v in grid)), 1))
    jobs = max(1, min(getattr(args, "jobs", 1) or 1, len(combos) // _PER_JOB_MIN or 1))
    progress, rows = Progress(len(combos)), []
    try:
        if jobs == 1:
            for start in range(0, len(combos), _SLICE):
                rows.extend(analyse_slice(job, combos[start:start + _SLICE]))
                progress.update(len(rows))
        else:
            size = max(1, min(_SLICE, len(combos) // (4 * jobs)))
            slices = [combos[i:i + size] for i in range(0, len(combos), size)]
            with ProcessPoolExecutor(jobs, mp_context=_context()) as pool:
                for part in pool.map(analyse_slice, itertools.repeat(job), slices):
                    rows.extend(part)
                    progress.update(len(rows))
    finally:  # an interrupted sweep leaves no half-drawn progress line behind
        progress.close()
    return rows


def _context() -> multiprocessing.context.BaseContext:
    """fork where there is one (workers start at once, with the parse cache), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _check_plot(args: argparse.Namespace) -> Path | None:
    if args.plot is None:
        return None
    path = output_path(argparse.Namespace(output=args.plot), backend.PLOT_SUFFIXES, "--plot")
    try:
        import matplotlib  # noqa: F401  (checked now, so a long sweep is not wasted)
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'archcompiler[plot]'") from None
    return path


def parse_goals(args: argparse.Namespace) -> tuple[Objective | None, tuple[Objective, Objective]]:
    """The objective (--maximize/--minimize) and the Pareto pair; UsageError when malformed."""
    if args.jobs is not None and not 1 <= args.jobs <= 256:
        raise UsageError(f"--jobs {args.jobs}: give a number of processes from 1 to 256")
    try:
        goal = (parse_objective(args.maximize, "max", "--maximize") if args.maximize
                else parse_objective(args.minimize, "min", "--minimize") if args.minimize
                else None)
        pair = parse_pair(args.pareto) if args.pareto else default_pair(goal)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return goal, pair


def base_of(args: argparse.Namespace) -> str | SpecText:
    """BASE as the language layer takes it; `-` is read from stdin once, on the first call."""
    if not hasattr(args, "base_source"):
        args.base_source = spec_source(args.base)
    source: str | SpecText = args.base_source
    return source


def cmd_sweep(args: argparse.Namespace) -> int:
    """Analyse every variant of a grid; print, write and plot the ones the filters keep."""
    grid = parse_grid(args.grid)
    goal, pair = parse_goals(args)
    plot_path = _check_plot(args)
    if args.write is not None:
        check_write(args)
    values = typed_values(grid)
    parse_input(args.input)  # a bad --input fails before the sweep, not once per variant
    code, first = _check_keys(args, grid)
    if code is not None:
        if args.json and first.not_found:  # a spec was looked for: --json still answers
            print("[]")
        return code
    if plot_path is not None:
        not_an_input(plot_path, "--plot", first.sources)
    plan: WritePlan | None = None
    if args.write is not None:
        planned = plan_write(args, grid, first)
        if isinstance(planned, int):
            return planned
        plan = planned
    _check_work(args, grid, first)
    start = time.perf_counter()
    rows = unique(run_sweep(args, grid, values, first.spec.name if first.spec else None))
    elapsed = time.perf_counter() - start
    kept = mark_front([r for r in rows if backend.keep(
        r, args.max_params, args.max_macs, args.valid_only, args.depth)], pair)
    if goal is not None:
        kept = rank(kept, goal)
    valid = sum(r.ok for r in rows)
    print(f"sweep: {len(rows):,} variants of {shown_ref(args.base)} in {elapsed:.2f} s; {valid:,} valid; "
          f"{len(kept):,} kept", file=sys.stderr)
    if not kept:
        print(f"archc: error: no variant is left: {_why_empty(args, rows)}", file=sys.stderr)
        if args.json:  # --json promises one JSON document on stdout
            print("[]")
        return EXIT_SPEC
    if goal is not None:
        _print_best(goal, kept)
    keys = [k for k, _ in grid]
    if args.json:
        print(backend.format_json(kept))
    elif args.csv:
        sys.stdout.write(backend.format_csv(kept, keys))
    else:
        print(backend.format_table(kept, keys))
    if plan is not None:
        write_variants(args, kept, rows, plan)
    if plot_path is not None:
        _plot(args, keys, kept, rows, plot_path, pair)
    return EXIT_OK


def _print_best(goal: Objective, kept: list[backend.SweepRow]) -> None:
    """Say on stderr which kept variants reach the objective's best value."""
    best = goal.value(kept[0]) if kept[0].ok else None
    if best is None:
        print(f"sweep: no kept variant is valid, so none has a {goal.name}", file=sys.stderr)
        return
    top = [r for r in kept if r.ok and goal.value(r) == best]
    names = ", ".join(str(r.name) for r in top[:5]) + (f" and {len(top) - 5} more"
                                                         if len(top) > 5 else "")
    print(f"sweep: {goal}: {best:,}, reached by {len(top):,} variant{'s' * (len(top) != 1)} "
          f"(listed first): {names}", file=sys.stderr)


def _why_empty(args: argparse.Namespace, rows: list[backend.SweepRow]) -> str:
    costed = [r for r in rows if r.params is not None and r.macs is not None]
    if not costed:
        return "no variant resolved (each has errors: run `archc validate` on one with --set)"
    least_p = min(r.params for r in costed if r.params is not None)
    least_m = min(r.macs for r in costed if r.macs is not None)
    parts = []
    if args.max_params is not None:
        parts.append(f"--max-params {args.max_params:,} (the smallest has {least_p:,})")
    if args.max_macs is not None:
        parts.append(f"--max-macs {args.max_macs:,} (the cheapest has {least_m:,})")
    if args.depth is not None:
        depths = sorted({r.depth for r in costed if r.depth is not None})
        parts.append(f"--depth {args.depth} (the depths are {depths[0]} to {depths[-1]})")
    if args.valid_only:
        parts.append(f"--valid-only ({sum(r.ok for r in rows)} of {len(rows)} are valid)")
    return "the filters drop every variant: " + "; ".join(parts)


def zoo_references(base: Report) -> list[tuple[str, int, int]]:
    """The built-in specs of the base's family, analysed at its input size and classes.

    The family is read from the graphs (report/summary.traits): a ResNet sweep is shown with
    the ResNets, a pre-activation one with the pre-activation nets; CIFAR-sized inputs with the
    CIFAR zoo. If the family has no other member, every spec of that input kind is shown.
    """
    c, h, w = base.input_shape
    family = set(traits(base))
    native = {name: analyze(name) for name in builtin_names()}
    same_input = [n for n, r in native.items() if ("CIFAR" in traits(r)) == ("CIFAR" in family)]
    chosen = [n for n in same_input if set(traits(native[n])) == family]
    refs = []
    for name in chosen if len(chosen) >= 2 else same_input:
        try:
            report = analyze(name, (c, h, w), overrides={"head.classes": base.spec.classes})
        except SpecError:
            continue
        if report.output_shape is not None:
            refs.append((name, report.params, report.macs))
    return refs


def _plot(args: argparse.Namespace, keys: list[str], kept: list[backend.SweepRow],
          rows: list[backend.SweepRow], path: Path,
          pair: tuple[Objective, Objective] | None = None) -> None:
    """Plot the kept variants with the zoo specs of the base's family that fall near them."""
    try:
        base = analyze_source(base_of(args), parse_input(args.input), args.allow_outside,
                              args.set)
        refs = zoo_references(base)
    except SpecError:  # an invalid base has no family to compare with: the variants alone
        refs = []
    costed = [(r.params, r.macs) for r in kept if r.params is not None and r.macs is not None]
    if costed:  # only the zoo specs in (or near) the sweep's range, so the variants stay legible
        ps, ms = [p for p, _ in costed], [m for _, m in costed]
        refs = [r for r in refs if min(ps) / 3 <= r[1] <= max(ps) * 3
                and min(ms) / 3 <= r[2] <= max(ms) * 3]
    title = (f"archc sweep {shown_ref(args.base)} over {', '.join(keys)}: {len(kept):,} of {len(rows):,} "
             "variants")
    budgets = (args.max_params, args.max_macs)
    front = "Pareto front" if pair is None else f"Pareto front ({pair[0]}, {pair[1]})"
    backend.plot(kept, refs, path, title, budgets=budgets, front_label=front)
    print(f"wrote {path}", file=sys.stderr)

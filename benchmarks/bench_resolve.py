"""The front half of the pipeline (resolution), phase by phase, against the code before it.

Issue 17's two workloads, resolution only (no analysis): resnet50 with `head.classes` 1..N,
and sampled RegNetX width rules (bench_memo.py's generator). Each tree runs in a fresh
process, the trees taking turns for `--rounds` rounds, so both see the same load on a shared
machine; the figure is the median of the rounds, in microseconds a model, per phase of
`language/load.py:resolve` (wall time inside the phase, warm). `--instructions` counts
instructions a resolution with callgrind instead (start-up taken off), which a busy machine
does not move.

Usage: python benchmarks/bench_resolve.py --before <worktree of the code before> [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench_memo import REGNETS  # type: ignore[import-not-found]

HERE = Path(__file__).resolve().parent.parent

WORK = r"""
import functools, json, math, random, sys, time
from archcompiler.language import load as L
from archcompiler.language.load import resolve
what, n = sys.argv[1], int(sys.argv[2])
PHASES = ("_load", "parse_overrides", "apply_overrides", "drop_nulls", "declared_scope",
          "validate_tree", "resolve_spec")
spent = dict.fromkeys(PHASES, 0.0)

def timed(name):
    inner = getattr(L, name)
    @functools.wraps(inner)
    def call(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start
    setattr(L, name, call)

""" + REGNETS + r"""
if what == "classes":
    jobs = [("resnet50", {"head.classes": c}) for c in range(1, n + 1)]
else:
    jobs = [("regnetx_002", {"stages.widths": w}) for w in regnets(n)]
resolve("resnet50"); resolve("regnetx_002")
if len(sys.argv) > 3:
    for name in PHASES:
        timed(name)
start = time.perf_counter()
for base, over in jobs:
    resolve(base, overrides=over)
total = time.perf_counter() - start
print(json.dumps({"total": total, **spent}))
"""


def run(tree: Path, what: str, n: int, phases: bool) -> dict[str, float]:
    """One measurement in a fresh process with `tree` first on the path: seconds per phase."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-c", WORK, what, str(n), *(["phases"] if phases else [])]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd="/tmp")
    return dict(json.loads(done.stdout))


def instructions(tree: Path, what: str, n: int) -> float:
    """Instructions of `n` resolutions in a fresh process (callgrind), start-up included."""
    out = Path(f"/tmp/callgrind.resolve.{os.getpid()}")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                    sys.executable, "-c", WORK, what, str(n)],
                   env=env, capture_output=True, check=True, cwd="/tmp")
    total = next(line for line in out.read_text().splitlines()
                 if line.startswith(("summary:", "totals:")))
    out.unlink()
    return float(total.split()[1])


def main() -> None:
    """Measure both workloads on both trees and print the figures a model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("-n", type=int, default=3000, help="models a round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "now": HERE}
    for what in ("classes", "regnet"):
        if args.instructions:
            for name, tree in trees.items():
                counted = instructions(tree, what, args.n + 1) - instructions(tree, what, 1)
                print(f"{what} x{args.n}, {name}: {counted / args.n / 1e6:.3f} M instructions "
                      "a resolution", flush=True)
            continue
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                rounds[name].append(run(tree, what, args.n, phases=True))
        print(f"{what} x{args.n}, us a model, median of {args.rounds} interleaved rounds")
        print(f"  {'phase':18s}" + "".join(f"{name:>10s}" for name in trees))
        for phase in rounds["now"][0]:
            cells = [statistics.median(r[phase] for r in rounds[name]) / args.n * 1e6
                     for name in trees]
            print(f"  {phase.lstrip('_'):18s}" + "".join(f"{c:10.1f}" for c in cells), flush=True)


if __name__ == "__main__":
    main()

"""In-process analysis speed before and after the open language, in one run.

The open language (op records with traits, one LayerBuilder for every element, scoped block
types checked in a second pass) must not slow `analyze("resnet50")` down. This times it in this
checkout and in a checkout of the commit before the change, alternating, each in its own
process, and prints the medians and the ratio; and times a spec whose blocks come from a YAML
block file (the interpreter) against the same net from the built-in Python block.

Usage:
    git worktree add /tmp/before <commit before the change>
    python benchmarks/bench_open_language.py --before /tmp/before [--rounds 5]
    python benchmarks/bench_open_language.py --before /tmp/before --instructions

Wall-clock medians need a quiet machine. `--instructions` counts the CPU instructions of one
analysis instead, with valgrind's callgrind (the count of N analyses less the count of none,
divided by N): repeatable whatever else the machine is doing, and the same for both sides.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TIMER = r"""
import sys, time, statistics
import archcompiler
spec = sys.argv[1]
archcompiler.analyze(spec)  # warm: imports, the parse cache, pydantic's first validation
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    archcompiler.analyze(spec)
    times.append(time.perf_counter() - start)
print(statistics.median(times) * 1e3)
"""

YAML_RESNET50 = """\
extends: resnet50
name: resnet50
blocks: {{bottleneck_yaml: {block}}}
stages: {{block: {{type: bottleneck_yaml}}}}
"""


def median_ms(checkout: Path, spec: str, n: int) -> float:
    """Median in-process analysis time of `spec`, in ms, with `checkout` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", TIMER, spec, str(n)], env=env, check=True,
                          capture_output=True, text=True, cwd=checkout)
    return float(done.stdout.strip())


COUNTER = r"""
import sys
import archcompiler
archcompiler.analyze(sys.argv[1])
for _ in range(int(sys.argv[2])):
    archcompiler.analyze(sys.argv[1])
"""


def instructions(checkout: Path, spec: str, n: int) -> int:
    """Instructions callgrind counts for a process that analyses `spec` 1 + n times."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        sys.executable, "-c", COUNTER, spec, str(n)], env=env, check=True,
                       capture_output=True, cwd=checkout)
        for line in out.read_text().splitlines():
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError("callgrind wrote no summary")


def count(checkout: Path, n: int) -> float:
    """Instructions of one analysis of resnet50."""
    return (instructions(checkout, "resnet50", n) - instructions(checkout, "resnet50", 0)) / n


def main() -> None:
    """Print the before/after medians, and the YAML block against the Python one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout before the change")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-n", type=int, default=300, help="analyses per round")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions with callgrind instead of timing")
    args = parser.parse_args()
    if args.instructions:
        b, a = count(args.before, 50), count(ROOT, 50)
        print("analyze('resnet50'), instructions per analysis (callgrind, 50 analyses):")
        print(f"  before {b:,.0f}\n  after  {a:,.0f}\n  after / before = {a / b:.3f}")
        return
    before, after = [], []
    for _ in range(args.rounds):  # alternate, so a busy moment hurts both sides alike
        before.append(median_ms(args.before, "resnet50", args.n))
        after.append(median_ms(ROOT, "resnet50", args.n))
    b, a = statistics.median(before), statistics.median(after)
    print(f"analyze('resnet50') in-process, median of {args.rounds} rounds x {args.n}:")
    print(f"  before {b:.3f} ms ({', '.join(f'{x:.2f}' for x in before)})")
    print(f"  after  {a:.3f} ms ({', '.join(f'{x:.2f}' for x in after)})")
    print(f"  after / before = {a / b:.3f}")
    spec = ROOT / "tests" / "data" / "blocks" / ".bench_resnet50.yaml"
    spec.write_text(YAML_RESNET50.format(
        block=ROOT / "tests" / "data" / "blocks" / "bottleneck_yaml.yaml"), encoding="utf-8")
    try:
        yaml = statistics.median(median_ms(ROOT, str(spec), args.n) for _ in range(args.rounds))
    finally:
        spec.unlink()
    print(f"resnet50 with its bottleneck from a YAML block file: {yaml:.3f} ms "
          f"({yaml / a:.2f}x the built-in Python block)")


if __name__ == "__main__":
    main()

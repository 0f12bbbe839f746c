"""In-process analysis speed before and after the open language, in one run.

The open language (op records with traits, one LayerBuilder for every element, scoped block
types checked in a second pass) must not slow `analyze("resnet50")` down. This times it in this
checkout and in a checkout of the commit before the change, alternating, each in its own
process, and prints the medians and the ratio; and times a spec whose blocks come from a YAML
block file (the interpreter) against the same net from the built-in Python block.

Usage:
    git worktree add /tmp/before <commit before the change>
    python benchmarks/bench_open_language.py --before /tmp/before [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
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


def main() -> None:
    """Print the before/after medians, and the YAML block against the Python one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout before the change")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-n", type=int, default=300, help="analyses per round")
    args = parser.parse_args()
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

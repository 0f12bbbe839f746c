"""`archc sweep` over 10,000 resnet50-sized variants, against the shell loop a user would write.

The sweep: `archc sweep resnet50 --grid stages.depths.0=1..10 --grid stages.depths.1=1..10
--grid stages.depths.2=1..10 --grid stages.depths.3=1..10 --csv`, 10x10x10x10 = 10,000
variants of ResNet-50's depths (from 4 to 40 bottlenecks), run in-process through `cli.main`,
end to end: grid parsing, every resolve and analysis, the Pareto front and the CSV.

The alternative, in the same run: a shell loop that writes one YAML file per variant (extends
resnet50, sets the depths) and runs `archc summary --json FILE` on it. It is timed on a sample of
`--sample` variants spread over the grid, with the files written inside the timed loop as a user's
script would, and extrapolated to 10,000.

Usage: python benchmarks/bench_sweep.py [--archc PATH] [--sample 20] [--size 10] [--no-record]

With the default size it records its figures in benchmarks/results.json (benchmarks/results.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "benchmarks"))  # results.py


def grid_args(size: int) -> list[str]:
    """One --grid per stage depth, values 1..size."""
    values = ",".join(str(v) for v in range(1, size + 1))
    return [a for i in range(4) for a in ("--grid", f"stages.depths.{i}={values}")]


def in_process(size: int) -> tuple[float, int]:
    """Time `archc sweep` in-process; return seconds and the number of CSV rows."""
    from archcompiler.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["sweep", "resnet50", *grid_args(size), "--csv"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"sweep failed ({code}): {err.getvalue()[-500:]}")
    return seconds, out.getvalue().count("\n") - 1


def shell_loop(archc: str, size: int, sample: int) -> tuple[float, int]:
    """Time the shell loop over `sample` variants spread over the grid; return seconds, count."""
    total = size**4
    picks = [round(i * (total - 1) / max(sample - 1, 1)) for i in range(sample)]
    variants = []
    for n in picks:
        depths = [(n // size**k) % size + 1 for k in (3, 2, 1, 0)]
        variants.append(",".join(map(str, depths)))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "loop.sh"
        script.write_text(
            "set -e\n"
            f"for d in {' '.join(variants)}; do\n"
            f'  f={tmp}/v_${{d//,/_}}.yaml\n'
            '  printf "spec_version: 1\\nextends: resnet50\\nname: v\\n'
            'stages: {depths: [%s]}\\n" "$d" > "$f"\n'
            f'  {archc} summary --json "$f" > "$f.json"\n'
            "done\n", encoding="utf-8")
        start = time.perf_counter()
        subprocess.run(["bash", str(script)], check=True, cwd=tmp)
        seconds = time.perf_counter() - start
        done = len(list(Path(tmp).glob("*.json")))
    return seconds, done


def readme_example() -> tuple[float, int]:
    """Time the README's 3,840-variant sweep (every 50-layer split of ResNet-50), in-process."""
    from archcompiler.cli import main

    grid = ["--grid", "stages.depths.0=1,2,3,4,5,6,7,8", "--grid", "stages.depths.1=1,2,3,4,5,6,7,8",
            "--grid", "stages.depths.2=1,2,3,4,5,6,7,8,9,10", "--grid", "stages.depths.3=1,2,3,4,5,6"]
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["sweep", "resnet50", *grid, "--depth", "50"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"sweep failed ({code}): {err.getvalue()[-500:]}")
    return seconds, 8 * 8 * 10 * 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archc", default=shutil.which("archc", path=str(Path(sys.executable)
                                                                          .parent)) or "archc")
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--size", type=int, default=10, help="values per stage depth")
    parser.add_argument("--no-record", dest="record", action="store_false",
                        help="do not write the figures to benchmarks/results.json")
    args = parser.parse_args()
    total = args.size**4
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")
    sweep_s, rows = in_process(args.size)
    print(f"archc sweep, in-process: {rows:,} variants in {sweep_s:.1f} s "
          f"({1e3 * sweep_s / rows:.2f} ms per variant)")
    loop_s, done = shell_loop(args.archc, args.size, args.sample)
    per = loop_s / done
    print(f"shell loop of `archc summary --json`: {done} variants in {loop_s:.1f} s "
          f"({per:.3f} s per variant); {total:,} variants would take {per * total:,.0f} s "
          f"({per * total / 3600:.1f} h)")
    print(f"sweep is {per * total / sweep_s:.0f}x faster than the shell loop")
    example_s, example_n = readme_example()
    print(f"the README's sweep example: {example_n:,} variants in {example_s:.1f} s")
    if args.record and args.size == 10:
        from results import record

        command = "python benchmarks/bench_sweep.py" + (f" --sample {args.sample}"
                                                         if args.sample != 20 else "")
        record(command, {
            "sweep.seconds": (sweep_s, "s", 1, "10,000 ResNet-50 depth variants, archc sweep "
                                                "in-process"),
            "sweep.ms_per_variant": (1e3 * sweep_s / rows, "ms", 2, "the same, per variant"),
            "sweep.loop_per_variant": (per, "s", 3, "shell loop of archc summary --json, per "
                                                    f"variant, on a {done}-variant sample"),
            "sweep.loop_total": (per * total, "s", 0, "the shell loop extrapolated to 10,000"),
            "sweep.ratio": (per * total / sweep_s, "x", 0, "sweep vs shell loop"),
            "sweep.readme_example": (example_s, "s", 1, "the README's 3,840-variant sweep "
                                                         "(--depth 50), in-process"),
        })
        print("recorded in benchmarks/results.json")


if __name__ == "__main__":
    main()

"""Start-up of `archc` against the code before a change, in one run (issue 21).

Each command runs in a fresh process with its tree first on PYTHONPATH, the trees taking turns,
so both see the same load on a shared machine. Three figures per command and tree:
- wall: the best of --repeat whole-process runs (the load moves it 2-4x on a shared machine);
- imports: the sum of `python -X importtime`'s self times, in ms (load moves it less);
- instructions: callgrind's count for the whole process (--instructions; load-independent).

Usage: python benchmarks/bench_startup.py --before /path/to/worktree/of/main [--instructions]
[--record]   (--record writes the wall times to benchmarks/results.json, for docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
# The console script's own body (see the archc entry point): the launcher, then the CLI.
LAUNCH = "import sys; sys.argv[0] = 'archc'; from archc_launch import main; sys.exit(main())"
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "archc --version": ["-c", LAUNCH, "--version"],
    "archc summary resnet152": ["-c", LAUNCH, "summary", "resnet152"],
}
FIGURE_IDS = {"python -c pass": "pass", "archc --version": "version",
              "archc summary resnet152": "summary"}


def _env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**env, "PYTHONPATH": str(tree)}


def wall(tree: Path, argv: list[str]) -> float:
    """One whole-process run, in seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], env=_env(tree), capture_output=True, check=True,
                   cwd="/tmp")
    return time.perf_counter() - start


def import_ms(tree: Path, argv: list[str]) -> float:
    """The sum of the self times `-X importtime` reports, in milliseconds."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], env=_env(tree),
                          capture_output=True, text=True, check=True, cwd="/tmp")
    found = re.findall(r"^import time:\s+(\d+) \|", done.stderr, re.MULTILINE)
    return sum(int(us) for us in found) / 1000


def instructions(tree: Path, argv: list[str]) -> float:
    """Callgrind's instruction count for the whole process."""
    out = Path(f"/tmp/callgrind.startup.{os.getpid()}")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                    sys.executable, *argv], env=_env(tree), capture_output=True, check=True,
                   cwd="/tmp")
    total = next(line for line in out.read_text().splitlines()
                 if line.startswith(("summary:", "totals:")))
    out.unlink()
    return float(total.split()[1])


def main() -> None:
    """Measure every command on both trees, taking turns; print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--record", action="store_true",
                        help="write the wall times to benchmarks/results.json")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "now": HERE}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for label, argv in COMMANDS.items():
        walls: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(args.repeat):
            for name, tree in trees.items():
                walls[name].append(wall(tree, argv))
        for name, tree in trees.items():
            fig = {"wall_best": min(walls[name]),
                   "wall_median": sorted(walls[name])[len(walls[name]) // 2],
                   "imports_ms": min(import_ms(tree, argv) for _ in range(3))}
            if args.instructions:
                fig["instructions"] = instructions(tree, argv)
            results.setdefault(label, {})[name] = fig
            extra = (f", {fig['instructions'] / 1e6:,.0f} M instructions"
                     if args.instructions else "")
            print(f"{label}, {name}: best {fig['wall_best']:.3f} s, median "
                  f"{fig['wall_median']:.3f} s, imports {fig['imports_ms']:.1f} ms{extra}",
                  flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.record:
        _record(results, args)


def _record(results: dict[str, dict[str, dict[str, float]]], args: argparse.Namespace) -> None:
    """Write every wall time as a figure `startup.COMMAND.TREE.best|median`."""
    sys.path.insert(0, str(HERE / "benchmarks"))
    from results import record  # type: ignore[import-not-found]

    figures = {}
    for label, trees in results.items():
        for tree, fig in trees.items():
            for stat in ("best", "median"):
                figures[f"startup.{FIGURE_IDS[label]}.{tree}.{stat}"] = (
                    fig[f"wall_{stat}"], "s", 3,
                    f"`{label}`, whole process, {stat} of {args.repeat} runs, "
                    f"{'before' if tree == 'before' else 'after'} issue 21's start-up change")
    command = "python benchmarks/bench_startup.py --before <worktree of main> " + \
        f"--repeat {args.repeat}" + (" --instructions" if args.instructions else "")
    record(command, figures)


if __name__ == "__main__":
    main()

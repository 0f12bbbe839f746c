"""Whole-process time of `archc render` against the torch route to the same diagram.

archc: `archc render resnet152 -o x.svg --detail block` (spec -> analysis -> DOT -> `dot -Tsvg`).
torch: build torchvision's resnet152, trace it with torchview's `draw_graph` (a real forward
pass on a meta-free CPU tensor) and render the graphviz graph to SVG; if torchview is missing,
torch.fx trace plus a forward pass. Each route runs as a fresh process, best of N.

Usage: python benchmarks/bench_render.py [--n 5] [--torch-python /work/tvvenv/bin/python]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TORCHVIEW = """
import sys, torch, torchvision
from torchview import draw_graph
model = torchvision.models.{model}()
graph = draw_graph(model, input_size=(1, 3, 224, 224), depth={depth}, device="cpu",
                   graph_name="{model}")
graph.visual_graph.render(filename=sys.argv[1], format="svg", cleanup=True)
"""

FX = """
import sys, torch, torchvision
model = torchvision.models.{model}().eval()
traced = torch.fx.symbolic_trace(model)
with torch.no_grad():
    traced(torch.randn(1, 3, 224, 224))
open(sys.argv[1] + ".txt", "w").write(str(traced.graph))
"""

NO_TORCH = ("import sys; from archcompiler import cli; "
            "code = cli.main(['render', '{spec}', '-o', sys.argv[1], '--detail', '{detail}']); "
            "assert 'torch' not in sys.modules, 'archc render imported torch'; sys.exit(code)")


def best_of(cmd: list[str], n: int) -> tuple[float, list[float]]:
    """Run `cmd` n times as fresh processes; return the best and all wall times in seconds."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
    return min(times), times


def archc_command() -> list[str]:
    """The `archc` entry point next to this interpreter, or `python -m archcompiler`."""
    script = Path(sys.executable).with_name("archc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archcompiler"]


def has_module(python: str, module: str) -> bool:
    """True when `python` can import `module`."""
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def main() -> None:
    """Time both routes and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5, help="runs per route (best is reported)")
    parser.add_argument("--torch-n", type=int, default=3, help="runs of the torch route")
    parser.add_argument("--spec", default="resnet152")
    parser.add_argument("--detail", default="block", choices=("stage", "block", "layer"))
    parser.add_argument("--torchview-depth", type=int, default=2,
                        help="torchview depth; 2 draws torchvision's blocks (like --detail block)")
    parser.add_argument("--torch-python", default="/work/tvvenv/bin/python",
                        help="interpreter with torch and torchvision (and ideally torchview)")
    args = parser.parse_args()
    if shutil.which("dot") is None:
        sys.exit("this benchmark needs graphviz `dot` on PATH")
    rows: list[tuple[str, float, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "archc.svg")
        cmd = [*archc_command(), "render", args.spec, "-o", out, "--detail", args.detail]
        rows.append((f"`archc render {args.spec} -o x.svg --detail {args.detail}`",
                     *best_of(cmd, args.n)))
        guard = [sys.executable, "-c", NO_TORCH.format(spec=args.spec, detail=args.detail), out]
        subprocess.run(guard, check=True, stdout=subprocess.DEVNULL)  # asserts: no torch import
        svg_kb = Path(out).stat().st_size / 1024
        tv = args.torch_python
        if Path(tv).exists() and has_module(tv, "torchvision"):
            if has_module(tv, "torchview"):
                script = TORCHVIEW.format(model=args.spec, depth=args.torchview_depth)
                label = (f"torchvision {args.spec}() + torchview draw_graph(depth="
                         f"{args.torchview_depth}) + render svg")
            else:
                script = FX.format(model=args.spec)
                label = f"torchvision {args.spec}() + torch.fx trace + forward (no drawing)"
            rows.append((label, *best_of([tv, "-c", script, str(Path(tmp) / "tv")],
                                         args.torch_n)))
        else:
            print(f"note: {tv} has no torchvision; timing archc only", file=sys.stderr)
    print(f"machine: {platform.machine()}, {platform.system()}, python "
          f"{platform.python_version()}, {len(__import__('os').sched_getaffinity(0))} cores; "
          f"archc svg {svg_kb:.0f} KiB\n")
    print("| route | best (s) | all runs (s) |")
    print("|---|---:|---|")
    for label, best, times in rows:
        print(f"| {label} | {best:.2f} | {', '.join(f'{t:.2f}' for t in times)} |")
    if len(rows) == 2:
        print(f"\narchc is {rows[1][1] / rows[0][1]:.0f}x faster, whole process, best of runs.")


if __name__ == "__main__":
    main()

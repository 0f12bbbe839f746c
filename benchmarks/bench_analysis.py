"""Static analysis vs the torch path, in one run.

Prints:
1. the whole-process time of `archc summary resnet152` against a process that builds the same
   network in torch (torchvision's resnet152 when importable, else archcompiler's torchvision-
   compatible module) and counts it with FlopCounterMode, as a ratio;
2. the in-process analysis time of CIFAR ResNet-1202;
3. how analysis time grows with depth: ResNet-110, ResNet-1202 and a synthetic ~10k-layer net.

Usage: python benchmarks/bench_analysis.py [--torch-python /path/to/python] [--repeat N]
`--torch-python` runs the torch path in another interpreter, e.g. a venv with torchvision.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TORCH_PATH = r"""
import torch
from torch.utils.flop_counter import FlopCounterMode
try:
    from torchvision.models import resnet152
    model, source = resnet152(), "torchvision"
except ImportError:
    import archcompiler
    model, source = archcompiler.build_module("resnet152"), "archcompiler.build_module"
params = sum(p.numel() for p in model.parameters())
with torch.no_grad(), FlopCounterMode(display=False) as counter:
    model.eval()(torch.randn(1, 3, 224, 224))
print(source, params, counter.get_total_flops() // 2)
"""


def best_of(cmd: list[str], repeat: int) -> tuple[float, str]:
    """Run a command `repeat` times; return the best wall time and its last stdout."""
    times, out = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        out = done.stdout
    return min(times), out


def analysis_time(ref: str | Path, repeat: int) -> float:
    """Best in-process time of archcompiler.analyze on an already-resolved spec."""
    import archcompiler
    from archcompiler.analysis import analyze_resolved

    spec = archcompiler.load_spec(ref)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        analyze_resolved(spec)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default=sys.executable)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    archc = [sys.executable, "-m", "archcompiler", "summary", "resnet152"]
    t_archc, out = best_of(archc, args.repeat)
    assert "60,192,808" in out, "archc summary did not report resnet152's params"
    t_torch, torch_out = best_of([args.torch_python, "-c", TORCH_PATH], max(2, args.repeat // 2))
    source, params, macs = torch_out.split()
    print(f"python {sys.version.split()[0]}; torch path via {source} ({args.torch_python})")
    print(f"archc summary resnet152 (whole process):        {t_archc:7.3f} s")
    print(f"torch build + FlopCounterMode (whole process):  {t_torch:7.3f} s  "
          f"[params {int(params):,}, MACs {int(macs):,}]")
    print(f"speed-up: {t_torch / t_archc:.1f}x (target >= 15x)")

    t1202 = analysis_time("resnet1202", args.repeat)
    print(f"\nanalysis of CIFAR resnet1202 (in-process, spec already resolved): {t1202:.3f} s "
          "(target < 0.3 s)")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "archcompiler", "summary", "resnet1202"],
                   capture_output=True, check=True)
    print(f"archc summary resnet1202 (whole process): {time.perf_counter() - start:.3f} s")

    print("\ngrowth with depth (in-process analysis, best of repeats):")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        deep = Path(tmp) / "deep.yaml"
        n = 1666  # 6n + 2 = 9998 layers
        deep.write_text("spec_version: 1\nextends: resnet20\nname: deep9998\n"
                        f"stages: {{depths: [{n}, {n}, {n}]}}\n", encoding="utf-8")
        for label, ref, blocks in [("resnet110", "resnet110", 54), ("resnet1202", "resnet1202", 600),
                                   ("synthetic 9998-layer", deep, 3 * n)]:
            t = analysis_time(ref, max(1, args.repeat // 2))
            rows.append(t / blocks)
            print(f"  {label:<22} {blocks:>5} blocks  {t:8.4f} s  {1e6 * t / blocks:7.1f} us/block")
    spread = max(rows) / statistics.median(rows)
    print(f"  per-block cost varies by {spread:.2f}x across depths (linear growth keeps it near 1)")


if __name__ == "__main__":
    main()

"""Exploring variants: sweeps over overrides in-process, and `archc summary` as a whole process.

Prints, each against its alternatives in the same run:
1. one resnet50 analysed in-process, with the parsed-file cache warm and cold;
2. a sweep of 10,000 resnet50 variants (every depths combination in 1..10 per stage, 22
   blocks on average; resnet50 has 16) through `overrides=`, with the cache; and on a sample,
   the same without the cache, and by writing each variant to a YAML file and analysing that;
3. a sweep of 10,000 resnet50s that differ only in `head.classes` (exactly resnet50's size);
4. the whole-process time of `archc summary resnet152` against a process that builds
   torchvision's resnet152 and counts it with FlopCounterMode, as a ratio.

Wall time is what a user waits; CPU time (process_time) is less disturbed by other load on a
shared machine, so both are printed.

Usage: python benchmarks/bench_explore.py [--torch-python /path/to/python] [--variants N]
       [--sample N] [--repeat N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import itertools
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import archcompiler
from archcompiler.language.variants import clear_cache

TORCH_PATH = r"""
import torch
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import resnet152
model = resnet152()
params = sum(p.numel() for p in model.parameters())
with torch.no_grad(), FlopCounterMode(display=False) as counter:
    model.eval()(torch.randn(1, 3, 224, 224))
print(params, counter.get_total_flops() // 2)
"""


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall and best CPU seconds over `repeat` calls."""
    runs = [timed(fn) for _ in range(repeat)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def depth_combos(n: int) -> list[list[int]]:
    """The first `n` depth combinations with 1..10 blocks per stage (10,000 in all)."""
    return [list(d) for d in itertools.islice(itertools.product(range(1, 11), repeat=4), n)]


def sweep(variants: list[list[int]], cold: bool = False) -> None:
    """Analyse resnet50 with each depths override; `cold` drops the parsed-file cache first."""
    for depths in variants:
        if cold:
            clear_cache()
        report = archcompiler.analyze("resnet50", overrides={"stages.depths": depths})
        assert report.output_shape == (1000,)


def sweep_files(variants: list[list[int]], *, folder: Path) -> None:
    """The file-based alternative: write each variant as a three-line spec and analyse it."""
    for i, depths in enumerate(variants):
        path = folder / f"v{i}.yaml"
        path.write_text(f"extends: resnet50\nname: v{i}\nstages: {{depths: {depths}}}\n",
                        encoding="utf-8")
        archcompiler.analyze(path)


def per(total: tuple[float, float], n: int) -> str:
    wall, cpu = total
    return f"{wall:7.2f} s wall, {cpu:7.2f} s CPU  ({wall / n * 1e3:.3f} / {cpu / n * 1e3:.3f} ms each)"


def chunked(run: Callable[[list[list[int]]], None], variants: list[list[int]],
            size: int = 500) -> str:
    """Time a sweep in chunks: the total, and the median and best chunk rates scaled to it.

    On a shared machine other jobs come and go; the best chunk estimates the quiet-machine
    time. The variants are shuffled first, so every chunk holds nets of every depth.
    """
    chunks = [variants[i:i + size] for i in range(0, len(variants), size)]
    times = [timed(functools.partial(run, chunk)) for chunk in chunks]
    wall, cpu = sum(w for w, _ in times), sum(c for _, c in times)
    rates = sorted(w / len(chunk) for chunk, (w, _) in zip(chunks, times))
    n = len(variants)
    return (f"{per((wall, cpu), n)}\n      scaled from the median / best {size}-variant chunk: "
            f"{rates[len(rates) // 2] * n:.2f} s / {rates[0] * n:.2f} s")


def interleaved(runs: dict[str, Callable[[list[list[int]]], None]], sample: list[list[int]],
                size: int = 50) -> dict[str, tuple[float, float]]:
    """Time alternatives chunk by chunk in turn, so each sees the same load on a shared machine."""
    totals = dict.fromkeys(runs, (0.0, 0.0))
    for i in range(0, len(sample), size):
        for name, run in runs.items():
            wall, cpu = timed(functools.partial(run, sample[i:i + size]))
            totals[name] = (totals[name][0] + wall, totals[name][1] + cpu)
    return totals


def whole_process(torch_python: str, repeat: int) -> None:
    """`archc summary resnet152` against torchvision + FlopCounterMode, whole processes."""
    def run(cmd: list[str]) -> str:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    archc = [sys.executable, "-m", "archcompiler", "summary", "resnet152"]
    out: list[str] = []
    t_archc = best(lambda: out.append(run(archc)), repeat)[0]
    assert "60,192,808" in out[-1], "archc summary did not report resnet152's params"
    t_torch = best(lambda: out.append(run([torch_python, "-c", TORCH_PATH])),
                   max(2, repeat // 3))[0]
    params, macs = out[-1].split()
    print(f"4. archc summary resnet152 (whole process, best of {repeat}): {t_archc:.3f} s")
    print(f"   torchvision resnet152() + FlopCounterMode ({torch_python}): {t_torch:.3f} s "
          f"[params {int(params):,}, MACs {int(macs):,}]")
    print(f"   ratio: {t_torch / t_archc:.1f}x (target ~40x)")


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default="/work/tvenv/bin/python")
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000,
                        help="variants for the slower alternatives")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile the sweep instead")
    args = parser.parse_args()
    variants = depth_combos(args.variants)
    random.Random(0).shuffle(variants)  # so each chunk of the sweep holds nets of every depth
    sample = variants[:: max(1, len(variants) // args.sample)][: args.sample]
    archcompiler.analyze("resnet50")  # import and build the pydantic models once
    if args.profile:
        cProfile.runctx("sweep(sample)", globals(), {"sample": sample}, "/tmp/bench_explore.prof")
        pstats.Stats("/tmp/bench_explore.prof").sort_stats("tottime").print_stats(25)
        return

    print(f"python {sys.version.split()[0]}; {len(variants):,} variants, mean "
          f"{sum(map(sum, variants)) / len(variants):.1f} blocks (resnet50: 16)")
    warm = best(lambda: archcompiler.analyze("resnet50"), 50 * args.repeat)
    def analyze_cold() -> None:
        clear_cache()
        archcompiler.analyze("resnet50")

    cold = best(analyze_cold, 50 * args.repeat)
    print(f"1. resnet50 in-process: {warm[0] * 1e3:.2f} ms wall / {warm[1] * 1e3:.2f} ms CPU "
          f"with the cache; {cold[0] * 1e3:.2f} / {cold[1] * 1e3:.2f} ms without")

    print(f"2. sweep of {len(variants):,} depths variants, overrides, cache: "
          f"{chunked(sweep, variants)}")
    n = len(sample)
    with tempfile.TemporaryDirectory() as tmp:
        totals = interleaved({
            "overrides, cache": sweep,
            "overrides, no cache": functools.partial(sweep, cold=True),
            "a YAML file each": functools.partial(sweep_files, folder=Path(tmp)),
        }, sample)
    for name, total in totals.items():
        print(f"   sample of {n:,}, {name + ':':21s} {per(total, n)}")

    def sweep_classes(chunk: list[list[int]]) -> None:
        for (c,) in chunk:
            archcompiler.analyze("resnet50", overrides={"head.classes": c})

    classes = [[c] for c in range(1, len(variants) + 1)]
    print(f"3. sweep of {len(classes):,} head.classes variants (resnet50 exactly): "
          f"{chunked(sweep_classes, classes)}")
    whole_process(args.torch_python, args.repeat)


if __name__ == "__main__":
    main()

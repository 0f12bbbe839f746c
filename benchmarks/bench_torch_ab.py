"""A/B of one resnet50 training step, archcompiler against torchvision, with identical weights.

One thread, batch 8 at 128x128, 24 interleaved steps each; prints the minimum and the median
ratio (torchvision time / archcompiler time). Run it in a venv with torchvision:
`python benchmarks/bench_torch_ab.py [--tv-first]`. Which model is created first moves the
ratio by a few percent on a shared machine, so run it both ways.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torchvision
from torch import nn

import archcompiler


def step_fn(model: nn.Module) -> Callable[[], None]:
    """One SGD step of `model` on a fixed synthetic batch, as a closure."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(8, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 1000, (8,), generator=torch.Generator().manual_seed(1))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def main() -> None:
    """Time both steps, interleaved, and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tv-first", action="store_true", help="create torchvision's model first")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.tv_first:
        tv = torchvision.models.resnet50()
        mine = archcompiler.build_module("resnet50")
    else:
        mine = archcompiler.build_module("resnet50")
        tv = torchvision.models.resnet50()
    mine.load_state_dict(tv.state_dict())  # the same weights: only the code differs
    ours, theirs = step_fn(mine), step_fn(tv)
    ours()
    theirs()
    a: list[float] = []
    b: list[float] = []
    for i in range(24):
        for sink, fn in ((a, ours), (b, theirs)) if i % 2 == 0 else ((b, theirs), (a, ours)):
            start = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - start)
    print(f"train step, 1 thread, batch 8 at 128px: min archcompiler {min(a) * 1e3:.0f} ms, "
          f"torchvision {min(b) * 1e3:.0f} ms, ratio {min(b) / min(a):.3f}; median ratio "
          f"{statistics.median(b) / statistics.median(a):.3f}")


if __name__ == "__main__":
    main()

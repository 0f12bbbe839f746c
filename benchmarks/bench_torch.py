"""Benchmark the torch backend against torchvision: build time, CPU train/infer throughput, outputs.

Run it where torchvision is installed (e.g. `python benchmarks/bench_torch.py`). Ratios are
torchvision time / archcompiler time, so above 1.0 means archcompiler is faster. Runs of the
two are interleaved and the median is kept, so drifting machine load hits both alike.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from archcompiler import build_module


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(ours: Callable[[], Any], theirs: Callable[[], Any], rounds: int,
                repeats: int = 1) -> tuple[float, float]:
    """Median seconds per call of each function, alternating which runs first every round."""
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        pair = [(a, ours), (b, theirs)] if i % 2 == 0 else [(b, theirs), (a, ours)]
        for sink, fn in pair:
            sink.append(_median_time(fn, repeats))
    return statistics.median(a), statistics.median(b)


def train_step(model: nn.Module, batch: int, size: int) -> Callable[[], None]:
    """One SGD step on synthetic data, as a closure."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 1000, (batch,), generator=torch.Generator().manual_seed(1))
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def main() -> int:
    """Run the benchmark and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-torchvision", action="store_true",
                        help="time archcompiler alone, without the torchvision comparison")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per figure")
    parser.add_argument("--batch", type=int, default=16, help="training batch size")
    parser.add_argument("--steps", type=int, default=3, help="training steps per round")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tv: Any = None
    version = ""
    if not args.no_torchvision:
        try:
            import torchvision
        except ImportError:
            print("torchvision is not installed: timing archcompiler alone (no ratios)")
        else:
            tv, version = torchvision.models, f", torchvision {torchvision.__version__}"
    else:
        print("--no-torchvision: timing archcompiler alone (no ratios)")
    print(f"machine: {platform.machine()} {platform.system()}, {torch.get_num_threads()} "
          f"threads; torch {torch.__version__}{version}")

    for name in ("resnet50", "resnet152"):
        ours = lambda n=name: build_module(n)  # noqa: E731
        ours()  # warm up (imports, allocator) before timing
        if tv is None:
            print(f"build {name}: archcompiler {_median_time(ours, args.rounds) * 1e3:.0f} ms")
            continue
        theirs = getattr(tv, name)
        theirs()
        a, b = interleaved(ours, theirs, args.rounds)
        print(f"build {name}: archcompiler {a * 1e3:.0f} ms, torchvision {b * 1e3:.0f} ms, "
              f"ratio {b / a:.3f}x")

    ours_model = build_module("resnet50", seed=0)
    ours_step = train_step(ours_model, args.batch, 224)
    ours_step()
    if tv is None:
        a = _median_time(ours_step, args.rounds * args.steps)
        print(f"train resnet50 batch {args.batch}: archcompiler {args.batch / a:.2f} img/s")
        return 0
    tv_model = tv.resnet50()
    tv_step = train_step(tv_model, args.batch, 224)
    tv_step()
    a, b = interleaved(ours_step, tv_step, args.rounds, args.steps)
    print(f"train resnet50 batch {args.batch} (fwd+bwd+SGD): archcompiler {args.batch / a:.2f} "
          f"img/s, torchvision {args.batch / b:.2f} img/s, ratio {b / a:.3f}x")

    ours_model.eval()
    tv_model.eval()
    x = torch.randn(args.batch, 3, 224, 224, generator=torch.Generator().manual_seed(3))

    def infer(model: nn.Module) -> Callable[[], None]:
        def run() -> None:
            with torch.inference_mode():
                model(x)
        return run

    infer(ours_model)()
    infer(tv_model)()
    a, b = interleaved(infer(ours_model), infer(tv_model), args.rounds, args.steps)
    print(f"infer resnet50 batch {args.batch} (eval, inference_mode): archcompiler "
          f"{args.batch / a:.2f} img/s, torchvision {args.batch / b:.2f} img/s, ratio {b / a:.3f}x")

    # Same weights in both: load torchvision's random init into ours and compare eval outputs.
    ref = tv.resnet50().eval()
    mine = build_module("resnet50").eval()
    mine.load_state_dict(ref.state_dict())
    x = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        diff = (mine(x) - ref(x)).abs().max().item()
    print(f"outputs, torchvision resnet50 weights loaded, eval, batch 4: max abs diff {diff:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

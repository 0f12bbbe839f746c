"""GPU throughput of archcompiler's modules against torchvision and timm, in one run.

Measures, on one CUDA device, the DESIGN anchor's settings: bf16 autocast, channels_last, SGD
step, synthetic data. Training (eager, and under torch.compile for resnet50), inference, and
fp32 training. The rivals run in interleaved rounds and the median round is kept, so clock
and thermal drift hit all alike. Usage: `python benchmarks/bench_gpu.py [--json FILE]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from archcompiler import build_module


def _model(source: str, name: str) -> nn.Module:
    if source == "archcompiler":
        return build_module(name, seed=0)
    if source == "torchvision":
        import torchvision

        return getattr(torchvision.models, name)()
    import timm

    return timm.create_model(name)


def _trainer(model: nn.Module, batch: int, bf16: bool) -> Callable[[], None]:
    model = model.cuda().to(memory_format=torch.channels_last).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 224, 224, device="cuda").to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device="cuda")
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _inferer(model: nn.Module, batch: int) -> Callable[[], None]:
    model = model.cuda().to(memory_format=torch.channels_last).eval()
    x = torch.randn(batch, 3, 224, 224, device="cuda").to(memory_format=torch.channels_last)

    def step() -> None:
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
            model(x)
    return step


def _rate(step: Callable[[], None], batch: int, iters: int) -> float:
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    torch.cuda.synchronize()
    return batch * iters / (time.perf_counter() - start)


def race(steps: dict[str, Callable[[], None]], batch: int, iters: int, rounds: int,
         warmup: int = 5) -> dict[str, float]:
    """Images per second of each step, median over interleaved rounds."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    rates: dict[str, list[float]] = {k: [] for k in steps}
    for r in range(rounds):
        order = list(steps) if r % 2 == 0 else list(reversed(steps))
        for key in order:
            rates[key].append(_rate(steps[key], batch, iters))
    return {k: statistics.median(v) for k, v in rates.items()}


def main() -> int:
    """Run every figure and print one table row each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=15)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    import torchvision

    print(f"device: {torch.cuda.get_device_name()}; torch {torch.__version__}, torchvision "
          f"{torchvision.__version__}")
    results: list[dict[str, Any]] = []

    def report(figure: str, rates: dict[str, float]) -> None:
        ours = rates["archcompiler"]
        cells = ", ".join(f"{k} {v:,.0f} img/s" for k, v in rates.items())
        ratios = ", ".join(f"vs {k} {ours / v:.3f}x" for k, v in rates.items()
                           if k != "archcompiler")
        print(f"{figure}: {cells}; {ratios}", flush=True)
        results.append({"figure": figure, "img_per_s": rates})

    # Same weights, same input: the outputs must agree on the GPU too.
    ref = torchvision.models.resnet50().cuda().eval()
    mine = build_module("resnet50").cuda().eval()
    mine.load_state_dict(ref.state_dict())
    x = torch.randn(8, 3, 224, 224, device="cuda")
    with torch.no_grad():
        diff = (mine(x) - ref(x)).abs().max().item()
    print(f"resnet50 with torchvision's weights, fp32 eval: max abs diff {diff:.3g}", flush=True)
    del ref, mine

    for name, batch in (("resnet50", 256), ("resnet18", 256), ("resnet152", 128)):
        rivals = ("archcompiler", "torchvision", "timm") if name == "resnet50" else \
            ("archcompiler", "torchvision")
        steps = {s: _trainer(_model(s, name), batch, bf16=True) for s in rivals}
        report(f"train {name} bf16 batch {batch} eager",
               race(steps, batch, args.iters, args.rounds))
        del steps
        torch.cuda.empty_cache()
    steps = {s: _inferer(_model(s, "resnet50"), 256) for s in ("archcompiler", "torchvision")}
    report("infer resnet50 bf16 batch 256", race(steps, 256, args.iters * 2, args.rounds))
    steps = {s: _trainer(_model(s, "resnet50"), 256, bf16=False)
             for s in ("archcompiler", "torchvision")}
    report("train resnet50 fp32 batch 256 eager", race(steps, 256, args.iters, args.rounds))
    del steps
    if not args.no_compile:
        steps = {}
        for s in ("archcompiler", "torchvision"):
            model = torch.compile(_model(s, "resnet50"))
            steps[s] = _trainer(model, 256, bf16=True)
        report("train resnet50 bf16 batch 256 torch.compile",
               race(steps, 256, args.iters, args.rounds, warmup=3))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                       "max_abs_diff": diff, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

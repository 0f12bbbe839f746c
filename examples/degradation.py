"""The degradation problem (He et al. 2015, Figure 1) in miniature, built with archcompiler.

He et al. observed that a deeper *plain* network (a stack of conv-BN-ReLU layers without
shortcuts) reaches a *higher training error* than a shallower one, although it could in principle
copy the shallow net and set its extra layers to identities. Shortcut connections remove this
degradation: ResNet-56 trains at least as well as ResNet-20. This script reproduces the
experiment at toy scale on CPU:

- four CIFAR-style nets from the zoo: ``resnet20`` and ``resnet56`` (option A shortcuts) and their
  plain twins ``plain20`` and ``plain56``, each derived in a three-line variant spec
  (``extends: resnet20``, ``stages: {shortcut: none}``) written to a temporary folder and compiled
  with ``archcompiler.build_module``;
- data: scikit-learn's handwritten digits (1797 gray 8x8 images, shipped with the package),
  upsampled bilinearly to 32x32 and normalised, with a fixed stratified 80/20 split;
- the paper's optimiser, SGD with momentum 0.9 and weight decay 1e-4, at batch 32 and learning
  rate 0.02 (the paper's 0.1 at batch 128, scaled linearly, is 0.025): one epoch of warm-up at a
  tenth of the rate (the paper warms ResNet-110 up so), then the rate divided by 10 at 50% and 75%
  of the run; the same data order for every net of a seed. Batch 32 gives four times the updates
  of batch 128 for the same CPU time. At batch 128, ResNet-56 diverged on this data in the first
  epochs (loss jumping to 5-7, training error stuck above 75%) at rate 0.1 without warm-up and
  with one or three epochs of it, and at 0.05 with one epoch; 0.02 trained it;
- the training error (1 - accuracy on each training batch, in train mode) over iterations,
  averaged over one epoch of batches, as a mean over seeds with the min-max spread shaded.

Plain nets are dashed, residual nets solid; depth 20 and depth 56 have one colour each. The run
also prints a table of the final training error (measured on the whole training set, in eval
mode) and the held-out test error, as a mean over seeds.

Run it from the repository root (torch, scikit-learn and matplotlib needed)::

    python examples/degradation.py                # full run, one seed, 2 threads
    python examples/degradation.py --seeds 2 --out docs/degradation.png --json out/curves.json
    python examples/degradation.py --fast --out /tmp/d.png   # a few steps, for the tests
    python examples/degradation.py --replot docs/degradation.json   # redraw a recorded run

``docs/degradation.png`` was drawn from the run recorded in ``docs/degradation.json``
(``--seeds 2 --threads 1``): 12 minutes, about 6 per seed, on 2 cores that other test runs were
using too. On cores shared so, ``--threads 1`` is several times faster than the default 2 threads,
whose workers wait on each other.

Only the public API is used: ``archcompiler.analyze`` and ``archcompiler.build_module``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import archcompiler

# (name, base spec in the zoo, residual?) for the four nets, in plotting order.
NETS: tuple[tuple[str, str, bool], ...] = (
    ("plain20", "resnet20", False),
    ("plain56", "resnet56", False),
    ("resnet20", "resnet20", True),
    ("resnet56", "resnet56", True),
)
COLORS = {20: "tab:blue", 56: "tab:red"}
SIZE = 32  # the digits' 8x8 images are upsampled to SIZE x SIZE, the CIFAR nets' input


@dataclass
class Config:
    """Settings of one experiment."""

    seeds: int = 1
    epochs: int = 6
    batch_size: int = 32
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 1e-4
    train_limit: int | None = None  # use only this many training images (the fast mode)
    warmup: int | None = None  # iterations at lr / 10 before the full rate; None: one epoch
    threads: int = 2


@dataclass
class RunResult:
    """What one net learned under one seed."""

    batch_errors: list[float]
    final_train_error: float
    test_error: float
    seconds: float


@dataclass
class NetCurves:
    """All runs of one net, over seeds."""

    name: str
    depth: int
    residual: bool
    runs: list[RunResult] = field(default_factory=list)


def write_variants(folder: Path) -> dict[str, Path]:
    """Write one variant spec per net (gray 32x32 input, 10 classes) and return the paths."""
    paths: dict[str, Path] = {}
    for name, base, residual in NETS:
        lines = [
            f"extends: {base}",
            f"name: {name}",
            f"input: {{channels: 1, height: {SIZE}, width: {SIZE}}}",
            "head: {classes: 10}",
        ]
        if not residual:
            lines.append("stages: {shortcut: none}")
        path = folder / f"{name}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths[name] = path
    return paths


def check_specs(paths: dict[str, Path]) -> dict[str, int]:
    """Analyze every variant, fail on errors, print a one-line summary each; return the depths."""
    depths: dict[str, int] = {}
    for name, path in paths.items():
        report = archcompiler.analyze(path)
        if not report.ok:
            raise SystemExit(f"{path}: " + "; ".join(str(d) for d in report.diagnostics))
        depth = int("".join(ch for ch in name if ch.isdigit()))
        depths[name] = depth
        log(f"{name:9s} {report.params:>9,} params  {report.macs / 1e6:6.1f} M MACs  "
            f"input {report.input_shape}  output {report.output_shape}")
    return depths


def load_data(train_limit: int | None) -> tuple[Any, Any, Any, Any]:
    """Return (x_train, y_train, x_test, y_test): digits at 1x32x32, normalised by train stats."""
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        digits.images, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
    if train_limit is not None:
        x_tr, y_tr = x_tr[:train_limit], y_tr[:train_limit]
        x_te, y_te = x_te[:train_limit], y_te[:train_limit]

    def prep(images: Any) -> Any:
        x = torch.as_tensor(images, dtype=torch.float32).unsqueeze(1) / 16.0
        return F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)

    xtr, xte = prep(x_tr), prep(x_te)
    mean, std = xtr.mean(), xtr.std()
    return ((xtr - mean) / std, torch.as_tensor(y_tr, dtype=torch.long),
            (xte - mean) / std, torch.as_tensor(y_te, dtype=torch.long))


def error_rate(model: Any, x: Any, y: Any, batch_size: int = 256) -> float:
    """Return 1 - accuracy of `model` on (x, y), in eval mode, without gradients."""
    import torch

    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            wrong += int((model(x[i:i + batch_size]).argmax(1) != y[i:i + batch_size]).sum())
    model.train()
    return wrong / max(len(x), 1)


def lr_factor(it: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier at iteration `it`: 0.1 while warming up, then 1, /10 at 50% and 75%."""
    if it < warmup:
        return 0.1
    return 1.0 if it < total // 2 else 0.1 if it < (3 * total) // 4 else 0.01


def train_one(name: str, path: Path, seed: int, data: tuple[Any, Any, Any, Any],
              cfg: Config) -> RunResult:
    """Train one net with SGD under one seed and record the error on every training batch."""
    import torch
    import torch.nn.functional as F

    x_tr, y_tr, x_te, y_te = data
    model = archcompiler.build_module(path, seed=seed)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                          weight_decay=cfg.weight_decay)
    steps_per_epoch = max(len(x_tr) // cfg.batch_size, 1)
    total = steps_per_epoch * cfg.epochs
    warmup = steps_per_epoch if cfg.warmup is None else cfg.warmup
    # As the paper: warm up at lr/10 (it does so for ResNet-110), then divide by 10 twice.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: lr_factor(it, total, warmup))
    order = torch.Generator().manual_seed(seed)  # the same data order for every net of a seed
    errors: list[float] = []
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        perm = torch.randperm(len(x_tr), generator=order)
        losses: list[float] = []
        for step in range(steps_per_epoch):
            idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            logits = model(x_tr[idx])
            loss = F.cross_entropy(logits, y_tr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            errors.append((logits.detach().argmax(1) != y_tr[idx]).float().mean().item())
        epoch_err = sum(errors[-steps_per_epoch:]) / steps_per_epoch
        log(f"  seed {seed} {name:9s} epoch {epoch + 1:3d}/{cfg.epochs}  iter {len(errors):5d}  "
            f"loss {sum(losses) / len(losses):.3f}  train err {100 * epoch_err:5.1f}%  "
            f"({time.perf_counter() - start:5.1f}s)")
    return RunResult(batch_errors=errors, final_train_error=error_rate(model, x_tr, y_tr),
                     test_error=error_rate(model, x_te, y_te),
                     seconds=time.perf_counter() - start)


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Trailing moving average over `window` values (shorter at the start)."""
    out: list[float] = []
    acc = 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= window:
            acc -= values[i - window]
        out.append(acc / min(i + 1, window))
    return out


def plot(curves: list[NetCurves], window: int, out: Path, cfg: Config) -> None:
    """Draw the training error vs iterations of all nets in one figure and save it to `out`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c in curves:
        runs = [[100 * e for e in smooth(r.batch_errors, window)] for r in c.runs]
        iters = list(range(1, len(runs[0]) + 1))
        mean = [sum(col) / len(col) for col in zip(*runs)]
        style = "-" if c.residual else "--"
        label = f"{c.name} ({'residual' if c.residual else 'plain'}, {c.depth} layers)"
        ax.plot(iters, mean, style, color=COLORS.get(c.depth, "gray"), lw=1.8, label=label)
        if len(runs) > 1:
            ax.fill_between(iters, [min(col) for col in zip(*runs)], [max(col) for col in zip(*runs)],
                            color=COLORS.get(c.depth, "gray"), alpha=0.15, lw=0)
    n = len(curves[0].runs) if curves else 0
    spread = ", min-max shaded" if n > 1 else ""
    ax.set_title(f"Degradation in miniature: digits at {SIZE}x{SIZE}, mean of {n} "
                 f"seed{'s' * (n > 1)}{spread}", fontsize=10)
    ax.set_xlabel(f"iteration (batch {cfg.batch_size})")
    ax.set_ylabel(f"training error (%), mean over {window} batches")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    warm = "one epoch" if cfg.warmup is None else f"{cfg.warmup} iterations"
    fig.text(0.99, 0.01, f"SGD lr {cfg.lr} (/10 for {warm} of warm-up, then /10 at 50% and 75%), "
             f"momentum {cfg.momentum}, "
             f"wd {cfg.weight_decay}, {cfg.epochs} epochs", ha="right", va="bottom", fontsize=7,
             color="gray")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    plt.close(fig)


def table(curves: list[NetCurves]) -> str:
    """Return the final error table: train and test error per net, mean (and range) over seeds."""
    def cell(values: list[float]) -> str:
        mean = 100 * sum(values) / len(values)
        if len(values) == 1:
            return f"{mean:6.2f}%"
        return f"{mean:6.2f}% [{100 * min(values):.2f}-{100 * max(values):.2f}]"

    rows = [f"{'net':9s} {'final train error':>26s} {'test error':>26s} {'s/run':>7s}"]
    for c in curves:
        secs = sum(r.seconds for r in c.runs) / len(c.runs)
        rows.append(f"{c.name:9s} {cell([r.final_train_error for r in c.runs]):>26s} "
                    f"{cell([r.test_error for r in c.runs]):>26s} {secs:7.1f}")
    return "\n".join(rows)


def to_json(curves: list[NetCurves], window: int, cfg: Config, seconds: float) -> dict[str, Any]:
    """Return the curves and settings as a JSON-ready dict."""
    nets: dict[str, Any] = {}
    for c in curves:
        smoothed = [smooth(r.batch_errors, window) for r in c.runs]
        nets[c.name] = {
            "depth": c.depth,
            "residual": c.residual,
            "batch_error": [r.batch_errors for r in c.runs],
            "smoothed_error": smoothed,
            "mean_smoothed_error": [sum(col) / len(col) for col in zip(*smoothed)],
            "final_train_error": [r.final_train_error for r in c.runs],
            "test_error": [r.test_error for r in c.runs],
            "seconds": [r.seconds for r in c.runs],
        }
    return {"config": vars(cfg), "smoothing_window": window, "seconds": seconds, "curves": nets}


def from_json(payload: dict[str, Any]) -> tuple[list[NetCurves], int, Config, float]:
    """Rebuild the curves, window, settings and run time from a dict written by `to_json`."""
    curves = []
    for name, c in payload["curves"].items():
        runs = [RunResult(batch_errors=e, final_train_error=f, test_error=t, seconds=s)
                for e, f, t, s in zip(c["batch_error"], c["final_train_error"], c["test_error"],
                                      c["seconds"])]
        curves.append(NetCurves(name, c["depth"], c["residual"], runs))
    return curves, payload["smoothing_window"], Config(**payload["config"]), payload["seconds"]


def log(msg: str) -> None:
    """Print a progress line to stderr, flushed."""
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seeds", type=int, default=1, help="number of seeds 0..N-1 (default 1)")
    d = Config()
    p.add_argument("--epochs", type=int, default=None, help=f"epochs per net (default {d.epochs})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr})")
    p.add_argument("--warmup", type=int, default=None,
                   help="iterations at lr/10 first (default: one epoch)")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"batch size (default {d.batch_size})")
    p.add_argument("--threads", type=int, default=d.threads,
                   help=f"torch CPU threads (default {d.threads})")
    p.add_argument("--out", type=Path, default=Path("docs/degradation.png"),
                   help="figure path (default docs/degradation.png)")
    p.add_argument("--json", type=Path, default=None, help="also write the curves to this JSON file")
    p.add_argument("--replot", type=Path, default=None, metavar="JSON",
                   help="train nothing: redraw the figure and table from a file written by --json")
    p.add_argument("--fast", action="store_true",
                   help="smoke test: 32 images, batch 16, 2 epochs, 1 seed (a few seconds)")
    args = p.parse_args(argv)
    if args.seeds < 1 or args.threads < 1:
        p.error("--seeds and --threads must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the experiment, save the figure (and JSON), print the table; return an exit code."""
    args = parse_args(argv)
    if args.replot is not None:
        curves, window, cfg, seconds = from_json(json.loads(args.replot.read_text(encoding="utf-8")))
        plot(curves, window, args.out, cfg)
        log(f"wrote {args.out}")
        print(table(curves))
        print(f"total {seconds:.1f}s on {cfg.threads} threads (the recorded run)")
        return 0
    d = Config()
    if args.fast:
        cfg = Config(seeds=1, epochs=args.epochs or 2, batch_size=args.batch_size or 16, lr=args.lr,
                     warmup=args.warmup, train_limit=32, threads=args.threads)
    else:
        cfg = Config(seeds=args.seeds, epochs=args.epochs or d.epochs,
                     batch_size=args.batch_size or d.batch_size, lr=args.lr,
                     warmup=args.warmup, threads=args.threads)

    import torch

    torch.set_num_threads(cfg.threads)
    start = time.perf_counter()
    data = load_data(cfg.train_limit)
    log(f"digits: {len(data[0])} train / {len(data[2])} test images at 1x{SIZE}x{SIZE}; "
        f"{cfg.seeds} seed(s), {cfg.epochs} epochs, batch {cfg.batch_size}, lr {cfg.lr}, "
        f"warm-up {'one epoch' if cfg.warmup is None else f'{cfg.warmup} iterations'}")
    with tempfile.TemporaryDirectory(prefix="degradation-") as tmp:
        paths = write_variants(Path(tmp))
        depths = check_specs(paths)
        curves = [NetCurves(name, depths[name], residual) for name, _, residual in NETS]
        for seed in range(cfg.seeds):
            for c in curves:
                c.runs.append(train_one(c.name, paths[c.name], seed, data, cfg))
    seconds = time.perf_counter() - start
    window = max(len(data[0]) // cfg.batch_size, 1)  # one epoch of batches

    plot(curves, window, args.out, cfg)
    log(f"wrote {args.out}")
    if args.json is not None:
        payload = to_json(curves, window, cfg, seconds)
        bad = [n for n, v in payload["curves"].items()
               if not all(math.isfinite(e) for e in v["mean_smoothed_error"])]
        if bad:
            log(f"warning: non-finite errors in {bad}")
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        log(f"wrote {args.json}")
    print(table(curves))
    print(f"total {seconds:.1f}s on {cfg.threads} threads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

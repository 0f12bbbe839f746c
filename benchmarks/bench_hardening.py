"""The bounds of issue 16, measured: what a hostile weights file, sweep or render costs us now.

1. A 1 MB zip holding one deflated 1 GiB storage record, read as `--weights` for resnet20:
   refused in < 1 s, with the process's peak memory growing < 300 MB (measured in a fresh
   process: wall time of `read_state_dict`, and ru_maxrss after minus before); and the whole
   `archc build resnet20 --weights bomb.pth` process, start-up included: < 1 s, peak RSS
   < 300 MB (it refuses before importing torch).
2. A `backbone.`-prefixed resnet1202 checkpoint: its diagnostic (`load_weights`, which reads the
   file and matches the keys) in < 2 s. The module is built first and not timed.
3. A 20,000-key file of wrong keys against resnet20: its diagnostic (< 5 s; about 90% of it is
   torch.load unpickling 20,000 tensors, the matching itself is 0.25 s).
4. `archc sweep` of 99,999 variants of a 5,000-block net: refused by the cost bound (target
   < 5 s: the estimate resolves one variant per grid value).
5. `archc render` of a 5,000-block net at block detail: drawn at stage detail (target < 10 s).

Each figure is the best of `--repeat` runs. Prints each with its target; exits 1 if one is missed.

Usage: python benchmarks/bench_hardening.py [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_BOMB_CHILD = """
import resource, sys, time
from archcompiler.backends.pytorch.archive import storage_bound
from archcompiler.backends.pytorch.weights import WeightsError, read_state_dict
import torch  # imported before the baseline, so its own memory is not counted
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
try:
    read_state_dict(sys.argv[1], storage_bound(1_100_000, 20_000_000_000, None, ""))
except WeightsError as exc:
    reason = exc.diagnostics[0].message
else:
    raise SystemExit("not refused")
dt = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(dt, (after - before) * 1024, after * 1024)
print(reason)
"""


def make_bomb(path: Path, inflated: int = 1 << 30) -> Path:
    """resnet20's archive with its first storage record replaced by `inflated` deflated zeros."""
    import torch

    import archcompiler

    buffer = io.BytesIO()
    torch.save(archcompiler.build_module("resnet20", seed=0).state_dict(), buffer)
    good = zipfile.ZipFile(buffer)
    with zipfile.ZipFile(path, "w") as out:
        for info in good.infolist():
            if info.filename.endswith("/data/0"):
                target = zipfile.ZipInfo(info.filename)
                target.compress_type = zipfile.ZIP_DEFLATED
                with out.open(target, "w", force_zip64=True) as f:
                    chunk = bytes(1 << 22)
                    for _ in range(inflated // len(chunk)):
                        f.write(chunk)
            else:
                out.writestr(info, good.read(info.filename))
    return path


def bench_bomb(folder: Path) -> tuple[float, float, str]:
    """Seconds to refuse, bytes of peak growth, and the reason given."""
    bomb = folder / "bomb.pth"
    proc = subprocess.run([sys.executable, "-c", _BOMB_CHILD, str(bomb)], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    first, reason = proc.stdout.splitlines()[:2]
    seconds, grew, peak = (float(v) for v in first.split())
    print(f"  (zip bomb: {bomb.stat().st_size / 1e6:.2f} MB on disk, 1 GiB inflated; the "
          f"process's whole peak RSS, torch imported, {peak / 1e6:.0f} MB)")
    return seconds, grew, reason


_CLI_WRAPPER = """
import resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run([sys.executable, "-c", "import sys, archc_launch; sys.exit(archc_launch.main())",
                    "build", "resnet20", "-o", sys.argv[2], "--weights", sys.argv[1]],
                   capture_output=True)
print(p.returncode, time.perf_counter() - t,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def bench_bomb_cli(folder: Path) -> tuple[float, float]:
    """`archc build resnet20 --weights bomb.pth` as a whole process: seconds and peak RSS bytes.

    The record table is checked before torch is imported, so the process stays small. It runs
    under a small wrapper process: a child forked from this one (torch imported) would count
    this process's pages in its own peak until it execs.
    """
    proc = subprocess.run([sys.executable, "-c", _CLI_WRAPPER, str(folder / "bomb.pth"),
                           str(folder / "o.pt")], capture_output=True, text=True, check=True,
                          cwd=ROOT)
    rc, seconds, peak = proc.stdout.split()
    if rc != "2":
        raise SystemExit(f"the zip bomb was not refused: exit {rc}")
    return float(seconds), float(peak)


def _timed(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.suppress(Exception):
            fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_prefix(folder: Path, repeat: int) -> float:
    import torch

    import archcompiler
    from archcompiler.backends.pytorch.weights import load_weights

    report = archcompiler.analyze("resnet1202")
    model = archcompiler.build_module(report, seed=0)
    path = folder / "backbone.pth"
    torch.save({f"backbone.{k}": v for k, v in model.state_dict().items()}, path)
    return _timed(lambda: load_weights(model, report, path), repeat)


def bench_junk_keys(folder: Path, repeat: int) -> float:
    import torch

    import archcompiler
    from archcompiler.backends.pytorch.weights import load_weights

    report = archcompiler.analyze("resnet20")
    model = archcompiler.build_module(report, seed=0)
    path = folder / "junk.pth"
    torch.save({f"junk.{i}.weight": torch.zeros(1) for i in range(20_000)}, path)
    return _timed(lambda: load_weights(model, report, path), repeat)


def _cli(argv: list[str]) -> None:
    from archcompiler.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(argv)


def bench_sweep(folder: Path, repeat: int) -> float:
    spec = folder / "big.yaml"
    spec.write_text("extends: resnet20\nname: big\nstages: {depths: [1666, 1666, 1666]}\n",
                    encoding="utf-8")
    values = ",".join(str(n) for n in range(2, 10_001))
    argv = ["sweep", str(spec), "--grid", f"head.classes={values}", "--grid",
            "head.dropout=0.0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"]
    return _timed(lambda: _cli(argv), repeat)


def bench_render(folder: Path, repeat: int) -> float:
    spec = folder / "big.yaml"
    spec.write_text("extends: resnet20\nname: big\nstages: {depths: [1666, 1666, 1666]}\n",
                    encoding="utf-8")
    return _timed(lambda: _cli(["render", str(spec), "-o", str(folder / "big.svg")]), repeat)


def main() -> int:
    """Run every benchmark and print its figure against its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    missed = 0
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        make_bomb(folder / "bomb.pth")
        # First: RUSAGE_CHILDREN keeps the largest child's peak, and the next one imports torch.
        cli_seconds, cli_peak = bench_bomb_cli(folder)
        seconds, grew, reason = bench_bomb(folder)
        rows = [("zip bomb refused (s)", seconds, 1.0),
                ("zip bomb peak memory growth (MB)", grew / 1e6, 300.0),
                ("archc build --weights bomb, whole process (s)", cli_seconds, 1.0),
                ("archc build --weights bomb, peak RSS (MB)", cli_peak / 1e6, 300.0),
                ("backbone.-prefixed resnet1202 diagnostic (s)", bench_prefix(folder, args.repeat),
                 2.0),
                ("20,000 wrong keys diagnostic (s)", bench_junk_keys(folder, args.repeat), 5.0),
                ("99,999 x 5,000-block sweep refused (s)", bench_sweep(folder, args.repeat), 5.0),
                ("5,000-block render, collapsed (s)", bench_render(folder, 1), 10.0)]
        print(f"  (zip bomb reason: {reason[:150]})")
    for what, value, target in rows:
        ok = value < target
        missed += not ok
        print(f"{what:48s} {value:10.3f}  target < {target:g}  {'ok' if ok else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Memoised analysis against the code before it, in one run (issue 17).

Each measurement runs in a fresh process per tree, the trees taking turns, so both see the same
load on a shared machine:
1. 10,000 resnet50 variants in-process (`head.classes` 1..10,000: resnet50's blocks exactly);
2. 10,000 resnet50 depth variants (every `stages.depths` in 1..10 per stage);
3. sampled RegNetX models (pycls's RegNetX space: depth 12..28, w0 log-uniform 8..256 step 8,
   wa log-uniform 8..256 step 0.1, wm log-uniform 1.5..3 step 0.001, group width 1..32, powers
   of two), analysed in-process;
4. `archc summary resnet152`, whole process, against torchvision + FlopCounterMode.

Usage: python benchmarks/bench_memo.py --before /tmp/before17 [--regnets N] [--torch-python P]
`--before` is a worktree of the code before this change (main's 2c355f2); it is put first on
PYTHONPATH. `--instructions` counts instructions with callgrind instead (a small count each),
for before, now, and now with the memo off (ARCHC_MEMO=0). `--ab R` times R interleaved rounds
of the three in fresh processes (CPU time a model, medians): on a machine shared with other
jobs, the load hits all three alike. `--record` writes what was measured to results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# pycls's RegNetX space as the benchmarks draw it (bench_resolve.py uses the same models).
REGNETS = r"""
def regnets(n):
    rng = random.Random(0)
    def logu(lo, hi, q):
        return round(math.exp(rng.uniform(math.log(lo), math.log(hi))) / q) * q
    for _ in range(n):
        yield {"rule": "regnet", "depth": rng.randint(12, 28), "w0": int(logu(8, 256, 8)),
               "wa": round(logu(8, 256, 0.1), 1), "wm": round(logu(1.5, 3, 0.001), 3),
               "group_width": 2 ** rng.randint(0, 5)}
"""

WORK = r"""
import itertools, json, math, random, sys, time
import archcompiler
what, n = sys.argv[1], int(sys.argv[2])

""" + REGNETS + r"""
if what == "classes":
    jobs = [("resnet50", {"head.classes": c}) for c in range(1, n + 1)]
elif what == "depths":
    jobs = [("resnet50", {"stages.depths": list(d)})
            for d in itertools.islice(itertools.product(range(1, 11), repeat=4), n)]
else:
    jobs = [("regnetx_002", {"stages.widths": w}) for w in regnets(n)]
archcompiler.analyze("resnet50"); archcompiler.analyze("regnetx_002")
start, cpu = time.perf_counter(), time.process_time()
macs = 0
for base, over in jobs:
    try:
        macs += archcompiler.analyze(base, overrides=over).macs
    except archcompiler.SpecError:
        pass
print(json.dumps({"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "macs": macs}))
"""


def run(tree: Path, what: str, n: int, instructions: bool = False,
        memo: bool = True) -> dict[str, float]:
    """One measurement in a fresh process with `tree` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree), "ARCHC_MEMO": "1" if memo else "0"}
    cmd = [sys.executable, "-c", WORK, what, str(n)]
    if instructions:
        out = Path(f"/tmp/callgrind.memo.{os.getpid()}")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
                       env=env, capture_output=True, text=True, check=True, cwd="/tmp")
        total = next(line for line in out.read_text().splitlines()
                     if line.startswith("summary:") or line.startswith("totals:"))
        out.unlink()
        return {"instructions": float(total.split()[1])}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd="/tmp")
    return dict(json.loads(done.stdout))


def summary_ratio(tree: Path, torch_python: str, repeat: int) -> tuple[float, float]:
    """Best whole-process `archc summary resnet152` and torch route, in seconds."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    from bench_analysis import TORCH_PATH  # type: ignore[import-not-found]

    def best(cmd: list[str], env: dict[str, str] | None, k: int) -> float:
        times = []
        for _ in range(k):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True, cwd="/tmp")
            times.append(time.perf_counter() - t)
        return min(times)

    archc = best([sys.executable, "-m", "archcompiler", "summary", "resnet152"], env, repeat)
    # torchvision's resnet152 where importable, else archcompiler's torchvision-compatible one
    return archc, best([torch_python, "-c", TORCH_PATH], env, max(2, repeat // 2))


FLOOR = "import pydantic, yaml; from pydantic import BaseModel"  # what validation must import


def _wall(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of one whole process, and its stderr."""
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd="/tmp")
    return time.perf_counter() - t, done.stderr


def final(args: argparse.Namespace, trees: dict[str, Path]
          ) -> dict[str, tuple[float, str, int, str]]:
    """Issue 17's three targets as a user meets them, in one run (rounds interleaved).

    1. 10,000 resnet50 variants in-process, before and now (median wall of `--repeat` rounds);
    2. `archc sample --space regnetx --count N --jobs J` whole process (every draw analysed),
       the same with the memo bounded at 1,024 and at 8,192 blocks (ARCHC_MEMO_SIZE), and
       RegNetX in one process (`run`'s generator);
    3. `archc summary resnet152` whole process against the torch route, and against a process
       that only imports what validation needs (Python, pydantic and PyYAML): the floor.
    """
    figs: dict[str, tuple[float, str, int, str]] = {}
    walls: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.repeat):
        for name, tree in trees.items():
            walls[name].append(run(tree, "classes", args.variants)["wall"])
    for name, times in walls.items():
        figs[f"memo.round2.classes_{name}"] = (
            statistics.median(times), "s", 2, f"{args.variants:,} resnet50 variants in-process, "
            f"{name} (median wall of {args.repeat} interleaved rounds)")
    cmd = [sys.executable, "-m", "archcompiler", "sample", "regnetx_002", "--space", "regnetx",
           "--count", str(args.regnets), "--seed", "0", "--csv", "--jobs", str(args.jobs)]
    wall, err = _wall(cmd, {**os.environ, "PYTHONPATH": str(HERE)})
    print(err.strip().splitlines()[-1], flush=True)
    figs["memo.round2.sample_wall"] = (wall, "s", 1, f"archc sample --space regnetx --count "
                                       f"{args.regnets:,} --jobs {args.jobs}, whole process")
    figs["memo.round2.sample_ms"] = (wall / args.regnets * 1e3, "ms", 3,
                                     "wall a draw of that sample")
    # The memo's bound: the default against the bound before this round, in turns.
    sizes: dict[int, list[float]] = {1024: [], 8192: []}
    small = [*cmd[:cmd.index("--count") + 1], str(args.size_count), *cmd[cmd.index("--seed"):]]
    for _ in range(2):
        for size, times in sizes.items():
            times.append(_wall(small, {**os.environ, "PYTHONPATH": str(HERE),
                                       "ARCHC_MEMO_SIZE": str(size)})[0])
    for size, times in sizes.items():
        figs[f"memo.round2.size{size}"] = (statistics.median(times), "s", 1,
                                           f"that sample of {args.size_count:,} draws with "
                                           f"ARCHC_MEMO_SIZE={size} (median of 2, in turns)")
    one = run(HERE, "regnet", args.regnets_one)
    figs["memo.round2.regnet_one_ms"] = (one["wall"] / args.regnets_one * 1e3, "ms", 3,
                                         f"RegNetX in one process, wall a model "
                                         f"({args.regnets_one:,} models)")
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    rounds: dict[str, list[float]] = {"archc": [], "torch": [], "floor": []}
    from bench_analysis import TORCH_PATH  # type: ignore[import-not-found]
    for _ in range(args.repeat):
        rounds["archc"].append(_wall([sys.executable, "-m", "archcompiler", "summary",
                                      "resnet152"], env)[0])
        rounds["torch"].append(_wall([args.torch_python, "-c", TORCH_PATH], env)[0])
        rounds["floor"].append(_wall([sys.executable, "-c", FLOOR])[0])
    med = {k: statistics.median(v) for k, v in rounds.items()}
    figs["memo.round2.summary_archc"] = (med["archc"], "s", 3, "archc summary resnet152, whole "
                                         "process (median of interleaved rounds)")
    figs["memo.round2.summary_torch"] = (med["torch"], "s", 2, "the torch route, whole process")
    figs["memo.round2.summary_ratio"] = (med["torch"] / med["archc"], "x", 1, "torch / archc")
    figs["memo.round2.floor"] = (med["floor"], "s", 3, f"python -c '{FLOOR}', whole process")
    figs["memo.round2.floor_ratio"] = (med["torch"] / med["floor"], "x", 1,
                                       "torch route / that floor: the most any summary could "
                                       "reach while validating with pydantic")
    for fid, (value, unit, decimals, what) in figs.items():
        print(f"{fid}: {value:,.{decimals}f} {unit}  ({what})", flush=True)
    return figs


def main() -> None:
    """Run every measurement on both trees, the trees taking turns; print and save them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--regnets", type=int, default=100_000)
    parser.add_argument("--regnets-before", type=int, default=5_000,
                        help="RegNetX models for the slower before tree (scaled up)")
    parser.add_argument("--torch-python", default=sys.executable)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--ab", type=int, metavar="ROUNDS",
                        help="interleaved rounds of before, now and now without the memo")
    parser.add_argument("--final", action="store_true",
                        help="the three targets as a user meets them (see `final`)")
    parser.add_argument("--jobs", type=int, default=2, help="--final: the sample's --jobs")
    parser.add_argument("--size-count", type=int, default=30_000,
                        help="--final: draws of the sample that compares memo bounds")
    parser.add_argument("--regnets-one", type=int, default=20_000,
                        help="--final: RegNetX models analysed in one process")
    parser.add_argument("--record", action="store_true", help="write to results.json")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "now": HERE}
    results: dict[str, dict[str, object]] = {}
    sides = {"before": (trees["before"], True), "now": (HERE, True), "now_off": (HERE, False)}
    figures: dict[str, tuple[float, str, int, str]] = {}
    if args.final:
        sys.path.insert(0, str(HERE / "benchmarks"))
        figures.update(final(args, trees))
    elif args.instructions:
        # Start-up (imports, the first analysis) is counted once per side and taken off.
        base = {name: run(tree, "classes", 0, True, memo)["instructions"]
                for name, (tree, memo) in sides.items()}
        for what, n in (("classes", 200), ("regnet", 200)):
            for name, (tree, memo) in sides.items():
                counted = run(tree, what, n, True, memo)["instructions"] - base[name]
                results.setdefault(what, {})[name] = counted / n
                figures[f"memo.instr.{what}.{name}"] = (
                    counted / n / 1e6, "M", 2, f"instructions a model ({what} x{n}, callgrind, "
                    f"start-up taken off), {name.replace('_', ' with the memo ')}")
                print(f"{what} x{n}, {name}: {counted / n:,.0f} instructions a model "
                      "(start-up taken off)", flush=True)
    elif args.ab:
        for what, n in (("regnet", args.regnets), ("classes", args.variants)):
            cpu: dict[str, list[float]] = {name: [] for name in sides}
            for _ in range(args.ab):
                for name, (tree, memo) in sides.items():
                    cpu[name].append(run(tree, what, n, memo=memo)["cpu"] / n)
            for name, times in cpu.items():
                ms = statistics.median(times) * 1e3
                results.setdefault(what, {})[name] = ms
                figures[f"memo.ab.{what}.{name}"] = (
                    ms, "ms", 3, f"CPU a model ({what} x{n:,}, median of {args.ab} interleaved "
                    f"rounds), {name.replace('_', ' with the memo ')}")
                print(f"{what} x{n:,}, {name}: {ms:.3f} ms CPU a model (rounds: "
                      f"{', '.join(f'{t * 1e3:.3f}' for t in times)})", flush=True)
    else:
        for what, n in (("classes", args.variants), ("depths", args.variants)):
            for name, tree in trees.items():
                r = run(tree, what, n)
                results.setdefault(what, {})[name] = r
                print(f"{what} x{n:,}, {name}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU",
                      flush=True)
        for name, tree in trees.items():
            n = args.regnets if name == "now" else args.regnets_before
            r = run(tree, "regnet", n)
            scaled = r["wall"] * args.regnets / n
            results.setdefault("regnet", {})[name] = {**r, "n": n, "scaled_wall": scaled}
            print(f"regnetx x{n:,}, {name}: {r['wall']:.2f} s wall ({scaled:.1f} s per "
                  f"{args.regnets:,})", flush=True)
        sys.path.insert(0, str(HERE / "benchmarks"))
        for name, tree in trees.items():
            a, t = summary_ratio(tree, args.torch_python, args.repeat)
            results.setdefault("summary_resnet152", {})[name] = {"archc": a, "torch": t,
                                                                 "ratio": t / a}
            print(f"archc summary resnet152, {name}: {a:.3f} s; torch route {t:.3f} s; "
                  f"{t / a:.1f}x", flush=True)
    if args.record and figures:
        sys.path.insert(0, str(HERE / "benchmarks"))
        from results import record

        argv = sys.argv[1:]
        if "--before" in argv:  # a local path: say what it holds
            argv[argv.index("--before") + 1] = "<worktree of 2c355f2>"
        record("python benchmarks/bench_memo.py " + " ".join(argv), figures)
        print("recorded in benchmarks/results.json")
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Wall-clock limits that used to be asserts inside the tests, checked in one run.

The test suite keeps no stopwatch readings: a shared or loaded machine makes them flaky, and a
passing one says little. The hostile corpus keeps its bounds as resource limits in
tests/corpus/test_corpus.py (CPU seconds and address space, set with setrlimit); this script measures the
same work on the wall clock, and the speed checks of tests/analysis/test_analysis.py, against the limits
those tests used to assert:

1. `archcompiler.analyze("resnet1202")` in-process, from the name (load + analysis): < 2.0 s.
   (The tighter < 0.3 s goal, for analysing an already-resolved spec, is bench_analysis.py's.)
2. the block-depth summary table of resnet1202 (`format_text(report, "block")`): < 1.0 s.
3. the slowest file of the hostile corpus (tests/data/bad, plus the files tests/corpus/test_corpus.py
   generates), validated in-process: < 2.0 s.
4. the slowest of the hostile cases that tests/corpus/test_corpus.py also runs as a fresh
   `python -m archcompiler validate` process: < 3.0 s (2 s plus interpreter start-up and imports).

Each figure is the best of `--repeat` runs. Prints each figure with its target and exits 1 if any
target is missed.

Usage: python benchmarks/bench_limits.py [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

# The corpus cases tests/corpus/test_corpus.py also refuses in a fresh process (its SUBPROCESS_CASES).
FRESH_PROCESS_CASES = ["tag_python_object_apply", "tag_python_object_apply_top",
                       "tag_python_object_new", "alias_bomb", "alias_bomb_wide",
                       "nesting_too_deep", "not_utf8_latin1", "huge_integer_literal"]


@dataclass(frozen=True)
class Figure:
    """One measured figure against its limit."""

    label: str
    seconds: float
    limit: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.seconds < self.limit

    def line(self) -> str:
        verdict = "ok" if self.ok else "MISSED"
        detail = f"  [{self.detail}]" if self.detail else ""
        return f"{self.label:<58} {self.seconds:8.3f} s  (target < {self.limit:.1f} s)  {verdict}{detail}"


def best_of(run: Callable[[], object], repeat: int) -> float:
    """The best wall time of `repeat` calls of `run`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def generated_hostile_files(folder: Path) -> list[Path]:
    """Write the hostile files tests/corpus/test_corpus.py generates at test time; return their paths."""
    files = {
        "over_size_bound.yaml": ("spec_version: 1\nname: big\ndescription: |\n"
                                 + "  padding padding padding padding\n" * 40_000).encode(),
        "too_many_values.yaml": ("spec_version: 1\nname: big\nx: [" + "1, " * 300_000
                                 + "1]\n").encode(),
        "too_many_keys.yaml": "".join(f"k{i}: {i}\n" for i in range(60_000)).encode(),
        "deep_flow.yaml": ("x: " + "[" * 100_000 + "\n").encode(),
        "long_description.yaml": ("spec_version: 1\nname: big\ndescription: " + "a" * 900_000
                                  + "\nstages: {block: {type: basic}, depths: [2], widths: [64]}\n"
                                  ).encode(),
        "latin1.yaml": "spec_version: 1\nname: caf\u00e9\n".encode("latin-1"),
    }
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def validate_in_process(path: Path) -> None:
    """`archc validate PATH` in this process, its output discarded; the file must be refused."""
    from archcompiler.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = main(["validate", str(path)])
    if rc not in (1, 2):
        raise SystemExit(f"{path.name}: expected it to be refused, got exit code {rc}")


def validate_in_a_fresh_process(path: Path) -> None:
    """`python -m archcompiler validate PATH` as a new process; the file must be refused."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "archcompiler", "validate", str(path)],
                          capture_output=True, env=env, timeout=60)
    if proc.returncode != 1:
        raise SystemExit(f"{path.name}: expected exit code 1, got {proc.returncode}")


HUGE = "extends: resnet50\nname: huge\nstages: {widths: [4096, 8192, 16384, 32768]}\n"


def build_is_refused(folder: Path) -> None:
    """`archc build` on the 96-billion-parameter spec, a new process: refused, nothing written."""
    spec = folder / "huge.yaml"
    spec.write_text(HUGE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "archcompiler", "build", str(spec), "-o",
                           str(folder / "huge.pt")], capture_output=True, env=env, timeout=60)
    if proc.returncode != 1 or b"ARC401" not in proc.stderr or (folder / "huge.pt").exists():
        raise SystemExit(f"the huge spec was not refused: exit code {proc.returncode}")


def slowest(paths: list[Path], run: Callable[[Path], None], repeat: int) -> tuple[float, str]:
    """The largest best-of-`repeat` time over `paths`, and the name of that file."""
    times = {path.name: best_of(partial(run, path), repeat) for path in paths}
    name = max(times, key=lambda n: times[n])
    return times[name], name


def measure(repeat: int) -> list[Figure]:
    """Take every figure."""
    import archcompiler
    from archcompiler.report.summary import format_text

    figures = [Figure('archcompiler.analyze("resnet1202") (in-process)',
                      best_of(lambda: archcompiler.analyze("resnet1202"), repeat), 2.0)]
    report = archcompiler.analyze("resnet1202")
    figures.append(Figure('format_text(resnet1202, "block") (600 blocks)',
                          best_of(lambda: format_text(report, "block"), repeat), 1.0))
    with tempfile.TemporaryDirectory() as tmp:
        hostile = sorted(BAD.glob("*.yaml")) + generated_hostile_files(Path(tmp))
        seconds, name = slowest(hostile, validate_in_process, repeat)
        figures.append(Figure(f"slowest of {len(hostile)} hostile files, validate in-process",
                              seconds, 2.0, name))
    fresh = [BAD / f"{stem}.yaml" for stem in FRESH_PROCESS_CASES]
    seconds, name = slowest(fresh, validate_in_a_fresh_process, repeat)
    figures.append(Figure(f"slowest of {len(fresh)} cases, `python -m archcompiler validate`",
                          seconds, 3.0, name))
    with tempfile.TemporaryDirectory() as tmp:
        figures.append(Figure("`archc build` refuses the 96-billion-parameter spec",
                              best_of(partial(build_is_refused, Path(tmp)), repeat), 1.0))
    return figures


def main() -> int:
    """Measure, print each figure against its target, and return 1 if any target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best counts")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; best of {args.repeat} runs per figure")
    figures = measure(max(1, args.repeat))
    for figure in figures:
        print(figure.line())
    missed = [f.label for f in figures if not f.ok]
    print(f"{len(figures) - len(missed)} of {len(figures)} targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

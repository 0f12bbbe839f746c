"""`archc lsp` latency, measured by a real LSP client (pygls's) in the same run.

Prints:
1. diagnostics latency on a resnet152 variant: from sending a didChange to receiving the
   publishDiagnostics of that version (median and p90; target: median within 50 ms);
2. hover latency on a stage of that spec (median and p90; target: within 20 ms);
3. on a 10,000-layer spec, while the user types (one edit every 30 ms for 3 s): the round trip
   of a completion request sent every 20 ms, a bound on how long the message loop is ever
   blocked (target: the worst below 200 ms), and how many analyses the edits cost;
4. the alternative without a server: `archc validate` on the saved file, whole process.

Usage: python benchmarks/bench_lsp.py [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lsp_client import Session

R152 = """\
spec_version: 1
extends: resnet50
name: resnet152
description: a resnet152 variant being edited
stages: {depths: [3, 8, 36, 3]}
head: {classes: 1000}
"""
DEEP = """\
spec_version: 1
extends: resnet18
name: deep
stages: {block: {type: basic}, depths: [1250, 1250, 1250, 1250]}
head: {classes: 1000}
rules: {name_matches_depth: off}
"""


def pct(values: list[float], q: float) -> float:
    """The q-quantile of `values`, in milliseconds."""
    ordered = sorted(values)
    return 1e3 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def diagnostics_and_hover(s: Session, folder: Path, repeat: int) -> None:
    uri = s.open(folder / "r152.yaml", R152)
    await s.wait_diagnostics(uri)
    line = R152.splitlines()[5]
    col = line.index("1000")
    diag_times = []
    for i in range(repeat):
        new = str(999 + i % 2)  # 999, 1000, 999, ...: a real edit each time
        start = time.perf_counter()
        version = s.edit(uri, 5, col, 5, col + 4, new.rjust(4))
        await s.wait_diagnostics(uri, version)
        diag_times.append(s.arrived[uri] - start)
        await asyncio.sleep(0.02)
    stage = R152.splitlines()[4].index("36")
    hover_times = []
    for _ in range(repeat):
        start = time.perf_counter()
        found = await s.hover(uri, 4, stage)
        hover_times.append(time.perf_counter() - start)
        assert found is not None and "layer3" in found.contents.value  # type: ignore[union-attr]
    print(f"resnet152 variant, diagnostics after a change: median {pct(diag_times, 0.5):.1f} ms, "
          f"p90 {pct(diag_times, 0.9):.1f} ms ({repeat} edits)")
    print(f"resnet152 variant, hover on a stage: median {pct(hover_times, 0.5):.1f} ms, "
          f"p90 {pct(hover_times, 0.9):.1f} ms ({repeat} hovers)")


async def deep_spec(s: Session, folder: Path) -> None:
    uri = s.open(folder / "deep.yaml", DEEP)
    start = time.perf_counter()
    await s.wait_diagnostics(uri, timeout=60)
    first = time.perf_counter() - start
    published = 0
    seen = s.versions.get(uri)
    col = DEEP.splitlines()[4].index("1000")
    edits = 0
    stop = time.perf_counter() + 3.0
    trips: list[float] = []

    async def typist() -> None:
        nonlocal edits
        while time.perf_counter() < stop:
            s.edit(uri, 4, col, 4, col + 4, str(999 + edits % 2).rjust(4))
            edits += 1
            await asyncio.sleep(0.03)

    async def prober() -> None:
        while time.perf_counter() < stop:
            t = time.perf_counter()
            await s.complete(uri, 1, len("extends: "))
            trips.append(time.perf_counter() - t)
            await asyncio.sleep(0.02)

    async def counter() -> None:
        nonlocal published, seen
        while time.perf_counter() < stop:
            if s.versions.get(uri) != seen:
                seen = s.versions.get(uri)
                published += 1
            await asyncio.sleep(0.005)

    await asyncio.gather(typist(), prober(), counter())
    await s.wait_diagnostics(uri, timeout=60)
    print(f"10,000-layer spec: first analysis {first:.2f} s; {edits} edits in 3 s led to "
          f"{published} publish(es) while typing, the last version's {s.arrived[uri] - stop:.2f} s after "
          "typing stopped (stale results are dropped, waiting requests replaced)")
    print(f"10,000-layer spec, completion round trips while typing: median "
          f"{pct(trips, 0.5):.1f} ms, max {1e3 * max(trips):.1f} ms ({len(trips)} requests)")


def cli_alternative(folder: Path, repeat: int) -> None:
    (folder / "saved.yaml").write_text(R152)
    times = []
    for _ in range(max(3, repeat // 10)):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "archcompiler", "validate", "saved.yaml"],
                       cwd=folder, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    print(f"alternative, `archc validate` on the saved file (whole process): median "
          f"{pct(times, 0.5):.0f} ms")


async def main(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        s = Session(cwd=folder)
        await s.start()
        await diagnostics_and_hover(s, folder, repeat)
        await deep_spec(s, folder)
        assert s.alive
        await s.stop()
        cli_alternative(folder, repeat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.repeat))

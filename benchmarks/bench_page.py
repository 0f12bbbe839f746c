"""The interactive page: `archc render resnet152 -o x.html` whole-process against the SVG route
(`-o x.svg`), in the same run; then the page's open-to-interactive time in headless Chromium.

Targets (issue 19): the page render under 1 s whole-process; the page interactive under 1 s.
Run: `.venv/bin/python benchmarks/bench_page.py [SPEC] [--repeat N]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ARCHC = [sys.executable, "-m", "archcompiler"]


def whole_process(args: list[str], repeat: int) -> tuple[float, float]:
    """Best wall time and the CPU time (user+sys, children) of that run, in seconds."""
    best, cpu_best = float("inf"), 0.0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(ARCHC + args, check=True, capture_output=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if wall < best:
            best, cpu_best = wall, cpu
    return best, cpu_best


def interactive(page_path: Path, repeat: int) -> list[float]:
    """Seconds from navigation to the page's `ready` (first SVG drawn, handlers bound)."""
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            t = time.perf_counter()
            page.goto(page_path.as_uri())
            while not page.evaluate("() => Boolean(window.archc && window.archc.ready)"):
                time.sleep(0.005)
            ready = time.perf_counter() - t
            # Interactive: a click expands a stage (the next detail is decoded and drawn).
            t2 = time.perf_counter()
            page.evaluate("archc.show('layer')")
            while page.evaluate("archc.level") != "layer":
                time.sleep(0.005)
            out.append(ready)
            print(f"  ready {ready * 1000:.0f} ms; layer detail drawn in "
                  f"{(time.perf_counter() - t2) * 1000:.0f} ms")
            page.close()
        browser.close()
    return out


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", nargs="?", default="resnet152")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        html, svg = Path(tmp) / "x.html", Path(tmp) / "x.svg"
        for name, args in (("html page", ["render", a.spec, "-o", str(html)]),
                           ("svg, block detail", ["render", a.spec, "-o", str(svg)]),
                           ("summary (python start-up + analysis)", ["summary", a.spec])):
            wall, cpu = whole_process(args, a.repeat)
            print(f"{name:38s} best wall {wall:.3f} s, cpu {cpu:.3f} s")
        print(f"page size {html.stat().st_size / 1024:.0f} KiB; svg size "
              f"{svg.stat().st_size / 1024:.0f} KiB")
        ready = interactive(html, a.repeat)
        print(f"page interactive: best {min(ready) * 1000:.0f} ms, worst "
              f"{max(ready) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

"""The one results file: every figure the README and docs/ quote, with its date, machine and command.

benchmarks/results.json maps a figure id to {value, unit, decimals, what, date, machine,
command}. Benchmarks update their figures with `record`; pages quote a figure between
`<!--fig ID-->` and `<!--/fig-->` (or `<!--fig ID num-->` for the number without its unit),
`scripts/regen_docs.py` rewrites the text between the markers with `render_page`, and
tests/project/test_docs.py fails when a page and the file disagree.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
MARKER = re.compile(r"<!--fig ([A-Za-z0-9_.\-]+)( num)?-->([^<\n]*)<!--/fig-->")
NO_SPACE = {"x", "%"}  # units written straight after the number: 19.5x, 3%
# Figures inside code blocks, where a marker would show: (page, pattern around the figure, id).
ANCHORS = [("README.md", r"(sweep: 3,840 variants of resnet50 in )([0-9.,]+ s)(;)",
            "sweep.readme_example")]


def load(path: Path = RESULTS) -> dict[str, dict[str, Any]]:
    """Every figure, by id."""
    figures: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["figures"]
    return figures


def render(figure: dict[str, Any], *, unit: bool = True) -> str:
    """'19.5x', '0.46 s', '3,979 img/s': the value with its decimals and unit."""
    text = f"{figure['value']:,.{figure['decimals']}f}"
    if not unit or not figure["unit"]:
        return text
    return text + ("" if figure["unit"] in NO_SPACE else " ") + figure["unit"]


def render_page(text: str, figures: dict[str, dict[str, Any]], page: str = "") -> str:
    """The page with the text between every pair of markers (and every anchor of `page`)
    rendered from `figures`."""

    def one(m: re.Match[str]) -> str:
        fid, num = m.group(1), m.group(2)
        if fid not in figures:
            raise KeyError(f"no figure {fid!r} in {RESULTS.name}")
        return f"<!--fig {fid}{num or ''}-->{render(figures[fid], unit=not num)}<!--/fig-->"

    text = MARKER.sub(one, text)
    for name, pattern, fid in ANCHORS:
        if name == page:
            text = re.sub(pattern, lambda m, f=fid: m.group(1) + render(figures[f]) + m.group(3),
                          text)
    return text


def machine() -> str:
    """A one-line description of this machine, with its load when the figures were written."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, load average {load:.1f}")


def record(command: str, figures: dict[str, tuple[float, str, int, str]],
           path: Path = RESULTS) -> None:
    """Write figures {id: (value, unit, decimals, what)} measured now by `command`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    today = datetime.date.today().isoformat()
    for fid, (value, unit, decimals, what) in figures.items():
        data["figures"][fid] = {"value": round(value, decimals) if decimals else round(value),
                                "unit": unit, "decimals": decimals, "what": what, "date": today,
                                "machine": machine(), "command": command}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")

"""The render backend: architecture diagrams as DOT text, SVG/PNG/PDF through graphviz `dot`,
and an interactive, self-contained HTML page.

`to_dot_text` is pure Python over the analysis report: it imports neither torch nor the graphviz
package and needs no `dot` binary. Only images and the page run `dot`. Failures are typed
errors; the CLI decides what they mean for its exit code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic
from ...core.fileio import atomic_write_bytes
from .dot import DETAILS, RANKDIRS
from .dotrun import (
    DOT_TIMEOUT_S,
    INSTALL_HINT,
    DotFailedError,
    DotNotFoundError,
    DotTimeoutError,
    drawn_nodes,
    find_dot,
    run_dot,
)
from .drawer import to_dot_text
from .figure import figure_dot
from .page import page_data, page_html
from .style import STYLES

__all__ = [
    "DETAILS",
    "DOT_TIMEOUT_S",
    "FORMATS",
    "INSTALL_HINT",
    "MAX_DRAWN",
    "RANKDIRS",
    "STYLES",
    "DotFailedError",
    "DotNotFoundError",
    "DotTimeoutError",
    "Drawn",
    "check_options",
    "diagram_format",
    "draw",
    "draw_figure",
    "drawn_nodes",
    "figure_dot",
    "find_dot",
    "page_data",
    "page_html",
    "page_text",
    "run_dot",
    "to_dot_text",
    "write_diagram",
]

# graphviz's layout grows faster than linearly: resnet1202 at layer detail (4,200 boxes) takes
# 12 s, a 5,000-block net at block detail 2 minutes. Above this many boxes: stage detail.
MAX_DRAWN = 5000
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".html": "html"}


@dataclass(frozen=True)
class Drawn:
    """What `draw` wrote: the path, the detail drawn, and the detail asked for when collapsed."""

    path: Path
    detail: str
    nodes: int
    collapsed_from: str | None = None


def check_options(detail: str, rankdir: str, style: str = "default") -> None:
    """Raise ValueError for an unknown detail, rankdir or style."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}; got {style!r}")
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}; got {detail!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}; got {rankdir!r}")


def diagram_format(path: Path) -> str:
    """The output format a file suffix names; ValueError for an unknown suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot render to '{path.suffix or path.name}': use a file ending in "
                         f"{', '.join(FORMATS)}")
    return fmt


def page_text(report: Report, *, live: bool = False, errors: Sequence[Diagnostic] = ()) -> str:
    """The interactive HTML page of `report` (needs `dot`: DotNotFoundError without it)."""
    dot = find_dot()
    if dot is None:
        raise DotNotFoundError(None)
    return page_html(page_data(report, dot), live=live, errors=errors)


def write_diagram(report: Report, path: Path, detail: str, rankdir: str,
                  style: str = "default") -> Path:
    """Write the diagram of `report` to `path`, in the format its suffix names."""
    return draw(report, path, detail, rankdir, style=style).path


def _keep_beside(path: Path, text: str, protect: Iterable[Path]) -> Path | None:
    """Write the DOT text beside `path` (net.svg -> net.dot) unless a file is there already."""
    beside = path.with_suffix(".dot")
    if beside.exists() or any(beside.resolve() == p.resolve() for p in protect):
        return None  # never overwrite the user's own net.dot (or an input) with a fallback
    atomic_write_bytes(beside, text.encode("utf-8"))
    return beside


def draw(report: Report, path: Path, detail: str, rankdir: str, max_drawn: int = MAX_DRAWN,
         timeout: float = DOT_TIMEOUT_S, protect: Iterable[Path] = (),
         style: str = "default") -> Drawn:
    """Write the diagram, at stage detail when `detail` would draw more than `max_drawn` boxes.

    `dot` runs under `timeout` seconds. When it is missing or fails, the DOT text is kept beside
    the image (net.dot) unless a file of that name exists or is in `protect`. An .html path gets
    the interactive page, which holds every detail level.
    """
    fmt = diagram_format(path)
    if fmt == "html":
        if find_dot() is None:
            raise DotNotFoundError(_keep_beside(path, to_dot_text(report, "stage", rankdir),
                                                protect))
        atomic_write_bytes(path, page_text(report).encode("utf-8"))
        return Drawn(path, "page", 0)
    text = to_dot_text(report, detail, rankdir, style)
    nodes, asked = drawn_nodes(text), None
    if fmt != "dot" and nodes > max_drawn and detail != "stage":
        asked, detail = detail, "stage"
        text = to_dot_text(report, detail, rankdir, style)
        nodes = drawn_nodes(text)
    _write(text, fmt, path, timeout, protect)
    return Drawn(path, detail, nodes, asked)


def _write(text: str, fmt: str, path: Path, timeout: float, protect: Iterable[Path]) -> None:
    """Write DOT text as it is (.dot), or laid out by `dot` under `timeout`, keeping the DOT
    text beside the image when `dot` is missing or fails."""
    if fmt == "dot":
        atomic_write_bytes(path, text.encode("utf-8"))
        return
    dot = find_dot()
    if dot is None:
        raise DotNotFoundError(_keep_beside(path, text, protect))
    try:
        image = run_dot(text, fmt, dot, timeout)
    except DotFailedError as exc:
        exc.dot_path = _keep_beside(path, text, protect)
        raise
    atomic_write_bytes(path, image)


def draw_figure(reports: Sequence[Report], path: Path, timeout: float = DOT_TIMEOUT_S,
                protect: Iterable[Path] = ()) -> Drawn:
    """Write several specs side by side, aligned by map size (the paper's Figure 3)."""
    fmt = diagram_format(path)
    if fmt == "html":
        raise ValueError("several specs are drawn as .svg, .png, .pdf or .dot, not .html")
    text = figure_dot(reports)
    _write(text, fmt, path, timeout, protect)
    return Drawn(path, "figure", drawn_nodes(text))

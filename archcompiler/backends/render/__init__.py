"""The render backend: architecture diagrams as DOT text, and SVG/PNG/PDF through graphviz `dot`.

`to_dot_text` is pure Python over the analysis report: it imports neither torch nor the graphviz
package and needs no `dot` binary. Only `write_diagram` to an image runs `dot`. Failures are
typed errors; the CLI decides what they mean for its exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic
from ...core.fileio import atomic_write_bytes
from .dot import DETAILS, RANKDIRS
from .dotrun import DOT_TIMEOUT_S, INSTALL_HINT, DotFailedError, DotNotFoundError, find_dot, run_dot
from .drawer import to_dot_text
from .page import page_data, page_html
from .style import STYLES

__all__ = ["DETAILS", "DOT_TIMEOUT_S", "FORMATS", "INSTALL_HINT", "RANKDIRS", "STYLES", "DotFailedError",
           "DotNotFoundError", "check_options", "diagram_format", "find_dot", "page_data",
           "page_html", "page_text",
           "run_dot", "to_dot_text", "write_diagram"]

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".html": "html"}


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
        raise DotNotFoundError(Path("(no DOT text written)"))
    return page_html(page_data(report, dot), live=live, errors=errors)


def write_diagram(report: Report, path: Path, detail: str, rankdir: str,
                  style: str = "default") -> Path:
    """Write the diagram of `report` to `path`, in the format its suffix names."""
    fmt = diagram_format(path)
    if fmt == "html":
        if find_dot() is None:
            fallback = path.with_suffix(".dot")
            atomic_write_bytes(fallback, to_dot_text(report, "stage", rankdir).encode("utf-8"))
            raise DotNotFoundError(fallback)
        atomic_write_bytes(path, page_text(report).encode("utf-8"))
        return path
    text = to_dot_text(report, detail, rankdir, style)
    if fmt == "dot":
        atomic_write_bytes(path, text.encode("utf-8"))
        return path
    dot = find_dot()
    if dot is None:
        fallback = path.with_suffix(".dot")
        atomic_write_bytes(fallback, text.encode("utf-8"))
        raise DotNotFoundError(fallback)
    try:
        image = run_dot(text, fmt, dot)
    except DotFailedError as exc:
        exc.dot_path = path.with_suffix(".dot")
        atomic_write_bytes(exc.dot_path, text.encode("utf-8"))
        raise
    atomic_write_bytes(path, image)
    return path

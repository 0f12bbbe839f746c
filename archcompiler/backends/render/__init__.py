"""The render backend: architecture diagrams as DOT text, and SVG/PNG/PDF through graphviz `dot`.

`to_dot_text` is pure Python over the analysis report: it imports neither torch nor the graphviz
package and needs no `dot` binary. Only `write_diagram` to an image runs `dot`. Failures are
typed errors; the CLI decides what they mean for its exit code.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ...analysis.report import Report
from ...core.fileio import atomic_write_bytes
from .dot import DETAILS, RANKDIRS
from .drawer import to_dot_text

__all__ = ["DETAILS", "DOT_TIMEOUT_S", "FORMATS", "INSTALL_HINT", "MAX_DRAWN", "RANKDIRS",
           "DotFailedError", "DotNotFoundError", "DotTimeoutError", "Drawn", "check_options",
           "diagram_format", "draw", "drawn_nodes", "find_dot", "run_dot", "to_dot_text",
           "write_diagram"]

# graphviz's layout grows faster than linearly: resnet1202 at layer detail (4,200 boxes) takes
# 12 s, a 5,000-block net at block detail 2 minutes. Above this many boxes: stage detail.
MAX_DRAWN = 5000
DOT_TIMEOUT_S = 60  # a hung or slow `dot` must not hang us: it is killed, with its own exit code
_NODE_LINE = re.compile(r'^\s*"[^"\n]*" \[', re.MULTILINE)
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}
INSTALL_HINT = ("install graphviz to get images: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install graphviz`")


class DotNotFoundError(RuntimeError):
    """The graphviz `dot` binary is not on PATH; the DOT text was written to `dot_path`."""

    def __init__(self, dot_path: Path | None) -> None:
        wrote = f"wrote {dot_path} instead" if dot_path is not None else "wrote nothing"
        super().__init__(f"graphviz `dot` was not found on PATH; {wrote}. {INSTALL_HINT}")
        self.dot_path = dot_path


class DotFailedError(RuntimeError):
    """`dot` ran but failed; the message carries its stderr. The DOT text is kept beside."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.dot_path: Path | None = None


class DotTimeoutError(DotFailedError):
    """`dot` did not finish within the time limit and was killed."""

    def __init__(self, fmt: str, seconds: float, nodes: int) -> None:
        super().__init__(f"`dot -T{fmt}` did not lay out {nodes:,} boxes in {seconds:g} s")
        self.seconds, self.nodes = seconds, nodes


@dataclass(frozen=True)
class Drawn:
    """What `draw` wrote: the path, the detail drawn, and the detail asked for when collapsed."""

    path: Path
    detail: str
    nodes: int
    collapsed_from: str | None = None


def drawn_nodes(dot_text: str) -> int:
    """How many boxes a DOT text (as to_dot_text writes it) draws."""
    return len(_NODE_LINE.findall(dot_text))


def check_options(detail: str, rankdir: str) -> None:
    """Raise ValueError for an unknown detail or rankdir."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}; got {detail!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}; got {rankdir!r}")


def find_dot() -> str | None:
    """Return the path of graphviz's `dot`, or None."""
    return shutil.which("dot")


def run_dot(dot_text: str, fmt: str, dot: str, timeout: float = DOT_TIMEOUT_S) -> bytes:
    """Lay out `dot_text` with `dot -T<fmt>` and return the image bytes."""
    try:
        proc = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:  # subprocess.run kills the child before raising
        raise DotTimeoutError(fmt, timeout, drawn_nodes(dot_text)) from None
    if proc.returncode != 0 or not proc.stdout:
        raise DotFailedError(f"`dot -T{fmt}` failed ({proc.returncode}): "
                             f"{proc.stderr.decode('utf-8', 'replace').strip() or 'no output'}")
    return proc.stdout


def diagram_format(path: Path) -> str:
    """The output format a file suffix names; ValueError for an unknown suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot render to '{path.suffix or path.name}': use a file ending in "
                         f"{', '.join(FORMATS)}")
    return fmt


def write_diagram(report: Report, path: Path, detail: str, rankdir: str) -> Path:
    """Write the diagram of `report` to `path`, in the format its suffix names."""
    return draw(report, path, detail, rankdir).path


def _keep_beside(path: Path, text: str, protect: Iterable[Path]) -> Path | None:
    """Write the DOT text beside `path` (net.svg -> net.dot) unless a file is there already."""
    beside = path.with_suffix(".dot")
    if beside.exists() or any(beside.resolve() == p.resolve() for p in protect):
        return None  # never overwrite the user's own net.dot (or an input) with a fallback
    atomic_write_bytes(beside, text.encode("utf-8"))
    return beside


def draw(report: Report, path: Path, detail: str, rankdir: str, max_drawn: int = MAX_DRAWN,
         timeout: float = DOT_TIMEOUT_S, protect: Iterable[Path] = ()) -> Drawn:
    """Write the diagram, at stage detail when `detail` would draw more than `max_drawn` boxes.

    `dot` runs under `timeout` seconds. When it is missing or fails, the DOT text is kept beside
    the image (net.dot) unless a file of that name exists or is in `protect`.
    """
    fmt = diagram_format(path)
    text = to_dot_text(report, detail, rankdir)
    nodes, asked = drawn_nodes(text), None
    if fmt != "dot" and nodes > max_drawn and detail != "stage":
        asked, detail = detail, "stage"
        text = to_dot_text(report, detail, rankdir)
        nodes = drawn_nodes(text)
    if fmt == "dot":
        atomic_write_bytes(path, text.encode("utf-8"))
        return Drawn(path, detail, nodes)
    dot = find_dot()
    if dot is None:
        raise DotNotFoundError(_keep_beside(path, text, protect))
    try:
        image = run_dot(text, fmt, dot, timeout)
    except DotFailedError as exc:
        exc.dot_path = _keep_beside(path, text, protect)
        raise
    atomic_write_bytes(path, image)
    return Drawn(path, detail, nodes, asked)

"""The render backend: architecture diagrams as DOT text, and SVG/PNG/PDF through graphviz `dot`.

`to_dot` is pure Python over the analysis report: it imports neither torch nor the graphviz
package and needs no `dot` binary. Only `render` and `archc render` to an image run `dot`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..analysis import Report
from ..api import InputShape, SpecLike, analyze
from ..fileio import atomic_write_bytes
from .render_dot import DETAILS, RANKDIRS
from .render_graph import to_dot_text

DOT_TIMEOUT_S = 120  # resnet1202 at layer detail lays out in seconds; a hung dot must not hang us
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}
INSTALL_HINT = ("install graphviz to get images: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install graphviz`")


class DotNotFoundError(RuntimeError):
    """The graphviz `dot` binary is not on PATH; the DOT text was written to `dot_path`."""

    def __init__(self, dot_path: Path) -> None:
        super().__init__(f"graphviz `dot` was not found on PATH; wrote {dot_path} instead. "
                         f"{INSTALL_HINT}")
        self.dot_path = dot_path


class DotFailedError(RuntimeError):
    """`dot` ran but failed; the message carries its stderr. The DOT text is kept beside."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.dot_path: Path | None = None


def _check(detail: str, rankdir: str) -> None:
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}; got {detail!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}; got {rankdir!r}")


def to_dot(spec_or_report: SpecLike | Report, *, detail: str = "block", rankdir: str = "TB",
           input_shape: InputShape | None = None) -> str:
    """Return the architecture diagram of a spec (path, built-in name, ResolvedSpec) or report."""
    _check(detail, rankdir)
    return to_dot_text(analyze(spec_or_report, input_shape), detail, rankdir)


def find_dot() -> str | None:
    """Return the path of graphviz's `dot`, or None."""
    return shutil.which("dot")


def run_dot(dot_text: str, fmt: str, dot: str) -> bytes:
    """Lay out `dot_text` with `dot -T<fmt>` and return the image bytes."""
    try:
        proc = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, check=False, timeout=DOT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DotFailedError(f"`dot -T{fmt}` did not finish in {DOT_TIMEOUT_S} s") from None
    if proc.returncode != 0 or not proc.stdout:
        raise DotFailedError(f"`dot -T{fmt}` failed ({proc.returncode}): "
                             f"{proc.stderr.decode('utf-8', 'replace').strip() or 'no output'}")
    return proc.stdout


def _format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot render to '{path.suffix or path.name}': use a file ending in "
                         f"{', '.join(FORMATS)}")
    return fmt


def write_diagram(report: Report, path: Path, detail: str, rankdir: str) -> Path:
    """Write the diagram of `report` to `path`, in the format its suffix names."""
    fmt = _format(path)
    text = to_dot_text(report, detail, rankdir)
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


def render(spec: SpecLike | Report, path: str | os.PathLike[str], *, detail: str = "block",
           rankdir: str = "TB", input_shape: InputShape | None = None) -> Path:
    """Draw a spec to .svg/.png/.pdf (needs graphviz `dot`) or .dot; return the written path."""
    _check(detail, rankdir)
    return write_diagram(analyze(spec, input_shape), Path(path), detail, rankdir)


def cli_render(report: Report, output: Path, detail: str, rankdir: str) -> int:
    """Run `archc render` for an analyzed spec; return the exit code."""
    from ..cli import EXIT_NO_DOT, EXIT_OK, EXIT_SPEC, EXIT_USAGE

    try:
        _check(detail, rankdir)
        written = write_diagram(report, output, detail, rankdir)
    except ValueError as exc:
        print(f"archc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DotNotFoundError as exc:
        print(f"archc: graphviz `dot` was not found on PATH, so wrote the DOT text to "
              f"{exc.dot_path}\n  = hint: {INSTALL_HINT}; then run "
              f"`dot -T{_format(output)} {exc.dot_path} -o {output}`", file=sys.stderr)
        return EXIT_NO_DOT
    except DotFailedError as exc:
        print(f"archc: error: graphviz {exc}; the DOT text is in {exc.dot_path}\n"
              "  = hint: check the graphviz installation (`dot -V`)", file=sys.stderr)
        return EXIT_NO_DOT
    print(f"wrote {written} ({detail} detail)")
    # The diagram still shows a spec with errors (in red), but scripts must see it failed.
    return EXIT_OK if report.ok else EXIT_SPEC

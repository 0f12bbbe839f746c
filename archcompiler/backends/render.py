"""The render backend: architecture diagrams as DOT text, and SVG/PNG/PDF through graphviz `dot`.

`to_dot` is pure Python over the analysis report: it imports neither torch nor the graphviz
package and needs no `dot` binary. Only `render` and `archc render` to an image run `dot`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from ..analysis import Report, analyze_resolved
from ..api import SpecLike, load_spec
from ..ir import Shape
from .render_dot import DETAILS, RANKDIRS
from .render_graph import to_dot_text

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
    """`dot` ran but failed; the message carries its stderr."""


def _report(spec_or_report: SpecLike | Report, input_shape: Shape | None) -> Report:
    if isinstance(spec_or_report, Report):
        if input_shape is None or tuple(input_shape) == spec_or_report.input_shape:
            return spec_or_report
        return analyze_resolved(spec_or_report.spec, input_shape)
    return analyze_resolved(load_spec(spec_or_report), input_shape)


def _check(detail: str, rankdir: str) -> None:
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}; got {detail!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}; got {rankdir!r}")


def to_dot(spec_or_report: SpecLike | Report, *, detail: str = "block", rankdir: str = "TB",
           input_shape: Shape | None = None) -> str:
    """Return the architecture diagram of a spec (path, built-in name, ResolvedSpec) or report."""
    _check(detail, rankdir)
    return to_dot_text(_report(spec_or_report, input_shape), detail, rankdir)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, so readers never see half a file."""
    # open(..., "xb") rather than mkstemp: mkstemp's files are 0600, and a diagram should get
    # the same permissions (umask) as any file the user writes.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find_dot() -> str | None:
    """Return the path of graphviz's `dot`, or None."""
    return shutil.which("dot")


def run_dot(dot_text: str, fmt: str, dot: str) -> bytes:
    """Lay out `dot_text` with `dot -T<fmt>` and return the image bytes."""
    proc = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise DotFailedError(f"`dot -T{fmt}` failed ({proc.returncode}): "
                             f"{proc.stderr.decode('utf-8', 'replace').strip()}")
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
        _atomic_write(path, text.encode("utf-8"))
        return path
    dot = find_dot()
    if dot is None:
        fallback = path.with_suffix(".dot")
        _atomic_write(fallback, text.encode("utf-8"))
        raise DotNotFoundError(fallback)
    _atomic_write(path, run_dot(text, fmt, dot))
    return path


def render(spec: SpecLike | Report, path: str | os.PathLike[str], *, detail: str = "block",
           rankdir: str = "TB", input_shape: Shape | None = None) -> Path:
    """Draw a spec to .svg/.png/.pdf (needs graphviz `dot`) or .dot; return the written path."""
    _check(detail, rankdir)
    return write_diagram(_report(spec, input_shape), Path(path), detail, rankdir)


def cli_render(report: Report, output: Path, detail: str, rankdir: str) -> int:
    """Run `archc render` for an analyzed spec; return the exit code."""
    from ..cli import EXIT_INTERNAL, EXIT_NO_DOT, EXIT_OK, EXIT_SPEC, EXIT_USAGE

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
        print(f"archc: internal error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    print(f"wrote {written} ({detail} detail)")
    # The diagram still shows a spec with errors (in red), but scripts must see it failed.
    return EXIT_OK if report.ok else EXIT_SPEC

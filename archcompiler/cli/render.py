"""`archc render`: draw an analyzed spec, and turn the render backend's errors into exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

from ..analysis.report import Report
from ..backends.render import (
    INSTALL_HINT,
    DotFailedError,
    DotNotFoundError,
    check_options,
    diagram_format,
    write_diagram,
)
from .codes import EXIT_NO_DOT, EXIT_OK, EXIT_SPEC, EXIT_USAGE


def run_render(report: Report, output: Path, detail: str, rankdir: str,
               style: str = "default") -> int:
    """Run `archc render` for an analyzed spec; return the exit code."""
    try:
        check_options(detail, rankdir, style)
        written = write_diagram(report, output, detail, rankdir, style)
    except ValueError as exc:
        print(f"archc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DotNotFoundError as exc:
        print(f"archc: graphviz `dot` was not found on PATH, so wrote the DOT text to "
              f"{exc.dot_path}\n  = hint: {INSTALL_HINT}; then run "
              f"`dot -T{diagram_format(output)} {exc.dot_path} -o {output}`", file=sys.stderr)
        return EXIT_NO_DOT
    except DotFailedError as exc:
        print(f"archc: error: graphviz {exc}; the DOT text is in {exc.dot_path}\n"
              "  = hint: check the graphviz installation (`dot -V`)", file=sys.stderr)
        return EXIT_NO_DOT
    what = "interactive page" if written.suffix.lower() == ".html" else f"{detail} detail"
    print(f"wrote {written} ({what})")
    # The diagram still shows a spec with errors (in red), but scripts must see it failed.
    return EXIT_OK if report.ok else EXIT_SPEC

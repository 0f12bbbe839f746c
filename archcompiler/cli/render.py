"""`archc render`: draw an analyzed spec, and turn the render backend's errors into exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..analysis.report import Report
from ..backends.render import (
    DOT_TIMEOUT_S,
    INSTALL_HINT,
    MAX_DRAWN,
    DotFailedError,
    DotNotFoundError,
    DotTimeoutError,
    check_options,
    diagram_format,
    draw,
    draw_figure,
)
from .codes import EXIT_DOT_TIMEOUT, EXIT_NO_DOT, EXIT_OK, EXIT_SPEC, EXIT_USAGE


def _kept(dot_path: Path | None, output: Path) -> str:
    if dot_path is None:
        return (f"the DOT text was not kept: {output.with_suffix('.dot')} exists already, and is "
                f"left as it was; `archc render ... -o FILE.dot` writes it")
    return f"the DOT text is in {dot_path}"


def run_render(report: Report, output: Path, detail: str, rankdir: str,
               max_drawn: int | None = None, timeout: float | None = None,
               protect: Sequence[Path] = (), style: str = "default") -> int:
    """Run `archc render` for an analyzed spec; return the exit code."""
    try:
        check_options(detail, rankdir, style)
        drawn = draw(report, output, detail, rankdir, max_drawn or MAX_DRAWN,
                     timeout or DOT_TIMEOUT_S, protect, style)
    except ValueError as exc:
        print(f"archc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DotNotFoundError as exc:
        where = (f"so wrote the DOT text to {exc.dot_path}" if exc.dot_path is not None
                 else _kept(None, output))
        then = (f"; then run `dot -T{diagram_format(output)} {exc.dot_path} -o {output}`"
                if exc.dot_path is not None else "")
        print(f"archc: graphviz `dot` was not found on PATH, {where}\n  = hint: "
              f"{INSTALL_HINT}{then}", file=sys.stderr)
        return EXIT_NO_DOT
    except DotTimeoutError as exc:
        print(f"archc: error: graphviz {exc}, so it was stopped; {_kept(exc.dot_path, output)}\n"
              f"  = hint: draw less (--detail stage), or allow more time (--dot-timeout "
              f"{int(exc.seconds * 4)})", file=sys.stderr)
        return EXIT_DOT_TIMEOUT
    except DotFailedError as exc:
        print(f"archc: error: graphviz {exc}; {_kept(exc.dot_path, output)}\n"
              "  = hint: check the graphviz installation (`dot -V`)", file=sys.stderr)
        return EXIT_NO_DOT
    if drawn.collapsed_from is not None:
        print(f"archc: note: {drawn.collapsed_from} detail would draw more than "
              f"{max_drawn or MAX_DRAWN:,} boxes, which graphviz lays out slowly; drew "
              f"{drawn.nodes:,} at stage detail (raise --max-drawn, or write .dot)",
              file=sys.stderr)
    what = "interactive page" if drawn.detail == "page" else f"{drawn.detail} detail"
    print(f"wrote {drawn.path} ({what})")
    # The diagram still shows a spec with errors (in red), but scripts must see it failed.
    return EXIT_OK if report.ok else EXIT_SPEC


def run_figure(specs: list[str], args: argparse.Namespace, output: Path) -> int:
    """Draw several specs side by side (the paper's Figure 3); exit 1 when one has errors."""
    from ..core.outputs import input_paths
    from .common import analyze_one, not_an_input, print_diags

    reports = []
    worst = EXIT_OK
    for ref in specs:
        report, code = analyze_one(ref, args)
        if report is None:
            return code
        not_an_input(output, "-o", report.spec.sources)
        print_diags(report.diagnostics, report.spec.sources)
        worst = max(worst, code)
        reports.append(report)
    protect = [p for r in reports for p in input_paths(r.spec.sources)]
    try:
        drawn = draw_figure(reports, output, args.dot_timeout or DOT_TIMEOUT_S, protect)
    except ValueError as exc:
        print(f"archc: error: -o {output}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DotNotFoundError:
        print(f"archc: graphviz `dot` was not found on PATH\n  = hint: {INSTALL_HINT}",
              file=sys.stderr)
        return EXIT_NO_DOT
    except DotTimeoutError as exc:
        print(f"archc: error: graphviz {exc}, so it was stopped", file=sys.stderr)
        return EXIT_DOT_TIMEOUT
    except DotFailedError as exc:
        print(f"archc: error: graphviz {exc}", file=sys.stderr)
        return EXIT_NO_DOT
    print(f"wrote {drawn.path} ({len(reports)} specs side by side)")
    return worst

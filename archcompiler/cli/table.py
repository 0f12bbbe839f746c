"""`archc table SPEC...`: the paper's Table 1 (stage sizes, bracketed layers x blocks, FLOPs)."""

from __future__ import annotations

import argparse

from ..backends.paper_table import (
    format_json,
    format_latex,
    format_markdown,
    format_text,
    paper_table,
)
from ..core.outputs import to_json
from .codes import EXIT_OK, EXIT_SPEC
from .common import analyze_one, print_diags


def cmd_table(args: argparse.Namespace) -> int:
    """Print Table 1 of He et al. 2015 for the specs, one column each."""
    reports = []
    worst = EXIT_OK
    for ref in args.specs:
        report, code = analyze_one(ref, args)
        if report is None:
            return code
        print_diags(report.diagnostics, report.spec.sources)
        worst = max(worst, code)
        reports.append(report)
    if worst == EXIT_SPEC and any(r.output_shape is None for r in reports):
        if args.json:  # --json promises one document: the specs, and no table
            print(to_json({"specs": [r.spec.name for r in reports], "rows": None,
                           "flops": None}))
        return worst  # a shape error: no table can be read from an unshaped net
    table = paper_table(reports)
    fmt = {"text": format_text, "markdown": format_markdown, "latex": format_latex,
           "json": format_json}["json" if args.json else args.format]
    print(fmt(table))
    return worst

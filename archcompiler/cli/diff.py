"""`archc diff A B`: two specs side by side (the comparison itself is explore/diff.py)."""

from __future__ import annotations

import argparse
import json

from ..explore.diff import diff_reports, format_json, format_text
from .codes import EXIT_OK, EXIT_SPEC
from .common import analyze_one


def cmd_diff(args: argparse.Namespace) -> int:
    """Compare two specs: per-stage shapes and costs, differing fields, one-sided diagnostics."""
    a, code_a = analyze_one(args.spec_a, args, args.set_a or (), json_errors=False)
    b, code_b = analyze_one(args.spec_b, args, args.set_b or (), json_errors=False)
    if a is None or b is None:  # the diagnostics are on stderr; nothing to compare
        if args.json:  # still one JSON document on stdout, as --json promises
            print(json.dumps({"a": None if a is None else a.spec.name,
                              "b": None if b is None else b.spec.name, "compared": False}))
        return max(code_a, code_b)
    diff = diff_reports(a, b)
    print(format_json(diff) if args.json else format_text(diff))
    # A spec with errors still has a report, so the diff is shown; scripts see it failed.
    return EXIT_OK if a.ok and b.ok else EXIT_SPEC

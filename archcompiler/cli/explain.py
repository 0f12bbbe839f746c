"""`archc explain SPEC [NODE]`: shapes, settings and worked arithmetic of each layer, the reason
for each shortcut, and the paper's reason for each diagnostic (the data is analysis/explain.py)."""

from __future__ import annotations

import argparse

from ..analysis.explain import UnknownNode, explain
from ..backends.explain import format_json, format_text
from .common import UsageError, analyze_one


def cmd_explain(args: argparse.Namespace) -> int:
    """Explain a spec, or one layer, block or stage of it; exit 1 when the spec has errors."""
    report, code = analyze_one(args.spec, args)
    if report is None:
        return code
    try:
        expl = explain(report, args.node)
    except UnknownNode as exc:
        raise UsageError(f"NODE {exc}") from None
    print(format_json(expl) if args.json else format_text(expl))
    return code

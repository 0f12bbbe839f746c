"""The summary backend: a readable table and a JSON record of an analysis report."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from ..analysis.report import MAC_CONVENTION, Report
from ..analysis.rules import macs_per_layer
from ..ir.graph import Node, Role
from ..ir.ops import Op, Shape

DEPTHS = ("stage", "block", "layer")


@dataclass(frozen=True)
class Row:
    """One line of the summary table."""

    name: str
    kind: str
    shape: Shape | None
    params: int
    macs: int


def _group_key(node: Node, depth: str) -> str:
    if node.role in (Role.STEM, Role.HEAD):
        return str(node.role)
    if depth == "stage":
        return f"layer{(node.stage or 0) + 1}"
    return node.block or node.name


def _kinds(report: Report) -> dict[str, str]:
    """What each stage and block row is, built once (a lookup per row would be quadratic)."""
    kinds = {s.name: f"{s.depth} x {s.kind} ({s.shortcut_option})" for s in report.graph.stages}
    kinds.update((b.name, b.kind) for b in report.graph.blocks)
    return kinds


def _kind(nodes: list[Node], key: str, kinds: dict[str, str]) -> str:
    if key in ("stem", "head"):
        return " + ".join(dict.fromkeys(str(n.op) for n in nodes if n.op != Op.INPUT))
    return kinds.get(key, nodes[0].op)


def rows(report: Report, depth: str = "block") -> list[Row]:
    """Aggregate nodes into rows at stage, block or layer depth."""
    if depth == "layer":
        return [Row(n.name, str(n.op), i.shape, i.params, i.macs)
                for n, i in zip(report.graph.nodes, report.nodes.values()) if n.op != Op.INPUT]
    groups: dict[str, list[Node]] = {}
    for node in report.graph.nodes:
        if node.op != Op.INPUT:
            groups.setdefault(_group_key(node, depth), []).append(node)
    out, kinds = [], _kinds(report)
    for key, nodes in groups.items():
        params, macs = report.cost(n.name for n in nodes)
        out.append(Row(key, _kind(nodes, key, kinds), report.shape(nodes[-1].name), params, macs))
    return out


def fmt_shape(shape: Shape | None) -> str:
    """Format a shape as CxHxW, or '?' when unknown."""
    return "x".join(map(str, shape)) if shape is not None else "?"


def _table(header: list[str], body: Iterable[list[str]]) -> list[str]:
    lines = [header, *body]
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    out = []
    for r in lines:
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    out.insert(1, "-" * len(out[0]))
    return out


def format_text(report: Report, depth: str = "block") -> str:
    """Render the summary table with totals and the MAC convention."""
    total_macs = report.macs or 1
    body = [[r.name, r.kind, fmt_shape(r.shape), f"{r.params:,}", f"{r.macs:,}",
             f"{100 * r.macs / total_macs:.1f}%"] for r in rows(report, depth)]
    lines = [f"{report.spec.name}: input {fmt_shape(report.input_shape)} -> output "
             f"{fmt_shape(report.output_shape)}", ""]
    lines += _table(["name", "kind", "output", "params", "MACs", "share"], body)
    lines.append("")
    lines.append(f"total params  {report.params:,}")
    lines.append(f"total MACs    {report.macs:,} ({report.macs / 1e9:.3f} G)")
    per_layer = macs_per_layer(report)
    if per_layer:
        shown = ", ".join(f"{s.name} {m / 1e6:.1f}M" if m is not None else f"{s.name} ?"
                          for s, m in zip(report.graph.stages, per_layer))
        lines.append(f"MACs per conv layer by stage (rule ii keeps these level): {shown}")
    lines.append(f"note: {MAC_CONVENTION}.")
    return "\n".join(lines)


def to_json(report: Report) -> dict[str, object]:
    """Return the summary as JSON-ready data: totals, one record per node, diagnostics."""
    return {
        "name": report.spec.name,
        "params": report.params,
        "macs": report.macs,
        "mac_convention": MAC_CONVENTION,
        "input_shape": list(report.input_shape),
        "output_shape": list(report.output_shape) if report.output_shape else None,
        "macs_per_layer_by_stage": {s.name: m for s, m in
                                    zip(report.graph.stages, macs_per_layer(report))},
        "nodes": [{"name": n.name, "op": str(n.op),
                   "output_shape": list(i.shape) if i.shape is not None else None,
                   "params": i.params, "macs": i.macs}
                  for n, i in zip(report.graph.nodes, report.nodes.values())],
        "diagnostics": [d.to_dict() for d in report.diagnostics],
    }


def format_json(report: Report) -> str:
    """Render the summary as indented JSON."""
    return json.dumps(to_json(report), indent=2)

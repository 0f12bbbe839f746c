"""The summary backend: a readable table and a JSON record of an analysis report."""

from __future__ import annotations

from collections.abc import Iterable

from ..analysis.report import MAC_CONVENTION, Report
from ..analysis.table import macs_per_layer, report_dict, report_json, rows
from ..ir.graph import Role
from ..ir.ops import Conv2d, Op, Shape


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
    lines += [f"note: {text} ({Report.where(span)})" for text, span in report.spec.generated]
    lines.append(f"note: {MAC_CONVENTION}.")
    return "\n".join(lines)


def to_json(report: Report, depth: str | None = None) -> dict[str, object]:
    """The summary as JSON-ready data: the report's own record (`Report.to_dict`)."""
    return report_dict(report, depth)


def format_json(report: Report, depth: str | None = None) -> str:
    """Render the summary as indented JSON (every node, or the rows at `depth`)."""
    return report_json(report, depth)


def traits(report: Report) -> list[str]:
    """What family a spec belongs to, read from its graph: plain, pre-activation, SE, ...

    Structure, not names: a net is plain when no block has a shortcut, pre-activation when its
    blocks open with a BN, SE when blocks have a side branch, depthwise when every grouped main
    conv has a group per channel, ResNeXt when a main conv is otherwise grouped, wide when a
    first block's inner convs have twice the stem's channels or more, ResNet-C with a deep
    stem, ResNet-D with average-pooled projections, v1 when a 1x1 conv takes a block's stride,
    and CIFAR-sized when the input is at most 64x64.
    """
    graph, by_name = report.graph, report.graph.by_name()
    out = []
    if graph.blocks and all(b.shortcut == "none" for b in graph.blocks):
        out.append("plain")
    if graph.blocks and all(by_name[b.nodes[0]].op == Op.BATCH_NORM for b in graph.blocks):
        out.append("pre-activation")
    if any(n.role is Role.BRANCH for n in graph.nodes):
        out.append("SE")
    convs = [(n, n.attrs) for n in graph.nodes if isinstance(n.attrs, Conv2d)]
    main = [(n, a) for n, a in convs if n.block is not None and n.role is Role.MAIN]
    grouped = [a for _, a in main if a.groups > 1]
    if grouped and all(a.groups == a.in_channels == a.out_channels for a in grouped):
        out.append("depthwise")  # ConvNeXt, MobileNetV2: one group per channel, not ResNeXt's
    elif grouped:
        out.append("ResNeXt")
    elif graph.blocks:
        first = [a for n, a in main if n.block == graph.blocks[0].name][:-1]  # all but the last
        if first and max(a.out_channels for a in first) >= 2 * report.spec.stem.out_channels:
            out.append("wide")
    if sum(n.role is Role.STEM for n, _ in convs) > 1:
        out.append("ResNet-C")
    if any(n.role is Role.SHORTCUT and n.op == Op.AVG_POOL for n in graph.nodes):
        out.append("ResNet-D")
    if any(a.kernel == 1 and a.stride > 1 for _, a in main):
        out.append("v1")
    _, h, w = report.input_shape
    if h <= 64 and w <= 64:
        out.append("CIFAR")
    return out


def family(report: Report) -> str:
    """A one-phrase family for people, e.g. 'SE ResNeXt', 'pre-activation wide ResNet, CIFAR'."""
    t = set(traits(report))
    base = "plain net" if "plain" in t else "ResNeXt" if "ResNeXt" in t else "ResNet"
    if "ResNet-D" in t or "ResNet-C" in t:
        base += "-D" if "ResNet-D" in t else "-C"
    words = [w for w in ("pre-activation", "SE", "depthwise", "wide") if w in t] + [base]
    extra = [w for w in ("v1", "CIFAR") if w in t]
    return " ".join(words) + (f", {', '.join(extra)}" if extra else "")

"""A report shown inline in Jupyter: its stage-detail diagram (SVG) and its stage table."""

from __future__ import annotations

import html

from ...analysis.report import Report
from ...report.summary import fmt_shape
from .dot import block_views, si
from .dotrun import DotFailedError, find_dot, run_dot
from .drawer import to_dot_text


def stage_table(report: Report) -> str:
    """The stages as an HTML table: depth, block, width, stride, output, params, MACs."""
    views = block_views(report)
    rows = []
    for stage in report.graph.stages:
        mine = [v for v in views if v.record.stage == stage.index]
        out = fmt_shape(mine[-1].out_shape) if mine else "?"
        cells = [stage.name, str(stage.depth), stage.kind, str(stage.width), str(stage.stride),
                 out, si(sum(v.params for v in mine)), si(sum(v.macs for v in mine))]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("stage", "depth", "block", "width", "stride",
                                             "output", "params", "MACs"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def report_html(report: Report) -> str:
    """The HTML Jupyter shows for a report: title, diagram (when `dot` is there), stage table."""
    title = (f"<b>{html.escape(report.spec.name)}</b>: {si(report.params)} params, "
             f"{si(report.macs)} MACs, {fmt_shape(report.input_shape)} → "
             f"{fmt_shape(report.output_shape)}")
    diagram = ""
    dot = find_dot()
    if dot is not None:
        try:
            svg = run_dot(to_dot_text(report, "stage"), "svg", dot).decode("utf-8")
            svg = svg[svg.index("<svg"):]
            # Scrolls instead of growing without end or being cropped (torchview #76, #101).
            diagram = f'<div style="max-height:640px;overflow:auto">{svg}</div>'
        except DotFailedError as exc:
            diagram = f"<pre>{html.escape(str(exc))}</pre>"
    diags = "".join(f"<li>{html.escape(d.code)} {html.escape(d.severity.value)}: "
                    f"{html.escape(d.message)}</li>" for d in report.diagnostics)
    return (f"<div>{title}{diagram}{stage_table(report)}"
            + (f"<ul>{diags}</ul>" if diags else "") + "</div>")

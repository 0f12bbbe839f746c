"""The paper's Table 1 from specs: each stage's name, output size, bracketed layers x blocks, and
the FLOPs row (He et al. 2015, Table 1), as text, Markdown or LaTeX.

Every cell is read from the analysis: the stem's and the blocks' main-path convs (kernel and
filters), the stages' output shapes and depths, and the total multiply-adds, which the paper
calls FLOPs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..analysis.report import Report
from ..core.outputs import to_json
from ..ir.graph import Role
from ..ir.ops import Conv2d, GlobalAvgPool, Linear, MaxPool

__all__ = ["PaperTable", "format_json", "format_latex", "format_markdown", "format_text",
           "paper_table"]


@dataclass(frozen=True)
class PaperTable:
    """Rows of (layer name, output size, one cell per spec), and the FLOPs row."""

    names: tuple[str, ...]  # the specs' names, one column each
    rows: tuple[tuple[str, str, tuple[str, ...]], ...]
    flops: tuple[int, ...]  # multiply-adds per spec: the paper's 'FLOPs'

    def flops_text(self, i: int) -> str:
        """FLOPs in billions with two decimals (the paper prints one, rounded unevenly)."""
        return f"{self.flops[i] / 1e9:.2f}×10^9"


def _conv(conv: Conv2d, stride: bool) -> str:
    text = f"{conv.kernel}×{conv.kernel}, {conv.out_channels}"
    return text + (f", stride {conv.stride}" if stride and conv.stride > 1 else "")


def _size(report: Report, node: str) -> str:
    shape = report.shape(node)
    return "?" if shape is None or len(shape) != 3 else f"{shape[1]}×{shape[2]}"


def _stem(report: Report) -> tuple[str, str, str | None]:
    """The stem's convs and output size, and its max pool (the paper puts it in conv2_x)."""
    convs, pool, last_conv = [], None, None
    for node in report.graph.nodes:
        if node.role != Role.STEM:
            continue
        if isinstance(node.attrs, Conv2d):
            convs.append(_conv(node.attrs, stride=True))
            last_conv = node.name
        elif isinstance(node.attrs, MaxPool):
            a = node.attrs
            pool = f"{a.kernel}×{a.kernel} max pool" + (f", stride {a.stride}"
                                                        if a.stride > 1 else "")
    size = _size(report, last_conv) if last_conv else "?"
    return "; ".join(convs) or "-", size, pool


def _stage_cells(report: Report) -> list[tuple[str, str]]:
    """Per stage: the output size and '[3×3, 64; 3×3, 64] ×2' from its first block's convs."""
    graph = report.graph
    by_name = graph.by_name()
    out = []
    for stage in graph.stages:
        first = next(b for b in graph.blocks if b.name == stage.blocks[0])
        convs = [by_name[n].attrs for n in first.nodes if by_name[n].role == Role.MAIN]
        layers = "; ".join(_conv(c, stride=False) for c in convs if isinstance(c, Conv2d))
        out.append((_size(report, graph.stage_output(stage)), f"[{layers}] ×{stage.depth}"))
    return out


def _head(report: Report) -> str:
    parts = []
    for node in report.graph.nodes:
        if node.role != Role.HEAD:
            continue
        if isinstance(node.attrs, GlobalAvgPool):
            parts.append("average pool")
        elif isinstance(node.attrs, Linear):
            parts.append(f"{node.attrs.out_features}-d fc")
    return ", ".join([*parts, "softmax"])


def _merge(values: Sequence[str]) -> str:
    """One output size when the specs agree, else each spec's, joined by ' / '."""
    unique = list(dict.fromkeys(values))
    return unique[0] if len(unique) == 1 else " / ".join(values)


def paper_table(reports: Sequence[Report]) -> PaperTable:
    """Table 1 of He et al. 2015 for `reports`, one column per spec."""
    stems = [_stem(r) for r in reports]
    stages = [_stage_cells(r) for r in reports]
    rows: list[tuple[str, str, tuple[str, ...]]] = [
        ("conv1", _merge([s[1] for s in stems]), tuple(s[0] for s in stems))]
    for i in range(max(len(s) for s in stages)):
        cells = tuple(s[i][1] if i < len(s) else "" for s in stages)
        if i == 0:
            pools = [s[2] for s in stems]
            if any(pools):
                rows.append((f"conv{i + 2}_x", _merge([s[i][0] for s in stages if i < len(s)]),
                             tuple(p or "" for p in pools)))
                rows.append(("", "", cells))
                continue
        rows.append((f"conv{i + 2}_x", _merge([s[i][0] for s in stages if i < len(s)]), cells))
    rows.append(("", "1×1", tuple(_head(r) for r in reports)))
    return PaperTable(tuple(r.spec.name for r in reports), tuple(rows),
                      tuple(r.macs for r in reports))


def format_text(table: PaperTable) -> str:
    """Aligned columns, as the paper's table reads."""
    header = ("layer name", "output size", *table.names)
    body = [(name, size, *cells) for name, size, cells in table.rows]
    body.append(("FLOPs", "", *(table.flops_text(i) for i in range(len(table.names)))))
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_json(table: PaperTable) -> str:
    """The table as JSON: the specs, each row's cells (one per spec), and FLOPs as integers."""
    return to_json({"specs": list(table.names),
                    "rows": [{"layer": name, "output_size": size, "cells": list(cells)}
                             for name, size, cells in table.rows],
                    "flops": list(table.flops)})


def format_markdown(table: PaperTable) -> str:
    """A Markdown table."""
    header = ("layer name", "output size", *table.names)
    body = [(name, size, *cells) for name, size, cells in table.rows]
    body.append(("FLOPs", "", *(table.flops_text(i) for i in range(len(table.names)))))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def _latex_cell(cell: str) -> str:
    if cell.startswith("["):  # '[3×3, 64; 3×3, 64] ×2' -> a bracketed column, times the depth
        inner, depth = cell[1:].split("] ×")
        layers = r" \\ ".join(x.strip().replace("×", r"$\times$") for x in inner.split(";"))
        return (rf"$\left[\begin{{array}}{{c}}\text{{{layers}}}\end{{array}}\right]$"
                rf"$\times${depth}").replace(r" \\ ", r"}\\\text{")
    return cell.replace("×", r"$\times$").replace("^9", "$^9$").replace("$$", "")


def format_latex(table: PaperTable) -> str:
    """A LaTeX tabular (needs amsmath for \\text)."""
    n = len(table.names)
    lines = [rf"\begin{{tabular}}{{ll{'c' * n}}}", r"\hline",
             " & ".join(["layer name", "output size", *(f"{x}" .replace("_", r"\_")
                                                        for x in table.names)]) + r" \\",
             r"\hline"]
    for name, size, cells in table.rows:
        lines.append(" & ".join([name.replace("_", r"\_"), _latex_cell(size),
                                 *(_latex_cell(c) for c in cells)]) + r" \\")
    lines.append(r"\hline")
    lines.append(" & ".join(["FLOPs", "", *(_latex_cell(table.flops_text(i))
                                            for i in range(n))]) + r" \\")
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines)

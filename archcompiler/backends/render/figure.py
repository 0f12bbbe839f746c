"""Several specs side by side, aligned by map size, as He et al. 2015's Figure 3 (VGG-19, a
34-layer plain net and ResNet-34): one column per spec with its MACs, the weighted layers and
pools as boxes, shortcuts as arcs, and each map change labelled on its edge (56→28, 64→128).

A spec with errors says so in its column's title, its flagged boxes are red, and each message
stands beside its box. Pure string building, like dot.py; `draw_figure` runs graphviz.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from ...analysis.report import Report
from ...core.diagnostics import Severity
from ...ir.opbase import Category
from .dot import SKIP_STYLES, Html, attr_list, html_escape, quote

__all__ = ["Box", "boxes", "figure_dot"]


@dataclass(frozen=True)
class Box:
    """One drawn layer: the IR node, its label, its output map size and channels, its block."""

    node: str
    text: str
    size: int  # the output map's height; 1 for features
    channels: int
    block: str | None


_DRAWN = (Category.CONV, Category.POOL, Category.LINEAR)


def boxes(report: Report) -> list[Box]:
    """The layers Figure 3 draws: the main-path convs, the pools and the fc layers."""
    out = []
    for node in report.graph.nodes:
        if node.attrs.CATEGORY not in _DRAWN or node.role.value in ("shortcut", "branch"):
            continue
        shape = report.shape(node.name)
        size = shape[1] if shape is not None and len(shape) == 3 else 1
        channels = shape[0] if shape is not None else 0
        out.append(Box(node.name, node.attrs.text(), size, channels, node.block))
    return out


def _title(report: Report) -> Html:
    errors = sum(d.severity is Severity.ERROR for d in report.diagnostics)
    lines = [f"<B>{html_escape(report.spec.name)}</B>",
             f"{report.macs / 1e9:.2f} billion MACs · {report.params / 1e6:.1f}M params"]
    if errors:
        lines.append(f'<FONT COLOR="red"><B>INVALID: {errors} error{"s" * (errors != 1)}'
                     "</B></FONT>")
    return Html("<BR/>".join(lines))


def _column(i: int, report: Report, anchors: dict[int, str], ranks: dict[int, list[str]]
            ) -> list[str]:
    """The cluster of one spec; records the first box of each map size in `ranks`."""
    drawn = boxes(report)
    ids = [f"s{i}_{k}" for k in range(len(drawn))]
    flagged: dict[str, list[str]] = {}
    for d in report.diagnostics:
        if d.node is None or d.severity is Severity.NOTE:
            continue
        target = next((ids[k] for k, b in enumerate(drawn)
                       if b.node == d.node or b.block == d.node or
                       (b.block is not None and d.node.startswith(b.block + "."))), None)
        if target is not None:
            flagged.setdefault(target, []).append(f"{d.code}: {d.message}")
    lines = [f"subgraph cluster_{i} {{", f"label={quote('')}", "style=invis"]
    lines.append(f"s{i}_title {attr_list({'label': _title(report), 'shape': 'plaintext'})}")
    seen: set[int] = set()
    for box, nid in zip(drawn, ids):
        attrs = {"label": box.text, "shape": "box", "style": "rounded",
                 "fontsize": "11", "width": "1.9", "height": "0.3"}
        if nid in flagged:
            attrs |= {"color": "red", "penwidth": "2", "fontcolor": "red"}
        lines.append(f"{nid} {attr_list(attrs)}")
        if box.size not in seen and box.size in anchors:
            seen.add(box.size)
            ranks.setdefault(box.size, []).append(nid)
    lines.append(f"s{i}_title -> {ids[0]} [style=invis]" if ids else "")
    for k in range(1, len(drawn)):
        a, b = drawn[k - 1], drawn[k]
        edge = {"arrowsize": "0.6"}
        if a.size != b.size and b.size > 1:
            edge |= {"label": f" {a.size}→{b.size}, {a.channels}→{b.channels}",
                     "fontsize": "10", "fontcolor": "#1f5fbf"}
        lines.append(f"{ids[k - 1]} -> {ids[k]} {attr_list(edge)}")
    lines += _skips(report, drawn, ids)
    for nid, messages in flagged.items():
        text = "\n".join(textwrap.fill(m, 44) for m in messages)
        note = {"label": text, "shape": "note", "color": "red", "fontcolor": "red",
                "fontsize": "9"}
        lines.append(f"{nid}_msg {attr_list(note)}")
        lines.append(f"{nid} -> {nid}_msg [style=dashed, color=red, arrowhead=none, "
                     "constraint=false]")
        lines.append(f"{{rank=same; {nid}; {nid}_msg}}")
    lines.append("}")
    return lines


def _skips(report: Report, drawn: Sequence[Box], ids: Sequence[str]) -> list[str]:
    """A shortcut arc from the box before each residual block to the box after it."""
    out = []
    for block in report.graph.blocks:
        style = SKIP_STYLES.get(block.shortcut)
        inside = [k for k, b in enumerate(drawn) if b.block == block.name]
        if style is None or not inside or inside[0] == 0 or inside[-1] + 1 >= len(drawn):
            continue
        attrs = {k: v for k, v in style.items() if k not in ("label", "fontcolor", "class")}
        out.append(f"{ids[inside[0] - 1]}:e -> {ids[inside[-1] + 1]}:e "
                   f"{attr_list({**attrs, 'constraint': 'false', 'arrowsize': '0.6'})}")
    return out


def figure_dot(reports: Sequence[Report]) -> str:
    """The DOT text of the specs side by side, aligned by output map size."""
    sizes = sorted({b.size for r in reports for b in boxes(r)}, reverse=True)
    anchors = {s: f"size_{s}" for s in sizes}
    ranks: dict[int, list[str]] = {}
    lines = ["digraph figure {", "newrank=true", "rankdir=TB", "nodesep=0.35", "ranksep=0.18",
             'node [fontname="Helvetica"]', 'edge [fontname="Helvetica"]']
    for i, report in enumerate(reports):
        lines += _column(i, report, anchors, ranks)
    lines.append("subgraph cluster_sizes { style=invis")
    for s in sizes:
        anchor = {"label": f"output size: {s}", "shape": "plaintext", "fontsize": "11"}
        lines.append(f"{anchors[s]} {attr_list(anchor)}")
    lines.append(" -> ".join(anchors[s] for s in sizes) + " [style=invis]" if len(sizes) > 1
                 else "")
    lines.append("}")
    for s, nids in ranks.items():
        lines.append(f"{{rank=same; {anchors[s]}; {'; '.join(nids)}}}")
    lines += _legend()
    lines.append("}")
    return "\n".join(line for line in lines if line) + "\n"


def _legend() -> list[str]:
    """What the arcs, the edge labels and red mean."""
    lines = ["subgraph cluster_legend { label=\"legend\"; fontsize=10; color=\"#bbbbbb\"",
             'leg_note [shape=plaintext, fontsize=9, label="edge label: map size and channels '
             'where the map changes (rule ii: 56→28 doubles 64→128)\\nred box: a diagnostic, '
             'its message beside it"]']
    for k, (kind, style) in enumerate(SKIP_STYLES.items()):
        attrs = {key: v for key, v in style.items() if key not in ("class", "label",
                                                                   "fontcolor")}
        lines.append(f'leg_a{k} [shape=point, width=0.05]')
        lines.append(f'leg_b{k} [shape=plaintext, fontsize=9, label={quote(kind + " shortcut")}]')
        lines.append(f"leg_a{k} -> leg_b{k} {attr_list(attrs)}")
    lines.append("}")
    return lines

"""DOT text for an analysis report: pure string building, no graphviz, no torch.

The drawer reads only the Report: graph nodes (op, attrs, block, stage, role, span), the
graph's block and stage records, the inferred shapes and costs, and the diagnostics. Every label
is escaped here, so user text (spec names, file paths, diagnostic messages) can never break the DOT syntax.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic, Severity, Span
from ...ir.graph import BlockRecord, Node, Role, StageRecord
from ...ir.opbase import Category
from ...ir.ops import DropPath, Op, Shape

DETAILS = ("stage", "block", "layer")
RANKDIRS = ("TB", "LR")

# Edge styles of the three shortcut kinds; tests and readers tell them apart by `class`.
SKIP_STYLES: dict[str, dict[str, str]] = {
    "projection": {"class": "skip-projection", "color": "#1f5fbf", "style": "bold",
                   "penwidth": "2.5"},
    "pad": {"class": "skip-pad", "color": "#e07b00", "style": "dashed", "penwidth": "2",
            "label": "zero-pad", "fontcolor": "#b05f00"},
    "identity": {"class": "skip-identity", "color": "#8c8c8c", "style": "solid",
                 "penwidth": "1.2"},
}
FLAG = {"color": "red", "penwidth": "2"}  # a node or stage a diagnostic points at


class Html(str):
    """A label already in graphviz's HTML-like syntax: written as <...>, not quoted."""


def quote(text: str) -> str:
    """Return `text` as a DOT double-quoted string; newlines become centred line breaks."""
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + body.replace("\r", "").replace("\n", "\\n") + '"'


def html_escape(text: str) -> str:
    """Escape text for an HTML-like label (graphviz knows &amp; &lt; &gt; &quot;)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def attr_list(attrs: Mapping[str, str]) -> str:
    """Format attributes as `[k=v, ...]`, quoting every value except HTML labels."""
    parts = [f"{k}=<{v}>" if isinstance(v, Html) else f"{k}={quote(v)}"
             for k, v in attrs.items()]
    return f"[{', '.join(parts)}]" if parts else ""


def si(n: float) -> str:
    """Three significant digits with a K/M/G suffix: 11.7M, 1.81G, 230K."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div * 0.9995:
            return f"{n / div:.3g}{unit}"
    return str(int(n))


def label(title: str, lines: Iterable[str] = (), note: str = "", big: str = "") -> Html:
    """An HTML label: a bold title, plain lines, an optional large tag and a small grey note."""
    out = [f"<B>{html_escape(title)}</B>"]
    if big:
        out[0] += f' <FONT POINT-SIZE="16"><B>{html_escape(big)}</B></FONT>'
    out += [html_escape(line) for line in lines]
    if note:
        out.append(f'<FONT POINT-SIZE="10" COLOR="#555555">{html_escape(note)}</FONT>')
    return Html("<BR/>".join(out))


def cost_note(params: int, macs: int, each: int = 1) -> str:
    """The params/MACs line of a label; `each` > 1 adds the per-block figures."""
    text = f"{si(params)} params · {si(macs)} MACs"
    if each > 1:
        text += f" (each {si(params // each)} · {si(macs // each)})"
    return text


def op_text(node: Node) -> str:
    """One line describing a node's op: '3x3 conv, 128, /2', 'BN', 'zero-pad 64→128, /2'."""
    return node.attrs.text()


def where(span: Span | None) -> str:
    """`file:line` of a span; built-in specs are shown by file name alone."""
    return Report.where(span)


@dataclass
class BlockView:
    """What the drawer needs about one block, read off the graph."""

    record: BlockRecord
    nodes: list[Node]
    input: str  # the IR node whose output enters the block
    shortcut: str  # projection | pad | identity | none
    params: int
    macs: int
    out_shape: Shape | None

    @property
    def name(self) -> str:
        """The block's dotted name."""
        return self.record.name

    def body(self) -> list[Node]:
        """Main-path nodes: no shortcut, no add, and no activation after the add (a block
        without a residual, such as a stage's downsampling layer, keeps its last node)."""
        ending = self.record.output if self.record.shortcut != "none" else None
        return [n for n in self.nodes if n.role == Role.MAIN and n.name != ending]

    def shortcut_source(self) -> str:
        """The IR node the shortcut reads: the block input, or (pre-activation nets) the
        pre-activated input that the projection or zero-pad takes."""
        side = [n for n in self.nodes if n.role == Role.SHORTCUT]
        return side[0].inputs[0] if side else self.input

    def lines(self, body: list[Node] | None = None, pre: bool | None = None) -> list[str]:
        """The body's label: its convs, and what sets a family apart (pre-activation order with
        every BN-ReLU before its conv, dropout, a side branch such as SE, drop path)."""
        body = self.body() if body is None else body
        lead: list[Node] = []
        for n in body:
            if n.op == Op.CONV:
                break
            lead.append(n)
        # An activation before the first conv makes a pre-activation unit (He et al. 2016); a
        # norm alone there is a layer of its own (ConvNeXt's downsampling LN).
        if pre is None:
            pre = any(n.op == Op.ACTIVATION for n in lead)
        lead_text = " → ".join(n.attrs.text() for n in lead)
        out = ([f"pre-act {lead_text}" if pre else lead_text] if lead else [])
        if lead and pre and body is not None and body[0] is not self.body()[0]:
            out = [lead_text]
        pending: list[str] = []
        tail: list[str] = []
        for n in body[len(lead):]:
            category = n.attrs.CATEGORY
            if n.op == Op.CONV:
                out.append(" → ".join([*pending, n.attrs.text()]))
                pending = []
            elif n.op in (Op.LAYER_SCALE, Op.DROP_PATH):
                tail.append(n.attrs.text())
            elif category == Category.MERGE:  # a side branch's multiply: its own line says ×
                continue
            elif category in (Category.NORM, Category.ACTIVATION):
                if pre:  # a pre-activation unit's BN-ReLU belongs to the conv after it
                    pending.append(n.attrs.text())
            else:  # dropout, a pool: shown where it sits
                pending.append(n.attrs.text())
        if pending:
            out.append(" → ".join(pending))
        branch = [n for n in self.nodes if n.role == Role.BRANCH]
        if branch and body and body[-1] is self.body()[-1]:
            group = (branch[0].module or branch[0].name)[len(self.name) + 1:].split(".")[0]
            steps = [n.attrs.text() for n in branch if n.op in (Op.CONV, Op.ACTIVATION)]
            out.append(f"{group}: {' → '.join(steps)} ×")
        return out + tail

    def signature(self) -> tuple[object, ...]:
        """Blocks with equal signatures look the same at stage detail: same ops, same costs.
        The drop-path rate is left out: stochastic depth gives every block its own rate."""
        prefix = len(self.name) + 1
        ops = tuple((n.name[prefix:], n.role, "drop path" if isinstance(n.attrs, DropPath)
                     else n.attrs) for n in self.nodes)
        return (self.record.kind, self.shortcut, ops, self.params, self.macs)

    def drop_rate(self) -> float | None:
        """The block's drop-path rate, or None without one."""
        rates = [n.attrs.p for n in self.nodes if isinstance(n.attrs, DropPath)]
        return rates[0] if rates else None


def block_views(report: Report) -> list[BlockView]:
    """One view per block record of the graph, with its nodes and costs."""
    by_name = report.graph.by_name()
    views = []
    for b in report.graph.blocks:
        nodes = [by_name[n] for n in b.nodes]
        params, macs = report.cost(b.nodes)
        views.append(BlockView(b, nodes, b.input, b.shortcut, params, macs, report.shape(b.output)))
    return views


@dataclass
class DotWriter:
    """Accumulates DOT statements; edges are kept apart and written last, at top level.

    An edge written inside a cluster would pull both of its ends into that cluster.
    """

    lines: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)
    depth: int = 1
    # Page mode: every node, cluster and edge gets a short SVG id of ours ("n3", "e7"), so no
    # user text ends up in an id; `ids` maps drawn names to them, `edge_ends` edge ids to ends.
    page: bool = False
    ids: dict[str, str] = field(default_factory=dict)
    edge_ends: dict[str, tuple[str, str]] = field(default_factory=dict)

    def _id(self, ident: str, attrs: Mapping[str, str]) -> Mapping[str, str]:
        if not self.page:
            return attrs
        svg_id = self.ids.setdefault(ident, f"n{len(self.ids)}")
        return {**{k: v for k, v in attrs.items() if k != "tooltip"}, "id": svg_id}

    def stmt(self, text: str) -> None:
        """Append one statement at the current nesting."""
        self.lines.append("  " * self.depth + text)

    def node(self, ident: str, attrs: Mapping[str, str]) -> None:
        """Declare a node."""
        self.stmt(f"{quote(ident)} {attr_list(self._id(ident, attrs))}".rstrip())

    def edge(self, a: str, b: str, attrs: Mapping[str, str]) -> str:
        """Queue an edge; return its SVG id in page mode, else ''."""
        eid = ""
        if self.page:
            eid = f"e{len(self.edge_ends)}"
            self.edge_ends[eid] = (a, b)
            attrs = {**{k: v for k, v in attrs.items() if k != "tooltip"}, "id": eid}
        self.edges.append(f"  {quote(a)} -> {quote(b)} {attr_list(attrs)}".rstrip())
        return eid

    def open(self, ident: str, attrs: Mapping[str, str]) -> None:
        """Open a subgraph (a cluster when `ident` starts with 'cluster')."""
        self.stmt(f"subgraph {quote(ident)} {{")
        self.depth += 1
        for k, v in self._id(ident, attrs).items():
            self.stmt(f"{k}={'<' + v + '>' if isinstance(v, Html) else quote(v)};")

    def close(self) -> None:
        """Close the innermost subgraph."""
        self.depth -= 1
        self.stmt("}")


def flagged(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics worth a red outline: errors and warnings (rule violations)."""
    return [d for d in diags if d.severity in (Severity.ERROR, Severity.WARNING)]


def diag_line(d: Diagnostic) -> str:
    """One tooltip line for a diagnostic."""
    return f"{d.code} {d.severity.value}: {d.message}"


def stage_of_span(stages: Iterable[StageRecord], span: Span | None) -> StageRecord | None:
    """The stage whose depth, width, stride or shortcut setting sits at `span`."""
    if span is None:
        return None
    for s in stages:
        if span in (s.depth_span, s.width_span, s.stride_span, s.shortcut_span):
            return s
    return None

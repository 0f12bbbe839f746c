"""The diagram itself: stem, stage clusters, blocks with their skips, head, at three details.

`stage` collapses runs of identical blocks into one representative marked "xN"; `block` draws
every block as a body node, an add node and its shortcut; `layer` draws every IR node.
"""

from __future__ import annotations

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic
from ...ir.graph import Node, Role
from ...ir.ops import Op
from ...report.summary import fmt_shape
from .blockdraw import MAIN, BlockDrawing
from .dot import (
    FLAG,
    SKIP_STYLES,
    BlockView,
    DotWriter,
    Html,
    attr_list,
    block_views,
    cost_note,
    diag_line,
    flagged,
    label,
    op_text,
    quote,
    si,
    stage_of_span,
    where,
)
from .style import legend, restyle

_STAGE_FILL = ("#eef4fb", "#f3f0fa")  # alternate so neighbouring stages read apart


class Drawer(BlockDrawing):
    """Builds the DOT text of one report at one detail."""

    def __init__(self, report: Report, detail: str, rankdir: str, style: str = "default",
                 page: bool = False) -> None:
        self.report, self.detail, self.rankdir, self.style = report, detail, rankdir, style
        self.views = block_views(report)
        self.by_name = report.graph.by_name()
        self.w = DotWriter(page=page)
        # Page mode: the IR nodes each drawn node or cluster stands for (for its hover card),
        # and the IR node whose output each drawn edge carries.
        self.covers: dict[str, list[str]] = {}
        self.carries: dict[str, str] = {}
        self._out_of: dict[str, str] = {}  # drawn id -> the IR node whose output leaves it
        # At stage detail each block maps to the representative of its run.
        self.runs = self._runs()
        self.rep = {v.name: run[0].name for run in self.runs for v in run}
        self.stage_of = {v.name: v.record.stage for v in self.views}
        self.flags: dict[str, list[Diagnostic]] = {}
        self.loose: list[Diagnostic] = []
        for d in flagged(report.diagnostics):
            target = self._target(d)
            if target is None:
                self.loose.append(d)
            else:
                self.flags.setdefault(target, []).append(d)

    # ---- where things go -------------------------------------------------------------------

    def _runs(self) -> list[list[BlockView]]:
        """Consecutive blocks of one stage with equal signatures (stage and net detail)."""
        runs: list[list[BlockView]] = []
        for v in self.views:
            if (self.detail in ("stage", "net") and runs and runs[-1][-1].record.stage == v.record.stage
                    and runs[-1][-1].signature() == v.signature()):
                runs[-1].append(v)
            else:
                runs.append([v])
        return runs

    def _block_id(self, block: str) -> str:
        return self.rep.get(block, block)

    def _target(self, d: Diagnostic) -> str | None:
        """The drawn node or cluster a diagnostic belongs to, or None to list it apart."""
        name = d.node
        node = self.by_name.get(name) if name is not None else None
        if self.detail == "net":
            index = self.stage_of.get(name or "", node.stage if node is not None else None)
            if index is not None:
                return f"{self.report.graph.stages[index].name}.stage"
            if node is not None:
                return str(node.role) if node.role in (Role.STEM, Role.HEAD) else "input"
            stage = stage_of_span(self.report.graph.stages, d.span)
            return f"{stage.name}.stage" if stage is not None else None
        if name is not None and name in self.rep:  # a block
            return f"cluster_{name}" if self.detail == "layer" else self._block_id(name)
        if node is not None:
            if self.detail == "layer":
                return node.name
            if node.block is not None:
                if node.role == Role.SHORTCUT and self._has_proj(node.block):
                    return f"{self._block_id(node.block)}.downsample"
                if node.role == Role.MERGE:
                    return f"{self._block_id(node.block)}.add"
                return self._block_id(node.block)
            return str(node.role) if node.role in (Role.STEM, Role.HEAD) else "input"
        stage = stage_of_span(self.report.graph.stages, d.span)
        return f"cluster_{stage.name}" if stage is not None else None

    def _has_proj(self, block: str) -> bool:
        return any(v.name == block and v.shortcut == "projection" for v in self.views)

    def _flag(self, ident: str, attrs: dict[str, str], tooltip: str) -> dict[str, str]:
        """Add the tooltip, and the red outline plus messages where a diagnostic points."""
        diags = self.flags.get(ident, [])
        if diags:
            attrs.update(FLAG)
            tooltip += "\n" + "\n".join(diag_line(d) for d in diags)
        attrs["tooltip"] = tooltip
        return attrs

    # ---- the whole graph -------------------------------------------------------------------

    def dot(self) -> str:
        """Return the DOT text."""
        r, w = self.report, self.w
        title = (f"{r.spec.name}: {si(r.params)} params, {si(r.macs)} MACs, input "
                 f"{fmt_shape(r.input_shape)} → {fmt_shape(r.output_shape)}")
        sep = ("0.22", "0.28") if self.detail == "layer" else ("0.3", "0.3")
        w.stmt("graph " + attr_list({
            "rankdir": self.rankdir, "bgcolor": "white", "label": title, "labelloc": "t",
            "fontname": "Helvetica", "fontsize": "18", "nodesep": sep[0], "ranksep": sep[1],
            "newrank": "true",
            "tooltip": f"{r.spec.name} ({where(r.spec.name_span)})"}) + ";")
        w.stmt('node [shape=box, style="rounded,filled", fillcolor="white", '
               'fontname="Helvetica", fontsize=13, margin="0.15,0.06"];')
        w.stmt('edge [fontname="Helvetica", fontsize=11, color="#444444", arrowsize=0.7];')
        self._loose_note()
        x = self._stem()
        for stage in r.graph.stages:
            x = self._stage_node(stage.index, x) if self.detail == "net" else self._stage(
                stage.index, x)
        self._head(x)
        if not w.page:  # the page has a legend of its own
            key = legend(w.lines + w.edges)
            if key:
                w.node("legend", {"shape": "plaintext", "style": "", "label": key,
                                  "tooltip": "legend"})
                if self.style == "paper" and "output" in self.covers:
                    # Below the figure: a column is narrow, not short.
                    w.edge("output", "legend", {"style": "invis"})
        text = "\n".join([f"digraph {quote(r.spec.name)} {{", *w.lines, *w.edges, "}"]) + "\n"
        return restyle(text, self.style)

    def _loose_note(self) -> None:
        if not self.loose:
            return
        lines = [diag_line(d) for d in self.loose]
        self._node("diagnostics", {"shape": "note", "style": "filled", "fillcolor": "#fff0f0",
                                   "label": label("diagnostics", lines), **FLAG},
                   "\n".join(lines), [])

    def _ir_node(self, node: Node, short: bool = True, extra: dict[str, str] | None = None
                 ) -> None:
        """Draw one IR node (layer detail and the stem/head clusters)."""
        info = self.report.nodes[node.name]
        tip = (f"{node.name}: {op_text(node)}\n{where(node.span)}\nparams {info.params:,}\n"
               f"MACs {info.macs:,}\noutput {fmt_shape(info.shape)}")
        attrs: dict[str, str] = dict(extra or {})
        if node.op == Op.ADD:
            attrs.update({"shape": "circle", "label": "+", "fontsize": "16", "width": "0.35",
                          "fixedsize": "true"})
        elif node.op == Op.INPUT:
            attrs.update({"shape": "oval", "label": label("input", [fmt_shape(info.shape)])})
        else:
            # Inside a block cluster the block's name is already on the cluster.
            title = node.name[len(node.block) + 1:] if short and node.block else node.name
            parts = [f"{si(info.params)} params" if info.params else "",
                     f"{si(info.macs)} MACs" if info.macs else ""]
            note = " · ".join(p for p in parts if p)
            attrs["label"] = label(title, [op_text(node)], note)
        if node.role == Role.SHORTCUT:
            attrs.update({"color": SKIP_STYLES["projection"]["color"], "penwidth": "2"}
                         if node.op in (Op.CONV, Op.BATCH_NORM) else
                         {"color": SKIP_STYLES["pad"]["color"], "style": "rounded,dashed"})
        elif node.role == Role.BRANCH:  # a side branch (SE): apart from the main path
            attrs.update({"color": "#7b3fa0", "style": "rounded,filled", "fillcolor": "#f6effa"})
        self._node(node.name, attrs, tip, [node.name])

    # ---- stem and head ---------------------------------------------------------------------

    def _group(self, role: Role) -> list[Node]:
        return [n for n in self.report.graph.nodes if n.role == role]

    def _stem(self) -> str:
        """Draw the input and stem; return the id whose output enters the first stage."""
        nodes = self._group(Role.STEM)
        inp, body = nodes[0], nodes[1:]
        self._ir_node(inp, extra=MAIN)
        if self.detail == "layer":
            self._layer_cluster("stem", body)
            return body[-1].name if body else inp.name
        if not body:
            return inp.name
        params, macs = self.report.cost(n.name for n in body)
        convs = [op_text(n) for n in body if n.op not in (Op.ACTIVATION, Op.BATCH_NORM)]
        tip = (f"stem: {', '.join(n.name for n in body)}\n{where(body[0].span)}\n"
               f"params {params:,}\nMACs {macs:,}")
        attrs = {**MAIN, "label": label("stem", convs, cost_note(params, macs)),
                 "fillcolor": "#f4f4f4"}
        self._node("stem", attrs, tip, [n.name for n in body])
        self._main_edge(inp.name, "stem", inp.name)
        self._out_of["stem"] = body[-1].name
        return "stem"

    def _layer_cluster(self, name: str, nodes: list[Node]) -> None:
        """Draw the stem's or head's IR nodes one by one inside a plain cluster."""
        self.covers[f"cluster_{name}"] = [n.name for n in nodes]
        self.w.open(f"cluster_{name}", {"label": Html(f"<B>{name}</B>"), "style": "rounded",
                                        "color": "#999999", "labeljust": "l"})
        for n in nodes:
            self._ir_node(n, extra=MAIN)
            self._main_edge(n.inputs[0], n.name, n.inputs[0])
        self.w.close()

    def _head(self, x: str) -> None:
        nodes = self._group(Role.HEAD)
        if not nodes:
            return
        if self.detail == "layer":
            self._layer_cluster("head", nodes)
            last = nodes[-1].name
        else:
            params, macs = self.report.cost(n.name for n in nodes)
            tip = (f"head: {', '.join(n.name for n in nodes)}\n{where(nodes[0].span)}\n"
                   f"params {params:,}\nMACs {macs:,}")
            ops = [op_text(n) for n in nodes if n.op != Op.FLATTEN]
            attrs = {**MAIN, "label": label("head", ops, cost_note(params, macs)),
                     "fillcolor": "#f4f4f4"}
            self._node("head", attrs, tip, [n.name for n in nodes])
            self._main_edge(x, "head", self._out_of.get(x, x))
            last = nodes[-1].name
            self._out_of["head"] = last
            x = "head"
        self._node("output", {**MAIN, "shape": "oval", "label": label(
            "output", [self._shape(last)])}, f"output {self._shape(last)}", [last])
        self._main_edge(last if self.detail == "layer" else x, "output", last)

    # ---- stages ----------------------------------------------------------------------------

    def _stage_text(self, index: int) -> tuple[str, str, int, int, list[str]]:
        """A stage's title, tooltip, params, MACs and IR nodes."""
        stage = self.report.graph.stages[index]
        views = [v for v in self.views if v.record.stage == index]
        params, macs = sum(v.params for v in views), sum(v.macs for v in views)
        out = fmt_shape(views[-1].out_shape) if views else "?"
        head = (f"{stage.name}: {stage.depth} x {stage.kind}, width {stage.width}, "
                f"stride {stage.stride}, out {out}")
        tip = (f"{head}\nshortcut {stage.shortcut_option}\ndepth {where(stage.depth_span)}, width "
               f"{where(stage.width_span)}, stride {where(stage.stride_span)}\n"
               f"params {params:,}\nMACs {macs:,}")
        return head, tip, params, macs, [n for v in views for n in v.record.nodes]

    def _stage(self, index: int, x: str) -> str:
        """Draw one stage cluster; return the id whose output leaves it.

        The stage's title is a node on the main path at the top of the cluster, not the
        cluster's label: edges enter and leave it, so no skip or projection crosses it."""
        stage = self.report.graph.stages[index]
        head, tip, params, macs, covered = self._stage_text(index)
        ident = f"cluster_{stage.name}"
        attrs: dict[str, str] = {"label": "", "style": "rounded,filled",
                                 "fillcolor": _STAGE_FILL[index % 2], "color": "#7a8ca8"}
        self.covers[ident] = covered
        self.w.open(ident, self._flag(ident, attrs, tip))
        title = f"{stage.name}.title"
        x_ir = self._out_of.get(x, x)
        self._node(title, {**MAIN, "shape": "plaintext", "style": "", "fontsize": "15",
                           "label": label(head, [], cost_note(params, macs))}, tip, covered)
        self._main_edge(x, title, x_ir)
        self._out_of[title] = x_ir
        x = title
        for run in self.runs:
            if run[0].record.stage == index:
                x = self._block(run, x) if self.detail != "layer" else self._block_layers(
                    run[0], x)
        self.w.close()
        return x

    def _stage_node(self, index: int, x: str) -> str:
        """Net detail: a whole stage as one node marked with its depth."""
        stage = self.report.graph.stages[index]
        _head, tip, params, macs, covered = self._stage_text(index)
        views = [v for v in self.views if v.record.stage == index]
        lines = [f"{stage.kind}, width {stage.width}, stride {stage.stride}",
                 f"out {fmt_shape(views[-1].out_shape) if views else '?'}"]
        ident = f"{stage.name}.stage"
        attrs = {**MAIN, "label": label(stage.name, lines, cost_note(params, macs),
                                        big=f"×{stage.depth}"),
                 "fillcolor": _STAGE_FILL[index % 2], "peripheries": "2" if stage.depth > 1
                 else "1"}
        self._node(ident, attrs, tip, covered)
        self._main_edge(x, ident, self._out_of.get(x, x))
        if views:
            self._out_of[ident] = views[-1].record.output
        return ident


def to_dot_text(report: Report, detail: str = "block", rankdir: str = "TB",
                style: str = "default") -> str:
    """Return the DOT text of `report` at `detail` (stage, block or layer) in `style`."""
    return Drawer(report, detail, rankdir, style).dot()

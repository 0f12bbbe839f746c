"""The diagram itself: stem, stage clusters, blocks with their skips, head, at three details.

`stage` collapses runs of identical blocks into one representative marked "xN"; `block` draws
every block as a body node, an add node and its shortcut; `layer` draws every IR node.
"""

from __future__ import annotations

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic
from ...ir.graph import Node, Role
from ...ir.ops import Conv2d, Op
from ..summary import fmt_shape
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

_MAIN = {"group": "main"}  # one group keeps the main path in a straight line
_MAIN_EDGE = {"weight": "8"}
_STAGE_FILL = ("#eef4fb", "#f3f0fa")  # alternate so neighbouring stages read apart


class Drawer:
    """Builds the DOT text of one report at one detail."""

    def __init__(self, report: Report, detail: str, rankdir: str) -> None:
        self.report, self.detail, self.rankdir = report, detail, rankdir
        self.views = block_views(report)
        self.by_name = report.graph.by_name()
        self.w = DotWriter()
        self._out_of: dict[str, str] = {}  # drawn id -> the IR node whose output leaves it
        # At stage detail each block maps to the representative of its run.
        self.runs = self._runs()
        self.rep = {v.name: run[0].name for run in self.runs for v in run}
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
        """Consecutive blocks of one stage with equal signatures (stage detail only)."""
        runs: list[list[BlockView]] = []
        for v in self.views:
            if (self.detail == "stage" and runs and runs[-1][-1].record.stage == v.record.stage
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
        if name is not None and name in self.rep:  # a block
            return f"cluster_{name}" if self.detail == "layer" else self._block_id(name)
        node = self.by_name.get(name) if name is not None else None
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

    def _shape(self, ir_name: str) -> str:
        return fmt_shape(self.report.nodes[ir_name].shape)

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
            x = self._stage(stage.index, x)
        self._head(x)
        return "\n".join([f"digraph {quote(r.spec.name)} {{", *w.lines, *w.edges, "}"]) + "\n"

    def _loose_note(self) -> None:
        if not self.loose:
            return
        lines = [diag_line(d) for d in self.loose]
        self.w.node("diagnostics", {"shape": "note", "style": "filled", "fillcolor": "#fff0f0",
                                    "label": label("diagnostics", lines), **FLAG,
                                    "tooltip": "\n".join(lines)})

    def _main_edge(self, a: str, b: str, shape_of: str | None) -> None:
        attrs = dict(_MAIN_EDGE)
        if shape_of is not None:
            attrs["label"] = self._shape(shape_of)
        self.w.edge(a, b, attrs)

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
        self.w.node(node.name, self._flag(node.name, attrs, tip))

    # ---- stem and head ---------------------------------------------------------------------

    def _group(self, role: Role) -> list[Node]:
        return [n for n in self.report.graph.nodes if n.role == role]

    def _stem(self) -> str:
        """Draw the input and stem; return the id whose output enters the first stage."""
        nodes = self._group(Role.STEM)
        inp, body = nodes[0], nodes[1:]
        self._ir_node(inp, extra=_MAIN)
        if self.detail == "layer":
            self._layer_cluster("stem", body)
            return body[-1].name if body else inp.name
        if not body:
            return inp.name
        params, macs = self.report.cost(n.name for n in body)
        convs = [op_text(n) for n in body if n.op not in (Op.ACTIVATION, Op.BATCH_NORM)]
        tip = (f"stem: {', '.join(n.name for n in body)}\n{where(body[0].span)}\n"
               f"params {params:,}\nMACs {macs:,}")
        attrs = {**_MAIN, "label": label("stem", convs, cost_note(params, macs)),
                 "fillcolor": "#f4f4f4"}
        self.w.node("stem", self._flag("stem", attrs, tip))
        self._main_edge(inp.name, "stem", inp.name)
        self._out_of["stem"] = body[-1].name
        return "stem"

    def _layer_cluster(self, name: str, nodes: list[Node]) -> None:
        """Draw the stem's or head's IR nodes one by one inside a plain cluster."""
        self.w.open(f"cluster_{name}", {"label": Html(f"<B>{name}</B>"), "style": "rounded",
                                        "color": "#999999"})
        for n in nodes:
            self._ir_node(n, extra=_MAIN)
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
            attrs = {**_MAIN, "label": label("head", ops, cost_note(params, macs)),
                     "fillcolor": "#f4f4f4"}
            self.w.node("head", self._flag("head", attrs, tip))
            self._main_edge(x, "head", self._out_of.get(x, x))
            last = nodes[-1].name
            self._out_of["head"] = last
            x = "head"
        self.w.node("output", {**_MAIN, "shape": "oval", "label": label(
            "output", [self._shape(last)]), "tooltip": f"output {self._shape(last)}"})
        self._main_edge(last if self.detail == "layer" else x, "output", last)

    # ---- stages and blocks -----------------------------------------------------------------

    def _stage(self, index: int, x: str) -> str:
        """Draw one stage cluster; return the id whose output leaves it."""
        stage = self.report.graph.stages[index]
        views = [v for v in self.views if v.record.stage == index]
        params, macs = sum(v.params for v in views), sum(v.macs for v in views)
        out = fmt_shape(views[-1].out_shape) if views else "?"
        head = (f"{stage.name}: {stage.depth} x {stage.kind}, width {stage.width}, "
                f"stride {stage.stride}, out {out}")
        ident = f"cluster_{stage.name}"
        tip = (f"{head}\nshortcut {stage.shortcut_option}\ndepth {where(stage.depth_span)}, width "
               f"{where(stage.width_span)}, stride {where(stage.stride_span)}\n"
               f"params {params:,}\nMACs {macs:,}")
        attrs: dict[str, str] = {"label": label(head, [], cost_note(params, macs)),
                                 "style": "rounded,filled",
                                 "fillcolor": _STAGE_FILL[index % 2], "color": "#7a8ca8",
                                 "fontsize": "15"}
        self.w.open(ident, self._flag(ident, attrs, tip))
        for run in self.runs:
            if run[0].record.stage == index:
                x = self._block(run, x) if self.detail != "layer" else self._block_layers(
                    run[0], x)
        self.w.close()
        return x

    def _block(self, run: list[BlockView], x: str) -> str:
        """Draw a block (or a run of identical ones) as body, shortcut and add; return its id."""
        v = run[0]
        n = len(run)
        params, macs = sum(b.params for b in run), sum(b.macs for b in run)
        body_id = v.name
        title = v.name if n == 1 else f"{v.name} … {run[-1].name}"
        lines = v.lines()
        tip = (f"{title}: {v.record.kind} block{'s' if n > 1 else ''}\n{where(v.record.span)}\n"
               f"params {params:,}\nMACs {macs:,}" + (f"\n{n} identical blocks; the skip "
                                                      "drawn is each one's" if n > 1 else ""))
        attrs = {**_MAIN, "label": label(title, lines, cost_note(params, macs, n),
                                         big=f"x{n}" if n > 1 else "")}
        if n > 1:
            attrs["peripheries"] = "2"  # a stack of blocks
        self.w.node(body_id, self._flag(body_id, attrs, tip))
        x_ir = self._out_of.get(x, x)
        self._main_edge(x, body_id, x_ir)
        if v.shortcut == "none":
            self._out_of[body_id] = v.record.output
            return body_id
        add_id = f"{v.name}.add"
        out_node = self.by_name[v.record.output]
        after = "no activation after it (pre-activation)" if out_node.op == Op.ADD else \
            f"then {op_text(out_node)}"
        add_tip = (f"{add_id}: residual add, {after}\n"
                   f"{where(v.record.span)}\noutput {fmt_shape(v.out_shape)}")
        self.w.node(add_id, self._flag(add_id, {**_MAIN, "shape": "circle", "label": "+",
                                                "fontsize": "16", "width": "0.35",
                                                "fixedsize": "true"}, add_tip))
        # No shape here: the add's output edge carries the same shape.
        self.w.edge(body_id, add_id, _MAIN_EDGE)
        style = SKIP_STYLES[v.shortcut]
        if v.shortcut == "projection":
            proj = [node for node in v.nodes if node.role == Role.SHORTCUT]
            conv = next(node for node in proj if isinstance(node.attrs, Conv2d))
            p, m = self.report.cost(node.name for node in proj)
            proj_id = f"{v.name}.downsample"
            a = conv.attrs
            assert isinstance(a, Conv2d)
            # The conv's line leaves out what the title says; every other op gets its own line.
            lines = [n.attrs.text() if n is not conv else
                     f"{a.out_channels}" + (f", /{a.stride}" if a.stride > 1 else "")
                     for n in proj]
            what = " + ".join(n.attrs.text().split(",")[0] for n in proj)
            ptip = (f"{proj_id}: {what} projection\n{where(conv.span)}\nparams {p:,}\n"
                    f"MACs {m:,}")
            pattrs = {"label": label(f"proj {a.kernel}x{a.kernel}", lines, cost_note(p, m)),
                      "color": style["color"], "penwidth": "2", "fontcolor": "#173f7a"}
            self.w.node(proj_id, self._flag(proj_id, pattrs, ptip))
            self.w.edge(x, proj_id, style)
            self.w.edge(proj_id, add_id, {**style, "label": self._shape(proj[-1].name)})
        else:
            pad = [node for node in v.nodes if node.op == Op.PAD_CHANNELS]
            self.w.edge(x, add_id, {**style, "label": op_text(pad[0])} if pad else style)
        self._out_of[add_id] = v.record.output
        return add_id

    def _block_layers(self, v: BlockView, x: str) -> str:
        """Layer detail: a block cluster with every IR node; return the block's output node."""
        ident = f"cluster_{v.name}"
        tip = f"{v.name}: {v.record.kind}\n{where(v.record.span)}\nparams {v.params:,}\n" \
              f"MACs {v.macs:,}"
        attrs: dict[str, str] = {"label": label(f"{v.name} ({v.record.kind})", [],
                                                cost_note(v.params, v.macs)),
                                 "style": "rounded,filled", "fillcolor": "white",
                                 "color": "#aaaaaa", "fontsize": "13"}
        self.w.open(ident, self._flag(ident, attrs, tip))
        style = SKIP_STYLES.get(v.shortcut, {})
        for node in v.nodes:
            main = node.role != Role.SHORTCUT
            self._ir_node(node, extra=_MAIN if main else None)
            for k, src in enumerate(node.inputs):
                skip = node.role == Role.SHORTCUT or (node.op == Op.ADD and k == 1)
                if skip:
                    attrs = dict(style)
                    if v.shortcut == "pad" and node.op == Op.ADD:
                        attrs.pop("label", None)  # one 'zero-pad' label per skip is enough
                    attrs["label"] = attrs.get("label", self._shape(src))
                    self.w.edge(src, node.name, attrs)
                else:
                    self._main_edge(src, node.name, src)
        self.w.close()
        return v.record.output


def to_dot_text(report: Report, detail: str = "block", rankdir: str = "TB") -> str:
    """Return the DOT text of `report` at `detail` (stage, block or layer)."""
    return Drawer(report, detail, rankdir).dot()

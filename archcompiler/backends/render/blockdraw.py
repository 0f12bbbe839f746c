"""Blocks in the diagram: a body node, its add and its skip (stage and block detail), or every
IR node in a cluster (layer detail). A run of identical blocks sits on a plate marked "×N"."""

from __future__ import annotations

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic
from ...ir.graph import Node, Role
from ...ir.ops import Conv2d, Op
from ...report.summary import fmt_shape
from .dot import SKIP_STYLES, BlockView, DotWriter, Html, cost_note, label, op_text, where

MAIN = {"group": "main"}  # one group keeps the main path in a straight line
MAIN_EDGE = {"weight": "8"}


class BlockDrawing:
    """The block half of the Drawer (mixed into it): what it needs is declared here."""

    report: Report
    w: DotWriter
    by_name: dict[str, Node]
    covers: dict[str, list[str]]
    carries: dict[str, str]
    flags: dict[str, list[Diagnostic]]
    _out_of: dict[str, str]

    def _flag(self, ident: str, attrs: dict[str, str], tooltip: str) -> dict[str, str]:
        raise NotImplementedError

    def _ir_node(self, node: Node, short: bool = True, extra: dict[str, str] | None = None
                 ) -> None:
        raise NotImplementedError

    def _shape(self, ir_name: str) -> str:
        return fmt_shape(self.report.nodes[ir_name].shape)

    def _edge(self, a: str, b: str, attrs: dict[str, str], carries: str) -> None:
        """Draw an edge that carries the output of IR node `carries`."""
        eid = self.w.edge(a, b, attrs)
        if eid:
            self.carries[eid] = carries

    def _main_edge(self, a: str, b: str, shape_of: str) -> None:
        attrs = dict(MAIN_EDGE)
        if not a.endswith(".title"):  # a title node's in-edge already carries the shape
            attrs["label"] = self._shape(shape_of)
        self._edge(a, b, attrs, shape_of)

    def _node(self, ident: str, attrs: dict[str, str], tip: str, covers: list[str]) -> None:
        self.covers[ident] = covers
        self.w.node(ident, self._flag(ident, attrs, tip))

    def _block(self, run: list[BlockView], x: str) -> str:
        """Draw a block (or a run of identical ones) as body, shortcut and add; return its id."""
        v = run[0]
        n = len(run)
        x_ir = self._out_of.get(x, x)
        if n > 1:  # the plate: each block of the run has its own skip, drawn once
            self.covers[f"cluster_{v.name}.run"] = [m for b in run for m in b.record.nodes]
            self.w.open(f"cluster_{v.name}.run", {
                "label": Html(f'<FONT POINT-SIZE="15"><B>×{n}</B></FONT>'), "labelloc": "b",
                "labeljust": "r", "style": "rounded,dashed", "color": "#7a8ca8",
                "tooltip": f"{n} identical blocks, each with its own skip"})
            entry = f"{v.name}.in"
            self._node(entry, {**MAIN, "shape": "point", "width": "0.06"},
                       f"input of each block of {v.name} … {run[-1].name}", [x_ir])
            self._main_edge(x, entry, x_ir)
            self._out_of[entry] = x_ir
            x = entry
        out = self._block_nodes(run, x, x_ir)
        if n > 1:
            self.w.close()
        return out

    def _block_nodes(self, run: list[BlockView], x: str, x_ir: str) -> str:
        v = run[0]
        n = len(run)
        params, macs = sum(b.params for b in run), sum(b.macs for b in run)
        body = v.body()
        source = v.shortcut_source()
        names = [m.name for m in body]
        skip_from = x
        if source != v.input and source in names:
            # Pre-activation: the shortcut reads the pre-activated input, so that part of the
            # body is a node of its own and the skip leaves from it.
            cut = names.index(source) + 1
            pre_id = f"{v.name}.preact"
            pre_covers = [m.name for b in run for m in b.body()[:cut]]
            self._node(pre_id, {**MAIN, "label": label(f"{v.name} pre-act",
                                                       [" → ".join(op_text(m) for m in
                                                                   body[:cut])])},
                       f"{pre_id}: the pre-activation the shortcut reads\n"
                       f"{where(body[0].span)}", pre_covers)
            self._main_edge(x, pre_id, x_ir)
            self._out_of[pre_id] = source
            x = skip_from = pre_id
            x_ir = source
            body = body[cut:]
        body_id = v.name
        title = v.name if n == 1 else f"{v.name} … {run[-1].name}"
        lines = v.lines(body, pre=True) if len(body) != len(v.body()) else v.lines()
        rates = [r for r in (b.drop_rate() for b in run) if r is not None]
        if n > 1 and rates and min(rates) != max(rates):
            lines = [ln for ln in lines if not ln.startswith("drop path")]
            lines.append(f"drop path {min(rates):.3g}–{max(rates):.3g}")
        tip = (f"{title}: {v.record.kind} block{'s' if n > 1 else ''}\n{where(v.record.span)}\n"
               f"params {params:,}\nMACs {macs:,}" + (f"\n{n} identical blocks, each with its "
                                                      "own skip" if n > 1 else ""))
        attrs = {**MAIN, "label": label(title, lines, cost_note(params, macs, n),
                                        big=f"×{n}" if n > 1 else "")}
        if n > 1:
            attrs["peripheries"] = "2"  # a stack of blocks
        own = [m.name for b in run for m in b.nodes if m.role != Role.SHORTCUT
               and m.name != b.record.output]
        pre = set(self.covers.get(f"{v.name}.preact", []))
        self._node(body_id, attrs, tip, [m for m in own if m not in pre])
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
        adds = [m.name for b in run for m in b.nodes if m.op == Op.ADD or m.name == b.record.output]
        self._node(add_id, {**MAIN, "shape": "circle", "label": "+", "fontsize": "16",
                            "width": "0.35", "fixedsize": "true"}, add_tip, adds)
        # No shape here: the add's output edge carries the same shape.
        self._edge(body_id, add_id, dict(MAIN_EDGE), body[-1].name if body else x_ir)
        style = SKIP_STYLES[v.shortcut]
        skip_ir = self._out_of.get(skip_from, skip_from)
        if v.shortcut == "projection":
            self._projection(run, skip_from, skip_ir, add_id, style)
        else:
            pad = [node for node in v.nodes if node.op == Op.PAD_CHANNELS]
            self._edge(skip_from, add_id, {**style, "label": op_text(pad[0])} if pad else
                       dict(style), pad[0].name if pad else skip_ir)
        self._out_of[add_id] = v.record.output
        return add_id

    def _projection(self, run: list[BlockView], x: str, x_ir: str, add_id: str,
                    style: dict[str, str]) -> None:
        v = run[0]
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
        ptip = f"{proj_id}: {what} projection\n{where(conv.span)}\nparams {p:,}\nMACs {m:,}"
        pattrs = {"label": label(f"proj {a.kernel}x{a.kernel}", lines, cost_note(p, m)),
                  "color": style["color"], "penwidth": "2", "fontcolor": "#173f7a"}
        self._node(proj_id, pattrs, ptip, [n.name for b in run for n in b.nodes
                                           if n.role == Role.SHORTCUT])
        self._edge(x, proj_id, dict(style), x_ir)
        self._edge(proj_id, add_id, {**style, "label": self._shape(proj[-1].name)},
                   proj[-1].name)

    def _block_layers(self, v: BlockView, x: str) -> str:
        """Layer detail: a block cluster with every IR node; return the block's output node.

        The block's title is a node at the cluster's top, on the main path; edges that read the
        block's input leave from it, so no edge crosses the title."""
        ident = f"cluster_{v.name}"
        tip = f"{v.name}: {v.record.kind}\n{where(v.record.span)}\nparams {v.params:,}\n" \
              f"MACs {v.macs:,}"
        attrs: dict[str, str] = {"label": "", "style": "rounded,filled", "fillcolor": "white",
                                 "color": "#aaaaaa"}
        self.covers[ident] = [n.name for n in v.nodes]
        self.w.open(ident, self._flag(ident, attrs, tip))
        title = f"{v.name}.title"
        self._node(title, {**MAIN, "shape": "plaintext", "style": "", "label": label(
            f"{v.name} ({v.record.kind})", [], cost_note(v.params, v.macs))}, tip,
            [n.name for n in v.nodes])
        self._main_edge(x, title, v.input)
        style = SKIP_STYLES.get(v.shortcut, {})
        for node in v.nodes:
            main = node.role != Role.SHORTCUT
            self._ir_node(node, extra=MAIN if main else None)
            for k, src in enumerate(node.inputs):
                frm = title if src == v.input else src
                skip = node.role == Role.SHORTCUT or (node.op == Op.ADD and k == 1)
                if skip:
                    attrs = dict(style)
                    if v.shortcut == "pad" and node.op == Op.ADD:
                        attrs.pop("label", None)  # one 'zero-pad' label per skip is enough
                    attrs["label"] = attrs.get("label", self._shape(src))
                    self._edge(frm, node.name, attrs, src)
                else:
                    self._main_edge(frm, node.name, src)
        self.w.close()
        return v.record.output

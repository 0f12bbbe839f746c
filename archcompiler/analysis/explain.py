"""`archc explain`: every layer's shapes and settings with its worked arithmetic, why each block's
shortcut is what it is, and the paper's reason behind each diagnostic.

The arithmetic is the op records' own (`OpAttrs.formulas`): the expressions that `infer`,
`params` and `macs` evaluate, so what is explained is what was computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.codes import CODES
from ..core.diagnostics import Diagnostic, did_you_mean
from ..ir.formula import Formula
from ..ir.graph import BlockRecord, Node
from ..ir.ops import Shape
from .report import Report

__all__ = ["BlockExplanation", "DiagnosticExplanation", "Explanation", "LayerExplanation",
           "UnknownNode", "explain", "shortcut_reason"]

# The settings of a layer that `explain` shows, where its op has them.
SETTINGS = ("kernel", "stride", "padding", "groups", "bias", "ceil_mode")


class UnknownNode(ValueError):
    """A NODE that names no layer, block or stage of the spec; the message suggests one."""


@dataclass(frozen=True)
class LayerExplanation:
    """One layer: its shapes, its settings, and its worked formulas."""

    name: str
    op: str
    text: str
    block: str | None
    inputs: tuple[Shape, ...]
    output: Shape | None
    settings: tuple[tuple[str, int | bool], ...]
    formulas: tuple[Formula, ...]
    params: int
    macs: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {"name": self.name, "op": self.op, "text": self.text, "block": self.block,
                "inputs": [list(s) for s in self.inputs],
                "output": list(self.output) if self.output is not None else None,
                "settings": dict(self.settings), "params": self.params, "macs": self.macs,
                "formulas": [f.to_dict() for f in self.formulas]}


@dataclass(frozen=True)
class BlockExplanation:
    """One block: its kind, its shortcut and the reason for it."""

    name: str
    kind: str
    shortcut: str
    option: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {"name": self.name, "kind": self.kind, "shortcut": self.shortcut,
                "shortcut_option": self.option, "reason": self.reason}


@dataclass(frozen=True)
class DiagnosticExplanation:
    """One diagnostic with the rule it breaks: what the rule checks, why (the paper), the fix."""

    diagnostic: Diagnostic
    title: str
    why: str
    fix: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {**self.diagnostic.to_dict(), "title": self.title, "why": self.why,
                "fix": self.fix}


@dataclass(frozen=True)
class Explanation:
    """What `archc explain` shows for a spec, or for one layer, block or stage of it."""

    spec: str
    target: str | None
    layers: tuple[LayerExplanation, ...]
    blocks: tuple[BlockExplanation, ...]
    diagnostics: tuple[DiagnosticExplanation, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the layers, the blocks and the diagnostics."""
        return {"spec": self.spec, "target": self.target,
                "layers": [x.to_dict() for x in self.layers],
                "blocks": [x.to_dict() for x in self.blocks],
                "diagnostics": [x.to_dict() for x in self.diagnostics]}


def shortcut_reason(block: BlockRecord) -> str:
    """Why a block's shortcut is what it is, from its record: the option asked for and whether
    the block changes the shape (the paper's section 3.3 options A, B and C)."""
    cin, cout, s = block.in_channels, block.out_channels, block.stride
    change = []
    if cin != cout:
        change.append(f"channels {cin}→{cout}")
    if s != 1:
        change.append(f"stride {s}")
    changes = ", ".join(change)
    option = block.shortcut_option
    if block.shortcut == "none":
        return ("no shortcut: the block is plain (option 'none'), as in the paper's plain nets; "
                "its output is its main path alone")
    if block.shortcut == "identity":
        if changes:
            return (f"identity although the shape changes ({changes}): option '{option}' never "
                    "adapts a shortcut, so rule ARC303 reports the mismatch")
        return (f"identity: input and output are both {cout} channels at stride 1, so x is "
                f"added unchanged (He et al. 2015, Eqn. 1; option {option} keeps the identity "
                "wherever shapes agree)")
    if block.shortcut == "pad":
        return (f"zero-pad ({changes}): option A subsamples x by the stride and pads the extra "
                "channels with zeros, so the shortcut has no parameters (section 3.3)")
    if option == "C":
        return (f"projection: option C projects every shortcut with a 1x1 conv, even where the "
                f"shape is unchanged ({changes or 'as here'}; section 3.3, Table 3)")
    return (f"projection ({changes}): the shape changes, so option {option} matches it with a "
            f"1x1 conv of stride {s} and a norm (He et al. 2015, Eqn. 2); elsewhere it keeps the "
            "identity")


def _layer(report: Report, node: Node) -> LayerExplanation:
    info = report.nodes[node.name]
    ins = tuple(s for s in (report.nodes[i].shape for i in node.inputs) if s is not None)
    attrs = node.attrs
    settings = tuple((k, getattr(attrs, k)) for k in SETTINGS if hasattr(attrs, k))
    formulas: tuple[Formula, ...] = ()
    if info.shape is not None and len(ins) == len(node.inputs):
        formulas = attrs.formulas(list(ins), info.shape)
    return LayerExplanation(node.name, node.op, attrs.text(), node.block, ins, info.shape,
                            settings, formulas, info.params, info.macs)


def _diag(diag: Diagnostic) -> DiagnosticExplanation:
    code = CODES.get(diag.code) if diag.code in CODES else None
    if code is None:
        return DiagnosticExplanation(diag, "", "", "")
    return DiagnosticExplanation(diag, code.title, code.why, code.fix)


def _select(report: Report, target: str | None) -> tuple[list[Node], list[BlockRecord]]:
    graph = report.graph
    nodes = [n for n in graph.nodes if n.op != "input"]
    if target is None:
        return nodes, list(graph.blocks)
    stage = next((s for s in graph.stages if s.name == target), None)
    if stage is not None:
        blocks = [b for b in graph.blocks if b.name in stage.blocks]
        if stage.transition is not None:
            blocks.insert(0, next(b for b in graph.blocks if b.name == stage.transition))
        names = {n for b in blocks for n in b.nodes}
        return [n for n in nodes if n.name in names], blocks
    block = next((b for b in graph.blocks if b.name == target), None)
    if block is not None:
        return [n for n in nodes if n.name in block.nodes], [block]
    node = next((n for n in nodes if n.name == target), None)
    if node is not None:
        return [node], []
    known = [n.name for n in nodes] + [b.name for b in graph.blocks] + \
        [s.name for s in graph.stages]
    guess = did_you_mean(target, known)
    raise UnknownNode(f"{target!r} names no layer, block or stage of {report.spec.name}"
                      + (f"; did you mean {guess!r}?" if guess else
                         f"; layers look like {nodes[0].name!r}, blocks like "
                         f"{graph.blocks[0].name if graph.blocks else nodes[0].name!r}"))


def explain(report: Report, target: str | None = None) -> Explanation:
    """Explain every layer of `report` (or the layer, block or stage `target` names)."""
    nodes, blocks = _select(report, target)
    names = {n.name for n in nodes} | {b.name for b in blocks}
    if target is not None:
        names.add(target)
    diags = [d for d in report.diagnostics if target is None or d.node in names or
             any(d.message.startswith(f"{name}:") or d.message.startswith(f"{name} ")
                 for name in names)]
    return Explanation(report.spec.name, target,
                       tuple(_layer(report, n) for n in nodes),
                       tuple(BlockExplanation(b.name, b.kind, b.shortcut, b.shortcut_option,
                                              shortcut_reason(b)) for b in blocks),
                       tuple(_diag(d) for d in diags))

"""The summary as data: typed rows at stage, block or layer depth, and the JSON-ready record.

`archcompiler.summary(...)` returns these rows, `Report.to_dict()` the record, and
`archc summary --json` prints that same record: one function for each form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..core.diagnostics import Diagnostic, Span
from ..core.outputs import to_json as strict_json
from ..ir.graph import Graph, Node, Role
from ..ir.ops import Op, Shape
from ..language.zoo import display_path

MAC_CONVENTION = ("MACs are conv + linear multiply-accumulates (torchvision's 'GFLOPS' metadata; "
                  "FlopCounterMode's total / 2)")


class _Info(Protocol):
    @property
    def shape(self) -> Shape | None: ...
    @property
    def params(self) -> int: ...
    @property
    def macs(self) -> int: ...


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def generated(self) -> tuple[tuple[str, Span], ...]: ...


class Report(Protocol):
    """What the tables read of an analysis report (analysis.report.Report has all of it)."""

    @property
    def spec(self) -> _Named: ...
    @property
    def graph(self) -> Graph: ...
    @property
    def nodes(self) -> Mapping[str, _Info]: ...
    @property
    def diagnostics(self) -> Sequence[Diagnostic]: ...
    @property
    def params(self) -> int: ...
    @property
    def macs(self) -> int: ...
    @property
    def input_shape(self) -> Shape: ...
    @property
    def output_shape(self) -> Shape | None: ...
    def cost(self, names: Iterable[str]) -> tuple[int, int]: ...
    def shape(self, name: str) -> Shape | None: ...


def macs_per_layer(report: Report) -> list[float | None]:
    """Mean MACs per main-path conv of each stage (the paper's time complexity per layer)."""
    # Only main-path convs are the paper's layers: shortcut and side-branch convs are not.
    # One pass over the nodes for all stages: a sweep runs this for every variant.
    total: dict[int, int] = {}
    count: dict[int, int] = {}
    unknown: set[int] = set()
    infos = report.nodes
    for n in report.graph.windowed:
        if n.stage is not None and n.role == Role.MAIN and n.attrs.OP == Op.CONV:
            info = infos[n.name]
            if info.shape is None:
                unknown.add(n.stage)
            total[n.stage] = total.get(n.stage, 0) + info.macs
            count[n.stage] = count.get(n.stage, 0) + 1
    return [total[s.index] / count[s.index] if s.index in count and s.index not in unknown
            else None for s in report.graph.stages]


DEPTHS = ("stage", "block", "layer")


@dataclass(frozen=True)
class Row:
    """One line of the summary table: a stage, block or layer with its output and costs."""

    name: str
    kind: str
    shape: Shape | None
    params: int
    macs: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the shape as a list."""
        return {"name": self.name, "kind": self.kind,
                "output_shape": list(self.shape) if self.shape is not None else None,
                "params": self.params, "macs": self.macs}


def _group_key(node: Node, depth: str, stage_names: list[str]) -> str:
    if node.role in (Role.STEM, Role.HEAD):
        return str(node.role)
    if depth == "stage":
        return stage_names[node.stage or 0]
    return node.block or node.name


def _kinds(report: Report) -> dict[str, str]:
    """What each stage and block row is, built once (a lookup per row would be quadratic)."""
    kinds = {s.name: (f"{s.transition} + " if s.transition else "") +
             f"{s.depth} x {s.kind} ({s.shortcut_option})" for s in report.graph.stages}
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
    stage_names = [s.name for s in report.graph.stages]
    for node in report.graph.nodes:
        if node.op != Op.INPUT:
            groups.setdefault(_group_key(node, depth, stage_names), []).append(node)
    out, kinds = [], _kinds(report)
    for key, nodes in groups.items():
        params, macs = report.cost(n.name for n in nodes)
        out.append(Row(key, _kind(nodes, key, kinds), report.shape(nodes[-1].name), params, macs))
    return out


def report_dict(report: Report, depth: str | None = None) -> dict[str, object]:
    """Return the summary as JSON-ready data: totals, diagnostics, and the rows at `depth`.

    Without a depth the record has every IR node (`nodes`, the input included), as it always had;
    with one it has the rows of the table at that depth (`depth`, `rows`) instead.
    """
    data: dict[str, object] = {
        "name": report.spec.name,
        "params": report.params,
        "macs": report.macs,
        "mac_convention": MAC_CONVENTION,
        "input_shape": list(report.input_shape),
        "output_shape": list(report.output_shape) if report.output_shape else None,
        "macs_per_layer_by_stage": {s.name: m for s, m in
                                    zip(report.graph.stages, macs_per_layer(report))},
    }
    if depth is None:
        data["nodes"] = [{"name": n.name, "op": str(n.op),
                          "output_shape": list(i.shape) if i.shape is not None else None,
                          "params": i.params, "macs": i.macs}
                         for n, i in zip(report.graph.nodes, report.nodes.values())]
    else:
        if depth not in DEPTHS:
            raise ValueError(f"depth must be one of {', '.join(DEPTHS)}, got {depth!r}")
        data["depth"] = depth
        data["rows"] = [r.to_dict() for r in rows(report, depth)]
    data["notes"] = [{"message": text, "at": f"{display_path(span.file)}:{span.line}"}
                     for text, span in report.spec.generated]
    data["diagnostics"] = [d.to_dict() for d in report.diagnostics]
    return data




def report_json(report: Report, depth: str | None = None) -> str:
    """The record as indented JSON (every node, or the rows at `depth`)."""
    return strict_json(report_dict(report, depth))

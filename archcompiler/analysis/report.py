"""The analysis report, and shape inference with exact costs over the IR."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from ..core.diagnostics import Diagnostic, Severity, Span, error
from ..ir.graph import Graph, Node
from ..ir.ops import Shape, ShapeError
from ..language.resolved import ResolvedSpec
from ..language.zoo import display_path
from .lower import Segment
from .memo import LRU, moved, register
from .table import MAC_CONVENTION, Row, report_dict, report_json, rows

__all__ = ["MAC_CONVENTION", "NodeInfo", "Report", "check_input_shape", "infer"]



class NodeInfo(NamedTuple):
    """What analysis knows about one node."""

    # A named tuple for the same reason as `ir.graph.Node`: inference makes one per node.

    name: str
    op: str
    shape: Shape | None
    params: int
    macs: int


@dataclass
class Report:
    """The result of `analyze`: the graph, every node's shape and cost, and the diagnostics."""

    spec: ResolvedSpec
    graph: Graph
    nodes: dict[str, NodeInfo]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # How a report shows itself in a notebook; archcompiler.api sets it to the render backend's.
    html_view: ClassVar[Callable[[Report], str] | None] = None

    @property
    def params(self) -> int:
        """Total parameters (weights and biases; BN running stats are buffers, not counted)."""
        return sum(n.params for n in self.nodes.values())

    @property
    def macs(self) -> int:
        """Total multiply-accumulates for one input, conv + linear."""
        return sum(n.macs for n in self.nodes.values())

    @property
    def input_shape(self) -> Shape:
        """The input shape, CxHxW."""
        return self.spec.input_shape

    @property
    def output_shape(self) -> Shape | None:
        """The output shape, or None when inference stopped early."""
        return self.nodes[self.graph.output].shape

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

    def cost(self, names: Iterable[str]) -> tuple[int, int]:
        """Total (params, MACs) of the named nodes: the one way backends add up a group."""
        infos = [self.nodes[n] for n in names]
        return sum(i.params for i in infos), sum(i.macs for i in infos)

    def shape(self, name: str) -> Shape | None:
        """Return the output shape of node `name`."""
        return self.nodes[name].shape

    @property
    def weighted_depth(self) -> int:
        """Weighted layers as the paper counts them: the stem conv, every main-path conv of a
        block, the fc (`Graph.weighted_depth`)."""
        return self.graph.weighted_depth

    def rows(self, depth: str = "stage") -> list[Row]:
        """The summary table's rows at stage, block or layer depth, as typed values."""
        return rows(self, depth)

    def to_dict(self, depth: str | None = None) -> dict[str, object]:
        """JSON-ready: totals, the MAC convention, every node (or the rows at `depth`) and the
        diagnostics. `archc summary --json` prints exactly this."""
        return report_dict(self, depth)

    def to_json(self, depth: str | None = None) -> str:
        """`to_dict` as indented JSON."""
        return report_json(self, depth)

    def _repr_html_(self) -> str | None:
        """Jupyter's inline view: the diagram and the stage table, from the view the API layer
        installs in `html_view` (so the analysis layer never imports a backend)."""
        return None if Report.html_view is None else Report.html_view(self)

    @staticmethod
    def where(span: Span | None) -> str:
        """`file:line` of a span for people; built-in specs are shown by file name alone."""
        if span is None:
            return "(no source line)"
        return f"{display_path(span.file)}:{span.line}"


class Shaped(NamedTuple):
    """A block's inferred nodes as memoised, under the names they were made with, and their
    renamed copies by the block's first node name (see `memo.moved`)."""

    infos: tuple[NodeInfo, ...]
    moves: dict[Hashable, tuple[NodeInfo, ...] | None]


# (a block's content key, its input shape) -> the infos of its nodes, in order
_SHAPED: LRU[tuple[object, ...], Shaped] = register(LRU(doorkeeper=True))
_tuple = tuple.__new__  # a named tuple from its fields' tuple (see `lower._renamed`)


def _renamed(block: Sequence[Node], infos: tuple[NodeInfo, ...]) -> tuple[NodeInfo, ...]:
    """The infos of an identical block under the names of `block`'s nodes."""
    return tuple([_tuple(NodeInfo, (n.name, i[1], i[2], i[3], i[4]))
                  for n, i in zip(block, infos)])


def infer(graph: Graph, segments: Sequence[Segment] = ()
          ) -> tuple[dict[str, NodeInfo], list[Diagnostic]]:
    """Infer every node's shape, params and MACs; stop at the first node that cannot be shaped.

    `segments` (from `lower_segments`) name the memoised blocks: one whose content and input
    shape were seen before (in this net, or in the shared memo) takes its shapes and costs
    from there.
    """
    infos: dict[str, NodeInfo] = {}
    diags: list[Diagnostic] = []
    local: dict[tuple[object, ...], Shaped] = {}  # this net's, as in `lower`
    nodes = graph.nodes
    done = 0
    for seg in segments:
        if done < seg.start:
            _infer_nodes(nodes[done:seg.start], infos, diags)
        done = seg.end
        block = nodes[seg.start:seg.end]
        source = block[0].inputs[0] if block and block[0].inputs else None
        in_shape = infos[source].shape if source in infos and not diags else None
        if in_shape is None:
            _infer_nodes(block, infos, diags)
            continue
        key = (seg.key, in_shape)
        shaped = local.get(key) or _SHAPED.get(key)
        if shaped is None:
            _infer_nodes(block, infos, diags)
            if not diags:
                local[key] = shaped = Shaped(tuple([infos[n.name] for n in block]), {})
                _SHAPED.put(key, shaped)
            continue
        local.setdefault(key, shaped)
        hit = shaped.infos
        first = block[0].name
        if hit[0].name != first:
            hit = moved(shaped.moves, first, _renamed, block, shaped.infos)
        for info in hit:
            infos[info.name] = info
    if done < len(nodes):
        _infer_nodes(nodes[done:], infos, diags)
    return infos, diags


def _infer_nodes(nodes: Sequence[Node], infos: dict[str, NodeInfo],
                 diags: list[Diagnostic]) -> None:
    """Infer the shapes and costs of `nodes` in order, into `infos`."""
    for node in nodes:
        op = node.attrs
        shape: Shape | None = None
        macs = 0
        # After the first failure, later shapes would only repeat it, so leave them unknown.
        # Until then every input was shaped before (the nodes are in topological order).
        if not diags:
            try:
                shape = op.infer([infos[i].shape for i in node.inputs])  # type: ignore[misc]
                macs = op.macs(shape)
            except ShapeError as exc:
                diags.append(error(exc.code, f"{node.name}: {exc.message}", node.span,
                                   hint=exc.hint, node=node.name))
        infos[node.name] = NodeInfo(node.name, op.OP, shape, op.params(), macs)


def check_input_shape(shape: Shape) -> tuple[int, int, int]:
    """Check an input-shape override against the schema's bounds; raise ValueError if off."""
    from ..language.schema import InputSpec

    if len(shape) != 3 or not all(isinstance(d, int) for d in shape):
        raise ValueError(f"an input shape is (channels, height, width), got {shape!r}")
    bounds = {k: f.metadata for k, f in InputSpec.model_fields.items()}
    for key, value in zip(("channels", "height", "width"), shape):
        for limit in bounds[key]:
            low, high = getattr(limit, "gt", None), getattr(limit, "le", None)
            if low is not None and value <= low:
                raise ValueError(f"{key} must be above {low}, got {value}")
            if high is not None and value > high:
                raise ValueError(f"{key} must be at most {high}, got {value}")
    return (shape[0], shape[1], shape[2])

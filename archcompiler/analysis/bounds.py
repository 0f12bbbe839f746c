"""Resource bounds checked on the analysis, before a single tensor exists.

The analysis knows every parameter, buffer and feature map exactly, so a build that would not
fit is refused with a diagnostic that names the bound, the amount asked for and how to raise it.
`validate` and `summary` allocate nothing, so they report huge specs without these checks.
"""

from __future__ import annotations

from ..core.diagnostics import Diagnostic, Span, error
from ..core.limits import Limits
from ..ir.ops import Op
from .report import Report


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB"


def _span(report: Report) -> Span | None:
    """Sizes come from the widths: point at the last stage's, where they are largest."""
    return report.graph.stages[-1].width_span if report.graph.stages else report.spec.name_span


def graph_diagnostics(report: Report, limits: Limits) -> list[Diagnostic]:
    """The bound on the graph's size, which every command checks (ARC404)."""
    n = len(report.graph.nodes)
    if n <= limits.max_nodes:
        return []
    return [error("ARC404", f"the network has {n:,} IR nodes, over the bound of "
                  f"{limits.max_nodes:,}", report.spec.name_span,
                  hint="use fewer blocks, or raise the bound: --max-nodes, "
                       "limits=Limits(max_nodes=...)")]


def build_bytes(report: Report, element_size: int = 4) -> int:
    """Bytes of parameters and buffers the built module holds (each op record says what buffers
    it keeps: BN its running statistics)."""
    buffers = sum(n.attrs.buffer_bytes(element_size) for n in report.graph.nodes)
    return report.params * element_size + buffers


def largest_activation(report: Report) -> tuple[str, int]:
    """The node with the largest output, and its element count for one sample."""
    best = ("input", 0)
    for info in report.nodes.values():
        if info.shape is not None and info.op != Op.INPUT:
            size = 1
            for d in info.shape:
                size *= d
            if size > best[1]:
                best = (info.name, size)
    return best


def build_diagnostics(report: Report, limits: Limits, element_size: int = 4) -> list[Diagnostic]:
    """Everything that would make building `report` exceed a bound (ARC401-ARC403)."""
    out: list[Diagnostic] = []
    span = _span(report)
    if report.params > limits.max_params:
        out.append(error("ARC401", f"{report.spec.name} has {report.params:,} parameters, over "
                         f"the bound of {limits.max_params:,}", span,
                         hint="shrink the widths or depths, or raise the bound: --max-params "
                              "(e.g. 100G), limits=Limits(max_params=...)"))
    need = build_bytes(report, element_size)
    bound, source = limits.memory_bound()
    if bound is not None and need > bound:
        out.append(error("ARC402", f"building {report.spec.name} needs {_gb(need)} for its "
                         f"parameters and buffers, more than the {_gb(bound)} of {source}", span,
                         hint="shrink the widths, build on the meta device, or raise the bound: "
                              "--max-memory (e.g. 512G), limits=Limits(max_memory=...)"))
    node, size = largest_activation(report)
    if size > limits.max_activation:
        out.append(error("ARC403", f"{node} outputs {size:,} elements for one input, over the "
                         f"bound of {limits.max_activation:,}", span,
                         hint="use a smaller input or narrower stages, or raise the bound: "
                              "--max-activation, limits=Limits(max_activation=...)"))
    return out

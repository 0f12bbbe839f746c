"""Static analysis in one call: lower, infer every shape and cost, then check the design rules."""

from __future__ import annotations

from dataclasses import replace

from ..core.diagnostics import DiagnosticError, SpecError
from ..core.limits import DEFAULT_LIMITS, Limits
from ..ir.ops import Shape
from ..language.resolved import ResolvedSpec
from .bounds import graph_diagnostics
from .lower import lower_segments
from .report import Report, check_input_shape, infer
from .rules import check_rules


def analyze_resolved(spec: ResolvedSpec, input_shape: Shape | None = None,
                     limits: Limits = DEFAULT_LIMITS) -> Report:
    """Lower, infer and check a resolved spec, optionally at another input size."""
    if input_shape is not None:
        spec = replace(spec, input_shape=check_input_shape(input_shape))
    try:
        graph, segments = lower_segments(spec)
    except DiagnosticError as exc:  # a block's own lowering failed: the user's error, located
        raise SpecError([exc.diagnostic], spec.sources) from None
    nodes, diags = infer(graph, segments)
    report = Report(spec, graph, nodes, [*spec.notes, *diags])
    report.diagnostics.extend(graph_diagnostics(report, limits))
    report.diagnostics.extend(check_rules(report))
    return report

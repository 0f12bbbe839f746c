"""The Python API: load, resolve and analyze specs, and hand reports to the backends.

`analyze` is the one resolve-then-analyze path; the CLI and every backend entry point go
through it. The backends are imported only when called, so validation never imports torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Union

from .analysis.analyze import analyze_resolved
from .analysis.report import Report
from .core.diagnostics import SpecError
from .core.limits import DEFAULT_LIMITS, Limits
from .ir.ops import Shape
from .language.load import resolve
from .language.resolved import ResolvedSpec

if TYPE_CHECKING:
    import torch
    from torch import nn

SpecLike = Union[str, "os.PathLike[str]", ResolvedSpec]
InputShape = Union[int, tuple[int, int], tuple[int, int, int]]  # size, HxW or CxHxW

__all__ = ["InputShape", "SpecLike", "analyze", "build_module", "full_input_shape", "load_spec",
           "render", "to_dot"]


def load_spec(ref: SpecLike, *, allow_outside: bool = False,
              limits: Limits = DEFAULT_LIMITS) -> ResolvedSpec:
    """Return the resolved, validated spec for a path or built-in name, or raise SpecError."""
    if isinstance(ref, ResolvedSpec):
        return ref
    res = resolve(ref, allow_outside=allow_outside, limits=limits)
    if res.spec is None:
        raise SpecError(res.diagnostics, res.sources)
    return res.spec


def full_input_shape(spec_shape: Shape, given: InputShape) -> Shape:
    """Expand a square size or HxW to CxHxW, keeping the spec's channels."""
    if isinstance(given, bool) or not isinstance(given, (int, tuple, list)):
        raise ValueError(f"an input shape is a size, (H, W) or (C, H, W); got {given!r}")
    if isinstance(given, int):
        return (spec_shape[0], given, given)
    if len(given) == 2:
        return (spec_shape[0], given[0], given[1])
    return tuple(given)


def analyze(ref: SpecLike | Report, input_shape: InputShape | None = None, *,
            allow_outside: bool = False, limits: Limits = DEFAULT_LIMITS) -> Report:
    """Return shapes, params, MACs and design-rule diagnostics for a spec, without torch.

    `input_shape` is a square size, (H, W) or (C, H, W); a different C changes the first conv.
    A Report is returned as it is, or re-analyzed at another input shape.
    """
    if isinstance(ref, Report):
        if input_shape is None:
            return ref
        spec = ref.spec
    else:
        spec = load_spec(ref, allow_outside=allow_outside, limits=limits)
    shape = None if input_shape is None else full_input_shape(spec.input_shape, input_shape)
    return analyze_resolved(spec, shape, limits)


def build_module(ref: SpecLike | Report, *, seed: int | None = None,
                 device: str | torch.device | int | None = None,
                 dtype: torch.dtype | None = None,
                 input_shape: InputShape | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> nn.Module:
    """Build a torch module from a spec path, built-in name, resolved spec or report.

    `input_shape` (a square size, HxW or CxHxW) sets the size the spec is checked at; a channel
    count other than the spec's also changes the first conv, as it would in the spec. `limits`
    bounds what the build may allocate (by default: the memory this machine has available).
    """
    from .backends.pytorch.build import check_seed, module_from_report

    check_seed(seed)
    return module_from_report(analyze(ref, input_shape, limits=limits), seed=seed, device=device,
                              dtype=dtype, limits=limits)


def to_dot(spec_or_report: SpecLike | Report, *, detail: str = "block", rankdir: str = "TB",
           input_shape: InputShape | None = None) -> str:
    """Return the architecture diagram of a spec (path, built-in name, ResolvedSpec) or report."""
    from .backends.render import check_options, to_dot_text

    check_options(detail, rankdir)
    return to_dot_text(analyze(spec_or_report, input_shape), detail, rankdir)


def render(spec: SpecLike | Report, path: str | os.PathLike[str], *, detail: str = "block",
           rankdir: str = "TB", input_shape: InputShape | None = None) -> Path:
    """Draw a spec to .svg/.png/.pdf (needs graphviz `dot`) or .dot; return the written path."""
    from .backends.render import check_options, write_diagram

    check_options(detail, rankdir)
    return write_diagram(analyze(spec, input_shape), Path(path), detail, rankdir)

"""The Python API of the static pipeline: load, resolve and analyze specs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from .analysis import Report, analyze_resolved
from .diagnostics import Diagnostic, SpecError, did_you_mean, error, has_errors
from .expand import expand
from .ir import Shape
from .resolved import ResolvedSpec
from .validate import validate_tree
from .variants import LoadContext, drop_nulls, load_chain
from .zoo import builtin_names, builtin_path

SpecLike = Union[str, "os.PathLike[str]", ResolvedSpec]
InputShape = Union[int, tuple[int, int], tuple[int, int, int]]  # size, HxW or CxHxW


@dataclass
class Resolution:
    """What resolving one spec produced: the spec (or None), diagnostics and every source read."""

    spec: ResolvedSpec | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    not_found: bool = False  # the spec itself could not be found: a usage error, not a spec error


def find_spec(ref: str | os.PathLike[str]) -> tuple[Path, str] | None:
    """Find a spec by path, or by built-in name; return its path and display name."""
    path = Path(ref)
    if path.is_file():
        return path, str(ref)
    builtin = builtin_path(str(ref))
    return (builtin, str(builtin)) if builtin else None


def resolve(ref: str | os.PathLike[str], *, allow_outside: bool = False) -> Resolution:
    """Run the front half of the pipeline: read, parse, merge variants, validate, expand."""
    found = find_spec(ref)
    if found is None:
        hint = did_you_mean(str(ref), builtin_names()) or "give a YAML path or a name from " \
            "`archc list`"
        diag = error("ARC012", f"no spec file or built-in spec named '{ref}'", None, hint=hint)
        return Resolution(None, [diag], not_found=True)
    path, display = found
    ctx = LoadContext(root_dir=path.resolve().parent, allow_outside=allow_outside)
    tree = load_chain(path, display, ctx)
    if tree is None or has_errors(ctx.diags):
        return Resolution(None, ctx.diags, ctx.sources)
    tree = drop_nulls(tree)
    spec, diags = validate_tree(tree)
    if spec is None:
        return Resolution(None, ctx.diags + diags, ctx.sources)
    resolved, diags = expand(spec, tree, ctx.sources)
    return Resolution(resolved, ctx.diags + diags, ctx.sources)


def load_spec(ref: SpecLike, *, allow_outside: bool = False) -> ResolvedSpec:
    """Return the resolved, validated spec for a path or built-in name, or raise SpecError."""
    if isinstance(ref, ResolvedSpec):
        return ref
    res = resolve(ref, allow_outside=allow_outside)
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
            allow_outside: bool = False) -> Report:
    """Return shapes, params, MACs and design-rule diagnostics for a spec, without torch.

    `input_shape` is a square size, (H, W) or (C, H, W); a different C changes the first conv.
    A Report is returned as it is, or re-analyzed at another input shape.
    """
    if isinstance(ref, Report):
        if input_shape is None:
            return ref
        spec = ref.spec
    else:
        spec = load_spec(ref, allow_outside=allow_outside)
    shape = None if input_shape is None else full_input_shape(spec.input_shape, input_shape)
    return analyze_resolved(spec, shape)

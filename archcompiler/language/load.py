"""The front half of the pipeline in one call: read, merge variants, validate, resolve."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..core.diagnostics import Diagnostic, did_you_mean, error, has_errors
from ..core.limits import DEFAULT_LIMITS, Limits
from .resolve import resolve_spec
from .resolved import ResolvedSpec
from .validate import validate_tree
from .variants import LoadContext, drop_nulls, load_chain
from .zoo import builtin_names, builtin_path


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


def resolve(ref: str | os.PathLike[str], *, allow_outside: bool = False,
            limits: Limits = DEFAULT_LIMITS) -> Resolution:
    """Read, parse, merge variants, validate and resolve one spec file or built-in name."""
    found = find_spec(ref)
    if found is None:
        hint = did_you_mean(str(ref), builtin_names()) or "give a YAML path or a name from " \
            "`archc list`"
        diag = error("ARC012", f"no spec file or built-in spec named '{ref}'", None, hint=hint)
        return Resolution(None, [diag], not_found=True)
    path, display = found
    ctx = LoadContext(root_dir=path.resolve().parent, allow_outside=allow_outside,
                      max_extends=limits.max_extends)
    tree = load_chain(path, display, ctx)
    if tree is None or has_errors(ctx.diags):
        return Resolution(None, ctx.diags, ctx.sources)
    tree = drop_nulls(tree)
    spec, diags = validate_tree(tree)
    if spec is None:
        return Resolution(None, ctx.diags + diags, ctx.sources)
    resolved, diags = resolve_spec(spec, tree, ctx.sources, limits.max_blocks)
    return Resolution(resolved, ctx.diags + diags, ctx.sources)

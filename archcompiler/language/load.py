"""The front half of the pipeline in one call: read, merge variants, validate, resolve."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from ..core.diagnostics import Diagnostic, Span, did_you_mean, error, has_errors
from ..core.limits import DEFAULT_LIMITS, Limits
from ..core.outputs import cut
from .blockfile import declared_scope
from .resolve import resolve_spec
from .resolved import ResolvedSpec
from .sources import (
    MAPPING_SOURCE,
    TEXT_SOURCE,
    Overrides,
    SpecText,
    apply_overrides,
    bad_text,
    is_override_source,
    is_yaml_text,
    mapping_text,
    parse_overrides,
)
from .validate import validate_tree
from .variants import LoadContext, drop_nulls, load_chain, load_text_chain, unsaved_key
from .yamlload import LNode
from .zoo import builtin_names, builtin_path, specs_dir

# What names a spec: a path, a built-in name, YAML text, the whole spec as a mapping, or named
# text held in memory (the CLI's `<stdin>`).
SpecSource = Union[str, "os.PathLike[str]", Mapping[str, object], SpecText]


@dataclass
class Resolution:
    """What resolving one spec produced: the spec (or None), diagnostics and every source read."""

    spec: ResolvedSpec | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    not_found: bool = False  # the spec itself could not be found: a usage error, not a spec error
    tree: LNode | None = None  # the merged located tree, once every layer was read (for editors)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system is no file
        return False


def find_spec(ref: str | os.PathLike[str]) -> tuple[Path, str] | None:
    """Find a spec by path, or by built-in name; return its path and display name."""
    path = Path(ref)
    if _is_file(path):
        return path, str(ref)
    builtin = builtin_path(str(ref))
    return (builtin, str(builtin)) if builtin else None


def _utf8(text: str, name: str, ctx: LoadContext) -> bool:
    """Whether UTF-8 can hold `text`; if not, say where, before it is parsed or shown."""
    bad = bad_text(text)
    if bad is not None:
        ctx.diags.append(error("ARC002", f"the spec text is not UTF-8: it holds {bad[2]}",
                               Span(name, bad[0], bad[1]), hint="pass the spec as UTF-8 text"))
    return bad is None


def _load(ref: SpecSource, ctx: LoadContext) -> tuple[LNode | None, bool]:
    """Load the layers of a spec source; return the merged tree and whether it was found."""
    if isinstance(ref, SpecText):
        if isinstance(ref.data, str) and not _utf8(ref.data, ref.name, ctx):
            return None, True
        return load_text_chain(ref.data, ref.name, ctx), True
    if isinstance(ref, Mapping):
        text, diags = mapping_text(ref)
        ctx.diags.extend(diags)
        return (None if text is None else load_text_chain(text, MAPPING_SOURCE, ctx)), True
    if isinstance(ref, str) and is_yaml_text(ref) and ("\n" in ref or not _is_file(Path(ref))):
        if not _utf8(ref, TEXT_SOURCE, ctx):
            return None, True
        return load_text_chain(ref, TEXT_SOURCE, ctx), True
    found = find_spec(ref)
    if found is None and unsaved_key(ref) in ctx.unsaved:  # an editor's buffer not yet saved
        found = Path(ref), str(ref)
    if found is None:
        close = did_you_mean(str(ref), builtin_names()) if len(str(ref)) < 200 else None
        hint = close or "give a YAML path or a name from `archc list`"
        ctx.diags.append(error("ARC012", f"no spec file or built-in spec named '{cut(str(ref))}'",
                               None,
                               hint=hint))
        return None, False
    path, display = found
    # The real folder, so a symlinked spec is bounded by its target's tree; a built-in's own
    # folder is canonical already (realpath costs more than a cached parse in a sweep).
    ctx.root_dir = path.parent if path.parent == specs_dir() else path.resolve().parent
    return load_chain(path, display, ctx), True


def resolve(ref: SpecSource, *, allow_outside: bool = False, limits: Limits = DEFAULT_LIMITS,
            overrides: Overrides | None = None,
            unsaved: Mapping[str, str] | None = None) -> Resolution:
    """Read, parse, merge variants and overrides, validate and resolve one spec.

    `ref` is a path, a built-in name, YAML text (a str with a line break or `: `), the whole
    spec as a mapping, or a SpecText (text or bytes under a name, such as `<stdin>`).
    `overrides` ("KEY=VALUE" strings, or a mapping of dotted keys to values) are merged over
    the spec as one more `extends` layer each, in order. `unsaved` maps file
    paths to texts read in place of those files (an editor's unsaved buffers, keyed by
    `variants.unsaved_key`): the spec, its bases and its block files alike.
    """
    # In-memory specs resolve relative `extends` paths against the working directory.
    ctx = LoadContext(root_dir=Path.cwd(), allow_outside=allow_outside,
                      max_extends=limits.max_extends, unsaved=unsaved or {})
    tree, found = _load(ref, ctx)
    if not found:
        return Resolution(None, ctx.diags, not_found=True)
    if overrides is not None:
        parsed, diags = parse_overrides(overrides, ctx.sources)
        ctx.diags.extend(diags)
        if tree is not None and not has_errors(diags):
            tree, diags = apply_overrides(tree, parsed)
            ctx.diags.extend(diags)
    if tree is None or has_errors(ctx.diags):
        return Resolution(None, ctx.diags, ctx.sources)
    tree = drop_nulls(tree)
    scope = declared_scope(tree, ctx)
    if has_errors(ctx.diags):
        return Resolution(None, ctx.diags, ctx.sources, tree=tree)
    spec, diags = validate_tree(tree, scope)
    if spec is None:
        return Resolution(None, ctx.diags + diags, ctx.sources, tree=tree)
    # What the user wrote: the top of the chain, and the overrides; the rest is inherited.
    own = [name for i, name in enumerate(ctx.sources) if i == 0 or is_override_source(name)]
    resolved, diags = resolve_spec(spec, tree, ctx.sources, limits.max_blocks, own, scope)
    return Resolution(resolved, ctx.diags + diags, ctx.sources, tree=tree)

"""Where things come from: a spec's base, its block files, and the base value a key overrides."""

from __future__ import annotations

import os
from pathlib import Path

from lsprotocol import types as lsp

from ..core.diagnostics import Span
from ..language.validate import locate
from ..language.variants import LoadContext, load_chain, unsaved_key
from ..language.yamlload import LNode
from ..language.zoo import builtin_path, looks_like_name
from .analysis import Analysis, block_files_of
from .convert import file_uri, span_range
from .text import Hit


def base_file(analysis: Analysis) -> str | None:
    """The file the document's `extends:` names (a built-in's, or a path beside the document)."""
    node = analysis.own.get("extends") if analysis.own is not None else None
    if node is None or not isinstance(node.value, str) or not node.value:
        return None
    if looks_like_name(node.value):
        found = builtin_path(node.value)
        return str(found) if found is not None else None
    return unsaved_key(Path(analysis.path).parent / node.value)


def base_tree(analysis: Analysis, unsaved: dict[str, str]) -> LNode | None:
    """The merged tree of the document's base chain, as the loader reads it (parses are cached)."""
    base = base_file(analysis)
    if base is None:
        return None
    ctx = LoadContext(Path(base).parent, allow_outside=True, unsaved=unsaved)
    ctx.chain.append(unsaved_key(analysis.path))  # a cycle back to the document stops here
    return load_chain(Path(base), os.path.relpath(base), ctx)


def inherited(analysis: Analysis, path: tuple[str | int, ...], unsaved: dict[str, str]
              ) -> LNode | None:
    """The base chain's node at `path`: the value this key overrides or extends, if any."""
    tree = base_tree(analysis, unsaved)
    if tree is None or not path:
        return None
    node, found = locate(tree, path)
    return node if len(found) == len(path) else None


def _file_location(path: str) -> lsp.Location | None:
    uri = file_uri(path)
    return lsp.Location(uri, lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))) if uri else None


def _span_location(span: Span, unsaved: dict[str, str]) -> lsp.Location | None:
    uri = file_uri(span.file)
    if uri is None:
        return None
    text = unsaved.get(unsaved_key(span.file))
    if text is None:
        try:
            text = Path(span.file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
    return lsp.Location(uri, span_range(span, text.split("\n")))


def definition(analysis: Analysis, hit: Hit, unsaved: dict[str, str]) -> lsp.Location | None:
    """Where the thing under the cursor is defined: a base, a block file, or a base's value."""
    path = hit.path
    if path == ("extends",):
        base = base_file(analysis)
        return _file_location(base) if base is not None else None
    files = block_files_of(analysis)
    if len(path) == 2 and path[0] == "blocks" and not hit.on_key and str(path[1]) in files:
        return _file_location(files[str(path[1])])
    if path and path[-1] == "type" and not hit.on_key and isinstance(hit.node.value, str):
        tag = hit.node.value
        if tag in files:
            return _file_location(files[tag])
        declared = analysis.own.get("blocks") if analysis.own is not None else None
        inline = declared.get(tag) if declared is not None else None
        if inline is not None:
            return _span_location(inline.key_span or inline.span, unsaved)
    node = inherited(analysis, path, unsaved)
    if node is None:
        return None
    return _span_location(node.key_span or node.span, unsaved)

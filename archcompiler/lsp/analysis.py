"""One analysis of an open document, by the compiler's own entry points, with what hover needs.

A spec goes through `language.load.resolve` and `api.analyze`, exactly as `archc validate`
runs it; a block file goes through `language.blockfile.declared_scope`, as a spec that names it
would read it. Nothing here checks anything itself: it only keeps what those calls return.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.report import Report
from ..analysis.table import Row, rows
from ..api import analyze
from ..blocks.scope import BlockScope
from ..core.diagnostics import Diagnostic, Span, SpecError
from ..language.blockfile import declared_scope
from ..language.load import Resolution, resolve
from ..language.variants import LoadContext, parse_cached, unsaved_key
from ..language.yamlload import LNode
from .settings import Settings

# A block file declares `ops:` at the top level; a spec never does (its schema forbids it).
_BLOCK_FILE = re.compile(r"^ops\s*:", re.MULTILINE)
_SPEC_KEYS = re.compile(r"^(spec_version|stages|extends)\s*:", re.MULTILINE)
_BLOCK_TAG = re.compile(r"^block\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", re.MULTILINE)


# A YAML file that parses to a mapping with none of these keys belongs to another tool (a CI
# workflow, a compose file): the server leaves it alone instead of asking it for spec_version.
_MARKERS = frozenset({"spec_version", "extends", "stages", "ops", "block"})


def is_block_file(text: str) -> bool:
    """True when the text reads as a block file (top-level `ops:`) rather than a spec."""
    return bool(_BLOCK_FILE.search(text)) and not _SPEC_KEYS.search(text)


@dataclass
class Analysis:
    """What the compiler said about one version of one document."""

    uri: str
    version: int | None
    path: str  # the absolute path the document stands for (its display name in spans)
    text: str
    kind: str  # "spec" or "block"
    diagnostics: list[Diagnostic] = field(default_factory=list)
    resolution: Resolution | None = None
    report: Report | None = None
    stage_rows: list[Row] = field(default_factory=list)
    scope: BlockScope | None = None
    own: LNode | None = None  # the document's own tree, without its bases
    files: frozenset[str] = frozenset()  # unsaved keys of every file it read
    published: list[Any] = field(default_factory=list)  # the LSP diagnostics sent for it
    failed: str | None = None  # an internal error's text (a bug), reported as a diagnostic
    seconds: float = 0.0

    @property
    def lines(self) -> list[str]:
        """The document's lines."""
        return self.text.split("\n")


def _own_tree(path: str, text: str) -> LNode | None:
    """The document's own located tree (cached by content: the load just parsed it too)."""
    _, tree, _ = parse_cached(text.encode("utf-8", "surrogatepass"), path)
    return tree


def analyse_spec(out: Analysis, settings: Settings, unsaved: Mapping[str, str]) -> None:
    """Resolve and analyse a spec document as `archc validate` would, from unsaved text."""
    own = _own_tree(out.path, out.text)
    if own is not None and isinstance(own.value, dict) and not _MARKERS & own.value.keys():
        out.own = own
        return
    overrides = settings.overrides()
    if overrides:
        res = resolve(out.path, overrides=overrides, unsaved=unsaved, limits=settings.limits)
    else:
        res = resolve(out.path, unsaved=unsaved, limits=settings.limits)
    out.resolution = res
    out.diagnostics = list(res.diagnostics)
    out.files = frozenset(unsaved_key(f) for f in res.sources if not f.startswith("<"))
    out.own = _own_tree(out.path, out.text)
    if res.tree is not None:
        out.scope = declared_scope(res.tree, LoadContext(Path(out.path).parent,
                                                         unsaved=unsaved))
    if res.spec is None:
        return
    try:
        report = analyze(res.spec, settings.input_shape, limits=settings.limits)
    except SpecError as exc:  # a block type failed to lower: its located diagnostic
        out.diagnostics += exc.diagnostics
        return
    out.report = report
    out.diagnostics += [d for d in report.diagnostics if d not in out.diagnostics]
    out.stage_rows = rows(report, "stage")


def analyse_block_file(out: Analysis, unsaved: Mapping[str, str]) -> None:
    """Check a block file as a spec's `blocks:` entry naming it would (same reader, same checks)."""
    found = _BLOCK_TAG.search(out.text)
    tag = found.group(1) if found else (Path(out.path).stem or "block")
    at = Span(out.path, 1, 1)
    # A one-entry `blocks:` mapping located in the file itself: the path is absolute, so the
    # reader finds the file (through the unsaved buffers) wherever the server runs.
    tree = LNode({"blocks": LNode({tag: LNode(out.path, at)}, at)}, at)
    ctx = LoadContext(Path(out.path).parent, unsaved=unsaved)
    declared_scope(tree, ctx)
    out.diagnostics = list(ctx.diags)
    out.files = frozenset({unsaved_key(out.path)})
    out.own = _own_tree(out.path, out.text)


_DECLARED = re.compile(r"^blocks\s*:\s*\{([^}]*)\}", re.MULTILINE)
_ENTRY = re.compile(r"([A-Za-z_]\w*)\s*:\s*([^,\s{}]+\.ya?ml)")


def scope_from_text(text: str, path: str, unsaved: Mapping[str, str]) -> BlockScope:
    """The block types a half-typed spec declares in a flow `blocks: {tag: file.yaml}` line,
    read by the loader's own `declared_scope` (for completion while the spec does not parse)."""
    found = _DECLARED.search(text)
    if found is None:
        return BlockScope()
    at = Span(path, 1, 1)
    entries = {tag: LNode(file, at) for tag, file in _ENTRY.findall(found.group(1))}
    ctx = LoadContext(Path(path).parent, unsaved=unsaved)
    return declared_scope(LNode({"blocks": LNode(entries, at)}, at), ctx)


def block_files_of(analysis: Analysis) -> dict[str, str]:
    """The block files a spec names under `blocks:`: tag -> unsaved key of the file."""
    tree = analysis.resolution.tree if analysis.resolution is not None else None
    node = tree.get("blocks") if tree is not None else None
    found: dict[str, str] = {}
    if node is not None and isinstance(node.value, dict):
        for tag, value in node.value.items():
            if isinstance(value.value, str) and not value.span.file.startswith("<"):
                found[tag] = unsaved_key(Path(value.span.file).parent / value.value)
    return found

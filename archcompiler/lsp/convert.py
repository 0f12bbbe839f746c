"""The compiler's diagnostics as LSP diagnostics: same code, severity, message, hint and notes.

A diagnostic located in the document gets the range of the token it points at; one located in
another file (a base, a block file) is shown on the line of the document that brings that file
in (`extends:` or the `blocks:` entry), with the real place as related information, so nothing
the CLI would print is lost. Notes ("stages.strides inherited from base.yaml:9:3") become
related information pointing into the base file.
"""

from __future__ import annotations

import os
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from ..core.diagnostics import Diagnostic, Severity, Span
from ..language.variants import unsaved_key
from ..language.zoo import display_path
from .analysis import Analysis, block_files_of
from .text import to_units, token_end

_SEVERITY = {Severity.ERROR: lsp.DiagnosticSeverity.Error,
             Severity.WARNING: lsp.DiagnosticSeverity.Warning,
             Severity.NOTE: lsp.DiagnosticSeverity.Information}
SOURCE = "archc"


def file_uri(file: str) -> str | None:
    """The URI of a span's file (relative names are relative to the server's folder)."""
    if file.startswith("<"):
        return None
    uri: str | None = from_fs_path(os.path.abspath(file))
    return uri


def span_range(span: Span | None, lines: list[str], utf16: bool = True) -> lsp.Range:
    """The range of the token a span points at, clamped to the text."""
    if span is None or not lines:
        return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    line = min(max(span.line - 1, 0), len(lines) - 1)
    text = lines[line]
    col = min(max(span.col - 1, 0), len(text))
    end = token_end(text, col) if col < len(text) else col
    return lsp.Range(lsp.Position(line, to_units(text, col, utf16)),
                     lsp.Position(line, to_units(text, end, utf16)))


def _lines_of(file: str, analysis: Analysis) -> list[str]:
    """The text of a file the analysis read (for a note's range), or none."""
    sources = analysis.resolution.sources if analysis.resolution is not None else {}
    text = sources.get(file)
    if text is None and unsaved_key(file) == unsaved_key(analysis.path):
        text = analysis.text
    return text.split("\n") if text is not None else []


def _location(span: Span, analysis: Analysis, utf16: bool) -> lsp.Location | None:
    uri = file_uri(span.file)
    if uri is None:
        return None
    return lsp.Location(uri, span_range(span, _lines_of(span.file, analysis), utf16))


def _anchor(file: str, analysis: Analysis) -> Span | None:
    """Where the document brings in `file`: its `blocks:` entry or its `extends:` value."""
    own = analysis.own
    if own is None:
        return None
    key = unsaved_key(file)
    for tag, path in block_files_of(analysis).items():
        entry = own.get("blocks")
        node = entry.get(tag) if entry is not None else None
        if path == key and node is not None:
            return node.span
    node = own.get("extends")
    return node.span if node is not None else None


def to_lsp(diag: Diagnostic, analysis: Analysis, utf16: bool = True) -> lsp.Diagnostic:
    """One compiler diagnostic as the LSP diagnostic of `analysis`'s document."""
    lines = analysis.lines
    here = diag.span is not None and unsaved_key(diag.span.file) == unsaved_key(analysis.path)
    related = [lsp.DiagnosticRelatedInformation(loc, f"note: {text}")
               for text, span in diag.notes if (loc := _location(span, analysis, utf16))]
    message = diag.message
    span = diag.span
    if diag.span is not None and not here:
        where = f"{display_path(diag.span.file)}:{diag.span.line}:{diag.span.col}"
        message = f"in {where}: {message}"
        loc = _location(diag.span, analysis, utf16)
        if loc is not None:
            related.insert(0, lsp.DiagnosticRelatedInformation(loc, diag.message))
        span = _anchor(diag.span.file, analysis)
    if diag.hint:
        message += f"\nhint: {diag.hint}"
    return lsp.Diagnostic(
        range=span_range(span, lines, utf16), message=message,
        severity=_SEVERITY.get(diag.severity, lsp.DiagnosticSeverity.Error), code=diag.code,
        source=SOURCE, related_information=related or None,
        data={"hint": diag.hint, "node": diag.node, "here": here})


def diagnostics_of(analysis: Analysis, utf16: bool = True) -> list[lsp.Diagnostic]:
    """Every diagnostic of an analysis, in the CLI's order, as LSP diagnostics."""
    from ..core.diagnostics import sort_key

    out = [to_lsp(d, analysis, utf16) for d in sorted(analysis.diagnostics, key=sort_key)]
    if analysis.failed is not None:
        out.append(lsp.Diagnostic(
            range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), source=SOURCE,
            message=f"archc internal error: {analysis.failed} (a bug in archcompiler: please "
                    "report it with this file)", severity=lsp.DiagnosticSeverity.Error,
            code="internal"))
    return out


def path_of(uri: str) -> str | None:
    """The absolute file path of a `file:` URI, or None for other schemes."""
    from pygls.uris import to_fs_path

    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return str(Path(path).absolute()) if path else None

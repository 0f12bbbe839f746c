"""A real LSP client (pygls's) driving `archc lsp` as a subprocess over stdio.

Shared by tests/lsp/test_lsp.py and benchmarks/bench_lsp.py: it starts the server, opens and edits
documents, and waits for the diagnostics the server publishes for a given document version.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path


def uri_of(path: Path) -> str:
    """The file URI of a path."""
    uri = from_fs_path(str(path.absolute()))
    assert uri is not None
    return uri


class Session:
    """One server process and the client talking to it."""

    def __init__(self, settings: dict[str, Any] | None = None, cwd: Path | None = None) -> None:
        self.client = LanguageClient("archc-test", "1")
        self.settings = settings
        self.cwd = cwd
        self.extra: list[str] = []
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.versions: dict[str, int | None] = {}
        self.arrived: dict[str, float] = {}
        self.messages: list[str] = []
        self._event = asyncio.Event()
        self._docs: dict[str, int] = {}

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: lsp.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.versions[params.uri] = params.version
            self.arrived[params.uri] = time.perf_counter()
            self._event.set()

        @self.client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def shown(params: lsp.ShowMessageParams) -> None:
            self.messages.append(params.message)

    async def start(self) -> None:
        """Start `archc lsp` and initialise it."""
        await self.client.start_io(sys.executable, "-m", "archcompiler", "lsp", *self.extra,
                                   cwd=str(self.cwd) if self.cwd else None,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        await self.client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), initialization_options=self.settings))
        self.client.initialized(lsp.InitializedParams())

    async def stop(self) -> None:
        """Shut the server down cleanly."""
        await asyncio.wait_for(self.client.shutdown_async(None), 10)
        self.client.exit(None)
        await asyncio.wait_for(self.client.stop(), 10)

    @property
    def alive(self) -> bool:
        """True while the server process runs."""
        server = self.client._server
        return server is not None and server.returncode is None

    def open(self, path: Path, text: str | None = None) -> str:
        """Open a document (its text on disk unless given); return its URI."""
        uri = uri_of(path)
        self._docs[uri] = 1
        body = path.read_text(encoding="utf-8") if text is None else text
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri, "yaml", 1, body)))
        return uri

    def replace(self, uri: str, text: str) -> int:
        """Replace the whole text of a document; return its new version."""
        self._docs[uri] += 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(version=self._docs[uri], uri=uri),
            [lsp.TextDocumentContentChangeWholeDocument(text)]))
        return self._docs[uri]

    def edit(self, uri: str, line: int, col: int, end_line: int, end_col: int, text: str) -> int:
        """Apply one incremental edit; return the new version."""
        self._docs[uri] += 1
        rng = lsp.Range(lsp.Position(line, col), lsp.Position(end_line, end_col))
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(version=self._docs[uri], uri=uri),
            [lsp.TextDocumentContentChangePartial(rng, text)]))
        return self._docs[uri]

    def type_text(self, uri: str, text: str, line: int = 0, col: int = 0, batch: int = 1) -> None:
        """Type `text` one character at a time: one change event per character, `batch` events
        to a didChange notification (as an editor coalesces a fast typist's keys)."""
        changes: list[lsp.TextDocumentContentChangeEvent] = []
        for ch in text:
            at = lsp.Position(line, col)
            changes.append(lsp.TextDocumentContentChangePartial(lsp.Range(at, at), ch))
            line, col = (line + 1, 0) if ch == "\n" else (line, col + 1)
            if len(changes) == batch:
                self._send(uri, changes)
                changes = []
        if changes:
            self._send(uri, changes)

    def _send(self, uri: str, changes: list[lsp.TextDocumentContentChangeEvent]) -> None:
        self._docs[uri] += 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(version=self._docs[uri], uri=uri), changes))

    def version(self, uri: str) -> int:
        """The document's current version."""
        return self._docs[uri]

    async def wait_diagnostics(self, uri: str, version: int | None = None,
                               timeout: float = 20.0) -> list[lsp.Diagnostic]:
        """Wait for the diagnostics of `uri` at `version` (default: its current one)."""
        want = self._docs.get(uri) if version is None else version
        deadline = time.monotonic() + timeout
        while not (uri in self.diagnostics and self.versions.get(uri) == want):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no diagnostics for {uri} version {want}")
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), left)
            except asyncio.TimeoutError:
                pass
        return self.diagnostics[uri]

    async def hover(self, uri: str, line: int, col: int) -> lsp.Hover | None:
        """Ask for the hover at a position."""
        return await self.client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(line, col)))

    async def complete(self, uri: str, line: int, col: int) -> list[str]:
        """The labels completion offers at a position."""
        found = await self.client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(line, col)))
        items = found.items if isinstance(found, lsp.CompletionList) else (found or [])
        return [i.label for i in items]

    async def definition(self, uri: str, line: int, col: int) -> Any:
        """Go to the definition at a position."""
        return await self.client.text_document_definition_async(lsp.DefinitionParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(line, col)))

    async def actions(self, uri: str, diags: list[lsp.Diagnostic]) -> list[Any]:
        """The code actions offered for some diagnostics."""
        rng = diags[0].range if diags else lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
        found = await self.client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), rng, lsp.CodeActionContext(diags)))
        return list(found or [])


def apply_edit(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply text edits (ASCII text: columns are characters) from last to first."""
    lines = text.split("\n")
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True):
        s, t = e.range.start, e.range.end
        head = lines[s.line][:s.character]
        tail = lines[t.line][t.character:]
        lines[s.line:t.line + 1] = (head + e.new_text + tail).split("\n")
    return "\n".join(lines)

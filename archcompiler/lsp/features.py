"""The LSP features of `archc lsp`: each handler reads the state, and answers or schedules."""

from __future__ import annotations

import asyncio
import logging
import sys

from lsprotocol import types as lsp

from ..language.variants import unsaved_key
from .actions import fixes
from .analysis import Analysis
from .complete import complete
from .convert import path_of
from .hover import hover_text
from .navigate import definition
from .server import ArchServer, guarded, position
from .text import Hit, node_at, to_units

log = logging.getLogger("archcompiler.lsp")


def _hit(server: ArchServer, uri: str, pos: lsp.Position, analysis: Analysis | None
         ) -> Hit | None:
    """What the cursor is on, in the analysed text (the current one: `current` waited)."""
    doc = server.workspace.text_documents.get(uri)
    if doc is None or analysis is None or analysis.own is None:
        return None
    line, col = position(doc, pos, server.utf16)
    return node_at(analysis.own, analysis.lines, line, col)


def register(server: ArchServer) -> None:
    """Register every feature on `server`."""

    @server.feature(lsp.INITIALIZE)
    @guarded(None)
    def initialize(ls: ArchServer, params: lsp.InitializeParams) -> None:
        ls.settings_raw = params.initialization_options

    @server.feature(lsp.INITIALIZED)
    @guarded(None)
    def initialized(ls: ArchServer, params: lsp.InitializedParams) -> None:
        if ls.settings_raw is not None:
            ls.configure(ls.settings_raw)
        caps = ls.client_capabilities.workspace
        watch = caps.did_change_watched_files if caps is not None else None
        if watch is not None and watch.dynamic_registration:
            ls.client_register_capability(lsp.RegistrationParams([lsp.Registration(
                "archc-watch", lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                lsp.DidChangeWatchedFilesRegistrationOptions(
                    [lsp.FileSystemWatcher("**/*.{yaml,yml}")]))]))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded(None)
    def changed_config(ls: ArchServer, params: lsp.DidChangeConfigurationParams) -> None:
        ls.configure(params.settings)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @guarded(None)
    def opened(ls: ArchServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)
        ls.dependents({unsaved_key(ls.path(params.text_document.uri))})

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(None)
    def changed(ls: ArchServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)
        ls.dependents({unsaved_key(ls.path(params.text_document.uri))})

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    @guarded(None)
    def saved(ls: ArchServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.dependents({unsaved_key(ls.path(params.text_document.uri))})

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(None)
    def closed(ls: ArchServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.analyses.pop(uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))
        ls.dependents({unsaved_key(ls.path(uri))})  # they now read the file on disk

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(None)
    def watched(ls: ArchServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        paths = {unsaved_key(p) for c in params.changes if (p := path_of(c.uri)) is not None}
        ls.dependents(paths)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: ArchServer, params: lsp.HoverParams) -> lsp.Hover | None:
        try:
            analysis = await ls.current(params.text_document.uri)
            hit = _hit(ls, params.text_document.uri, params.position, analysis)
            if hit is None or analysis is None:
                return None
            # Off the loop: a hover on `extends:` analyses the base, which may be a deep net.
            text = await asyncio.get_running_loop().run_in_executor(
                None, hover_text, analysis, hit, ls.unsaved(), analysis.kind == "block")
            if not text:
                return None
            lines = analysis.lines
            line = params.position.line
            rng = lsp.Range(lsp.Position(line, ls_units(lines, line, hit.start, ls.utf16)),
                            lsp.Position(line, ls_units(lines, line, hit.end, ls.utf16)))
            return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text), rng)
        except Exception:
            log.exception("hover failed")
            return None

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def goto(ls: ArchServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        try:
            analysis = await ls.current(params.text_document.uri)
            hit = _hit(ls, params.text_document.uri, params.position, analysis)
            if hit is None or analysis is None:
                return None
            return await asyncio.get_running_loop().run_in_executor(
                None, definition, analysis, hit, ls.unsaved())
        except Exception:
            log.exception("definition failed")
            return None

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=[":", " ", "{", ","]))
    @guarded(None)
    def completion(ls: ArchServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        uri = params.text_document.uri
        doc = ls.workspace.text_documents.get(uri)
        if doc is None:
            return None
        line, col = position(doc, params.position, ls.utf16)
        lines = doc.source.split("\n")
        analysis = ls.analyses.get(uri)
        items = complete(lines, line, col, analysis, ls.path(uri),
                         analysis.kind == "block" if analysis else False)
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    @guarded(None)
    def actions(ls: ArchServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        doc = ls.workspace.text_documents.get(params.text_document.uri)
        if doc is None:
            return None
        return fixes(params.text_document.uri, doc.source.split("\n"),
                     list(params.context.diagnostics), ls.utf16) or None


def ls_units(lines: list[str], line: int, col: int, utf16: bool) -> int:
    """A character column of `line` in the client's units."""
    return to_units(lines[line], col, utf16) if 0 <= line < len(lines) else col


def serve(log_file: str | None = None) -> int:
    """Run the server on stdin and stdout until the client says exit."""
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.NullHandler()
    # stderr is a pipe the client may never read: logging there could fill it and block us.
    for name in ("pygls", "archcompiler.lsp"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO if log_file else logging.CRITICAL)
    server = ArchServer()
    register(server)
    server.start_io(sys.stdin.buffer, sys.stdout.buffer)
    return 0

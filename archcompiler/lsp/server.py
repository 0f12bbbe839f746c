"""`archc lsp`: the language server, on pygls over stdio.

The message loop only records text and answers from the newest analysis; every analysis runs
on the worker thread (worker.py), so a slow spec never stalls a hover or a keystroke. Every
handler turns a failure into a diagnostic or an empty answer: no input stops the server.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import TextDocument

from .._version import __version__
from ..cli.common import UsageError
from ..cli.plugins import load_plugins
from ..language.variants import unsaved_key
from .analysis import Analysis, analyse_block_file, analyse_spec, is_block_file
from .convert import diagnostics_of, path_of
from .settings import Settings, parse_settings
from .text import from_units
from .worker import SLOW, Worker

log = logging.getLogger("archcompiler.lsp")
T = TypeVar("T")
D = TypeVar("D")
P = ParamSpec("P")
WAIT = 2.0  # seconds a hover waits for the analysis of the text it is asked about


class Protocol(LanguageServerProtocol):
    """pygls's protocol, answering a request whose params do not parse with InvalidParams."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Structure a message; a malformed request gets an error reply instead of silence."""
        try:
            return super().structure_message(data)
        except Exception:
            if isinstance(data, dict) and "id" in data and "method" in data:
                from pygls.exceptions import JsonRpcInvalidParams

                self._send_response(data["id"], None, JsonRpcInvalidParams().to_response_error())
                return _Answered()
            raise


class _Answered:
    """A request already answered with an error: the protocol sees an unknown version, drops it."""

    jsonrpc = "answered"


class ArchServer(LanguageServer):
    """The server's state: settings, the newest analysis per document, the worker."""

    def __init__(self) -> None:
        super().__init__("archc", __version__, protocol_cls=Protocol,
                         text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.settings = Settings()
        self.analyses: dict[str, Analysis] = {}
        self.waiters: dict[str, list[asyncio.Future[Analysis]]] = {}
        self.worker: Worker[Analysis] | None = None
        self.settings_raw: object = None  # the initialization options, applied once initialized

    @property
    def utf16(self) -> bool:
        """Whether the client counts columns in UTF-16 code units (the LSP default)."""
        return str(self.workspace.position_encoding or "utf-16") != "utf-32"

    def path(self, uri: str) -> str:
        """The file a document stands for; an untitled one gets a name in the working folder."""
        found = path_of(uri)
        if found is not None:
            return found
        digest = hashlib.sha1(uri.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return os.path.join(os.getcwd(), f"untitled-{digest}.yaml")

    def unsaved(self) -> dict[str, str]:
        """Every open document's text, keyed as the loader looks files up."""
        docs = self.workspace.text_documents
        return {unsaved_key(self.path(uri)): doc.source for uri, doc in docs.items()}

    def schedule(self, uri: str) -> None:
        """Queue an analysis of the document's current text (replacing one still waiting)."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return
        if self.worker is None:
            self.worker = Worker(asyncio.get_running_loop(), self.deliver)
        text, version, path = doc.source, doc.version, self.path(uri)
        settings, unsaved, utf16 = self.settings, self.unsaved(), self.utf16
        last = self.analyses.get(uri)
        block = is_block_file(text)

        def job() -> Analysis:
            out = Analysis(uri, version, path, text, "block" if block else "spec")
            start = time.perf_counter()
            try:
                if block:
                    analyse_block_file(out, unsaved)
                else:
                    analyse_spec(out, settings, unsaved)
            except Exception as exc:  # a bug on some input: shown as a diagnostic, not a crash
                log.exception("analysis of %s failed", uri)
                out.failed = f"{type(exc).__name__}: {exc}"
            out.seconds = time.perf_counter() - start
            out.published = diagnostics_of(out, utf16)
            return out

        delay = last.seconds / 2 if last is not None and last.seconds > SLOW else 0.0
        self.worker.submit(uri, job, delay)

    def deliver(self, uri: str, out: Analysis) -> None:
        """Publish a finished analysis unless a newer edit has made it stale."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None or doc.version != out.version or doc.source != out.text:
            return
        if self.worker is not None and self.worker.pending(uri):
            return
        self.analyses[uri] = out
        for fut in self.waiters.pop(uri, []):
            if not fut.done():
                fut.set_result(out)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, diagnostics=out.published, version=out.version))

    def dependents(self, changed: set[str]) -> None:
        """Re-analyse every open spec that read one of `changed` (or could not read a file)."""
        for uri in list(self.workspace.text_documents):
            last = self.analyses.get(uri)
            if last is None or unsaved_key(last.path) in changed:
                continue
            missing = any(d.code in ("ARC155", "ARC150", "ARC151") for d in last.diagnostics)
            if missing or last.files & changed:
                self.schedule(uri)

    async def current(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text, waiting briefly for one under way."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return None
        last = self.analyses.get(uri)
        if last is not None and last.version == doc.version and last.text == doc.source:
            return last
        fut: asyncio.Future[Analysis] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(uri, []).append(fut)
        if self.worker is None or not self.worker.pending(uri):
            self.schedule(uri)
        try:
            return await asyncio.wait_for(fut, WAIT)
        except asyncio.TimeoutError:
            return self.analyses.get(uri)

    def configure(self, raw: object) -> None:
        """Apply the client's settings; report problems without stopping."""
        settings, problems = parse_settings(raw)
        try:
            load_plugins(settings.plugins)
        except UsageError as exc:
            problems.append(str(exc))
        for text in problems:
            self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Warning, text))
        self.settings = settings
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)


def guarded(default: D) -> Callable[[Callable[P, T]], Callable[P, T | D]]:
    """Turn an exception in a handler into `default` (logged): one bad request, no dead server."""
    def wrap(fn: Callable[P, T]) -> Callable[P, T | D]:
        @functools.wraps(fn)  # pygls reads the signature: its first parameter `ls` gets the server
        def run(*args: P.args, **kwargs: P.kwargs) -> T | D:
            try:
                return fn(*args, **kwargs)
            except Exception:
                log.exception("%s failed", fn.__name__)
                return default
        return run
    return wrap


def position(doc: TextDocument, pos: lsp.Position, utf16: bool) -> tuple[int, int]:
    """A client position as a 0-based line and character column of the document."""
    lines = doc.lines
    if not 0 <= pos.line < len(lines):
        return pos.line, pos.character
    return pos.line, from_units(lines[pos.line].rstrip("\r\n"), pos.character, utf16)


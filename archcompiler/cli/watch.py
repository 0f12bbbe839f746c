"""`archc render SPEC -o net.html --watch`: redraw on every save, and serve a page that follows.

The spec and every file it read (bases it extends, block files it declares: the resolved spec's
`sources`) are watched with watchfiles. A tiny HTTP server on 127.0.0.1 serves the page and a
`/version` the page polls; a new version makes it reload. A spec that breaks keeps the last good
diagram, with the new diagnostics shown above it.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..backends.render import DotFailedError, DotNotFoundError, page_data, page_html
from ..backends.render import find_dot as _find_dot
from ..core.diagnostics import Diagnostic
from ..core.fileio import atomic_write_bytes
from .codes import EXIT_NO_DOT, EXIT_OK
from .common import UsageError, load, parse_input


class Live:
    """The page being served: the last good diagram's data, the latest errors, a version."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data: dict[str, object] | None = None
        self.errors: list[Diagnostic] = []
        self.version = 0
        self.page = b""

    def update(self, data: dict[str, object] | None, errors: list[Diagnostic]) -> None:
        """Take a new diagram (None: keep the last good one) and the current errors."""
        with self.lock:
            if data is not None:
                self.data = data
            self.errors = errors
            self.version += 1
            if self.data is not None:
                self.page = page_html(self.data, live=True, errors=errors).encode("utf-8")
            else:
                self.page = page_html(_empty(), live=True, errors=errors).encode("utf-8")


def _empty() -> dict[str, object]:
    return {"name": "(no diagram yet)", "description": "", "summary": "", "levels": {}, "stages": [],
            "order": [], "diagnostics": [], "errors": [], "live": True}


def _handler(live: Live) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            """Serve the page and its version, to this machine's own names alone."""
            # A page elsewhere that points a name of its own at 127.0.0.1 (DNS rebinding)
            # gets nothing.
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            if host not in ("127.0.0.1", "localhost"):
                self.send_error(403)
                return
            with live.lock:
                if self.path == "/version":
                    body, kind = str(live.version).encode(), "text/plain"
                elif self.path in ("/", "/index.html"):
                    body, kind = live.page, "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def _build(args: argparse.Namespace, output: Path, live: Live, dot: str) -> set[Path]:
    """Analyze and draw once; return the files to watch."""
    res, report = load(args.spec, args, parse_input(getattr(args, "input", None)), ())
    files = {Path(p).resolve() for p in res.sources if Path(p).is_file()}
    spec_path = Path(args.spec)
    if spec_path.is_file():
        files.add(spec_path.resolve())
    if report is None or not report.ok:
        errors = res.diagnostics if report is None else report.diagnostics
        errors = [d for d in errors if d.severity.value == "error"] or errors
        live.update(None, errors)
        print(f"archc: {len(errors)} error(s); the page keeps the last good diagram",
              file=sys.stderr, flush=True)
        return files
    data = page_data(report, dot)
    live.update(data, [])
    atomic_write_bytes(output, page_html(data).encode("utf-8"))
    print(f"wrote {output} (version {live.version})", flush=True)
    return files


def _only(files: set[Path]) -> Callable[[object, str], bool]:
    """A watchfiles filter that passes changes to `files` alone (their folders are watched)."""
    return lambda _change, path: Path(path).resolve() in files


def run_watch(args: argparse.Namespace, output: Path) -> int:
    """Serve a live page and redraw on every save until interrupted; return the exit code."""
    try:
        import watchfiles
    except ImportError as exc:
        raise UsageError("--watch needs watchfiles: `pip install 'archcompiler[watch]'`") from exc
    if output.suffix.lower() != ".html":
        raise UsageError("--watch serves an interactive page: use -o with a .html file")
    dot = _find_dot()
    if dot is None:
        print("archc: graphviz `dot` was not found on PATH", file=sys.stderr)
        return EXIT_NO_DOT
    output.parent.mkdir(parents=True, exist_ok=True)
    live = Live()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(live))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        files = _build(args, output, live, dot)
        print(f"serving http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)",
              flush=True)
        while True:
            dirs = sorted({str(f.parent) for f in files})
            for _ in watchfiles.watch(*dirs, watch_filter=_only(set(files)), debounce=100,
                                      step=30):
                break
            try:
                files = _build(args, output, live, dot) or files
            except (DotFailedError, DotNotFoundError) as exc:
                print(f"archc: error: {exc}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return EXIT_OK

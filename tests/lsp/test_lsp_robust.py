"""`archc lsp` under bad input: half-typed specs, binary and huge documents, extends cycles,
missing bases, and malformed JSON-RPC. Each gives diagnostics or an error reply; none stops
the server."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lsprotocol import types as lsp

from tests.conftest import ROOT
from tests.lsp.test_lsp import BASE, CHILD, codes, run
from tests.support.lsp_client import Session

pytestmark = pytest.mark.slow  # the server runs as a subprocess over stdio

ZOO = sorted((ROOT / "archcompiler" / "specs").glob("*.yaml"))


def test_typing_each_zoo_spec_one_character_at_a_time(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "archcompiler" / "specs" / "blocks", tmp_path / "blocks")  # the zoo's block files

    async def go() -> None:
        s = Session(cwd=tmp_path)
        await s.start()
        for spec in ZOO:
            text = spec.read_text()
            uri = s.open(tmp_path / spec.name, "")
            # One change per character, eight to a notification, sent without waiting.
            s.type_text(uri, text, batch=8)
            diags = await s.wait_diagnostics(uri)
            assert s.alive, spec.name
            # The finished text in the editor gets what the CLI says of the file.
            rules = [d for d in diags if str(d.code).startswith("ARC3")]
            assert not [d for d in diags if d.severity == lsp.DiagnosticSeverity.Error], \
                (spec.name, diags)
            assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in rules)
        await s.stop()
    run(go())


def test_hostile_documents(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(BASE)

    async def go() -> None:
        s = Session(cwd=tmp_path)
        await s.start()
        other = s.open(tmp_path / "ci.yaml", "on: push\njobs: {test: {runs-on: linux}}\n")
        assert await s.wait_diagnostics(other) == []  # another tool's YAML: left alone
        binary = s.open(tmp_path / "binary.yaml", "\x00\x01\x02\xff\ufffe" * 50)
        assert await s.wait_diagnostics(binary)
        surrogate = s.open(tmp_path / "surrogate.yaml", "name: \ud800\n")
        assert codes(await s.wait_diagnostics(surrogate)) == ["ARC002"]
        huge = s.open(tmp_path / "huge.yaml", "# " + "x" * (10 << 20) + "\n")
        assert codes(await s.wait_diagnostics(huge, timeout=60)) == ["ARC003"]
        missing = s.open(tmp_path / "missing.yaml", CHILD.replace("base.yaml", "nowhere.yaml"))
        assert codes(await s.wait_diagnostics(missing)) == ["ARC155"]
        # An extends cycle typed live: the base is edited to extend the child.
        child = s.open(tmp_path / "child.yaml", CHILD)
        base = s.open(tmp_path / "base.yaml")
        assert await s.wait_diagnostics(child) == []
        s.replace(base, BASE.replace("name: base18", "extends: child.yaml\nname: base18"))
        assert "ARC151" in codes(await s.wait_diagnostics(base))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if "ARC151" in codes(s.diagnostics[child]):
                break
        assert "ARC151" in codes(s.diagnostics[child])
        # An edit at a place the document does not have: reported, and the server goes on.
        s.edit(child, 999, 5, 1000, 2, "x")
        s.replace(child, CHILD)
        assert "ARC151" in codes(await s.wait_diagnostics(child))  # the base still cycles
        # Requests at places that do not exist, on documents never opened, answer nothing.
        assert await s.hover(child, 999, 999) is None
        assert await s.hover("file:///nowhere/never.yaml", 0, 0) is None
        assert isinstance(await s.complete(child, 999, 5), list)
        assert await s.definition(child, -0, 10_000) is None
        assert s.alive
        s.replace(base, BASE)
        assert await s.wait_diagnostics(base) == []
        await s.stop()
    run(go())


def _frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read(stream: object) -> dict[str, object]:
    length = 0
    while True:
        line = stream.readline()  # type: ignore[attr-defined]
        if not line:
            raise EOFError("the server closed its output")
        if line.startswith(b"Content-Length:"):
            length = int(line.split(b":")[1])
        elif line in (b"\r\n", b"\n"):
            found: dict[str, object] = json.loads(stream.read(length))  # type: ignore[attr-defined]
            return found


def test_malformed_json_rpc_gets_errors_and_the_server_stays_up(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "archcompiler", "lsp"], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        send = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": "garbage"},
            {"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover",
             "params": {"textDocument": {"uri": 5}, "position": {"line": -1}}},
            {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"nope": [1, 2]}},
            {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": None},
            {"jsonrpc": "2.0", "id": 4, "method": "no/such/method", "params": {}},
        ]
        for message in send:
            proc.stdin.write(_frame(message))
        proc.stdin.write(b"Content-Length: 9\r\n\r\n{not json")
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 5, "method": "textDocument/completion",
                                 "params": {"textDocument": {"uri": "file:///x.yaml"},
                                            "position": {"line": 0, "character": 0}}}))
        proc.stdin.flush()
        answers: dict[object, dict[str, object]] = {}
        while 5 not in answers:
            msg = _read(proc.stdout)
            if "id" in msg:
                answers[msg["id"]] = msg
        assert "result" in answers[1]
        for bad in (2, 3, 4):
            assert "error" in answers[bad], answers[bad]
        assert answers[5]["result"] is None  # a document never opened: no completion
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 6, "method": "shutdown"}))
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.flush()
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()

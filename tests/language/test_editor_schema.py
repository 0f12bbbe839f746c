"""The published JSON Schema accepts what the compiler accepts, file by file, as editors see it.

Checked twice: with the `jsonschema` package, and with the real yaml-language-server (the
server behind VS Code's YAML extension) driven over LSP. Its set-up installs the pinned server
from the npm registry into .cache/; node and npm are required, and a failed install fails the test.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import archcompiler
from archcompiler.language.yamlload import parse_yaml, to_plain
from archcompiler.language.zoo import builtin_names, builtin_path
from tests.conftest import ROOT, TINY

SCHEMA_FILE = ROOT / "archcompiler" / "schema" / "archcompiler.schema.json"
SERVER_VERSION = "1.25.0"  # pinned, so the test does not change under us
CACHE = ROOT / ".cache" / f"yaml-language-server-{SERVER_VERSION}"


def plain(text: str) -> Any:
    root, diags = parse_yaml(text, "t.yaml")
    assert root is not None and not diags, diags
    return to_plain(root)


def readme_variants() -> list[str]:
    """The variants the README shows, as written there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "extends:" in b]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def messages(validator: Draft202012Validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(plain(text))]


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_file_validates_as_written(name: str, validator: Draft202012Validator) -> None:
    path = builtin_path(name)
    assert path is not None
    assert messages(validator, path.read_text(encoding="utf-8")) == []


def test_the_readme_variants_validate(validator: Draft202012Validator) -> None:
    variants = readme_variants()
    assert len(variants) >= 3
    for text in variants:
        assert messages(validator, text) == []
        archcompiler.load_spec(text)  # and the compiler takes them too


@pytest.mark.parametrize("text", [
    "extends: resnet50\nstages: {block: {expansion: 2}}\n",  # merges into the base's block
    "extends: resnet50\nstages: {widths: {rule: constant}}\n",
    "extends: resnet50\nstem: {pool: null}\nhead: {dropout: null}\n",
    "extends: resnet50\nrules: {double_on_halve: off}\n",
    TINY.replace("head: {classes: 10}", "head: {classes: 10, dropout: null}"),
])
def test_overlays_and_nulls_pass_both(text: str, validator: Draft202012Validator) -> None:
    assert messages(validator, text) == []
    res = archcompiler.resolve(text)
    assert not [d for d in res.diagnostics if d.severity.value == "error"]


@pytest.mark.parametrize("text", [
    "spec_version: 1\nname: tiny\n",  # complete: stages missing
    "spec_version: 1\nname: tiny\nextends: null\n",  # `extends: null` is no base
    TINY.replace("{type: basic}", "{}"),  # complete: the block needs its type
    "extends: resnet50\nnmae: x\n",  # unknown keys are errors in overlays too
    "extends: resnet50\nstages: {block: {type: basic, groups: 2}}\n",  # basic has no groups
    "extends: resnet50\nstages: {per_stage: [{width: 64}]}\n",  # list items are complete
    "extends: resnet50\nhead: {classes: 0}\n",
])
def test_what_both_refuse(text: str, validator: Draft202012Validator) -> None:
    assert messages(validator, text)
    assert archcompiler.resolve(text).spec is None


def test_a_complete_spec_missing_stages_names_it(validator: Draft202012Validator) -> None:
    assert any("'stages' is a required property" in m
               for m in messages(validator, "spec_version: 1\nname: tiny\n"))


# The real yaml-language-server over LSP


def _server() -> Path:
    """Install the pinned yaml-language-server under .cache/ (once); a failed install fails."""
    main = CACHE / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    if main.is_file():
        return main
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.fail("node and npm are needed to run yaml-language-server (install Node.js >= 18)")
    staging = CACHE.with_name(f"{CACHE.name}.{os.getpid()}")
    staging.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["npm", "install", "--prefix", str(staging), "--no-audit", "--no-fund", "--silent",
             f"yaml-language-server@{SERVER_VERSION}"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"npm install of yaml-language-server failed: {exc}")
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"npm install of yaml-language-server failed: {done.stderr.strip()[-300:]}")
    try:
        staging.rename(CACHE)  # atomic: a concurrent run sees all of it or none
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another run installed it first
    return main


class Lsp:
    """A minimal LSP client over stdio: enough to open documents and collect diagnostics."""

    def __init__(self, main: Path) -> None:
        self.proc = subprocess.Popen(["node", str(main), "--stdio"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not line or length is None:
                self.inbox.put(None)
                return
            self.inbox.put(json.loads(stream.read(length)))

    def send(self, **msg: Any) -> None:
        data = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
        self.proc.stdin.flush()

    def pump(self, done: Any, timeout: float) -> None:
        """Answer the server's requests and record diagnostics until `done()` or the timeout."""
        settings = {"validate": True, "schemaStore": {"enable": False}, "format": {"enable": False}}
        end = time.monotonic() + timeout
        while not done() and time.monotonic() < end:
            try:
                msg = self.inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if msg is None:
                raise AssertionError("yaml-language-server exited")
            if "id" in msg and "method" in msg:  # a request from the server
                items = msg.get("params", {}).get("items", [])
                result = [settings if i.get("section") == "yaml" else None for i in items] \
                    if msg["method"] == "workspace/configuration" else None
                self.send(id=msg["id"], result=result)
            elif msg.get("method") == "textDocument/publishDiagnostics":
                self.diagnostics[msg["params"]["uri"]] = msg["params"]["diagnostics"]

    def check(self, docs: dict[str, str], timeout: float = 40) -> dict[str, list[str]]:
        """Open documents (URI -> text) and return each one's diagnostic messages."""
        self.send(id=1, method="initialize", params={
            "processId": os.getpid(), "rootUri": ROOT.as_uri(),
            "capabilities": {"workspace": {"configuration": True}}})
        self.pump(lambda: False, 1.0)
        self.send(method="initialized", params={})
        self.send(method="workspace/didChangeConfiguration",
                  params={"settings": {"yaml": {"validate": True}}})
        for uri, text in docs.items():
            self.send(method="textDocument/didOpen", params={"textDocument": {
                "uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        self.pump(lambda: set(docs) <= set(self.diagnostics), timeout)
        assert set(docs) <= set(self.diagnostics), "no diagnostics came back in time"
        return {uri: [f"{d['range']['start']['line'] + 1}: {d['message']}" for d in diags]
                for uri, diags in self.diagnostics.items()}


@pytest.fixture(scope="module")
def lsp() -> Iterator[Lsp]:
    client = Lsp(_server())
    try:
        yield client
    finally:
        client.proc.kill()
        client.proc.wait()


@pytest.mark.slow
def test_yaml_language_server_accepts_every_builtin(lsp: Lsp, tmp_path_factory: Any) -> None:
    folder = tmp_path_factory.mktemp("lsp")
    modeline = f"# yaml-language-server: $schema={SCHEMA_FILE.as_uri()}\n"
    docs = {path.as_uri(): path.read_text(encoding="utf-8")
            for path in sorted((ROOT / "archcompiler" / "specs").glob("*.yaml"))}
    readme = [folder / f"readme{i}.yaml" for i in range(len(readme_variants()))]
    for path, text in zip(readme, readme_variants()):
        docs[path.as_uri()] = modeline + text
    # A control: the server did read the schema, since it refuses a complete spec without stages.
    control = (folder / "control.yaml").as_uri()
    docs[control] = modeline + "spec_version: 1\nname: tiny\n"
    found = lsp.check(docs)
    assert any("stages" in m for m in found.pop(control)), "the server did not apply the schema"
    assert {uri: m for uri, m in found.items() if m} == {}

"""`archc lsp` driven as a subprocess over stdio by a real LSP client (pygls's).

Every check goes through the wire: open, type, hover, complete, jump, fix, and hostile input.
Expected values come from the CLI (`archc validate --format json`, `archc summary`), so the
server is held to the compiler's own answers.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

pytest.importorskip("pygls")

from lsprotocol import types as lsp

from tests.conftest import ROOT
from tests.support.lsp_client import Session, apply_edit, uri_of

pytestmark = pytest.mark.slow  # the server runs as a subprocess over stdio

T = TypeVar("T")

BASE = """\
spec_version: 1
name: base18
input: {channels: 3, height: 224, width: 224}
stages:
  block: {type: basic}
  depths: [2, 2, 2, 2]
  widths: [64, 128, 256, 512]
  strides: [1, 2, 2, 2]
head: {classes: 1000}
rules: {name_matches_depth: off}
"""
CHILD = """\
spec_version: 1
extends: base.yaml
name: child
stages:
  widths: [64, 128, 256, 512]
"""


def run(coro: Awaitable[T]) -> T:
    """Run one client session, bounded so a hung server fails the test instead of the suite."""
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 120)
    return asyncio.run(bounded())


def archc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI, for the values the server must agree with."""
    return subprocess.run([sys.executable, "-m", "archcompiler", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "child.yaml").write_text(CHILD)
    return tmp_path


def codes(diags: list[lsp.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diags]


def test_rule_ii_as_you_type_then_the_fix(folder: Path) -> None:
    async def go() -> None:
        s = Session(cwd=folder)
        await s.start()
        uri = s.open(folder / "child.yaml")
        assert await s.wait_diagnostics(uri) == []
        s.edit(uri, 4, 25, 4, 28, "500")  # widths: [64, 128, 256, 500]: rule (ii) broken
        diags = await s.wait_diagnostics(uri)
        assert codes(diags) == ["ARC302"]
        d = diags[0]
        # The CLI, on the same text saved beside the base, puts it at the same place.
        edited = CHILD.replace("512]", "500]")
        (folder / "edited.yaml").write_text(edited)
        cli = json.loads(archc("validate", "edited.yaml", "--format", "json",
                               cwd=folder).stdout)[0]["diagnostics"]
        assert [(c["code"], c["line"] - 1, c["col"] - 1, c["message"]) for c in cli] == \
            [("ARC302", d.range.start.line, d.range.start.character,
              d.message.split("\nhint: ")[0])]
        assert (d.range.start.line, d.range.start.character, d.range.end.character) == (4, 25, 28)
        assert d.severity == lsp.DiagnosticSeverity.Error and cli[0]["hint"] in d.message
        actions = await s.actions(uri, diags)
        assert [a.title for a in actions] == ["Use width 512 (rule ii)"]
        fixed = apply_edit(edited, list(actions[0].edit.changes[uri]))
        assert fixed == CHILD
        s.replace(uri, fixed)
        assert await s.wait_diagnostics(uri) == []
        await s.stop()
    run(go())


def test_hover_is_archc_summary(folder: Path) -> None:
    spec = "spec_version: 1\nextends: resnet50\nname: r152\nstages: {depths: [3, 8, 36, 3]}\n" \
           "rules: {name_matches_depth: off}\n"
    (folder / "r152.yaml").write_text(spec)
    table = archc("summary", "r152.yaml", "--depth", "stage", cwd=folder).stdout
    row = next(line.split() for line in table.splitlines() if line.startswith("layer3 "))
    data = json.loads(archc("summary", "r152.yaml", "--json", "--depth", "stage",
                            cwd=folder).stdout)

    async def go() -> None:
        s = Session(cwd=folder)
        await s.start()
        uri = s.open(folder / "r152.yaml")
        await s.wait_diagnostics(uri)
        hover = await s.hover(uri, 3, spec.splitlines()[3].index("36"))
        assert hover is not None
        text = hover.contents.value  # type: ignore[union-attr]
        line = next(x for x in text.splitlines() if x.startswith("| layer3 "))
        # shape, params, MACs and share, each as `archc summary` prints it
        for cell in row[-4:]:
            assert f" {cell} |" in line, (cell, line)
        rec = next(r for r in data["rows"] if r["name"] == "layer3")
        assert f"{rec['params']:,}" in line and f"{rec['macs']:,}" in line
        base = await s.hover(uri, 1, 10)  # extends: resnet50
        resnet50 = json.loads(archc("summary", "resnet50", "--json", cwd=folder).stdout)
        assert base is not None and "**resnet50**" in base.contents.value  # type: ignore[union-attr]
        assert f"{resnet50['params']:,} params" in base.contents.value  # type: ignore[union-attr]
        key = await s.hover(uri, 3, 10)  # the key `depths`: its value, where set, description
        value = key.contents.value  # type: ignore[union-attr]
        assert "[3, 8, 36, 3]" in value and "this file, line 4" in value
        assert "Blocks per stage." in value and "resnet34.yaml:6" in value  # what it overrides
        blk = s.open(folder / "blk.yaml", "spec_version: 1\nextends: resnet50\nname: blk\n"
                     "stages:\n  block: {type: bottleneck, expansion: 4}\n")
        await s.wait_diagnostics(blk)
        block = (await s.hover(blk, 4, 3)).contents.value  # type: ignore[union-attr]
        assert "resolved, with defaults" in block and '"downsample_at": "3x3"' in block
        await s.stop()
    run(go())


PLUGIN = """\
from typing import Literal
from pydantic import Field
import archcompiler
from archcompiler.blocks.basic import Basic, BasicBlock

class TwinConfig(BasicBlock):
    type: Literal["twin"] = Field(description="Block type tag.")

class Twin(Basic):
    config = TwinConfig

archcompiler.register_block(Twin)
"""


def test_completion_block_types_fields_and_names(folder: Path) -> None:
    (folder / "lsp_twin_plugin.py").write_text(PLUGIN)
    block = (ROOT / "examples" / "blocks" / "convnext.yaml").read_text()
    (folder / "convnext.yaml").write_text(block)
    spec = "spec_version: 1\nextends: base.yaml\nname: c\nblocks: {convnext: convnext.yaml}\n" \
           "stages:\n  block: {type: "
    settings = {"archc": {"plugins": ["lsp_twin_plugin"]}}

    async def go() -> None:
        s = Session(settings, cwd=folder)
        await s.start()
        uri = s.open(folder / "c.yaml", spec)
        await s.wait_diagnostics(uri)
        offered = await s.complete(uri, 5, len("  block: {type: "))
        from archcompiler.blocks import BLOCKS

        assert set(offered) == {*BLOCKS.names(), "convnext", "twin"}
        typed = spec + "bottleneck, "
        s.replace(uri, typed)
        fields = await s.complete(uri, 5, len(typed.splitlines()[5]))
        assert {"expansion", "downsample_at", "groups"} <= set(fields)
        s.replace(uri, spec.replace("{type: ", "{type: convnext, "))
        assert "mlp_ratio" in await s.complete(uri, 5, len("  block: {type: convnext, "))
        s.replace(uri, "spec_version: 1\nextends: ")
        names = await s.complete(uri, 1, len("extends: "))
        assert {"resnet50", "resnet152", "base.yaml"} <= set(names)
        s.replace(uri, "spec_version: 1\nactivation: ")
        from archcompiler.ir.ops import ACTIVATIONS

        assert set(await s.complete(uri, 1, 12)) == set(ACTIVATIONS.names())
        s.replace(uri, "spec_version: 1\nstages:\n  ")
        assert {"depths", "widths", "per_stage", "block"} <= set(await s.complete(uri, 2, 2))
        assert s.alive
        await s.stop()
    run(go())


def test_inherited_notes_point_into_the_base(folder: Path) -> None:
    text = CHILD.replace("  widths: [64, 128, 256, 512]", "  strides: [1, 2, 2]")

    async def go() -> None:
        s = Session(cwd=folder)
        await s.start()
        uri = s.open(folder / "notes.yaml", text)
        (d,) = await s.wait_diagnostics(uri)
        assert (d.code, d.range.start.line, d.range.start.character) == ("ARC110", 4, 11)
        (note,) = d.related_information or []
        assert note.message == "note: stages.depths inherited from"
        assert note.location.uri == uri_of(folder / "base.yaml")
        assert (note.location.range.start.line, note.location.range.start.character) == (5, 10)
        assert (note.location.range.end.character) == len("  depths: [2, 2, 2, 2]")
        # Block-style completion of the fields of the block type named on a sibling line.
        s.replace(uri, "spec_version: 1\nextends: base.yaml\nstages:\n  block:\n"
                       "    type: bottleneck\n    \n")
        assert {"type", "expansion", "groups"} <= set(await s.complete(uri, 5, 4))
        await s.stop()
    run(go())


def test_definition_reaches_the_base_line(folder: Path) -> None:
    async def go() -> None:
        s = Session(cwd=folder)
        await s.start()
        uri = s.open(folder / "child.yaml")
        await s.wait_diagnostics(uri)
        to_base = await s.definition(uri, 1, 12)
        assert to_base.uri == uri_of(folder / "base.yaml")
        widths = await s.definition(uri, 4, 4)  # stages.widths: the base's line that set it
        assert widths.uri == uri_of(folder / "base.yaml")
        assert widths.range.start.line == BASE.splitlines().index(
            "  widths: [64, 128, 256, 512]")
        stages = await s.definition(uri, 3, 2)
        assert stages.range.start.line == BASE.splitlines().index("stages:")
        await s.stop()
    run(go())


# Each spec has a diagnostic with a mechanical hint; its fix must leave the spec without it.
FIXABLE = {
    "ARC101": "spec_version: 1\nextends: base.yaml\nname: f\nhed: {classes: 10}\n",
    "ARC105": "spec_version: 1\nextends: base.yaml\nname: f\nactivation: relux\n",
    "ARC150": "spec_version: 1\nextends: resnet5O\nname: f\n",
    "ARC103": "spec_version: 1\nextends: base.yaml\nname: f\nhead: {classes: \"10\"}\n",
    "ARC010": "spec_version: 1\nextends: base.yaml\nname: f\nhead: {classes: 010}\n",
    "ARC306": "spec_version: 1\nextends: base.yaml\nname: resnet50\nrules: "
              "{name_matches_depth: warn}\n",
    "ARC301": "spec_version: 1\nextends: base.yaml\nname: f\nstages:\n  strides: [1, 1, 2, 2]\n"
              "  widths: [64, 96, 256, 512]\nrules: {double_on_halve: off}\n",
}


def test_each_fix_removes_its_diagnostic(folder: Path) -> None:
    async def go() -> None:
        s = Session(cwd=folder)
        await s.start()
        for code, text in FIXABLE.items():
            uri = s.open(folder / f"fix_{code}.yaml", text)
            diags = [d for d in await s.wait_diagnostics(uri) if d.code == code]
            assert diags, (code, await s.wait_diagnostics(uri))
            actions = await s.actions(uri, diags)
            assert actions, code
            fixed = apply_edit(text, list(actions[0].edit.changes[uri]))
            s.replace(uri, fixed)
            left = await s.wait_diagnostics(uri)
            assert code not in codes(left), (code, fixed, left)
        await s.stop()
    run(go())


def test_settings_rules_input_and_bad_values(folder: Path) -> None:
    broken = CHILD.replace("512]", "500]")
    settings = {"archc": {"rules": {"ARC302": "warn"}, "input": "3x64x64"}}

    async def go() -> None:
        s = Session(settings, cwd=folder)
        await s.start()
        uri = s.open(folder / "child.yaml", broken)
        diags = await s.wait_diagnostics(uri)
        assert [(d.code, d.severity) for d in diags if d.code == "ARC302"] == \
            [("ARC302", lsp.DiagnosticSeverity.Warning)]
        hover = await s.hover(uri, 4, broken.splitlines()[4].index("128"))  # layer2, 64x64 input
        assert "128x16x16" in hover.contents.value  # type: ignore[union-attr]
        s.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
            {"archc": {"rules": {"nope": "loud"}, "input": "224x224x3", "plugins": ["no such"]}}))
        s.replace(uri, broken)
        diags = await s.wait_diagnostics(uri)
        assert [d.severity for d in diags if d.code == "ARC302"] == [lsp.DiagnosticSeverity.Error]
        assert len(s.messages) == 3 and s.alive
        await s.stop()
    run(go())


def test_base_and_block_file_edits_reanalyse_dependents(folder: Path) -> None:
    (folder / "convnext.yaml").write_text((ROOT / "examples/blocks/convnext.yaml").read_text())
    (folder / "cx.yaml").write_text((ROOT / "examples/blocks/convnext_cifar.yaml").read_text()
                                    .replace("  convnext_downsample: convnext_downsample.yaml\n",
                                             "").replace("  downsample: {type: "
                                                         "convnext_downsample}\n", ""))

    async def go() -> None:
        s = Session(cwd=folder)
        await s.start()
        child = s.open(folder / "child.yaml")
        base = s.open(folder / "base.yaml")
        assert await s.wait_diagnostics(child) == []
        await s.wait_diagnostics(base)
        s.replace(base, BASE.replace("strides: [1, 2, 2, 2]", "strides: [1, 2, 2, 4]"))
        await s.wait_diagnostics(base)
        for _ in range(100):  # the child is re-analysed against the base's unsaved text
            await asyncio.sleep(0.05)
            if "ARC302" in codes(s.diagnostics[child]):
                break
        assert "ARC302" in codes(s.diagnostics[child])
        # A block file open beside its spec: a broken op is reported in both.
        cx = s.open(folder / "cx.yaml")
        block = s.open(folder / "convnext.yaml")
        await s.wait_diagnostics(cx)
        assert await s.wait_diagnostics(block) == []
        s.replace(block, (folder / "convnext.yaml").read_text().replace("op: norm", "op: nrom"))
        assert "ARC105" in codes(await s.wait_diagnostics(block))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if "ARC105" in codes(s.diagnostics[cx]):
                break
        inherited = [d for d in s.diagnostics[cx] if d.code == "ARC105"]
        assert inherited and inherited[0].related_information
        assert inherited[0].related_information[0].location.uri == uri_of(folder / "convnext.yaml")
        # A base changed on disk, not open: the watched-files notice re-analyses the child.
        s.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
            lsp.TextDocumentIdentifier(base)))
        (folder / "base.yaml").write_text(BASE.replace("depths: [2, 2, 2, 2]", "depths: [2, 2]"))
        s.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
            [lsp.FileEvent(base, lsp.FileChangeType.Changed)]))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if "ARC110" in codes(s.diagnostics[child]):
                break
        assert "ARC110" in codes(s.diagnostics[child])
        await s.stop()
    run(go())


def test_validate_never_imports_the_server() -> None:
    # `archc lsp` imports pygls lazily: every other command runs without it.
    code = ("import sys, contextlib, io\nfrom archcompiler.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['validate', 'resnet18'])\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol')\n"
            "       or m.startswith('archcompiler.lsp')]\nassert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

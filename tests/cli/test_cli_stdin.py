"""`-` reads the spec from standard input, on every command that reads a spec (issue 21).

The spec on stdin is named `<stdin>` in diagnostics (file:line:col and the caret work as for a
file), and it is a file in the working directory: its relative `extends` and block-file paths
resolve there, and --allow-outside is needed to reach above it.
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, Cli, write_spec

NARROW = "extends: resnet50\nname: resnet50_narrow\nstages: {widths: [64, 128, 256, 256]}\n"
R59 = "extends: resnet50\nname: resnet59\nstages: {depths: [3, 4, 9, 3]}\n"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_reads_stdin_and_names_it(cli: Cli) -> None:
    res = cli("validate", "-", stdin=R59)
    assert res.rc == 0
    assert res.out == "ok: resnet59 (<stdin>): 28,908,584 params, 4.744 GMACs\n"


def test_diagnostics_point_into_stdin_with_a_caret(cli: Cli) -> None:
    res = cli("validate", "-", stdin=NARROW)
    assert res.rc == 1
    assert res.err.startswith(
        "<stdin>:3:33: error[ARC302]: layer4 halves the map but its output channels go "
        "1024 -> 1024, not 2048 (rule ii)\n"
        "    3 | stages: {widths: [64, 128, 256, 256]}\n"
        "      |                                 ^\n")
    assert res.out == "invalid: <stdin>: 1 error\n"


def test_the_json_of_stdin_is_the_json_of_the_same_file(cli: Cli, here: Path) -> None:
    write_spec(here, TINY, "tiny.yaml")
    from_file = json.loads(cli("summary", "tiny.yaml", "--json").out)
    from_stdin = json.loads(cli("summary", "-", "--json", stdin=TINY).out)
    assert from_stdin == from_file
    rows = json.loads(cli("validate", "-", "tiny.yaml", "--json", stdin=TINY).out)
    assert [r["spec"] for r in rows] == ["<stdin>", "tiny.yaml"]
    assert rows[0]["params"] == rows[1]["params"]


@pytest.mark.parametrize("argv", [
    ["summary", "-", "--depth", "stage"],
    ["explain", "-", "layer1.0.conv1"],
    ["table", "-", "resnet20"],
    ["diff", "resnet20", "-"],
    ["diff", "-", "resnet20"],
    ["sweep", "-", "--grid", "head.classes=10,100"],
    ["sample", "-", "--dist", "head.classes=uniform(2,9)", "--count", "3"],
])
def test_every_spec_command_reads_stdin(cli: Cli, argv: list[str]) -> None:
    res = cli(*argv, stdin="extends: resnet20\nname: from_stdin\n")
    assert res.rc == 0, res.err
    assert "from_stdin" in res.out or "from_stdin" in res.err


def test_diff_names_the_line_of_stdin(cli: Cli) -> None:
    res = cli("diff", "resnet20", "-", stdin="extends: resnet20\nname: r\n")
    assert "  name: resnet20 (resnet20.yaml:4) -> r (<stdin>:2)" in res.out


def test_render_and_build_read_stdin(cli: Cli, here: Path) -> None:
    res = cli("render", "-", "-o", "net.dot", stdin=TINY)
    assert res.rc == 0 and (here / "net.dot").read_text(encoding="utf-8").startswith("digraph")
    pytest.importorskip("torch")
    res = cli("build", "-", "-o", "net.pt", stdin=TINY)
    assert res.rc == 0, res.err
    assert res.out.startswith("wrote net.pt: tiny as state_dict")


def test_relative_extends_resolve_in_the_working_directory(cli: Cli, here: Path) -> None:
    write_spec(here, TINY, "base.yaml")
    assert cli("validate", "-", stdin="extends: ./base.yaml\nname: child\n").rc == 0
    (here / "sub").mkdir()
    write_spec(here / "sub", TINY, "base.yaml")
    assert cli("validate", "-", stdin="extends: sub/base.yaml\nname: child\n").rc == 0


def test_extends_above_the_working_directory_needs_allow_outside(cli: Cli, here: Path,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    write_spec(here, TINY, "base.yaml")
    (here / "work").mkdir()
    monkeypatch.chdir(here / "work")
    spec = "extends: ../base.yaml\nname: child\n"
    res = cli("validate", "-", stdin=spec)
    assert res.rc == 1
    assert res.err.startswith("<stdin>:1:10: error[ARC154]: '../base.yaml' lies outside the "
                              "spec's folder")
    assert cli("validate", "-", "--allow-outside", stdin=spec).rc == 0


def test_block_files_resolve_in_the_working_directory(cli: Cli, here: Path) -> None:
    block = (ROOT / "archcompiler" / "specs" / "blocks").glob("*.yaml")
    name = next(iter(sorted(block)))
    (here / "blocks").mkdir()
    (here / "blocks" / name.name).write_bytes(name.read_bytes())
    tag = name.stem
    spec = f"extends: resnet20\nname: r\nblocks: {{{tag}: blocks/{name.name}}}\n"
    assert cli("validate", "-", stdin=spec).rc == 0
    missing = cli("validate", "-", stdin=spec.replace("blocks/", "nowhere/"))
    assert missing.rc == 1
    assert f"error[ARC155]: cannot read '{here / 'nowhere' / name.name}'" in missing.err


def test_stdin_can_be_read_once(cli: Cli) -> None:
    for argv in (["diff", "-", "-"], ["validate", "-", "resnet20", "-"], ["table", "-", "-"],
                 ["render", "-", "-", "-o", "x.svg"]):
        res = cli(*argv, stdin=TINY)
        assert res.rc == 2 and res.out == ""
        assert "- (standard input) can be read only once" in res.err


def test_what_cannot_take_stdin_says_why(cli: Cli, here: Path) -> None:
    res = cli("render", "-", "-o", "x.html", "--watch", stdin=TINY)
    assert res.rc == 2 and "needs a file, not - (standard input)" in res.err
    res = cli("sweep", "-", "--grid", "head.classes=2,3", "--write", ".", stdin=TINY)
    assert res.rc == 2 and "a spec from standard input has no path to extend" in res.err
    assert list(here.iterdir()) == []


def test_no_stdin_is_a_usage_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", None)
    res = cli("validate", "-")
    assert res.rc == 2 and "this process has none" in res.err
    closed = io.TextIOWrapper(io.BytesIO(b""))
    closed.close()
    monkeypatch.setattr("sys.stdin", closed)
    res = cli("summary", "-")
    assert res.rc == 2 and "standard input cannot be read" in res.err


def test_a_terminal_on_stdin_is_told_how_to_end(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal(io.BytesIO(TINY.encode()), encoding="utf-8"))
    res = cli("validate", "-")
    assert res.rc == 0
    assert res.err == "archc: reading the spec from the terminal; end it with Ctrl-D\n"


def test_a_file_named_dash_is_read_as_dot_slash_dash(cli: Cli, here: Path) -> None:
    write_spec(here, TINY, "-")
    assert cli("validate", "./-").out == "ok: tiny (./-): 75,290 params, 0.012 GMACs\n"
    assert cli("validate", "-", stdin=R59).out.startswith("ok: resnet59 (<stdin>)")


def test_the_language_layer_never_touches_sys_stdin() -> None:
    """The CLI reads stdin and passes bytes and a name down; the layers below take text."""
    for path in (ROOT / "archcompiler").rglob("*.py"):
        if path.parts[-2] in ("cli", "lsp"):
            continue  # the CLI reads stdin; the language server speaks over it
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("stdin", "__stdin__"):
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} reads stdin")

"""`--json` on every command that prints data (issue 21): one JSON document on stdout, nothing
else there, messages and diagnostics on stderr, and the exit code the text output has."""

from __future__ import annotations

import json

import pytest

from archcompiler.cli import build_parser
from tests.conftest import BAD, ROOT, Cli

OK, ERR, MISSING = "resnet20", str(BAD / "rule_ii_width_not_doubled.yaml"), "no_such_spec.yaml"
NOTE = ROOT / "tests" / "data" / "note" / "resnet_note.py"
# Commands that print no data: a file written (build, render), a document that is JSON already
# (schema), a script (completion), a protocol (lsp).
NO_DATA = {"build", "render", "schema", "completion", "lsp"}
COMMANDS = {
    "validate": ["validate", "{}"],
    "summary": ["summary", "{}"],
    "explain": ["explain", "{}"],
    "table": ["table", "{}"],
    "diff": ["diff", "resnet20", "{}"],
    "sweep": ["sweep", "{}", "--grid", "head.classes=10,100"],
    "sample": ["sample", "{}", "--dist", "head.classes=uniform(2,9)", "--count", "2"],
    "list": ["list"],
}


def test_every_command_that_prints_data_takes_json() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    names = set(sub.choices)  # type: ignore[arg-type]
    for name, parser in sub.choices.items():  # type: ignore[union-attr]
        has = any("--json" in a.option_strings for a in parser._actions)
        assert has != (name in NO_DATA), name
    assert names == set(COMMANDS) | NO_DATA | {"compare"}


@pytest.mark.parametrize("spec", [OK, ERR, MISSING], ids=["valid", "errors", "missing"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_json_is_one_document_with_the_text_exit_code(cli: Cli, command: str, spec: str) -> None:
    if command == "list" and spec != OK:
        pytest.skip("list reads no spec")
    argv = [a.replace("{}", spec) for a in COMMANDS[command]]
    text = cli(*argv)
    res = cli(*argv, "--json")
    assert res.rc == text.rc
    data = json.loads(res.out)  # the whole of stdout: one document, nothing around it
    assert res.out.strip().startswith(("{", "["))
    assert isinstance(data, (dict, list))
    if spec == OK:
        assert res.rc == 0 and data
    assert "\033[" not in res.out


def test_validate_keeps_format_json_as_an_alias(cli: Cli) -> None:
    by_flag = cli("validate", OK, ERR, "--json")
    by_format = cli("validate", OK, ERR, "--format", "json")
    assert by_flag == by_format
    assert by_flag.rc == 1
    assert [r["valid"] for r in json.loads(by_flag.out)] == [True, False]


def test_table_json_holds_the_cells_and_integer_flops(cli: Cli) -> None:
    data = json.loads(cli("table", "resnet18", "resnet34", "--json").out)
    assert data["specs"] == ["resnet18", "resnet34"]
    assert data["flops"] == [1_814_073_344, 3_663_761_408]
    conv1 = data["rows"][0]
    assert conv1["layer"] == "conv1" and conv1["output_size"] == "112×112"
    assert len(conv1["cells"]) == 2
    text = cli("table", "resnet18", "resnet34").out
    for row in data["rows"]:
        for cell in row["cells"]:
            assert cell in text


def test_sweep_and_sample_with_nothing_kept_print_an_empty_list(cli: Cli) -> None:
    res = cli("sweep", "resnet20", "--grid", "head.classes=10,100", "--max-params", "1K", "--json")
    assert res.rc == 1 and json.loads(res.out) == [] and "no variant is left" in res.err
    res = cli("sample", "resnet20", "--dist", "head.classes=uniform(2,9)", "--count", "2",
              "--max-params", "1K", "--max-draws", "10", "--json")
    assert res.rc == 1 and json.loads(res.out) == []


def test_a_malformed_command_line_prints_no_json(cli: Cli) -> None:
    res = cli("sweep", "resnet20", "--grid", "nope=1,2", "--json")
    assert res.rc == 2 and res.out == ""


def test_compare_json(cli: Cli) -> None:
    pytest.importorskip("torch")
    res = cli("compare", f"{NOTE}:ResNet34", "resnet34", "--set", "conv_bias=true", "--set",
              "head.classes=10", "--json")
    assert res.rc == 0, res.err
    data = json.loads(res.out)
    assert data["structure_matches"] is True and data["outputs_equal"] is True
    assert data["spec"] == "resnet34" and data["divergence"] is None
    assert data["pairs"] > 0 and data["mapped_keys"] > 0 and data["missing_keys"] == []

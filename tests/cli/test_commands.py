"""The commands' outputs: validate's JSON, list, schema, summary at each depth (text and JSON),
--set on every spec command, and shell completion."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import archcompiler
from archcompiler.cli import main
from archcompiler.language.schema import json_schema
from archcompiler.language.zoo import builtin_names
from tests.conftest import BAD, ROOT, VARIANTS, run_cli, write_spec

Capsys = pytest.CaptureFixture[str]


def test_input_override(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "summary", "--json", "--input", "3x32x32", "resnet18")
    assert rc == 0
    data = json.loads(out)
    assert data["input_shape"] == [3, 32, 32]
    assert data["macs"] < archcompiler.analyze("resnet18").macs


def test_validate_json_for_errors(capsys: Capsys) -> None:
    rc, out, err = run_cli(capsys, "validate", "--format", "json", str(BAD / "unknown_key_top.yaml"),
                       "resnet18")
    assert rc == 1
    assert err == ""
    data = json.loads(out)
    assert [r["valid"] for r in data] == [False, True]
    bad, good = data
    assert bad["params"] is None
    diag = bad["diagnostics"][0]
    assert {k: diag[k] for k in ("code", "severity", "line", "col")} == \
        {"code": "ARC101", "severity": "error", "line": 3, "col": 1}
    assert diag["file"].endswith("unknown_key_top.yaml")
    assert diag["hint"] == "did you mean 'name'?"
    assert good["params"] == 11_689_512 and good["macs"] == 1_814_073_344
    assert good["diagnostics"] == []


def test_validate_json_for_warnings_and_missing_files(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "validate", "--format", "json",
                     str(VARIANTS / "base_bottleneck.yaml"), "missing.yaml")
    assert rc == 2
    warned, missing = json.loads(out)
    assert warned["valid"] is True
    assert [(d["code"], d["severity"]) for d in warned["diagnostics"]] == [("ARC305", "warning")]
    assert isinstance(warned["diagnostics"][0]["line"], int)
    assert missing["valid"] is False
    assert [d["code"] for d in missing["diagnostics"]] == ["ARC012"]
    assert missing["diagnostics"][0]["line"] is None


@pytest.mark.parametrize("stem", ["alias_bomb", "tag_python_object_apply", "not_utf8_latin1",
                                  "extends_cycle_a", "syntax_error_unclosed_bracket"])
def test_validate_json_for_hostile_files(stem: str, capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "validate", "--format", "json", str(BAD / f"{stem}.yaml"))
    assert rc == 1
    (result,) = json.loads(out)
    assert result["diagnostics"]
    for d in result["diagnostics"]:
        assert d["code"].startswith("ARC")
        assert isinstance(d["line"], int) and isinstance(d["col"], int)


def test_list_names_every_builtin(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "list")
    assert rc == 0
    header, *lines = out.splitlines()
    assert header.split() == ["name", "params", "MACs", "family", "description"]
    assert [line.split()[0] for line in lines] == builtin_names()
    for line in lines:
        assert len(line.split()) >= 5  # name, params, MACs, family and a description


def test_schema_prints_the_json_schema(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "schema")
    assert rc == 0
    assert json.loads(out) == json_schema()
    assert out == (ROOT / "archcompiler" / "schema" / "archcompiler.schema.json").read_text(encoding="utf-8")


def test_schema_to_a_file(tmp_path: Path, capsys: Capsys) -> None:
    target = tmp_path / "schema.json"
    assert run_cli(capsys, "schema", "-o", str(target))[0] == 0
    assert json.loads(target.read_text(encoding="utf-8")) == json_schema()


def test_schema_to_an_unwritable_place(tmp_path: Path, capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "schema", "-o", str(tmp_path / "no" / "such" / "dir" / "s.json"))
    assert rc == 2
    assert err.startswith("archc: error:")


def test_summary_json(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "summary", "resnet50", "--json")
    assert rc == 0
    data = json.loads(out)
    assert data["name"] == "resnet50"
    assert data["params"] == 25_557_032
    assert data["macs"] == 4_089_184_256
    assert data["input_shape"] == [3, 224, 224]
    assert data["output_shape"] == [1000]
    assert "multiply-accumulate" in data["mac_convention"]
    nodes = data["nodes"]
    assert nodes
    for node in nodes:
        assert {"name", "op", "output_shape", "params", "macs"} <= set(node)
    names = [n["name"] for n in nodes]
    assert "conv1" in names and "fc" in names and "layer4.2.conv3" in names
    assert len(set(names)) == len(names)
    assert sum(n["params"] for n in nodes) == data["params"]
    assert sum(n["macs"] for n in nodes) == data["macs"]
    conv1 = nodes[names.index("conv1")]
    assert (conv1["op"], conv1["output_shape"], conv1["params"]) == ("conv2d", [64, 112, 112], 9408)


def test_summary_text_states_the_mac_convention(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "summary", "resnet50")
    assert rc == 0
    assert archcompiler.MAC_CONVENTION in out
    assert "25,557,032" in out and "4,089,184,256" in out


@pytest.mark.parametrize("depth", ["stage", "block", "layer"])
def test_summary_depths(depth: str, capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "summary", "--depth", depth, "resnet18")
    assert rc == 0
    assert "11,689,512" in out
    assert ("layer1.0.conv1" in out) == (depth == "layer")


def test_summary_of_an_invalid_spec(capsys: Capsys) -> None:
    rc, out, err = run_cli(capsys, "summary", str(BAD / "zero_value.yaml"))
    assert rc == 1
    assert "error[ARC104]" in err
    assert out == ""


def test_summary_json_carries_rule_diagnostics(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "summary", "--json", str(BAD / "rule_ii_width_not_doubled.yaml"))
    assert rc == 1
    data = json.loads(out)
    assert ("ARC302", "error", 7) in [(d["code"], d["severity"], d["line"])
                                      for d in data["diagnostics"]]


def test_set_changes_validate_and_summary(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "validate", "resnet50", "--set", "stages.depths=[3,4,9,3]",
                     "--set", "name=resnet59")
    assert rc == 0 and "ok: resnet59 (resnet50): 28,908,584 params, 4.744 GMACs" in out
    rc, out, _ = run_cli(capsys, "summary", "resnet18", "--json", "--set", "head.classes=10")
    assert rc == 0 and json.loads(out)["output_shape"] == [10]


def test_set_applies_to_every_spec_of_validate(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "validate", "--format", "json", "resnet18", "resnet34",
                     "--set", "head.classes=10")
    assert rc == 0
    ref = {n: archcompiler.analyze(n, overrides=["head.classes=10"]).params
           for n in ("resnet18", "resnet34")}
    assert [r["params"] for r in json.loads(out)] == [ref["resnet18"], ref["resnet34"]]


@pytest.mark.parametrize(("override", "code", "where"), [
    ("head.clases=10", "ARC101", "<--set 1>:1:6"),
    ("head.classes", "ARC013", "<--set 1>:1:1"),
    ("head.classes=[1,", "ARC013", "<--set 1>:1:"),
    ("head.classes=0", "ARC104", "<--set 1>:1:14"),
    ("extends=resnet34", "ARC013", "<--set 1>:1:1"),
])
def test_bad_set_is_a_located_diagnostic(override: str, code: str, where: str,
                                         capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "summary", "resnet18", "--set", override)
    assert rc == 1
    assert f"error[{code}]" in err and where in err
    assert "Traceback" not in err


def test_set_reaches_build_and_render(tmp_path: Path, capsys: Capsys) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "r.pt"
    assert run_cli(capsys, "build", "resnet20", "-o", str(out), "--set", "head.classes=7")[0] == 0
    import torch

    assert torch.load(out, weights_only=True)["fc.weight"].shape == (7, 64)
    dot = tmp_path / "r.dot"
    assert run_cli(capsys, "render", "resnet20", "-o", str(dot), "--set", "stages.depths=[1,1,1]",
               "--detail", "block")[0] == 0
    text = dot.read_text(encoding="utf-8")
    assert "layer1.0" in text and "layer1.1" not in text


@pytest.mark.parametrize("depth", ["stage", "block", "layer"])
def test_summary_json_at_each_depth(depth: str, capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "summary", "resnet18", "--json", "--depth", depth)
    assert rc == 0
    data = json.loads(out)
    assert data["depth"] == depth and "nodes" not in data
    assert (data["params"], data["macs"]) == (11_689_512, 1_814_073_344)
    rows = data["rows"]
    assert sum(r["params"] for r in rows) == data["params"]
    assert sum(r["macs"] for r in rows) == data["macs"]
    names = [r["name"] for r in rows]
    expected = {"stage": 6, "block": 10, "layer": len(archcompiler.analyze("resnet18").nodes) - 1}
    assert len(rows) == expected[depth]
    assert names[0] in ("stem", "conv1") and ("layer4" in names) == (depth == "stage")
    for r in rows:
        assert set(r) == {"name", "kind", "output_shape", "params", "macs"}


def test_summary_json_without_depth_keeps_every_node(capsys: Capsys) -> None:
    data = json.loads(run_cli(capsys, "summary", "resnet18", "--json")[1])
    assert "nodes" in data and "rows" not in data and data["nodes"][0]["name"] == "input"


def test_list_json_has_costs_and_families(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "list", "--json")
    assert rc == 0
    records = {r["name"]: r for r in json.loads(out)}
    assert list(records) == builtin_names()
    assert (records["resnet50"]["params"], records["resnet50"]["macs"]) == \
        (25_557_032, 4_089_184_256)
    families = {name: r["family"] for name, r in records.items()}
    assert families["resnet50"] == "ResNet"
    assert families["resnet20"] == "ResNet, CIFAR"
    assert families["plain20"] == "plain net, CIFAR"
    assert families["preact_resnet18"] == "pre-activation ResNet"
    assert families["se_resnext50_32x4d"] == "SE ResNeXt"
    assert families["wide_resnet50_2"] == "wide ResNet"
    assert families["wrn28_10"] == "pre-activation wide ResNet, CIFAR"
    assert families["resnet50d"] == "ResNet-D" and families["resnet50c"] == "ResNet-C"
    assert families["resnet50_v1"] == "ResNet, v1"
    assert all(r["description"] for r in records.values())


def test_family_follows_the_structure_not_the_name(tmp_path: Path) -> None:
    from archcompiler.report.summary import traits

    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet50
        name: resnet50
        stages: {shortcut: none, block: {groups: 32, width_per_group: 4}}
    """)
    assert traits(archcompiler.analyze(spec)) == ["plain", "ResNeXt"]


def test_list_table_shows_costs(capsys: Capsys) -> None:
    out = run_cli(capsys, "list")[1]
    line = next(x for x in out.splitlines() if x.startswith("resnet50 "))
    assert "25.56M" in line and "4.089G" in line and "ResNet" in line


def test_completion_bash_names_commands_and_zoo(capsys: Capsys) -> None:
    pytest.importorskip("shtab")
    rc, out, _ = run_cli(capsys, "completion", "bash")
    assert rc == 0
    for word in ("validate", "summary", "build", "render", "diff", "sweep", "list", "completion",
                 "--grid", "--set", "--weights", "resnet50", "wrn28_10"):
        assert word in out


def test_completion_bash_completes_specs_in_bash(tmp_path: Path, capsys: Capsys) -> None:
    pytest.importorskip("shtab")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    script = tmp_path / "archc.bash"
    script.write_text(run_cli(capsys, "completion", "bash")[1], encoding="utf-8")
    probe = (f'source {script}; COMP_WORDS=(archc summary resnet5); COMP_CWORD=2; _shtab_archc; '
             'printf "%s\\n" "${COMPREPLY[@]}"; COMP_WORDS=(archc sw); COMP_CWORD=1; '
             '_shtab_archc; printf "%s\\n" "${COMPREPLY[@]}"')
    proc = subprocess.run([bash, "-c", probe], capture_output=True, text=True, timeout=30,
                          cwd=tmp_path)
    words = proc.stdout.split()
    assert "resnet50" in words and "resnet56" in words and "sweep" in words


def test_completion_zsh(capsys: Capsys) -> None:
    pytest.importorskip("shtab")
    rc, out, _ = run_cli(capsys, "completion", "zsh")
    assert rc == 0 and out.startswith("#compdef archc") and "resnet50" in out


def test_completion_without_shtab_is_a_clear_error(capsys: Capsys,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setitem(sys.modules, "shtab", None)  # import shtab now raises ImportError
    rc, _, err = run_cli(capsys, "completion", "bash")
    assert rc == 2 and "archcompiler[completion]" in err


def test_completion_of_an_unknown_shell_is_a_usage_error(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["completion", "fish"])
    assert info.value.code == 2
    capsys.readouterr()

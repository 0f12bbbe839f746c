"""`archc diff A B` and explore/diff.py: stage tables, differing fields and diagnostics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcompiler
from archcompiler.cli import main
from archcompiler.explore.diff import diff_reports, human, resolved_fields, stage_facts, to_json
from tests.conftest import BAD, run_cli, write_spec

Capsys = pytest.CaptureFixture[str]



def test_stage_facts_add_up_to_the_totals() -> None:
    report = archcompiler.analyze("resnet50")
    facts = stage_facts(report)
    assert list(facts) == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert sum(f.params for f in facts.values()) == report.params
    assert sum(f.macs for f in facts.values()) == report.macs
    layer3 = facts["layer3"]
    assert (layer3.depth, layer3.width, layer3.stride, layer3.output_shape) == \
        (6, 256, 2, (1024, 14, 14))


def test_deeper_stage_diff() -> None:
    a = archcompiler.analyze("resnet50")
    b = archcompiler.analyze("resnet50", overrides=["stages.depths=[3,4,9,3]"])
    d = diff_reports(a, b)
    rows = {r.name: r for r in d.stages}
    assert rows["layer3"].a.depth == 6 and rows["layer3"].b.depth == 9  # type: ignore[union-attr]
    assert rows["layer2"].a == rows["layer2"].b
    (field,) = d.fields
    assert (field.field, field.a, field.b) == ("layer3.depth", 6, 9)
    assert field.a_at == "resnet34.yaml:6" and field.b_at == "<--set 1>:1"
    assert [x.code for x in d.only_b] == ["ARC306"] and d.only_a == []
    data = to_json(d)
    assert data["total"] == {
        "params": {"abs": b.params - a.params, "pct": round(100 * (b.params - a.params) / a.params, 2)},
        "macs": {"abs": b.macs - a.macs, "pct": round(100 * (b.macs - a.macs) / a.macs, 2)}}
    layer3 = next(s for s in data["stages"] if s["name"] == "layer3")  # type: ignore[union-attr]
    assert layer3["delta"]["depth"] == {"abs": 3, "pct": 50.0}


def test_cli_diff_text(tmp_path: Path, capsys: Capsys) -> None:
    spec = write_spec(tmp_path, """
        extends: resnet50
        name: resnet50_wide_head
        head: {classes: 10, dropout: 0.2}
        stages: {widths: [64, 128, 256, 512], block: {groups: 2}}
    """, "b.yaml")
    rc, out, err = run_cli(capsys, "diff", "resnet50", str(spec))
    assert rc == 0 and err == ""
    assert out.startswith("A: resnet50 (input 3x224x224)    B: resnet50_wide_head")
    lines = out.splitlines()
    header = next(x for x in lines if x.startswith("stage "))
    for col in ("depth", "width", "stride", "output", "params A", "params B", "MACs A", "MACs B"):
        assert col in header
    head = next(x for x in lines if x.startswith("head "))
    assert "1000 -> 10" in head and "2.049M" in head and "-99.0%" in head
    assert f"  head.classes: 1000 (resnet18.yaml:17) -> 10 ({spec}:3)" in out
    # Never written in the base: its default, not the line of the mapping around it.
    assert f"  head.dropout: 0.0 (default) -> 0.2 ({spec}:3)" in out
    assert f"  layer1.block.groups: 1 (resnet50.yaml:8) -> 2 ({spec}:4)" in out
    assert "  name: resnet50 (resnet50.yaml:5) -> resnet50_wide_head" in out
    assert "7 fields differ:" in out
    assert ".width" not in out  # an explicit list equal to the rule's widths is no difference
    assert out.rstrip().endswith("diagnostics: A 0 errors, 0 warnings; B 0 errors, 0 warnings")


def test_cli_diff_json_matches_the_backend(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "diff", "resnet18", "resnet34", "--json", "--input", "3x64x64")
    assert rc == 0
    data = json.loads(out)
    want = to_json(diff_reports(archcompiler.analyze("resnet18", (3, 64, 64)),
                                archcompiler.analyze("resnet34", (3, 64, 64))))
    assert data == json.loads(json.dumps(want))
    assert data["a"]["input_shape"] == [3, 64, 64] and data["b"]["name"] == "resnet34"
    depth = {s["name"]: s["delta"]["depth"] for s in data["stages"]}
    assert depth["layer2"] == {"abs": 2, "pct": 100.0} and depth["stem"] is None
    assert {f["field"] for f in data["fields"]} >= {"name", "layer1.depth", "layer4.depth"}


def test_diff_of_different_stage_counts(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "diff", "resnet20", "resnet18", "--input", "3x32x32")
    assert rc == 0
    layer4 = next(x for x in out.splitlines() if x.startswith("layer4"))
    assert "(absent) -> 2" in layer4
    assert "layer4.depth: (absent) (default) -> 2" in out
    data = json.loads(run_cli(capsys, "diff", "resnet20", "resnet18", "--json")[1])
    row = next(s for s in data["stages"] if s["name"] == "layer4")
    assert row["a"] is None and row["b"]["depth"] == 2 and row["delta"]["params"] is None


def test_diff_of_a_spec_with_itself(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "diff", "resnet18", "resnet18")
    assert rc == 0 and "no resolved field differs" in out and "only in" not in out
    assert "(+" not in out and "(-" not in out


def test_set_a_and_set_b(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "diff", "resnet18", "resnet18", "--set", "head.classes=10",
                     "--set-b", "stages.shortcut=A", "--json")
    assert rc == 0
    data = json.loads(out)
    assert data["a"]["output_shape"] == [10] == data["b"]["output_shape"]
    fields = {f["field"]: f for f in data["fields"]}
    assert fields["layer2.shortcut"]["a"] == "B" and fields["layer2.shortcut"]["b"] == "A"
    assert fields["layer2.shortcut"]["b_at"] == "<--set 2>:1"


def test_rule_diagnostics_one_side_only(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "diff", "resnet50", str(BAD / "rule_ii_width_not_doubled.yaml"))
    assert rc == 1  # B has errors: the diff is shown, and scripts see that it failed
    assert "only in B: error[ARC302]" in out and "rule_ii_width_not_doubled.yaml:7" in out


@pytest.mark.parametrize(("argv", "code"), [
    (["diff", "resnet18", "no_such_spec"], 2),
    (["diff", str(BAD / "zero_value.yaml"), "resnet18"], 1),
    (["diff", "resnet18", "resnet18", "--set-b", "head.clases=3"], 1),
    (["diff", "resnet18", "resnet18", "--input", "224x224x3"], 2),
])
def test_diff_bad_inputs(argv: list[str], code: int, capsys: Capsys) -> None:
    rc, out, err = run_cli(capsys, *argv)
    assert rc == code and err.strip() and "Traceback" not in err
    assert out == ""
    rc, out, _ = run_cli(capsys, *argv, "--json")
    assert rc == code
    if out:
        assert json.loads(out)["compared"] is False


def test_diff_needs_two_specs(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["diff", "resnet18"])
    assert info.value.code == 2
    capsys.readouterr()


def test_resolved_fields_are_located() -> None:
    fields = resolved_fields(archcompiler.analyze("se_resnet50"))
    value, span = fields["layer1.block.se_reduction"]
    assert value == 16 and span is not None and span.file.endswith("se_resnet50.yaml")
    assert fields["rules.double_on_halve"][0] == "error"


def test_human_numbers() -> None:
    assert [human(n) for n in (512, 9536, 25_557_032, 4_089_184_256, -3_352_064)] == \
        ["512", "9.536K", "25.56M", "4.089G", "-3.352M"]


def test_readme_diff_example_is_current(tmp_path: Path, capsys: Capsys,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ archc diff resnet50 my_resnet.yaml\n"
    shown = readme[readme.index(command) + len(command):]
    shown = shown[:shown.index("```")]
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path, """
        extends: resnet50
        name: resnet59
        stages: {depths: [3, 4, 9, 3]}
    """, "my_resnet.yaml")
    rc, out, _ = run_cli(capsys, "diff", "resnet50", "my_resnet.yaml")
    assert rc == 0 and out == shown


def test_derived_values_name_the_line_that_set_them(tmp_path: Path) -> None:
    """Drop path per stage comes from stages.drop_path, where the user wrote it; a padding that
    follows a new kernel comes from that kernel; set booleans are not '(default)'."""
    spec = write_spec(tmp_path, """
        extends: resnet50
        name: resnet50_dp
        description: stochastic depth
        stages:
          depths: [3, 4, 6, 3]
          drop_path: 0.1
        conv_bias: true
        stem: {conv: {kernel: 5}}
    """)
    fields = {f.field: f for f in diff_reports(archcompiler.analyze("resnet50"),
                                               archcompiler.analyze(spec)).fields}
    assert fields["layer2.drop_path"].b == 0.04  # 0.1 * 7 / 15 without float noise
    assert fields["layer2.drop_path"].b_at == f"{spec}:6"
    assert fields["layer1.drop_path"].a_at is None  # the default
    assert (fields["conv_bias"].a_at, fields["conv_bias"].b_at) == (None, f"{spec}:7")
    assert fields["stem.padding"].b == 2 and fields["stem.padding"].b_at == f"{spec}:8"

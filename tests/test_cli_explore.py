"""Exploring from the command line: --set, summary depths as JSON, list, --version, --debug,
channels-last inputs, shell completion, and the build format chosen by the output suffix."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import archcompiler
from archcompiler import cli
from archcompiler.cli import main
from archcompiler.language.zoo import builtin_names

from .conftest import write_spec

Capsys = pytest.CaptureFixture[str]


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


# --set on every spec command


def test_set_changes_validate_and_summary(capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "validate", "resnet50", "--set", "stages.depths=[3,4,9,3]",
                     "--set", "name=resnet59")
    assert rc == 0 and "ok: resnet59 (resnet50): 28,908,584 params, 4.744 GMACs" in out
    rc, out, _ = run(capsys, "summary", "resnet18", "--json", "--set", "head.classes=10")
    assert rc == 0 and json.loads(out)["output_shape"] == [10]


def test_set_applies_to_every_spec_of_validate(capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "validate", "--format", "json", "resnet18", "resnet34",
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
    rc, _, err = run(capsys, "summary", "resnet18", "--set", override)
    assert rc == 1
    assert f"error[{code}]" in err and where in err
    assert "Traceback" not in err


def test_set_reaches_build_and_render(tmp_path: Path, capsys: Capsys) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "r.pt"
    assert run(capsys, "build", "resnet20", "-o", str(out), "--set", "head.classes=7")[0] == 0
    import torch

    assert torch.load(out, weights_only=True)["fc.weight"].shape == (7, 64)
    dot = tmp_path / "r.dot"
    assert run(capsys, "render", "resnet20", "-o", str(dot), "--set", "stages.depths=[1,1,1]",
               "--detail", "block")[0] == 0
    text = dot.read_text(encoding="utf-8")
    assert "layer1.0" in text and "layer1.1" not in text


# summary --json --depth


@pytest.mark.parametrize("depth", ["stage", "block", "layer"])
def test_summary_json_at_each_depth(depth: str, capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "summary", "resnet18", "--json", "--depth", depth)
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
    data = json.loads(run(capsys, "summary", "resnet18", "--json")[1])
    assert "nodes" in data and "rows" not in data and data["nodes"][0]["name"] == "input"


# list


def test_list_json_has_costs_and_families(capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "list", "--json")
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
    out = run(capsys, "list")[1]
    line = next(x for x in out.splitlines() if x.startswith("resnet50 "))
    assert "25.56M" in line and "4.089G" in line and "ResNet" in line


# --version and --debug


def test_version_comes_from_the_metadata(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.strip() == f"archc {archcompiler.__version__}"
    try:
        assert archcompiler.__version__ == importlib.metadata.version("archcompiler")
    except importlib.metadata.PackageNotFoundError:
        assert archcompiler.__version__ == "0.0.0+unknown"


def _boom(args: object) -> int:
    raise RuntimeError("simulated bug")


@pytest.mark.parametrize(("argv", "env", "traceback"), [
    (["summary", "resnet18"], None, False),
    (["--debug", "summary", "resnet18"], None, True),
    (["summary", "--debug", "resnet18"], None, True),
    (["summary", "resnet18"], "1", True),
    (["summary", "resnet18"], "0", False),
])
def test_internal_error_traceback_only_when_debugging(
        argv: list[str], env: str | None, traceback: bool, capsys: Capsys,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.HANDLERS, "summary", _boom)
    if env is None:
        monkeypatch.delenv("ARCHC_DEBUG", raising=False)
    else:
        monkeypatch.setenv("ARCHC_DEBUG", env)
    rc, out, err = run(capsys, *argv)
    assert rc == 3
    assert "archc: internal error: RuntimeError: simulated bug" in err
    assert "please report it" in err
    assert ("Traceback (most recent call last)" in err) == traceback
    assert ("--debug" in err) != traceback  # the hint is given only when it is not in use
    assert out == ""


# --input in the wrong order


@pytest.mark.parametrize(("given", "suggested"), [("224x224x3", "3x224x224"),
                                                  ("32x32x3", "3x32x32"),
                                                  ("64x48x1", "1x64x48")])
def test_channels_last_input_is_refused_with_the_fix(given: str, suggested: str,
                                                     capsys: Capsys) -> None:
    rc, _, err = run(capsys, "summary", "resnet18", "--input", given)
    assert rc == 2
    assert f"did you mean --input {suggested}?" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("shape", ["3x224x224", "1x28x28", "256x14x14", "128x4x4", "16x32x3"])
def test_channels_first_inputs_pass(shape: str, capsys: Capsys) -> None:
    rc, _, err = run(capsys, "validate", "resnet20", "--input", shape)
    assert "looks like height x width x channels" not in err
    assert rc in (0, 1)  # tiny maps may break design rules; they are not usage errors


# completion


def test_completion_bash_names_commands_and_zoo(capsys: Capsys) -> None:
    pytest.importorskip("shtab")
    rc, out, _ = run(capsys, "completion", "bash")
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
    script.write_text(run(capsys, "completion", "bash")[1], encoding="utf-8")
    probe = (f'source {script}; COMP_WORDS=(archc summary resnet5); COMP_CWORD=2; _shtab_archc; '
             'printf "%s\\n" "${COMPREPLY[@]}"; COMP_WORDS=(archc sw); COMP_CWORD=1; '
             '_shtab_archc; printf "%s\\n" "${COMPREPLY[@]}"')
    proc = subprocess.run([bash, "-c", probe], capture_output=True, text=True, timeout=30,
                          cwd=tmp_path)
    words = proc.stdout.split()
    assert "resnet50" in words and "resnet56" in words and "sweep" in words


def test_completion_zsh(capsys: Capsys) -> None:
    pytest.importorskip("shtab")
    rc, out, _ = run(capsys, "completion", "zsh")
    assert rc == 0 and out.startswith("#compdef archc") and "resnet50" in out


def test_completion_without_shtab_is_a_clear_error(capsys: Capsys,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "shtab", None)  # import shtab now raises ImportError
    rc, _, err = run(capsys, "completion", "bash")
    assert rc == 2 and "archcompiler[completion]" in err


def test_completion_of_an_unknown_shell_is_a_usage_error(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["completion", "fish"])
    assert info.value.code == 2
    capsys.readouterr()


# build: the output suffix and --format agree


@pytest.mark.parametrize(("argv", "message"), [
    (["-o", "x.onnx", "--format", "state_dict"], "does not match --format state_dict"),
    (["-o", "x.pt", "--format", "onnx"], "name the file with .onnx"),
    (["-o", "x.pt2", "--format", "state_dict"], "does not match"),
    (["-o", "x.bin"], "the suffix names no build format"),
])
def test_build_suffix_and_format_must_agree(argv: list[str], message: str, tmp_path: Path,
                                            capsys: Capsys, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "build", "resnet20", *argv)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_build_weights_file_must_exist(tmp_path: Path, capsys: Capsys) -> None:
    rc, _, err = run(capsys, "build", "resnet20", "-o", str(tmp_path / "x.pt"), "--weights",
                     str(tmp_path / "missing.pth"))
    assert rc == 2 and "--weights" in err and "no such file" in err

"""The `archc` command line: exit codes, JSON output, list, schema, summary and `python -m`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import archcompiler
from archcompiler.cli import main
from archcompiler.language.schema import json_schema
from archcompiler.language.zoo import builtin_names

from .conftest import BAD, ROOT, VARIANTS, write_spec

Capsys = pytest.CaptureFixture[str]


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def python_m(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "archcompiler", *argv], capture_output=True,
                          text=True, timeout=60, cwd=cwd or ROOT, env=env)


# Exit codes


def test_valid_spec_exits_0(capsys: Capsys) -> None:
    rc, out, err = run(capsys, "validate", "resnet50")
    assert rc == 0
    assert out.startswith("ok: resnet50 (resnet50): 25,557,032 params, 4.089 GMACs")
    assert err == ""


def test_warnings_still_exit_0(capsys: Capsys) -> None:
    spec = str(VARIANTS / "base_bottleneck.yaml")
    rc, out, err = run(capsys, "validate", spec)
    assert rc == 0
    assert "warning[ARC305]" in err
    assert "error[" not in err
    assert out.strip().endswith("1 warning")


def test_spec_errors_exit_1(capsys: Capsys) -> None:
    rc, out, err = run(capsys, "validate", str(BAD / "zero_value.yaml"))
    assert rc == 1
    assert "zero_value.yaml:8:17: error[ARC104]" in err
    assert out.startswith("invalid: ")


def test_design_rule_errors_exit_1(capsys: Capsys) -> None:
    rc, _, err = run(capsys, "validate", str(BAD / "rule_ii_width_not_doubled.yaml"))
    assert rc == 1
    assert "error[ARC302]" in err


@pytest.mark.parametrize("argv", [
    ["validate", "no/such/spec.yaml"],
    ["validate", "resnet5"],
    ["validate", "tests"],
    ["summary", "no_such.yaml"],
    ["summary", "--json", "no_such.yaml"],
    ["validate", "--input", "3x0x224", "resnet18"],
    ["validate", "--input", "banana", "resnet18"],
    ["summary", "--input", "3x224", "resnet18"],
    ["summary", "--input=-3x224x224", "resnet18"],
])
def test_usage_and_io_errors_exit_2(argv: list[str], capsys: Capsys) -> None:
    rc, out, err = run(capsys, *argv)
    assert rc == 2
    assert "Traceback" not in out + err
    assert err.strip()


def test_missing_file_suggests_a_name(capsys: Capsys) -> None:
    rc, _, err = run(capsys, "validate", "resnt50")
    assert rc == 2
    assert "error[ARC012]" in err
    assert "did you mean 'resnet50'?" in err


def test_bad_input_is_one_line(capsys: Capsys) -> None:
    rc, _, err = run(capsys, "validate", "--input", "3x0x224", "resnet18")
    assert rc == 2
    assert err.startswith("archc: error: --input 3x0x224: height must be above 0")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["validate"], ["summary"],
                                  ["validate", "--format", "xml", "resnet18"]])
def test_argparse_errors_exit_2(argv: list[str], capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    capsys.readouterr()


def test_worst_exit_code_wins(capsys: Capsys) -> None:
    assert run(capsys, "validate", "resnet18", "resnet34")[0] == 0
    assert run(capsys, "validate", "resnet18", str(BAD / "zero_value.yaml"))[0] == 1
    rc, out, _ = run(capsys, "validate", str(BAD / "zero_value.yaml"), "nope.yaml", "resnet18")
    assert rc == 2
    assert "ok: resnet18" in out


def test_internal_errors_exit_3_without_a_traceback(capsys: Capsys,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("archcompiler.language.load.resolve", boom)
    monkeypatch.delenv("ARCHC_DEBUG", raising=False)
    rc, out, err = run(capsys, "validate", "resnet18")
    assert rc == 3
    assert "internal error: RuntimeError: simulated bug" in err
    assert "Traceback" not in out + err


def test_allow_outside_flag(capsys: Capsys) -> None:
    spec = str(BAD / "extends_outside_folder.yaml")
    rc, _, err = run(capsys, "validate", spec)
    assert rc == 1 and "error[ARC154]" in err and "--allow-outside" in err
    assert run(capsys, "validate", "--allow-outside", spec)[0] == 0
    assert run(capsys, "summary", "--allow-outside", spec)[0] == 0


def test_input_override(capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "summary", "--json", "--input", "3x32x32", "resnet18")
    assert rc == 0
    data = json.loads(out)
    assert data["input_shape"] == [3, 32, 32]
    assert data["macs"] < archcompiler.analyze("resnet18").macs


# JSON output


def test_validate_json_for_errors(capsys: Capsys) -> None:
    rc, out, err = run(capsys, "validate", "--format", "json", str(BAD / "unknown_key_top.yaml"),
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
    rc, out, _ = run(capsys, "validate", "--format", "json",
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
    rc, out, _ = run(capsys, "validate", "--format", "json", str(BAD / f"{stem}.yaml"))
    assert rc == 1
    (result,) = json.loads(out)
    assert result["diagnostics"]
    for d in result["diagnostics"]:
        assert d["code"].startswith("ARC")
        assert isinstance(d["line"], int) and isinstance(d["col"], int)


# list, schema, summary


def test_list_names_every_builtin(capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "list")
    assert rc == 0
    header, *lines = out.splitlines()
    assert header.split() == ["name", "params", "MACs", "family", "description"]
    assert [line.split()[0] for line in lines] == builtin_names()
    for line in lines:
        assert len(line.split()) >= 5  # name, params, MACs, family and a description


def test_schema_prints_the_json_schema(capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "schema")
    assert rc == 0
    assert json.loads(out) == json_schema()
    assert out == (ROOT / "archcompiler" / "schema" / "archcompiler.schema.json").read_text(encoding="utf-8")


def test_schema_to_a_file(tmp_path: Path, capsys: Capsys) -> None:
    target = tmp_path / "schema.json"
    assert run(capsys, "schema", "-o", str(target))[0] == 0
    assert json.loads(target.read_text(encoding="utf-8")) == json_schema()


def test_schema_to_an_unwritable_place(tmp_path: Path, capsys: Capsys) -> None:
    rc, _, err = run(capsys, "schema", "-o", str(tmp_path / "no" / "such" / "dir" / "s.json"))
    assert rc == 2
    assert err.startswith("archc: error:")


def test_summary_json(capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "summary", "resnet50", "--json")
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
    rc, out, _ = run(capsys, "summary", "resnet50")
    assert rc == 0
    assert archcompiler.MAC_CONVENTION in out
    assert "25,557,032" in out and "4,089,184,256" in out


@pytest.mark.parametrize("depth", ["stage", "block", "layer"])
def test_summary_depths(depth: str, capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "summary", "--depth", depth, "resnet18")
    assert rc == 0
    assert "11,689,512" in out
    assert ("layer1.0.conv1" in out) == (depth == "layer")


def test_summary_of_an_invalid_spec(capsys: Capsys) -> None:
    rc, out, err = run(capsys, "summary", str(BAD / "zero_value.yaml"))
    assert rc == 1
    assert "error[ARC104]" in err
    assert out == ""


def test_summary_json_carries_rule_diagnostics(capsys: Capsys) -> None:
    rc, out, _ = run(capsys, "summary", "--json", str(BAD / "rule_ii_width_not_doubled.yaml"))
    assert rc == 1
    data = json.loads(out)
    assert ("ARC302", "error", 7) in [(d["code"], d["severity"], d["line"])
                                      for d in data["diagnostics"]]


# python -m and the installed script


def test_python_m_help() -> None:
    proc = python_m("--help")
    assert proc.returncode == 0
    for word in ("validate", "summary", "build", "render", "diff", "sweep", "list", "schema",
                 "completion", "--version", "--debug"):
        assert word in proc.stdout


def test_python_m_validate_and_exit_codes(tmp_path: Path) -> None:
    assert python_m("validate", "resnet18").returncode == 0
    proc = python_m("validate", str(BAD / "duplicate_key.yaml"))
    assert proc.returncode == 1
    assert "duplicate_key.yaml:4:1: error[ARC004]" in proc.stderr
    assert python_m("validate", "nope.yaml", cwd=tmp_path).returncode == 2


@pytest.mark.skipif(shutil.which("archc", path=str(Path(sys.executable).parent)) is None,
                    reason="the archc script is not installed next to this interpreter")
def test_archc_script() -> None:
    script = shutil.which("archc", path=str(Path(sys.executable).parent))
    assert script is not None
    proc = subprocess.run([script, "list"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "resnet50" in proc.stdout


@pytest.mark.slow
def test_non_editable_install_ships_the_zoo(tmp_path: Path) -> None:
    # Build from a copy so the checkout gains no build/ folder.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "archcompiler", src / "archcompiler", ignore=ignore)
    shutil.copytree(ROOT / "archcompiler" / "specs", src / "specs", ignore=ignore)
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", str(src), "--no-deps",
                          "--no-build-isolation", "--target", str(target), "-q"],
                         capture_output=True, text=True, timeout=120)
    # A failed install is a failure of this test, never a skip.
    assert pip.returncode == 0, f"pip could not build the package: {pip.stderr[-500:]}"
    code = ("import archcompiler, archcompiler.language.zoo as z; "
            f"assert archcompiler.__file__.startswith({str(target)!r}), archcompiler.__file__; "
            "names = z.builtin_names(); print(len(names)); "
            "print(archcompiler.analyze('resnet50').params)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=60, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    count, params = proc.stdout.split()
    assert int(count) == len(builtin_names())
    assert int(params) == 25_557_032


def test_block_type_messages_name_the_choices(tmp_path: Path, capsys: Capsys) -> None:
    spec = write_spec(tmp_path, "spec_version: 1\nname: x\nstages: {block: {}, depths: [1], widths: [8]}\n",
                      "b.yaml")
    rc, _, err = run(capsys, "validate", str(spec))
    assert rc == 1 and "one of basic, bottleneck" in err and "add `type: basic`" in err
    write_spec(tmp_path, "spec_version: 1\nname: x\nstages: {block: basic, depths: [1], widths: [8]}\n",
               "b.yaml")
    rc, _, err = run(capsys, "validate", str(spec))
    assert rc == 1 and "write {type: basic}" in err


def test_a_closed_pipe_is_not_an_error() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        f"{sys.executable} -m archcompiler summary resnet1202 --depth layer | head -1",
        shell=True, capture_output=True, text=True, executable="/bin/bash")
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("argv", "message"), [
    (["render", "resnet20", "-o", "."], "use a file ending in"),
    (["render", "resnet20", "-o", "made/by/mistake/x.jpg"], "use a file ending in"),
    (["build", "resnet20", "-o", "."], "is a folder"),
    (["build", "resnet20", "-o", "{tmp}"], "is a folder"),
])
def test_bad_output_paths_are_usage_errors_before_any_work(
        argv: list[str], message: str, tmp_path: Path, capsys: Capsys,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert rc == 2 and message in err and "internal error" not in err
    assert not (tmp_path / "made").exists()


def test_seed_out_of_range_is_a_usage_error(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["build", "resnet20", "-o", "x.pt", "--seed", "99999999999999999999"])
    assert info.value.code == 2
    assert "must be from 0 to 2**63 - 1" in capsys.readouterr().err


def test_input_with_other_channels_says_the_first_conv_changes(capsys: Capsys) -> None:
    rc, _, err = run(capsys, "summary", "resnet18", "--input", "1x224x224", "--depth", "stage")
    assert rc == 0 and "first conv changes" in err

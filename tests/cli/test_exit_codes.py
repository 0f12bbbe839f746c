"""`archc` exit codes and errors: 0 clean, 1 spec or rule errors, 2 usage and I/O, 3 internal (a
traceback only with --debug), refused arguments and inputs, each with the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archcompiler import cli
from archcompiler.cli import main
from tests.conftest import BAD, VARIANTS, run_cli, write_spec

Capsys = pytest.CaptureFixture[str]

def _boom(args: object) -> int:
    raise RuntimeError("simulated bug")


def test_valid_spec_exits_0(capsys: Capsys) -> None:
    rc, out, err = run_cli(capsys, "validate", "resnet50")
    assert rc == 0
    assert out.startswith("ok: resnet50 (resnet50): 25,557,032 params, 4.089 GMACs")
    assert err == ""


def test_warnings_still_exit_0(capsys: Capsys) -> None:
    spec = str(VARIANTS / "base_bottleneck.yaml")
    rc, out, err = run_cli(capsys, "validate", spec)
    assert rc == 0
    assert "warning[ARC305]" in err
    assert "error[" not in err
    assert out.strip().endswith("1 warning")


def test_spec_errors_exit_1(capsys: Capsys) -> None:
    rc, out, err = run_cli(capsys, "validate", str(BAD / "zero_value.yaml"))
    assert rc == 1
    assert "zero_value.yaml:8:17: error[ARC104]" in err
    assert out.startswith("invalid: ")


def test_design_rule_errors_exit_1(capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "validate", str(BAD / "rule_ii_width_not_doubled.yaml"))
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
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2
    assert "Traceback" not in out + err
    assert err.strip()


def test_missing_file_suggests_a_name(capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "validate", "resnt50")
    assert rc == 2
    assert "error[ARC012]" in err
    assert "did you mean 'resnet50'?" in err


def test_bad_input_is_one_line(capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "validate", "--input", "3x0x224", "resnet18")
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
    assert run_cli(capsys, "validate", "resnet18", "resnet34")[0] == 0
    assert run_cli(capsys, "validate", "resnet18", str(BAD / "zero_value.yaml"))[0] == 1
    rc, out, _ = run_cli(capsys, "validate", str(BAD / "zero_value.yaml"), "nope.yaml", "resnet18")
    assert rc == 2
    assert "ok: resnet18" in out


def test_internal_errors_exit_3_without_a_traceback(capsys: Capsys,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("archcompiler.language.load.resolve", boom)
    monkeypatch.delenv("ARCHC_DEBUG", raising=False)
    rc, out, err = run_cli(capsys, "validate", "resnet18")
    assert rc == 3
    assert "internal error: RuntimeError: simulated bug" in err
    assert "Traceback" not in out + err


def test_allow_outside_flag(capsys: Capsys) -> None:
    spec = str(BAD / "extends_outside_folder.yaml")
    rc, _, err = run_cli(capsys, "validate", spec)
    assert rc == 1 and "error[ARC154]" in err and "--allow-outside" in err
    assert run_cli(capsys, "validate", "--allow-outside", spec)[0] == 0
    assert run_cli(capsys, "summary", "--allow-outside", spec)[0] == 0


def test_block_type_messages_name_the_choices(tmp_path: Path, capsys: Capsys) -> None:
    spec = write_spec(tmp_path, "spec_version: 1\nname: x\nstages: {block: {}, depths: [1], widths: [8]}\n",
                      "b.yaml")
    rc, _, err = run_cli(capsys, "validate", str(spec))
    assert rc == 1 and "one of basic, bottleneck" in err and "add `type: basic`" in err
    write_spec(tmp_path, "spec_version: 1\nname: x\nstages: {block: basic, depths: [1], widths: [8]}\n",
               "b.yaml")
    rc, _, err = run_cli(capsys, "validate", str(spec))
    assert rc == 1 and "write {type: basic}" in err


def test_a_closed_pipe_is_not_an_error() -> None:

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
    rc, _, err = run_cli(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert rc == 2 and message in err and "internal error" not in err
    assert not (tmp_path / "made").exists()


def test_seed_out_of_range_is_a_usage_error(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["build", "resnet20", "-o", "x.pt", "--seed", "99999999999999999999"])
    assert info.value.code == 2
    assert "must be from 0 to 2**63 - 1" in capsys.readouterr().err


def test_input_with_other_channels_says_the_first_conv_changes(capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "summary", "resnet18", "--input", "1x224x224", "--depth", "stage")
    assert rc == 0 and "first conv changes" in err


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
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 3
    assert "archc: internal error: RuntimeError: simulated bug" in err
    assert "please report it" in err
    assert ("Traceback (most recent call last)" in err) == traceback
    assert ("--debug" in err) != traceback  # the hint is given only when it is not in use
    assert out == ""


@pytest.mark.parametrize(("given", "suggested"), [("224x224x3", "3x224x224"),
                                                  ("32x32x3", "3x32x32"),
                                                  ("64x48x1", "1x64x48")])
def test_channels_last_input_is_refused_with_the_fix(given: str, suggested: str,
                                                     capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "summary", "resnet18", "--input", given)
    assert rc == 2
    assert f"did you mean --input {suggested}?" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("shape", ["3x224x224", "1x28x28", "256x14x14", "128x4x4", "16x32x3"])
def test_channels_first_inputs_pass(shape: str, capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "validate", "resnet20", "--input", shape)
    assert "looks like height x width x channels" not in err
    assert rc in (0, 1)  # tiny maps may break design rules; they are not usage errors


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
    rc, _, err = run_cli(capsys, "build", "resnet20", *argv)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_build_weights_file_must_exist(tmp_path: Path, capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "build", "resnet20", "-o", str(tmp_path / "x.pt"), "--weights",
                     str(tmp_path / "missing.pth"))
    assert rc == 2 and "--weights" in err and "no such file" in err

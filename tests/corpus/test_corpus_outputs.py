"""The hostile corpus, outputs section: every command that writes, pointed at the wrong place.

The output-path policy (archcompiler/core/outputs.py): a target is checked before any work (its
folder exists and takes files, it is not a folder), it is never an input of the same run (the
spec, a base in its chain, a weights file, the sweep's base), files written into `--write DIR`
never land outside DIR, and an error names the user's path, never a temporary file.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import TINY, run_cli, write_spec

Capsys = pytest.CaptureFixture[str]



def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding a spec chain (net.yaml extends base.yaml), as the working directory."""
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path, TINY, "base.yaml")
    write_spec(tmp_path, "extends: ./base.yaml\nname: net\n", "net.yaml")
    return tmp_path


# (argv, what the error must say); each must exit 2 before any work, changing no file.
REFUSED = {
    "build_onto_its_spec": (["build", "net.yaml", "-o", "net.yaml", "--format", "state_dict"],
                            "is an input of this run"),
    "build_onto_a_base": (["build", "net.yaml", "-o", "base.yaml", "--format", "state_dict"],
                          "is an input of this run"),
    "render_onto_its_spec": (["render", "spec.dot", "-o", "spec.dot"], "is an input of this run"),
    "build_into_a_folder": (["build", "net.yaml", "-o", "sub"], "is a folder"),
    "build_no_such_folder": (["build", "net.yaml", "-o", "no/such/dir/x.pt"], "no such folder"),
    "build_into_proc": (["build", "net.yaml", "-o", "/proc/x.pt"], "does not take new files"),
    "render_into_proc": (["render", "net.yaml", "-o", "/proc/x.svg"], "does not take new files"),
    "schema_into_proc": (["schema", "-o", "/proc/x.json"], "does not take new files"),
    "schema_into_a_folder": (["schema", "-o", "sub"], "is a folder"),
    "plot_no_such_folder": (["sweep", "net.yaml", "--grid", "head.classes=2,3", "--plot",
                             "/no/such/dir/x.png"], "no such folder"),
    "plot_onto_its_spec": (["sweep", "net.yaml", "--grid", "head.classes=2,3", "--plot",
                            "net.svg"], ""),
    "write_into_proc": (["sweep", "net.yaml", "--grid", "head.classes=2,3", "--write",
                         "/proc/x"], "does not take new files"),
    "write_onto_a_file": (["sweep", "net.yaml", "--grid", "head.classes=2,3", "--write",
                           "net.yaml"], "is a file"),
    # net-c2.yaml is named `net`: its variant with head.classes=2 would be net-c2.yaml itself.
    "sweep_replaces_its_base": (["sweep", "net-c2.yaml", "--grid", "head.classes=2,3", "--write",
                                 "."], "would replace"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_before_any_work(case: str, work: Path, capsys: Capsys) -> None:
    (work / "sub").mkdir()
    shutil.copy(work / "net.yaml", work / "spec.dot")  # a spec whose name is an output's
    write_spec(work, "extends: ./base.yaml\nname: net\n", "net-c2.yaml")
    if case == "plot_onto_its_spec":  # a spec named like an image
        (work / "net.svg").write_text((work / "net.yaml").read_text(), encoding="utf-8")
        argv = ["sweep", "net.svg", "--grid", "head.classes=2,3", "--plot", "net.svg"]
    else:
        argv = REFUSED[case][0]
    before = _snapshot(work)
    start = time.perf_counter()
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 2, err
    assert time.perf_counter() - start < 5
    assert REFUSED[case][1] in err
    assert ".tmp" not in err and "Traceback" not in err
    assert _snapshot(work) == before  # nothing written, nothing replaced


@pytest.mark.slow
def test_unsafe_names_never_write_outside(work: Path, capsys: Capsys) -> None:
    for name in ("/tmp/x", "../../x", "a/b", ".hidden", "-dash", "x" * 101, ""):
        write_spec(work, f"extends: ./base.yaml\nname: {json.dumps(name)}\n", "evil.yaml")
        (work / "out").mkdir(exist_ok=True)
        before = _snapshot(work.parent)
        rc, _, err = run_cli(capsys, "sweep", "evil.yaml", "--grid", "head.classes=2,3", "--write",
                         "out")
        assert rc == 1, err
        assert "error[ARC156]" in err and "evil.yaml:2:" in err  # located at the name
        assert _snapshot(work.parent) == before


def test_dot_failure_keeps_an_existing_dot_file(work: Path, capsys: Capsys,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake = work / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho broken >&2\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    (work / "net.dot").write_text("my own diagram\n", encoding="utf-8")
    rc, _, err = run_cli(capsys, "render", "net.yaml", "-o", "net.svg")
    assert rc == 4
    assert (work / "net.dot").read_text(encoding="utf-8") == "my own diagram\n"
    assert "not kept" in err and "left as it was" in err
    (work / "net.dot").unlink()
    rc, _, err = run_cli(capsys, "render", "net.yaml", "-o", "net.svg")
    assert rc == 4 and (work / "net.dot").exists()  # with no file in the way, it is kept


def test_dot_timeout_has_its_own_exit_code(work: Path, capsys: Capsys,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fake = work / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nexec {shutil.which('sleep') or '/bin/sleep'} 30\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    start = time.perf_counter()
    rc, _, err = run_cli(capsys, "render", "net.yaml", "-o", "net.svg", "--dot-timeout", "0.5")
    assert rc == 5, err
    assert time.perf_counter() - start < 10
    assert "did not lay out" in err and "--dot-timeout" in err and not (work / "net.svg").exists()


def test_render_collapses_above_the_node_bound(work: Path, capsys: Capsys) -> None:
    rc, out, err = run_cli(capsys, "render", "resnet110", "-o", "r.svg", "--detail", "layer",
                       "--max-drawn", "100")
    assert rc == 0, err
    assert "drew" in err and "stage detail" in err and "(stage detail)" in out
    assert (work / "r.svg").stat().st_size > 0


def test_errors_name_the_users_path_not_a_temp_file(work: Path, capsys: Capsys,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import archcompiler.core.fileio as fileio

    real = os.replace

    def full(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError(28, "No space left on device", str(src))

    monkeypatch.setattr(fileio.os, "replace", full)
    rc, _, err = run_cli(capsys, "schema", "-o", "schema.json")
    monkeypatch.setattr(fileio.os, "replace", real)
    assert rc == 2 and "schema.json: No space left on device" in err and ".tmp" not in err
    assert not list(work.glob(".*.tmp"))


def test_written_variants_reparse_whatever_the_set_values_hold(work: Path,
                                                               capsys: Capsys) -> None:
    (work / "v").mkdir()
    rc, _, err = run_cli(capsys, "sweep", "net.yaml", "--grid", "head.classes=2,3", "--set",
                     'description="line one\\nline two\\u2028three\\r# not a comment"',
                     "--write", "v")
    assert rc == 0, err
    files = sorted((work / "v").glob("*.yaml"))
    assert len(files) == 2
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0].startswith("# archc sweep")
        data = yaml.safe_load(text)
        assert data["name"] in ("net-c2", "net-c3") and data["extends"] == "../net.yaml"
        rc, _, err = run_cli(capsys, "validate", str(path), "--allow-outside")
        assert rc == 0, err


def test_sweep_json_has_no_nan(work: Path, capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "sweep", "net.yaml", "--grid", "head.dropout=0.1,.nan,.inf",
                     "--json")
    assert rc == 0

    def refuse(word: str) -> None:
        raise AssertionError(f"bare {word} in the JSON")

    rows = json.loads(out, parse_constant=refuse)
    assert {json.dumps(r["overrides"]["head.dropout"]) for r in rows} == \
        {"0.1", '"NaN"', '"Infinity"'}


def test_a_long_name_is_cut_when_echoed(work: Path, capsys: Capsys) -> None:
    (work / "long.yaml").write_text("extends: ./base.yaml\nname: " + "a" * 900_000 + "\n",
                                    encoding="utf-8")
    for argv in (["validate", "long.yaml"], ["validate", "long.yaml", "--format", "json"],
                 ["summary", "long.yaml"], ["sweep", "long.yaml", "--grid", "head.classes=2"]):
        rc, out, err = run_cli(capsys, *argv)
        assert rc in (0, 1, 2)
        assert len(out) + len(err) < 5_000, argv


def test_the_api_render_follows_the_policy(work: Path) -> None:
    import archcompiler

    with pytest.raises(ValueError, match="no such folder"):
        archcompiler.render("resnet20", "no/such/dir/x.svg")
    (work / "net.dot").write_text((work / "net.yaml").read_text(), encoding="utf-8")
    before = _snapshot(work)
    with pytest.raises(ValueError, match="is an input"):
        archcompiler.render(str(work / "net.dot"), work / "net.dot")
    assert _snapshot(work) == before

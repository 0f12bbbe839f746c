"""`archc` as installed: `python -m archcompiler`, the console script, a non-editable install, and
--version from the metadata."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import archcompiler
from archcompiler.cli import main
from archcompiler.language.zoo import builtin_names
from tests.conftest import BAD, ROOT

pytestmark = pytest.mark.slow  # new processes and a pip install

Capsys = pytest.CaptureFixture[str]

def python_m(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "archcompiler", *argv], capture_output=True,
                          text=True, timeout=60, cwd=cwd or ROOT, env=env)


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

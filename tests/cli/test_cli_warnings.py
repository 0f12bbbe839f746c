"""No stray third-party warnings on the main paths (issue 21): `archc build` in a venv without
NumPy printed torch's "Failed to initialize NumPy" UserWarning on every run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Runs `archc ARGV...` (or, with --many, each ';'-separated command line) as if NumPy were not
# installed: None in sys.modules makes `import numpy` fail, as a missing package does.
WITHOUT_NUMPY = """
import sys
sys.modules["numpy"] = None
argv = sys.argv[1:]
if argv[:1] == ["--many"]:
    from archcompiler.cli import main
    for line in " ".join(argv[1:]).split(";"):
        rc = main(line.split())
        print(f"rc {rc}: {line.strip()}", file=sys.stderr)
    sys.exit(0)
sys.argv = ["archc", *argv]
from archc_launch import main
sys.exit(main())
"""


def _run(args: list[str], cwd: Path, code: str = WITHOUT_NUMPY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-W", "default", "-c", code, *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


@pytest.mark.slow  # a build in a new process
def test_build_prints_no_warning_without_numpy(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    control = _run([], tmp_path, 'import sys; sys.modules["numpy"] = None; import torch')
    if "Failed to initialize NumPy" not in control.stderr:
        pytest.skip("this torch does not warn without NumPy: nothing to silence")
    proc = _run(["build", "resnet18", "-o", "x.pt"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("wrote x.pt: resnet18 as state_dict")
    assert "Warning" not in proc.stderr, proc.stderr
    assert proc.stderr == ""


@pytest.mark.slow  # each main command in a new process
def test_the_main_paths_print_no_warning(tmp_path: Path) -> None:
    """validate, summary, explain, diff, list, sweep, render (image and page), build with a
    check, and the language server's start, all in one process."""
    commands = ["validate resnet50", "summary resnet50", "explain resnet18 conv1",
                "diff resnet18 resnet34", "list", "sweep resnet20 --grid head.classes=2,3",
                "render resnet18 -o r.svg", "render resnet18 -o r.html"]
    if _has("torch"):
        commands += ["build resnet20 -o x.pt --check"]
    if _has("pygls"):
        commands += ["lsp"]  # stdin is empty: the server starts, reads the end, and stops
    proc = _run(["--many", ";".join(commands)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    assert proc.stderr.count("rc 0") == len(commands), proc.stderr


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True

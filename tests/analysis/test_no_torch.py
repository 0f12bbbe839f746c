"""Validation, analysis, summaries, diffs and sweeps never import torch (nor the other optional
backends)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
import contextlib, io, sys
import archcompiler
from archcompiler.cli import main

archcompiler.load_spec('resnet50')
archcompiler.analyze('resnet152')
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    assert main(['validate', 'resnet50']) == 0
    assert main(['summary', 'resnet50']) == 0
    assert main(['summary', '--json', '--depth', 'layer', 'resnet18']) == 0
    assert main(['list']) == 0
    assert main(['schema']) == 0
    assert main(['validate', '--format', 'json', 'resnet20', 'wide_resnet50_2']) == 0
    assert main(['validate', 'resnet18', '--set', 'head.classes=10']) == 0
    assert main(['summary', '--json', '--depth', 'stage', 'resnet50']) == 0
    assert main(['list', '--json']) == 0
    assert main(['diff', 'resnet18', 'resnet34']) == 0
    assert main(['diff', '--json', 'resnet50', 'se_resnet50', '--set-b', 'head.classes=10']) == 0
    assert main(['sweep', 'resnet20', '--grid', 'stages.depths=[1,1,1],[2,2,2]',
                 '--grid', 'head.classes=10,100', '--csv']) == 0
    assert main(['sweep', 'resnet50', '--grid', 'stages.depths.3=1,2', '--json',
                 '--max-params', '30M', '--valid-only']) == 0
heavy = sorted(m for m in sys.modules
               if m.split('.')[0] in ('torch', 'torchvision', 'graphviz', 'numpy'))
print('HEAVY', heavy)
assert 'torch' not in sys.modules
"""


def test_static_pipeline_never_imports_torch() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout

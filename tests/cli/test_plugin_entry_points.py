"""An installed package declares its block modules in the `archcompiler.blocks` entry points."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.cli.test_plugins import PLUGIN  # the same user module, installed as a package here
from tests.conftest import write_spec


def test_an_installed_entry_point_registers_its_blocks(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "twinblocks").mkdir(parents=True)
    (site / "twinblocks" / "__init__.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    dist = site / "twinblocks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: twinblocks\nVersion: 1.0\n",
                                   encoding="utf-8")
    (dist / "entry_points.txt").write_text("[archcompiler.blocks]\nwide = twinblocks\n",
                                           encoding="utf-8")
    spec = write_spec(tmp_path, "extends: resnet20\nname: resnet20_wide\n"
                                "stages: {block: {type: wide_basic}}\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("ARCHC_PLUGINS", None)
    done = subprocess.run([sys.executable, "-m", "archcompiler", "validate", str(spec)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ok: resnet20_wide" in done.stdout

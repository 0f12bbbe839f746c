"""Python blocks from the command line: `--plugin`, ARCHC_PLUGINS, and what a spec may never do.

Each case runs `python -m archcompiler` in a fresh process, so a registration never leaks into
another test, and the plugin module sits in the test's own folder as a user's would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import write_spec

PLUGIN = '''
from typing import Literal

from pydantic import Field

from archcompiler import register_block
from archcompiler.blocks import BlockBuilder, BlockConfig, BlockType


class WideBasicConfig(BlockConfig):
    """Two 5x5 convs."""

    type: Literal["wide_basic"] = Field(description="Block type tag.")


@register_block
class WideBasic(BlockType[WideBasicConfig]):
    """Two 5x5 convs and the residual ending."""

    config = WideBasicConfig
    module_class = "BasicBlock"

    def lower(self, cfg: WideBasicConfig, x: str, g: BlockBuilder) -> str:
        """conv 5x5 - BN - act - conv 5x5 - BN, then the shortcut."""
        b = g.block
        h = g.act("relu1", g.bn("bn1", g.conv("conv1", x, b.in_channels, b.out_channels, 5,
                                              b.stride), b.out_channels))
        h = g.bn("bn2", g.conv("conv2", h, b.out_channels, b.out_channels, 5), b.out_channels)
        return g.residual(h, x)


class BrokenConfig(BlockConfig):
    """A block whose lowering has a bug."""

    type: Literal["broken"] = Field(description="Block type tag.")


@register_block
class Broken(BlockType[BrokenConfig]):
    """Divides by zero while lowering."""

    config = BrokenConfig
    module_class = "BasicBlock"

    def lower(self, cfg: BrokenConfig, x: str, g: BlockBuilder) -> str:
        """A bug of the user's own."""
        return str(1 // 0)
'''


def _archc(folder: Path, *argv: str, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    full.pop("ARCHC_PLUGINS", None) if env is None else None
    return subprocess.run([sys.executable, "-m", "archcompiler", *argv], cwd=folder, env=full,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "myblocks.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    write_spec(tmp_path, """
        extends: resnet20
        name: resnet20_5x5
        stages: {block: {type: wide_basic}}
    """, "wide.yaml")
    write_spec(tmp_path, """
        extends: resnet20
        name: resnet20_broken
        stages: {block: {type: broken}}
    """, "broken.yaml")
    return tmp_path


def test_plugin_loads_a_python_block(folder: Path) -> None:
    done = _archc(folder, "--plugin", "myblocks", "summary", "wide.yaml")
    assert done.returncode == 0, done.stderr
    assert "wide_basic" in done.stdout


def test_without_the_plugin_the_tag_is_unknown(folder: Path) -> None:
    done = _archc(folder, "validate", "wide.yaml")
    assert done.returncode == 1 and "error[ARC105]: unknown block type 'wide_basic'" in done.stderr


def test_the_environment_variable_loads_plugins(folder: Path) -> None:
    done = _archc(folder, "validate", "wide.yaml", env={"ARCHC_PLUGINS": "myblocks"})
    assert done.returncode == 0, done.stderr


def test_a_spec_that_names_a_module_is_refused_and_imports_nothing(folder: Path) -> None:
    write_spec(folder, """
        extends: resnet20
        name: resnet20_code
        stages: {block: {type: "myblocks:WideBasic"}}
    """, "code.yaml")
    (folder / "myblocks.py").write_text("open('pwned', 'w').close()\n", encoding="utf-8")
    done = _archc(folder, "validate", "code.yaml")
    assert done.returncode == 1
    assert "code.yaml:3:24: error[ARC107]" in done.stderr and "--plugin" in done.stderr
    assert not (folder / "pwned").exists()


def test_an_error_inside_a_python_block_names_the_block_and_its_file(folder: Path) -> None:
    done = _archc(folder, "--plugin", "myblocks", "validate", "broken.yaml")
    assert done.returncode == 1, done.stderr
    assert "error[ARC170]" in done.stderr and "block type 'broken'" in done.stderr
    assert "myblocks.py" in done.stderr and "ZeroDivisionError" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_a_plugin_that_fails_to_import_is_a_usage_error(folder: Path) -> None:
    (folder / "bad.py").write_text("raise RuntimeError('no')\n", encoding="utf-8")
    done = _archc(folder, "--plugin", "bad", "validate", "wide.yaml")
    assert done.returncode == 2 and "--plugin bad: importing it failed: RuntimeError: no" in \
        done.stderr
    done = _archc(folder, "--plugin", "../x", "validate", "wide.yaml")
    assert done.returncode == 2 and "not a module name" in done.stderr

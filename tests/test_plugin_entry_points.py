"""An installed package declares its block modules in the `archcompiler.blocks` entry points."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import write_spec

PLUGIN = '''
from typing import Literal
from pydantic import Field
from archcompiler import register_block
from archcompiler.blocks import BlockBuilder, BlockConfig, BlockType


class TwinConfig(BlockConfig):
    """Two 3x3 convs."""

    type: Literal["twin"] = Field(description="Block type tag.")


@register_block
class Twin(BlockType[TwinConfig]):
    """Two 3x3 convs and the residual ending."""

    config = TwinConfig
    module_class = "BasicBlock"

    def lower(self, cfg: TwinConfig, x: str, g: BlockBuilder) -> str:
        """conv - BN - act - conv - BN, then the shortcut."""
        b = g.block
        h = g.act("relu1", g.bn("bn1", g.conv("conv1", x, b.in_channels, b.out_channels, 3,
                                              b.stride), b.out_channels))
        h = g.bn("bn2", g.conv("conv2", h, b.out_channels, b.out_channels, 3), b.out_channels)
        return g.residual(h, x)
'''


def test_an_installed_entry_point_registers_its_blocks(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "twinblocks").mkdir(parents=True)
    (site / "twinblocks" / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    dist = site / "twinblocks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: twinblocks\nVersion: 1.0\n",
                                   encoding="utf-8")
    (dist / "entry_points.txt").write_text("[archcompiler.blocks]\ntwin = twinblocks\n",
                                           encoding="utf-8")
    spec = write_spec(tmp_path, "extends: resnet20\nname: resnet20_twin\n"
                                "stages: {block: {type: twin}}\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("ARCHC_PLUGINS", None)
    done = subprocess.run([sys.executable, "-m", "archcompiler", "validate", str(spec)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ok: resnet20_twin" in done.stdout

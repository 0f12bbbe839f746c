"""The basic block: two 3x3 convolutions (He et al. 2015, Fig. 5 left; torchvision's BasicBlock)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import BlockBuilder, BlockConfig, BlockType, register_block


class BasicBlock(BlockConfig):
    """Two 3x3 convolutions (He et al. 2015, Fig. 5 left); expansion 1."""

    type: Literal["basic"] = Field(description="Block type tag.")


@register_block
class Basic(BlockType[BasicBlock]):
    """conv3x3 (strided) - BN - act - conv3x3 - BN, plus the shortcut, then act."""

    config = BasicBlock
    module_class = "BasicBlock"

    def lower(self, cfg: BasicBlock, x: str, g: BlockBuilder) -> str:
        """Lower the two convs and the residual ending."""
        b = g.block
        c = b.out_channels
        h = g.conv("conv1", x, b.in_channels, c, 3, b.stride)
        h = g.bn("bn1", h, c)
        h = g.act("relu1", h)
        h = g.conv("conv2", h, c, c, 3)
        h = g.bn("bn2", h, c, residual_last=True)
        return g.residual(h, x)

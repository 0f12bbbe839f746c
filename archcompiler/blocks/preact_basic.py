"""The pre-activation basic block (He et al. 2016, "Identity Mappings in Deep Residual Networks").

BN, act, 3x3 conv, BN, act, [dropout], 3x3 conv, then the shortcut is added and nothing follows:
the next unit normalises its own input. A projection (or zero-pad) reads the pre-activated input
and has no BN of its own, as in timm's resnetv2 and the wide ResNets (Zagoruyko and Komodakis
2016, whose blocks add dropout between the convs).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..ir.ops import Dropout
from .base import BlockBuilder, BlockConfig, BlockType, register_block


class PreactBasicBlock(BlockConfig):
    """Two pre-activated 3x3 convs (He et al. 2016); expansion 1. WRN's block with `dropout`."""

    type: Literal["preact_basic"] = Field(description="Block type tag.")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="Dropout between the two convs (wide ResNets use 0.3); 0 adds no layer.")


@register_block
class PreactBasic(BlockType[PreactBasicBlock]):
    """bn1 - act - conv1 (strided) - bn2 - act - [dropout] - conv2, plus the shortcut."""

    config = PreactBasicBlock
    module_class = "PreActBasicBlock"

    def lower(self, cfg: PreactBasicBlock, x: str, g: BlockBuilder) -> str:
        """Lower the pre-activated convs; the add ends the block."""
        b = g.block
        c = b.out_channels
        pre = g.act("relu1", g.bn("bn1", x, b.in_channels))
        h = g.conv("conv1", pre, b.in_channels, c, 3, b.stride)
        h = g.act("relu2", g.bn("bn2", h, c))
        if cfg.dropout > 0:
            h = g.op("dropout", Dropout(cfg.dropout), (h,))
        h = g.conv("conv2", h, c, c, 3)
        return g.join(h, g.shortcut(x, source=pre, norm=False))

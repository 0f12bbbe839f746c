"""The bottleneck block: 1x1 reduce, 3x3, 1x1 expand (He et al. 2015, Fig. 5 right).

Grouped (ResNeXt) and wide variants are the same block with other `groups` and
`width_per_group`; `downsample_at` chooses the paper's v1 or torchvision's v1.5 layout.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from .base import BlockBuilder, BlockConfig, BlockType, register_block


class BottleneckBlock(BlockConfig):
    """1x1 reduce, 3x3, 1x1 expand (He et al. 2015, Fig. 5 right)."""

    type: Literal["bottleneck"] = Field(description="Block type tag.")
    expansion: Annotated[int, Field(gt=0, le=64)] = Field(
        4, description="Output channels = width x expansion.")
    downsample_at: Literal["1x1", "3x3"] = Field(
        "3x3", description="Where the stride sits: '1x1' is the paper's v1, '3x3' torchvision's v1.5.")
    groups: Annotated[int, Field(gt=0, le=1024)] = Field(
        1, description="Groups of the 3x3 conv (ResNeXt cardinality).")
    width_per_group: Annotated[int, Field(gt=0, le=4096)] = Field(
        64, description="Inner width = int(width x width_per_group / 64) x groups, as torchvision.")


@register_block
class Bottleneck(BlockType[BottleneckBlock]):
    """conv1x1 - BN - act - conv3x3 (grouped) - BN - act - conv1x1 - BN, shortcut, act."""

    config: ClassVar[type[BlockConfig]] = BottleneckBlock
    module_class = "Bottleneck"
    inner_hint = "raise the width or width_per_group so width x width_per_group >= 64"

    def expansion(self, cfg: BottleneckBlock) -> int:
        """out_channels = width x expansion."""
        return cfg.expansion

    def inner_channels(self, cfg: BottleneckBlock, width: int) -> int:
        """torchvision's rule: int(width x width_per_group / 64) x groups."""
        return int(width * (cfg.width_per_group / 64.0)) * cfg.groups

    def lower(self, cfg: BottleneckBlock, x: str, g: BlockBuilder) -> str:
        """Lower the three convs and the residual ending."""
        return g.residual(self.body(cfg, x, g), x)

    def body(self, cfg: BottleneckBlock, x: str, g: BlockBuilder) -> str:
        """The main path up to bn3, for the variants that add something before the shortcut."""
        b = g.block
        mid = self.inner_channels(cfg, b.width)
        # v1 (the paper, Caffe) strides the first 1x1; v1.5 (torchvision) strides the 3x3.
        s1, s2 = (b.stride, 1) if cfg.downsample_at == "1x1" else (1, b.stride)
        h = g.conv("conv1", x, b.in_channels, mid, 1, s1)
        h = g.bn("bn1", h, mid)
        h = g.act("relu1", h)
        h = g.conv("conv2", h, mid, mid, 3, s2, groups=cfg.groups)
        h = g.bn("bn2", h, mid)
        h = g.act("relu2", h)
        h = g.conv("conv3", h, mid, b.out_channels, 1)
        return g.bn("bn3", h, b.out_channels, residual_last=True)

"""The pre-activation bottleneck (He et al. 2016): BN-act before each of the 1x1, 3x3 and 1x1
convs, no activation after the add, and a projection that reads the pre-activated input without
a BN of its own. Layout and names as timm's resnetv2 (`norm1..3` there are `bn1..3` here).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import BlockBuilder, register_block
from .bottleneck import Bottleneck, BottleneckBlock


class PreactBottleneckBlock(BottleneckBlock):
    """1x1, 3x3, 1x1, each pre-activated (He et al. 2016); widths as the bottleneck's."""

    type: Literal["preact_bottleneck"] = Field(description="Block type tag.")  # type: ignore[assignment]


@register_block
class PreactBottleneck(Bottleneck):
    """bn1 - act - conv1 - bn2 - act - conv2 (strided) - bn3 - act - conv3, plus the shortcut."""

    config = PreactBottleneckBlock
    module_class = "PreActBottleneck"

    def lower(self, cfg: BottleneckBlock, x: str, g: BlockBuilder) -> str:
        """Lower the pre-activated convs; the add ends the block."""
        b = g.block
        mid = self.inner_channels(cfg, b.width)
        s1, s2 = (b.stride, 1) if cfg.downsample_at == "1x1" else (1, b.stride)
        pre = g.act("relu1", g.bn("bn1", x, b.in_channels))
        h = g.conv("conv1", pre, b.in_channels, mid, 1, s1)
        h = g.act("relu2", g.bn("bn2", h, mid))
        h = g.conv("conv2", h, mid, mid, 3, s2, groups=cfg.groups)
        h = g.act("relu3", g.bn("bn3", h, mid))
        h = g.conv("conv3", h, mid, b.out_channels, 1)
        return g.join(h, g.shortcut(x, source=pre, norm=False))

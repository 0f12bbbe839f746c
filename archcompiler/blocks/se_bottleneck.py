"""The squeeze-and-excitation bottleneck (Hu et al. 2018): a bottleneck whose output is scaled
per channel by a gate learnt from its global average, before the shortcut is added.

The SE convs are a side branch (role `branch`): rule (ii)'s per-layer cost and the layer count
of ARC306 see only the bottleneck's own convs. Names follow timm's `seresnet50`: `se.fc1`,
`se.fc2`, so its state_dict loads as it is.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..ir.graph import Role
from ..ir.ops import GlobalAvgPool, Mul
from .base import BlockBuilder, register_block
from .bottleneck import Bottleneck, BottleneckBlock


class SEBottleneckBlock(BottleneckBlock):
    """A bottleneck with squeeze-and-excitation (Hu et al. 2018) before the shortcut add."""

    type: Literal["se_bottleneck"] = Field(description="Block type tag.")  # type: ignore[assignment]
    se_reduction: Annotated[int, Field(gt=0, le=1024)] = Field(
        16, description="Squeeze ratio r: the SE branch is out_channels / r wide.")
    se_divisor: Annotated[int, Field(gt=0, le=256)] = Field(
        1, description="Round the squeezed width to a multiple of this (half up, at least the "
                       "divisor); timm uses 8.")


def squeezed_channels(channels: int, reduction: int, divisor: int) -> int:
    """timm's make_divisible(channels / reduction, divisor)."""
    return max(divisor, int(channels / reduction + divisor / 2) // divisor * divisor)


def squeeze_excite(g: BlockBuilder, x: str, channels: int, reduction: int, divisor: int) -> str:
    """Append an SE branch that gates `x` (global pool, 1x1 down, act, 1x1 up, sigmoid, x)."""
    mid = squeezed_channels(channels, reduction, divisor)
    w = g.op("se.pool", GlobalAvgPool(), (x,), role=Role.BRANCH)
    w = g.conv("se.fc1", w, channels, mid, 1, bias=True, role=Role.BRANCH)
    w = g.act("se.relu", w, module="se.relu", role=Role.BRANCH)
    w = g.conv("se.fc2", w, mid, channels, 1, bias=True, role=Role.BRANCH)
    w = g.act("se.gate", w, module="se.gate", role=Role.BRANCH, kind="sigmoid")
    return g.op("se.scale", Mul(), (x, w), module=None)


@register_block
class SEBottleneck(Bottleneck):
    """The bottleneck's main path, an SE gate on its output, then shortcut, add and act."""

    config = SEBottleneckBlock
    module_class = "Bottleneck"  # timm's SE-ResNets are Bottlenecks with an `se` module

    def lower(self, cfg: BottleneckBlock, x: str, g: BlockBuilder) -> str:
        """Lower the bottleneck body, the SE gate and the residual ending."""
        assert isinstance(cfg, SEBottleneckBlock)
        h = self.body(cfg, x, g)
        h = squeeze_excite(g, h, g.block.out_channels, cfg.se_reduction, cfg.se_divisor)
        return g.residual(h, x)

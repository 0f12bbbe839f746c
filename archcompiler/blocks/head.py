"""The head: the layers after the last stage, lowered with the same builder as every block.

ResNet's head is a global average pool and an fc; a pre-activation net first applies a final
norm and activation; MobileNetV2 first widens with a 1x1 conv (to 1280 channels); ConvNeXt
normalises the pooled features (`head.norm` in timm) before the fc.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.diagnostics import Span
from ..ir.graph import Role
from ..ir.ops import Dropout, Flatten, GlobalAvgPool, Linear
from .base import LayerBuilder


@dataclass(frozen=True)
class ResolvedHead:
    """The head with every option explicit."""

    classes: int
    span: Span
    dropout: float = 0.0
    norm: bool = False  # a norm and the activation before the pool (pre-activation nets)
    conv: int | None = None  # a 1x1 conv to this many channels, with norm and act, before the pool
    pooled_norm: bool = False  # a norm of the pooled features before the fc (ConvNeXt)


def lower_head(hd: ResolvedHead, g: LayerBuilder, x: str, channels: int) -> str:
    """Append the head's nodes reading `x` with `channels`; return the logits node."""
    if hd.conv is not None:
        x = g.conv("conv_head", x, channels, hd.conv, 1, padding=0)
        x = g.norm("bn_head", x, hd.conv)
        x = g.act("act_head", x)
        channels = hd.conv
    if hd.norm:  # a pre-activation net's final norm and activation
        x = g.norm("norm", x, channels)
        x = g.act("norm_relu", x)
    x = g.op("avgpool", GlobalAvgPool(), (x,))
    if hd.pooled_norm:
        x = g.norm("head_norm", x, channels)
    x = g.op("flatten", Flatten(), (x,))
    if hd.dropout > 0:
        x = g.op("dropout", Dropout(hd.dropout), (x,))
    return g.op("fc", Linear(channels, hd.classes, bias=True), (x,), role=Role.HEAD)

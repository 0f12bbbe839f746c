"""The head: the layers after the last stage, lowered with the same builder as every block.

ResNet's head is a global average pool and an fc; a pre-activation net first applies a final
norm and activation; MobileNetV2 first widens with a 1x1 conv (to 1280 channels); ConvNeXt
normalises the pooled features (`head.norm` in timm) before the fc.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.diagnostics import Span
from ..ir.graph import Role
from ..ir.ops import Dropout, Flatten, GlobalAvgPool, Linear, MaxPool, Shape, ShapeError
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
    pool: str = "avg"  # "avg": global average pool; "none": flatten the map as it is (VGG)
    max_pool: int | None = None  # a max pool, kernel = stride, before the pooling (VGG)
    hidden: tuple[int, ...] = ()  # hidden fc widths, each with the activation and dropout


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
    if hd.max_pool is not None:
        x = g.op("pool_head", MaxPool(hd.max_pool, hd.max_pool, 0), (x,))
    if hd.pool == "avg":
        x = g.op("avgpool", GlobalAvgPool(), (x,))
    if hd.pooled_norm:
        x = g.norm("head_norm", x, channels)
    x = g.op("flatten", Flatten(), (x,))
    if hd.hidden:  # VGG's classifier, with torchvision's names: Linear, ReLU, Dropout, ...
        return _classifier(hd, g, x, _features(g, x, channels))
    if hd.dropout > 0:
        x = g.op("dropout", Dropout(hd.dropout), (x,))
    return g.op("fc", Linear(channels, hd.classes, bias=True), (x,), role=Role.HEAD)


def _features(g: LayerBuilder, flat: str, channels: int) -> int:
    """The features the flatten node `flat` hands on, inferred over the nodes lowered so far
    (C·H·W without a global pool); `channels` where a shape cannot be inferred, which the
    analysis then reports at the node that fails."""
    shapes: dict[str, Shape] = {}
    for node in g.graph.nodes:
        try:
            shapes[node.name] = node.attrs.infer([shapes[i] for i in node.inputs])
        except (ShapeError, KeyError):
            return channels
    return shapes[flat][0]


def _classifier(hd: ResolvedHead, g: LayerBuilder, x: str, features: int) -> str:
    i = 0
    for width in hd.hidden:
        x = g.op(f"classifier.{i}", Linear(features, width, bias=True), (x,), role=Role.HEAD)
        x = g.act(f"classifier.{i + 1}", x, module=f"classifier.{i + 1}")
        if hd.dropout > 0:
            x = g.op(f"classifier.{i + 2}", Dropout(hd.dropout), (x,))
        features, i = width, i + 3
    return g.op(f"classifier.{i}", Linear(features, hd.classes, bias=True), (x,), role=Role.HEAD)

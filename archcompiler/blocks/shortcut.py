"""Shortcuts: the one predicate that decides what a block's shortcut is, and its lowering.

The kind is recorded on the graph's block record, so rules and backends read it there.
"""

from __future__ import annotations

from typing import Literal

from ..core.diagnostics import Span
from ..ir.graph import Builder
from ..ir.ops import AvgPool, Conv2d, PadChannels, make_norm

ShortcutOption = Literal["A", "B", "C", "identity", "none"]
ShortcutKind = Literal["none", "identity", "pad", "projection"]
# The submodules a shortcut may add to its block: `downsample` (torchvision's projection) and
# `shortcut` (option A's zero-pad).
SHORTCUT_MODULES = ("downsample", "shortcut")


def shape_changes(stride: int, in_channels: int, out_channels: int) -> bool:
    """True when a block's output shape differs from its input's (torchvision's test)."""
    return stride != 1 or in_channels != out_channels


def shortcut_kind(option: str, stride: int, in_channels: int, out_channels: int) -> ShortcutKind:
    """Return the shortcut a block gets under option A, B, C, identity or none."""
    if option == "none":
        return "none"
    if option == "C":
        return "projection"
    if not shape_changes(stride, in_channels, out_channels):
        return "identity"
    if option == "B":
        return "projection"
    if option == "A":
        return "pad"
    return "identity"  # option 'identity' never adapts; rule ARC303 reports the mismatch


def lower_shortcut(g: Builder, block: str, kind: ShortcutKind, x: str, source: str,
                   in_channels: int, out_channels: int, stride: int, span: Span, *,
                   pool: str = "none", norm: bool = True, bias: bool = False,
                   norm_kind: str = "batch") -> str | None:
    """Append the shortcut's nodes and return its output; None for 'none'.

    An identity returns the block input `x`; a zero-pad or projection reads `source`. The
    projection is torchvision's `downsample` Sequential: a strided 1x1 conv and a BN, or with
    `pool="avg"` (ResNet-D) an average pool by the stride (none at stride 1), then the 1x1 conv at stride 1
    as `downsample.1`, as timm's resnet50d. `norm=False` leaves out the BN (pre-activation nets, WRN).
    """
    if kind == "none":
        return None
    if kind == "identity":
        return x
    if kind == "pad":
        return g.add(f"{block}.shortcut", PadChannels(in_channels, out_channels, stride),
                     (source,), span)
    index = 0
    h = source
    if pool == "avg":
        # timm's `downsample.0` is the pool, or at stride 1 an nn.Identity: no op in the graph,
        # but the conv keeps index 1 (the torch backend fills the gap with a stateless Identity).
        if stride > 1:
            h = g.add(f"{block}.downsample.0", AvgPool(stride, stride, 0, ceil_mode=True,
                                                       count_include_pad=False), (h,), span)
        index, stride = 1, 1
    h = g.add(f"{block}.downsample.{index}",
              Conv2d(in_channels, out_channels, 1, stride, 0, bias=bias), (h,), span)
    if norm:
        h = g.add(f"{block}.downsample.{index + 1}", make_norm(norm_kind, out_channels), (h,), span)
    return h

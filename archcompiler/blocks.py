"""The block registry: each block type's channel arithmetic and its lowering into IR ops.

This is the single description of a block. The torch module, the shapes and the costs are all
derived from the ops it emits, so nothing here has a hand-kept twin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .ir import Builder
from .registry import Registry
from .resolved import ResolvedBlock


@dataclass(frozen=True)
class BlockKind:
    """A block type: how wide it is and which ops its body lowers to."""

    name: str
    expansion: Callable[[Any], int]  # config -> out_channels / width
    inner: Callable[[Any, int], int]  # (config, width) -> width of the inner convs
    body: Callable[[ResolvedBlock, str, Builder, str, bool], str]
    weighted_layers: int  # convs on the main path, for the resnetN depth count
    strided_kernel: Callable[[ResolvedBlock], int]  # kernel of the conv that carries the stride


def _basic_body(b: ResolvedBlock, x: str, g: Builder, act: str, zero_init: bool) -> str:
    p, c = b.name, b.out_channels
    h = g.conv(f"{p}.conv1", x, b.span, b.in_channels, c, 3, b.stride)
    h = g.bn(f"{p}.bn1", h, b.span, c)
    h = g.act(f"{p}.relu1", h, b.span, act, f"{p}.relu")
    h = g.conv(f"{p}.conv2", h, b.span, c, c, 3)
    return g.bn(f"{p}.bn2", h, b.span, c, zero_init)


def _bottleneck_body(b: ResolvedBlock, x: str, g: Builder, act: str, zero_init: bool) -> str:
    p, mid = b.name, b.inner_channels
    # v1 (the paper, Caffe) strides the first 1x1; v1.5 (torchvision) strides the 3x3.
    s1, s2 = (b.stride, 1) if b.downsample_at == "1x1" else (1, b.stride)
    h = g.conv(f"{p}.conv1", x, b.span, b.in_channels, mid, 1, s1)
    h = g.bn(f"{p}.bn1", h, b.span, mid)
    h = g.act(f"{p}.relu1", h, b.span, act, f"{p}.relu")
    h = g.conv(f"{p}.conv2", h, b.span, mid, mid, 3, s2, groups=b.groups)
    h = g.bn(f"{p}.bn2", h, b.span, mid)
    h = g.act(f"{p}.relu2", h, b.span, act, f"{p}.relu")
    h = g.conv(f"{p}.conv3", h, b.span, mid, b.out_channels, 1)
    return g.bn(f"{p}.bn3", h, b.span, b.out_channels, zero_init)


BLOCKS: Registry[BlockKind] = Registry("block type")
BLOCKS.register("basic", BlockKind(
    "basic", expansion=lambda cfg: 1, inner=lambda cfg, width: width, body=_basic_body,
    weighted_layers=2, strided_kernel=lambda b: 3))
BLOCKS.register("bottleneck", BlockKind(
    "bottleneck", expansion=lambda cfg: cfg.expansion,
    inner=lambda cfg, width: int(width * (cfg.width_per_group / 64.0)) * cfg.groups,
    body=_bottleneck_body, weighted_layers=3,
    strided_kernel=lambda b: 1 if b.downsample_at == "1x1" else 3))

"""The stem: the layers before the first stage, lowered with the same builder as every block.

A ResNet stem is a 7x7/2 conv, a norm, the activation and a 3x3/2 max pool; a CIFAR stem a 3x3
conv; ResNet-C's a deep stem of three 3x3 convs; ConvNeXt's a patchify conv (kernel = stride)
followed by a LayerNorm and no activation. All are this one lowering with other settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.diagnostics import Span
from ..ir.ops import AvgPool, MaxPool
from .base import LayerBuilder


@dataclass(frozen=True)
class ResolvedStem:
    """The stem conv and optional pool with explicit padding."""

    out_channels: int
    kernel: int
    stride: int
    padding: int
    pool_kind: str | None
    pool_kernel: int
    pool_stride: int
    pool_padding: int
    conv_span: Span
    pool_span: Span | None
    deep: tuple[int, ...] = ()  # widths of the deep stem's extra 3x3 convs (ResNet-C)
    norm: bool = True  # a norm after the stem conv (false for pre-activation)
    act: bool = True  # the activation after the conv and norm (false for ConvNeXt's patchify stem)


def lower_stem(st: ResolvedStem, g: LayerBuilder, x: str, in_channels: int) -> str:
    """Append the stem's nodes reading the input `x`; return the node that leaves the stem.

    Names are torchvision's (`conv1`, `bn1`, `relu`, `maxpool`) and, for a deep stem, timm's
    (`conv1.0` ... `conv1.6`).
    """
    c_in = in_channels
    if st.deep:
        i = 0
        for k, width in enumerate(st.deep):
            x = g.conv(f"conv1.{i}", x, c_in, width, 3, st.stride if k == 0 else 1, padding=1)
            x = g.norm(f"conv1.{i + 1}", x, width)
            x = g.act(f"conv1.{i + 2}", x, module=f"conv1.{i + 2}")
            c_in, i = width, i + 3
        x = g.conv(f"conv1.{i}", x, c_in, st.out_channels, st.kernel, 1, padding=st.padding)
    else:
        x = g.conv("conv1", x, c_in, st.out_channels, st.kernel, st.stride, padding=st.padding)
    if st.norm:
        x = g.norm("bn1", x, st.out_channels)
    if st.act:  # after the norm, or straight after the conv where there is none (VGG)
        x = g.act("relu", x)
    if st.pool_kind is not None:
        pool = MaxPool if st.pool_kind == "max" else AvgPool
        x = g.op("maxpool" if st.pool_kind == "max" else "avgpool_stem",
                 pool(st.pool_kernel, st.pool_stride, st.pool_padding), (x,), span=st.pool_span)
    return x

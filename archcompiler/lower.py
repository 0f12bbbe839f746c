"""Lowering: a resolved spec becomes the IR graph, channels threaded explicitly block by block."""

from __future__ import annotations

from .blocks import BLOCKS
from .ir import Builder, Graph
from .resolved import ResolvedBlock, ResolvedSpec
from .shortcuts import shortcut_kind


def _shortcut(b: ResolvedBlock, x: str, g: Builder) -> str | None:
    kind = shortcut_kind(b.shortcut, b.stride, b.in_channels, b.out_channels)
    if kind == "none":
        return None
    if kind == "identity":
        return x
    g.role = "shortcut"
    if kind == "pad":
        out = g.add(f"{b.name}.shortcut", "pad_channels", (x,), b.span,
                    in_channels=b.in_channels, out_channels=b.out_channels, stride=b.stride)
    else:
        h = g.conv(f"{b.name}.downsample.0", x, b.span, b.in_channels, b.out_channels, 1,
                   b.stride, padding=0)
        out = g.bn(f"{b.name}.downsample.1", h, b.span, b.out_channels)
    g.role = "main"
    return out


def _block(b: ResolvedBlock, x: str, g: Builder, spec: ResolvedSpec) -> str:
    g.block, g.stage = b.name, b.stage
    kind = BLOCKS.get(b.kind)
    body = kind.body(b, x, g, spec.activation, spec.zero_init_residual)
    short = _shortcut(b, x, g)
    if short is not None:
        g.role = "merge"
        body = g.add(f"{b.name}.add", "add", (body, short), b.span, module=None)
        g.role = "main"
    return g.act(f"{b.name}.relu_out", body, b.span, spec.activation, f"{b.name}.relu")


def lower(spec: ResolvedSpec) -> Graph:
    """Lower a resolved spec to a flat graph of primitive ops with torchvision names."""
    g = Builder(role="stem")
    st = spec.stem
    x = g.add("input", "input", (), spec.input_span, module=None, shape=spec.input_shape)
    x = g.conv("conv1", x, st.conv_span, spec.input_shape[0], st.out_channels, st.kernel,
               st.stride, st.padding)
    x = g.bn("bn1", x, st.conv_span, st.out_channels)
    x = g.act("relu", x, st.conv_span, spec.activation, "relu")
    if st.pool_kind is not None:
        x = g.add("maxpool" if st.pool_kind == "max" else "avgpool_stem", f"{st.pool_kind}_pool",
                  (x,), st.pool_span, kernel=st.pool_kernel, stride=st.pool_stride,
                  padding=st.pool_padding)
    g.role = "main"
    for block in spec.blocks:
        x = _block(block, x, g, spec)
    g.block, g.stage, g.role = None, None, "head"
    channels = spec.stages[-1].out_channels if spec.stages else st.out_channels
    x = g.add("avgpool", "global_avg_pool", (x,), spec.head_span)
    x = g.add("flatten", "flatten", (x,), spec.head_span, module=None)
    if spec.dropout > 0:
        x = g.add("dropout", "dropout", (x,), spec.head_span, p=spec.dropout)
    g.add("fc", "linear", (x,), spec.head_span, in_features=channels,
          out_features=spec.classes, bias=True)
    return Graph(spec.name, tuple(g.nodes))

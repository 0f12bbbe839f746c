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
    s = g.within(role="shortcut")
    if kind == "pad":
        return s.add(f"{b.name}.shortcut", "pad_channels", (x,), b.shortcut_span,
                     in_channels=b.in_channels, out_channels=b.out_channels, stride=b.stride)
    h = s.conv(f"{b.name}.downsample.0", x, b.shortcut_span, b.in_channels, b.out_channels, 1,
               b.stride, padding=0)
    return s.bn(f"{b.name}.downsample.1", h, b.shortcut_span, b.out_channels)


def _block(b: ResolvedBlock, x: str, g: Builder, spec: ResolvedSpec) -> str:
    g = g.within(block=b.name, stage=b.stage, role="main")
    body = BLOCKS.get(b.kind).body(b, x, g, spec.activation, spec.zero_init_residual)
    short = _shortcut(b, x, g)
    if short is not None:
        # The add is where a shortcut's shape must match, so it points at the shortcut option.
        body = g.within(role="merge").add(f"{b.name}.add", "add", (body, short), b.shortcut_span,
                                          module=None)
    return g.act(f"{b.name}.relu_out", body, b.span, spec.activation, f"{b.name}.relu")


def lower(spec: ResolvedSpec) -> Graph:
    """Lower a resolved spec to a flat graph of primitive ops with torchvision names."""
    root = Builder()
    g = root.within(role="stem")
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
    for block in spec.blocks:
        x = _block(block, x, root, spec)
    h = root.within(role="head")
    channels = spec.stages[-1].out_channels if spec.stages else st.out_channels
    x = h.add("avgpool", "global_avg_pool", (x,), spec.head_span)
    x = h.add("flatten", "flatten", (x,), spec.head_span, module=None)
    if spec.dropout > 0:
        x = h.add("dropout", "dropout", (x,), spec.head_span, p=spec.dropout)
    h.add("fc", "linear", (x,), spec.head_span, in_features=channels,
          out_features=spec.classes, bias=True)
    return Graph(spec.name, tuple(root.nodes))

"""Lowering: a resolved spec becomes the IR graph, channels threaded explicitly block by block.

The stem and head are lowered here; each block is lowered by its own block type. The graph keeps
a record of every block and stage, so nothing downstream has to guess structure from names.
"""

from __future__ import annotations

from ..blocks import BLOCKS, BlockBuilder, ResolvedBlock
from ..blocks.shortcut import SHORTCUT_MODULES
from ..ir.graph import BlockRecord, Builder, Graph, Role
from ..ir.ops import (
    Activation,
    AvgPool,
    BatchNorm,
    Conv2d,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Input,
    Linear,
    MaxPool,
)
from ..language.resolved import ResolvedSpec

# The optional stem and head modules; a net without one keeps it as a None attribute.
_OPTIONAL_TOP = ("maxpool", "avgpool_stem", "dropout")


def _block(b: ResolvedBlock, x: str, root: Builder, spec: ResolvedSpec) -> BlockRecord:
    """Lower one block with its block type; record what it produced."""
    g = root.within(block=b.name, stage=b.stage, role=Role.MAIN)
    start = len(root.nodes)
    kind = BLOCKS.get(b.kind)
    out = kind.lower(b.config, x, BlockBuilder(b, g, spec.activation, spec.zero_init_residual,
                                               spec.conv_bias))
    nodes = root.nodes[start:]
    present = {n.module[len(b.name) + 1:].split(".")[0] for n in nodes if n.module is not None}
    return BlockRecord(b.name, b.kind, kind.module_class, b.stage, b.index, b.shortcut_kind, x,
                       out, tuple(n.name for n in nodes), b.in_channels, b.out_channels, b.width,
                       b.stride, b.span, b.shortcut_span, b.shortcut,
                       tuple(m for m in SHORTCUT_MODULES if m not in present))


def _stem_convs(g: Builder, x: str, spec: ResolvedSpec) -> str:
    """The stem conv, or a deep stem (ResNet-C) as timm names it: conv1.0 ... conv1.6."""
    st = spec.stem
    c_in, bias = spec.input_shape[0], spec.conv_bias
    if not st.deep:
        return g.add("conv1", Conv2d(c_in, st.out_channels, st.kernel, st.stride, st.padding,
                                     bias=bias), (x,), st.conv_span)
    i = 0
    for k, width in enumerate(st.deep):
        x = g.add(f"conv1.{i}", Conv2d(c_in, width, 3, st.stride if k == 0 else 1, 1,
                                       bias=bias), (x,), st.conv_span)
        x = g.add(f"conv1.{i + 1}", BatchNorm(width), (x,), st.conv_span)
        x = g.add(f"conv1.{i + 2}", Activation(spec.activation), (x,), st.conv_span)
        c_in, i = width, i + 3
    return g.add(f"conv1.{i}", Conv2d(c_in, st.out_channels, st.kernel, 1, st.padding,
                                      bias=bias), (x,), st.conv_span)


def lower(spec: ResolvedSpec) -> Graph:
    """Lower a resolved spec to a flat graph of typed ops with torchvision names."""
    root = Builder()
    g = root.within(role=Role.STEM)
    st = spec.stem
    x = g.add("input", Input(spec.input_shape), (), spec.input_span, module=None)
    x = _stem_convs(g, x, spec)
    if st.norm:
        x = g.add("bn1", BatchNorm(st.out_channels), (x,), st.conv_span)
        x = g.add("relu", Activation(spec.activation), (x,), st.conv_span)
    if st.pool_kind is not None:
        pool = MaxPool if st.pool_kind == "max" else AvgPool
        x = g.add("maxpool" if st.pool_kind == "max" else "avgpool_stem",
                  pool(st.pool_kernel, st.pool_stride, st.pool_padding), (x,), st.pool_span)
    blocks = []
    for block in spec.blocks:
        record = _block(block, x, root, spec)
        blocks.append(record)
        x = record.output
    h = root.within(role=Role.HEAD)
    channels = spec.stages[-1].out_channels if spec.stages else st.out_channels
    if spec.head_norm:  # a pre-activation net's final BN and activation
        x = h.add("norm", BatchNorm(channels), (x,), spec.head_span)
        x = h.add("norm_relu", Activation(spec.activation), (x,), spec.head_span, module="relu")
    x = h.add("avgpool", GlobalAvgPool(), (x,), spec.head_span)
    x = h.add("flatten", Flatten(), (x,), spec.head_span, module=None)
    if spec.dropout > 0:
        x = h.add("dropout", Dropout(spec.dropout), (x,), spec.head_span)
    h.add("fc", Linear(channels, spec.classes, bias=True), (x,), spec.head_span)
    present = {n.module for n in root.nodes if n.block is None}
    absent = tuple(m for m in _OPTIONAL_TOP if m not in present)
    return Graph(spec.name, tuple(root.nodes), tuple(blocks),
                 spec.stages, absent)

"""Lowering: a resolved spec becomes the IR graph, channels threaded explicitly element by element.

Every element (the stem, each stage's downsampling layer, each block, the head) is lowered by
its own description through the same `LayerBuilder`; nothing here knows what a ResNet is. The
graph keeps a record of every block and stage, so nothing downstream guesses structure from names.
"""

from __future__ import annotations

import inspect

from ..blocks import BlockBuilder, LayerBuilder, ResolvedBlock
from ..blocks.head import lower_head
from ..blocks.shortcut import SHORTCUT_MODULES
from ..blocks.stem import lower_stem
from ..core.diagnostics import DiagnosticError, Span, error
from ..ir.graph import BlockRecord, Builder, Graph, Role
from ..ir.ops import Input
from ..language.resolved import ResolvedSpec
from .blocklint import lint_block

# The optional stem and head modules; a net without one keeps it as a None attribute.
_OPTIONAL_TOP = ("maxpool", "avgpool_stem", "dropout")


def _where(obj: object) -> str:
    """The file a block type was written in, for messages about it."""
    try:
        return inspect.getsourcefile(type(obj)) or "<unknown file>"
    except TypeError:
        return "<built-in>"


def _untrusted(kind: object) -> bool:
    """A user's Python block type: the package's own and the declared (YAML) ones are checked
    where they are written, so the per-block lint is left out of their analysis."""
    return not type(kind).__module__.startswith("archcompiler.")


def _block(b: ResolvedBlock, x: str, root: Builder, spec: ResolvedSpec) -> BlockRecord:
    """Lower one block (or stage transition) with its block type; record what it produced."""
    role = Role.MAIN
    g = root.within(block=b.name, stage=b.stage, role=role)
    start = len(root.nodes)
    kind = b.block_type
    assert kind is not None, "resolution attaches every block's type"
    builder = BlockBuilder(g, b.name + ".", b.span, spec.activation, spec.norm,
                           spec.zero_init_residual, spec.conv_bias, block=b)
    try:
        out = kind.lower(b.config, x, builder)
    except DiagnosticError:
        raise  # a declared block's located error, e.g. an expression dividing by zero
    except Exception as exc:
        raise DiagnosticError(error(
            "ARC170", f"block type '{b.kind}' ({_where(kind)}) failed to lower {b.name}: "
            f"{type(exc).__name__}: {exc}", b.span,
            hint="fix the block type's lowering; the spec line shown uses it")) from None
    nodes = root.nodes[start:]
    # The output is nearly always the last node appended; only then is the scan skipped.
    if not isinstance(out, str) or not nodes or (nodes[-1].name != out and
                                                 all(n.name != out for n in nodes)):
        raise DiagnosticError(error(
            "ARC170", f"block type '{b.kind}' ({_where(kind)}) returned {out!r} from lowering "
                      f"{b.name}, not the name of a node it appended", b.span,
            hint="return the node whose output leaves the block"))
    if _untrusted(kind):
        known = {n.name for n in root.nodes[:start]}
        fault = lint_block(b, nodes, known, _where(kind))
        if fault is not None:
            raise DiagnosticError(fault)
    present = {n.module[len(b.name) + 1:].split(".")[0] for n in nodes if n.module is not None}
    return BlockRecord(b.name, b.kind, kind.module_class, b.stage, b.index, builder.joined, x,
                       out, tuple(n.name for n in nodes), b.in_channels, b.out_channels, b.width,
                       b.stride, b.span, b.shortcut_span, b.shortcut,
                       tuple(m for m in SHORTCUT_MODULES if m not in present), b.role)


def lower(spec: ResolvedSpec) -> Graph:
    """Lower a resolved spec to a flat graph of typed ops with torchvision names."""
    root = Builder()
    stem = root.within(role=Role.STEM)
    x = stem.add("input", Input(spec.input_shape), (), spec.input_span, module=None)
    x = lower_stem(spec.stem, _top(stem, spec, spec.stem.conv_span), x, spec.input_shape[0])
    blocks = []
    for block in spec.blocks:
        record = _block(block, x, root, spec)
        blocks.append(record)
        x = record.output
    channels = spec.blocks[-1].out_channels if spec.blocks else spec.stem.out_channels
    head = root.within(role=Role.HEAD)
    lower_head(spec.head, _top(head, spec, spec.head.span), x, channels)
    present = {n.module for n in root.nodes if n.block is None}
    absent = tuple(m for m in _OPTIONAL_TOP if m not in present)
    return Graph(spec.name, tuple(root.nodes), tuple(blocks), spec.stages, absent,
                 spec.module_class)


def _top(g: Builder, spec: ResolvedSpec, span: Span | None) -> LayerBuilder:
    """A builder for a top-level element (stem or head): no prefix, the spec's conventions."""
    return LayerBuilder(g, "", span, spec.activation, spec.norm, spec.zero_init_residual,
                        spec.conv_bias)

"""Lowering: a resolved spec becomes the IR graph, channels threaded explicitly element by element.

Every element (the stem, each stage's downsampling layer, each block, the head) is lowered by
its own description through the same `LayerBuilder`; nothing here knows what a ResNet is. The
graph keeps a record of every block and stage, so nothing downstream guesses structure from names.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Hashable
from dataclasses import fields
from typing import NamedTuple

from ..blocks import BlockBuilder, LayerBuilder, ResolvedBlock
from ..blocks.head import lower_head
from ..blocks.shortcut import SHORTCUT_MODULES
from ..blocks.stem import lower_stem
from ..core.diagnostics import DiagnosticError, Span, error
from ..core.frozen import changed
from ..ir.graph import BlockRecord, Builder, Graph, Node, Role
from ..ir.ops import Input
from ..language.resolved import ResolvedSpec
from .blocklint import lint_block
from .memo import LRU, SIZE, Key, memo_on, moved, register

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


class Plan(NamedTuple):
    """How to rename a memoised block's nodes: per node, its name and module under the block's
    prefix and where its inputs come from (0 is the block's input, i the i-th node); and which
    node is the output. Worked out once, when the block is first lowered."""

    suffixes: tuple[str, ...]
    modules: tuple[str | None, ...]
    inputs: tuple[tuple[int, ...], ...]
    output: int


class Lowered(NamedTuple):
    """A block's lowering as memoised: its nodes and record, under the names it was made with,
    and its renamed copies by (name, input) (see `memo.moved`)."""

    nodes: tuple[Node, ...]
    record: BlockRecord
    plan: Plan
    moves: dict[Hashable, Lowered | None]


class Segment(NamedTuple):
    """Where a memoisable block's nodes lie in the graph, and its content key (for inference)."""

    key: object
    start: int
    end: int


_LOWERED: LRU[object, Lowered] = register(LRU(doorkeeper=True))
# Every field of a resolved block but its name and place: what its lowering may read.
_CONTENT = operator.attrgetter(*(f.name for f in fields(ResolvedBlock)
                                 if f.name not in ("name", "index")))


# Content keys seen lately, each kept as its first object: a block's key is looked up in two or
# three tables, and an interned key compares by identity there instead of field by field (a
# block config's pydantic __eq__ is the costly part). Bounded by clearing, which only loses
# sharing; setdefault and clear are atomic, so threads may share it.
_INTERNED: dict[Key, Key] = register({})
_INTERNED_MAX = 4 * SIZE


def block_key(b: ResolvedBlock, spec: ResolvedSpec) -> Key | None:
    """The content a block's lowering depends on, less its name and place; None if unhashable."""
    try:
        key = Key((_CONTENT(b), spec.activation, spec.norm, spec.zero_init_residual,
                   spec.conv_bias))
    except TypeError:  # a config holding a list, say: lowered every time
        return None
    if len(_INTERNED) >= _INTERNED_MAX:
        _INTERNED.clear()
    return _INTERNED.setdefault(key, key)


# A named tuple made from its fields' tuple directly (as its own `_make` does), skipping the
# generated Python __new__: renaming makes a node per node of every repeated block.
_tuple = tuple.__new__


def _renamed(hit: Lowered, b: ResolvedBlock, x: str) -> Lowered:
    """The memoised nodes and record of an identical block, under `b`'s name and input `x`."""
    rec, plan = hit.record, hit.plan
    new, block = b.name + ".", b.name
    names = [x]
    nodes = []
    for n, suffix, module, ins in zip(hit.nodes, plan.suffixes, plan.modules, plan.inputs):
        name = new + suffix
        names.append(name)
        nodes.append(_tuple(Node, (name, n.attrs, (names[ins[0]],) if len(ins) == 1 else
                                   tuple([names[i] for i in ins]), n.span,
                                   None if module is None else new + module, block, n.stage,
                                   n.role)))
    return Lowered(tuple(nodes), changed(rec, name=block, index=b.index, input=x,
                                         output=names[plan.output], nodes=tuple(names[1:])),
                   plan, {})


def _plan(nodes: list[Node], record: BlockRecord) -> Plan | None:
    """The renaming plan of a block's nodes, or None if they cannot be renamed: a node outside
    its prefix, or one fed by anything but the block's input and its own earlier nodes."""
    prefix = record.name + "."
    cut = len(prefix)
    where = {record.input: 0}
    suffixes, modules, inputs = [], [], []
    for i, n in enumerate(nodes, 1):
        module = n.module
        if not n.name.startswith(prefix) or n.block != record.name or not (
                module is None or module.startswith(prefix)):
            return None
        try:
            inputs.append(tuple([where[name] for name in n.inputs]))
        except KeyError:
            return None
        where[n.name] = i
        suffixes.append(n.name[cut:])
        modules.append(None if module is None else module[cut:])
    return Plan(tuple(suffixes), tuple(modules), tuple(inputs), where[record.output])


def _block_memo(b: ResolvedBlock, x: str, root: Builder, spec: ResolvedSpec,
                local: dict[Key, Lowered]) -> tuple[BlockRecord, Segment | None]:
    """Lower one block, reusing an identical block's nodes when memoisation is on.

    `local` holds this net's blocks by content: repeats within a net are found there without
    the shared tables' lock, and without offering the shared tables blocks no other net has.
    """
    key = block_key(b, spec) if memo_on() else None
    start = len(root.nodes)
    if key is not None:
        source = local.get(key) or _LOWERED.get(key)
        if source is not None:
            local.setdefault(key, source)
            rec = source.record
            hit = source if rec.name == b.name and rec.input == x else moved(
                source.moves, (b.name, x), _renamed, source, b, x)
            root.nodes.extend(hit.nodes)
            return hit.record, Segment(key, start, len(root.nodes))
    record = _block(b, x, root, spec)
    if key is None:
        return record, None
    nodes = root.nodes[start:]
    plan = _plan(nodes, record)
    if plan is None:
        return record, None
    lowered = Lowered(tuple(nodes), record, plan, {})
    local[key] = lowered
    _LOWERED.put(key, lowered)  # kept when another net offers it again (the doorkeeper)
    return record, Segment(key, start, len(root.nodes))


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
    return lower_segments(spec)[0]


def lower_segments(spec: ResolvedSpec) -> tuple[Graph, list[Segment]]:
    """`lower`, with where each memoised block's nodes lie (for `infer`'s memo)."""
    root = Builder()
    stem = root.within(role=Role.STEM)
    x = stem.add("input", Input(spec.input_shape), (), spec.input_span, module=None)
    x = lower_stem(spec.stem, _top(stem, spec, spec.stem.conv_span), x, spec.input_shape[0])
    blocks, segments = [], []
    local: dict[Key, Lowered] = {}
    for block in spec.blocks:
        record, segment = _block_memo(block, x, root, spec, local)
        blocks.append(record)
        if segment is not None:
            segments.append(segment)
        x = record.output
    channels = spec.blocks[-1].out_channels if spec.blocks else spec.stem.out_channels
    head = root.within(role=Role.HEAD)
    lower_head(spec.head, _top(head, spec, spec.head.span), x, channels)
    present = {n.module for n in root.nodes if n.block is None}
    absent = tuple(m for m in _OPTIONAL_TOP if m not in present)
    return Graph(spec.name, tuple(root.nodes), tuple(blocks), spec.stages, absent,
                 spec.module_class), segments


def _top(g: Builder, spec: ResolvedSpec, span: Span | None) -> LayerBuilder:
    """A builder for a top-level element (stem or head): no prefix, the spec's conventions."""
    return LayerBuilder(g, "", span, spec.activation, spec.norm, spec.zero_init_residual,
                        spec.conv_bias)

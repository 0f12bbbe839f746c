"""The IR: a flat graph of typed ops with dotted, torchvision-style names, plus block records.

Nodes are in topological order. Each node's `module` names the torch submodule it becomes, so
state_dict keys are IR names. The graph also keeps one record per block and per stage: backends
and rules read those records instead of rebuilding structure from naming conventions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from ..core.diagnostics import Span
from .ops import Op, OpAttrs, Shape, StrEnum

__all__ = ["BlockRecord", "Builder", "Graph", "Node", "Role", "Shape", "StageRecord"]


class Role(StrEnum):
    """Where a node sits: the paper's figures draw each role differently."""

    STEM = "stem"
    MAIN = "main"  # a block's main path: the layers rule (ii) compares
    SHORTCUT = "shortcut"
    MERGE = "merge"  # where a shortcut joins the main path
    BRANCH = "branch"  # a side branch inside a block (e.g. squeeze-and-excitation)
    HEAD = "head"


class Node(NamedTuple):
    """One op. `module` is the torch submodule it becomes (None for functional ops)."""

    # A named tuple, not a frozen dataclass: lowering makes a node per op and memoised lowering
    # renames thousands a second, and a frozen dataclass's __init__ sets each field through
    # object.__setattr__ (0.9 us a node against 0.26 us).

    name: str
    attrs: OpAttrs
    inputs: tuple[str, ...]
    span: Span | None
    module: str | None
    block: str | None = None  # "layer2.0" for nodes inside a block
    stage: int | None = None
    role: Role = Role.MAIN

    @property
    def op(self) -> str:
        """The op's name, e.g. 'conv2d' (an `Op` member)."""
        return self.attrs.OP


@dataclass(frozen=True)
class BlockRecord:
    """One block as lowered: its kind, its shortcut, where it starts and ends, and its source."""

    name: str  # "layer2.0"
    kind: str  # the block registry name, e.g. "bottleneck"
    module_class: str  # the torch base class its module derives from, e.g. "Bottleneck"
    stage: int
    index: int
    shortcut: str  # the shortcut it got: projection | pad | identity | none
    input: str  # the node whose output enters the block
    output: str  # the node whose output leaves it
    nodes: tuple[str, ...]
    in_channels: int
    out_channels: int
    width: int
    stride: int
    span: Span  # where the block type was given
    shortcut_span: Span  # where the shortcut option was given
    shortcut_option: str = "B"  # the option asked for: A, B, C, identity or none
    # Submodules a block of this kind may have and this one lacks (torchvision keeps them as
    # None attributes, e.g. `downsample`), so `block.downsample is None` works as users expect.
    absent_modules: tuple[str, ...] = ()
    role: str = "block"  # "block", or "transition": a stage's downsampling layer (ConvNeXt)


@dataclass(frozen=True)
class StageRecord:
    """One stage: its blocks and where each of its settings came from."""

    index: int
    name: str  # "layer1"...
    kind: str
    depth: int
    width: int
    out_channels: int
    stride: int
    shortcut_option: str
    blocks: tuple[str, ...]
    depth_span: Span
    width_span: Span
    stride_span: Span
    shortcut_span: Span
    transition: str | None = None  # the stage's downsampling layer, lowered before its blocks


@dataclass(frozen=True)
class Graph:
    """Nodes in topological order (the first is the input, the last the output), with records."""

    name: str
    nodes: tuple[Node, ...]
    blocks: tuple[BlockRecord, ...] = ()
    stages: tuple[StageRecord, ...] = ()
    absent_modules: tuple[str, ...] = ()  # optional top-level modules this net lacks (maxpool)
    module_class: str = "ResNet"  # the named base class of the network's torch module

    @cached_property
    def windowed(self) -> tuple[Node, ...]:
        """The nodes whose stride slides a window (every conv and pool), in order."""
        # Rules and counts about convs and strides walk these, not every node: a ResNet-50 has
        # 54 of its 176 nodes here, and a sweep runs the rules for every variant.
        return tuple([n for n in self.nodes if n.attrs.WINDOWED])

    @cached_property
    def weighted_depth(self) -> int:
        """Weighted layers as the paper counts them: the stem conv, every main-path conv of a
        block, the fc. Shortcut and side-branch (SE) convs are no layers, and a deep stem counts
        as the one stem conv it replaces."""
        # Kept: the name rule, a sweep's variant name and its row each ask for it.
        return 2 + sum(1 for n in self.windowed
                       if n.block is not None and n.attrs.OP == Op.CONV and n.role == Role.MAIN)

    @property
    def output(self) -> str:
        """Name of the output node."""
        return self.nodes[-1].name

    def by_name(self) -> dict[str, Node]:
        """Return a name -> node table."""
        return {n.name: n for n in self.nodes}

    def stage_output(self, stage: StageRecord) -> str:
        """The node whose output leaves `stage`."""
        last = stage.blocks[-1]
        return next(b.output for b in self.blocks if b.name == last)


@dataclass(frozen=True)
class Builder:
    """Appends nodes for one lowering. `within` gives a view that tags nodes with a block, stage
    or role, so context is passed down explicitly instead of being mutated between calls."""

    nodes: list[Node] = field(default_factory=list)
    block: str | None = None
    stage: int | None = None
    role: Role = Role.MAIN

    def within(self, **context: Any) -> Builder:
        """Return a view that appends to the same nodes with other block/stage/role tags."""
        # The constructor, not dataclasses.replace: replace introspects the fields on every call,
        # and lowering makes a view per block (a sweep lowers thousands of blocks a second).
        return Builder(self.nodes, context.get("block", self.block),
                       context.get("stage", self.stage), context.get("role", self.role))

    def add(self, name: str, attrs: OpAttrs, inputs: tuple[str, ...], span: Span | None,
            module: str | None = "") -> str:
        """Append a node and return its name; `module` defaults to the node's own name."""
        if len(inputs) != attrs.ARITY:
            raise ValueError(f"{name}: {attrs.OP} takes {attrs.ARITY} inputs, got {len(inputs)}")
        self.nodes.append(Node(name, attrs, inputs, span, name if module == "" else module,
                               self.block, self.stage, self.role))
        return name

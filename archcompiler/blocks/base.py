"""What a block type is, the resolved block it lowers, and the builder its lowering writes with.

A block type is described once, in its own file: its config model (pydantic fields with
descriptions), its channel arithmetic and its lowering into IR ops. The schema's union of block
types, the JSON Schema, the docs, shapes, costs, rules, the torch module and the diagram all
follow from that one description.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import Field

from ..core.diagnostics import Span
from ..core.model import SpecModel
from ..core.registry import Registry
from ..ir.graph import Builder, Node, Role
from ..ir.ops import Activation, Add, Conv2d, DropPath, OpAttrs, make_norm, same_padding
from .shortcut import ShortcutKind, lower_shortcut, shortcut_kind


class BlockConfig(SpecModel):
    """Base of every block's config model; each subclass narrows `type` to its own tag."""

    type: str = Field(description="Block type tag.")


C = TypeVar("C", bound=BlockConfig)


@dataclass(frozen=True)
class ResolvedBlock:
    """One residual block with every channel count and stride spelled out."""

    name: str  # torchvision's dotted name, e.g. "layer2.0"
    stage: int
    index: int
    config: BlockConfig  # the block type's own config object
    in_channels: int
    width: int  # the stage width (torchvision's `planes`)
    out_channels: int
    stride: int
    shortcut: str  # the option: A, B, C, identity or none
    span: Span  # where the block's type was given
    shortcut_span: Span  # where the shortcut option was given
    shortcut_pool: str = "none"  # "avg": the projection average-pools first (ResNet-D)
    drop_path: float = 0.0  # stochastic depth rate of this block's residual branch
    block_type: BlockType[Any] | None = None  # the type it was resolved against (its scope's)
    role: str = "block"  # "block", or "transition" for a stage's downsampling layer

    @property
    def kind(self) -> str:
        """The block type's registry name."""
        return self.config.type

    @property
    def shortcut_kind(self) -> ShortcutKind:
        """The shortcut this block gets under its option (the one predicate, in shortcut.py)."""
        return shortcut_kind(self.shortcut, self.stride, self.in_channels, self.out_channels)


@dataclass
class LayerBuilder:
    """Writes the nodes of one element of a network (stem, block, stage transition, head).

    Local names get the element's prefix ('conv1' -> 'layer2.0.conv1'), and every node gets the
    element's span and tags, so one builder serves every element and no lowering repeats the
    conventions: the spec's norm kind, activation, conv bias and zero-init.
    """

    graph: Builder  # tagged with this element's block, stage and role
    prefix: str  # "layer2.0." inside a block, "" at the top level
    span: Span | None
    activation: str
    norm_kind: str = "batch"
    zero_init_residual: bool = False
    conv_bias: bool = False  # the spec's `conv_bias`: the default of every conv's bias

    def name(self, local: str) -> str:
        """The full node name of a local name: 'conv1' -> 'layer2.0.conv1'."""
        return self.prefix + local

    def op(self, local: str, attrs: OpAttrs, inputs: tuple[str, ...], *,
           module: str | None = "", role: Role | None = None, span: Span | None = None) -> str:
        """Append any op; `module` is local ('' = the node's own name, None = functional).

        An op whose record is FUNCTIONAL (add, mul, flatten) is never a module.
        """
        prefix = self.prefix
        name = prefix + local
        if module is None or attrs.FUNCTIONAL:
            full_module = None
        else:
            full_module = name if module == "" else prefix + module
        if len(inputs) != attrs.ARITY:
            raise ValueError(f"{name}: {attrs.OP} takes {attrs.ARITY} inputs, got {len(inputs)}")
        g = self.graph
        # Appended directly rather than through a role-tagged Builder view per node: this is the
        # innermost loop of lowering.
        g.nodes.append(Node(name, attrs, inputs, span or self.span, full_module, g.block,
                            g.stage, role or g.role))
        return name

    def conv(self, local: str, x: str, in_channels: int, out_channels: int, kernel: int,
             stride: int = 1, *, padding: int | None = None, groups: int = 1,
             bias: bool | None = None, role: Role | None = None, span: Span | None = None
             ) -> str:
        """Append a conv; padding defaults to 'same' (the torchvision rule), bias to the spec's."""
        pad = same_padding(kernel) if padding is None else padding
        has_bias = self.conv_bias if bias is None else bias
        return self.op(local, Conv2d(in_channels, out_channels, kernel, stride, pad, groups,
                                     has_bias), (x,), role=role, span=span)

    def norm(self, local: str, x: str, channels: int, *, residual_last: bool = False,
             kind: str | None = None, role: Role | None = None, span: Span | None = None) -> str:
        """Append the spec's norm (or `kind`); `residual_last` marks the norm that
        zero_init_residual zeroes."""
        zero = residual_last and self.zero_init_residual
        return self.op(local, make_norm(kind or self.norm_kind, channels, zero), (x,), role=role,
                       span=span)

    bn = norm  # the name the ResNet blocks were written with

    def act(self, local: str, x: str, *, module: str | None = None, role: Role | None = None,
            kind: str | None = None, span: Span | None = None) -> str:
        """Append the network's activation (or `kind`). Its module is named for its kind
        ('relu', 'gelu') and shared within the element, as torchvision shares `self.relu`."""
        which = kind or self.activation
        return self.op(local, Activation(which), (x,), module=module or which, role=role,
                       span=span)


@dataclass(kw_only=True)
class BlockBuilder(LayerBuilder):
    """A LayerBuilder for one residual block: adds its shortcut and its residual ending."""

    block: ResolvedBlock
    # The shortcut this block's lowering joined: none until `join` adds one. The block record
    # reads it, so the graph says what the IR has, never what the stage's option suggests.
    joined: ShortcutKind = field(default="none", init=False)
    _short: ShortcutKind = field(default="none", init=False)

    def shortcut(self, x: str, *, source: str | None = None, norm: bool = True) -> str | None:
        """Lower this block's shortcut of input `x`; None when it has none (a plain net).

        A projection or zero-pad reads `source` when given (pre-activation blocks pass their
        pre-activated input), an identity always `x`. `norm=False` drops the projection's BN.
        """
        b = self.block
        self._short = b.shortcut_kind
        return lower_shortcut(self.graph.within(role=Role.SHORTCUT), b.name, b.shortcut_kind,
                              x, source or x, b.in_channels, b.out_channels, b.stride,
                              b.shortcut_span, pool=b.shortcut_pool, norm=norm,
                              bias=self.conv_bias, norm_kind=self.norm_kind)

    def join(self, body: str, short: str | None) -> str:
        """Add the shortcut to the body (after drop path, where the spec asks for it)."""
        if short is None:
            return body
        b = self.block
        # An identity the caller passed itself (`g.join(h, x)`) is an identity shortcut too.
        self.joined = self._short if self._short != "none" else "identity"
        if b.drop_path > 0:
            body = self.op("drop_path", DropPath(b.drop_path), (body,))
        # The add is where a shortcut's shape must match, so it points at the shortcut option.
        return self.op("add", Add(), (body, short), role=Role.MERGE, span=b.shortcut_span)

    def residual(self, body: str, x: str) -> str:
        """The post-activation ending (He et al. 2015): add the shortcut of `x`, then activate."""
        return self.act("relu_out", self.join(body, self.shortcut(x)))


class BlockType(ABC, Generic[C]):
    """A block type. Subclass it, set `config` and `module_class`, and implement `lower`.

    `config` is a BlockConfig subclass whose `type` field is `Literal["<tag>"]`: the tag users
    write in a spec. `module_class` names the torch base class its modules derive from, so
    `isinstance(m, <module_class>)` holds for every module built for this block type.
    """

    config: ClassVar[type[BlockConfig]]
    module_class: ClassVar[str]
    inner_hint: ClassVar[str] = "raise the width"  # how to fix a block with no inner channels

    @property
    def name(self) -> str:
        """The tag, read off the config's `type: Literal[...]` field."""
        return config_tag(self.config)

    def expansion(self, cfg: C) -> int:
        """out_channels / width."""
        return 1

    def inner_channels(self, cfg: C, width: int) -> int:
        """Width of the inner convs; below 1 is an error (ARC114)."""
        return width

    @abstractmethod
    def lower(self, cfg: C, x: str, g: BlockBuilder) -> str:
        """Append the block's nodes, reading `x`; return the node whose output leaves the block."""


def config_tag(config: type[BlockConfig]) -> str:
    """The one string of a config's `type: Literal[...]` field; raise TypeError otherwise."""
    field = config.model_fields.get("type")
    args = typing.get_args(field.annotation) if field is not None else ()
    if field is None or typing.get_origin(field.annotation) is not typing.Literal or \
            len(args) != 1 or not isinstance(args[0], str):
        raise TypeError(f"{config.__name__}.type must be Literal['<tag>'] with one string")
    return args[0]


BLOCKS: Registry[BlockType[Any]] = Registry("block type")

B = TypeVar("B", bound="BlockType[Any] | type[BlockType[Any]]")


def register_block(block: B) -> B:
    """Register a block type (an instance, or a class used as a decorator) under its tag.

    The spec language, analysis, rules, torch backend and diagram pick it up at once. A tag
    that is already registered raises ValueError; `unregister_block` removes one.
    """
    instance = block() if isinstance(block, type) else block
    if not isinstance(instance, BlockType):
        raise TypeError(f"register_block wants a BlockType, got {type(instance).__name__}")
    tag = instance.name
    # A tag is written in specs, shown in messages and used in file names: an identifier only.
    if not (tag.isidentifier() and tag.isascii() and not tag.startswith("_") and len(tag) <= 64):
        raise ValueError(f"a block type's tag must be an identifier (letters, digits and _, not "
                         f"starting with _), got {tag!r}")
    config = getattr(instance, "config", None)
    if not (isinstance(config, type) and issubclass(config, BlockConfig)):
        raise TypeError(f"{type(instance).__name__}.config must be a BlockConfig subclass")
    if not getattr(instance, "module_class", "").isidentifier():
        raise TypeError(f"{type(instance).__name__}.module_class must be a class name")
    BLOCKS.register(instance.name, instance)
    return block


def unregister_block(name: str) -> None:
    """Remove a registered block type."""
    BLOCKS.unregister(name)

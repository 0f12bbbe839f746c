"""Block types written as data: a block file's declaration, interpreted by one lowering.

`language/blockfile.py` reads a block file (or an inline declaration) into a `BlockDecl`, with
every expression parsed and every name checked; `DataBlockType` lowers it through the same
`BlockBuilder` as the Python block types, so a declared block gets everything a built-in gets.
Nothing here evaluates text as code: expressions are `core.expr` programs over integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from ..core.diagnostics import DiagnosticError, Span, error
from ..core.expr import Expr, ExprError
from ..ir.graph import Role
from ..ir.ops import (
    Add,
    AvgPool,
    Dropout,
    GlobalAvgPool,
    LayerScale,
    MaxPool,
    Mul,
    OpAttrs,
    same_padding,
)
from .base import BlockBuilder, BlockConfig, BlockType

Residual = Literal["always", "when_shapes_match", "never"]
MAX_CHANNELS = 65536  # the schema's bound on a channel count


@dataclass(frozen=True)
class Located:
    """An expression with the span of the YAML value it was written as."""

    expr: Expr
    span: Span


@dataclass(frozen=True)
class OpDecl:
    """One op of a declared block, as the block file gives it."""

    name: str
    op: str  # conv | norm | act | add | mul | layer_scale | max_pool | avg_pool | ...
    span: Span
    inputs: tuple[str, ...] = ()  # local names read ("in" is the block input); () = previous
    module: str | None = None  # a shared module name (activations)
    role: str = "main"  # main | branch
    ints: dict[str, Located] = field(default_factory=dict)  # out, kernel, stride, groups, ...
    floats: dict[str, float | str] = field(default_factory=dict)  # init, p: a number or a field
    kind: str | None = None  # the norm or activation kind; None: the spec's
    bias: bool | None = None
    last: bool = False  # the norm zero_init_residual zeroes


@dataclass(frozen=True)
class BlockDecl:
    """A whole declared block type."""

    tag: str
    module_class: str
    ops: tuple[OpDecl, ...]
    values: tuple[tuple[str, Located], ...]  # named intermediate values, in order
    int_fields: tuple[str, ...]
    residual: Residual
    act_after: bool
    expansion: Located | None
    file: str
    span: Span


def _located_error(exc: ExprError, at: Located) -> DiagnosticError:
    """An expression error at its place in the block file (the offset moves the column)."""
    span = Span(at.span.file, at.span.line, at.span.col + exc.offset)
    return DiagnosticError(error(exc.code, exc.message, span, hint=exc.hint))


def _channel_error(what: str, value: int, at: Located) -> DiagnosticError:
    return DiagnosticError(error(
        "ARC164", f"{what} evaluates to {value}, outside 1..{MAX_CHANNELS}", at.span,
        hint="check the expression and the block's fields"))


class DataBlockType(BlockType[BlockConfig]):
    """A block type declared in YAML; one interpreter lowers every such declaration."""

    config: ClassVar[type[BlockConfig]] = BlockConfig  # replaced per instance
    module_class: ClassVar[str] = "Block"

    def __init__(self, decl: BlockDecl, config: type[BlockConfig]) -> None:
        self.decl = decl
        # Instance attributes shadow the ClassVars: each declaration has its own model and class.
        self.config = config  # type: ignore[misc]
        self.module_class = decl.module_class  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"<block type {self.decl.tag!r} from {self.decl.file}>"

    def _env(self, cfg: BlockConfig, base: dict[str, int] | None = None) -> dict[str, int]:
        """The names an expression may read: the block's int fields and, given the block's
        own numbers (`base`: in, out, width, stride), the declared values too."""
        env = dict(base or {})
        for name in self.decl.int_fields:
            env[name] = int(getattr(cfg, name))
        if base is not None:
            for name, value in self.decl.values:
                env[name] = self._eval(value, env)
        return env

    @staticmethod
    def _eval(at: Located, env: dict[str, int]) -> int:
        try:
            return at.expr.evaluate(env)
        except ExprError as exc:
            raise _located_error(exc, at) from None

    def expansion(self, cfg: BlockConfig) -> int:
        """out_channels / width, from the declaration's `expansion` (default 1)."""
        if self.decl.expansion is None:
            return 1
        value = self._eval(self.decl.expansion, self._env(cfg))
        if not 1 <= value <= MAX_CHANNELS:
            raise _channel_error("expansion", value, self.decl.expansion)
        return value

    def lower(self, cfg: BlockConfig, x: str, g: BlockBuilder) -> str:
        """Append the declared ops in order, then the declared residual ending."""
        b = g.block
        env = self._env(cfg, {"in": b.in_channels, "out": b.out_channels, "width": b.width,
                              "stride": b.stride})
        made: dict[str, tuple[str, int]] = {"in": (x, b.in_channels)}  # local -> (node, C)
        last = "in"
        for op in self.decl.ops:
            sources = op.inputs or (last,)
            ins = [made[s] for s in sources]
            node, channels = self._op(op, ins, env, cfg, g)
            made[op.name] = (node, channels)
            last = op.name
        out, channels = made[last]
        if channels != b.out_channels:
            raise DiagnosticError(error(
                "ARC165", f"block '{self.decl.tag}' ends with {channels} channels but its "
                f"out_channels is {b.out_channels} (width {b.width} x expansion)",
                self.decl.ops[-1].span if self.decl.ops else self.decl.span,
                hint="make the last op produce `out` channels, or set the block's expansion"))
        return self._ending(out, x, g)

    def _ending(self, body: str, x: str, g: BlockBuilder) -> str:
        b = g.block
        residual = self.decl.residual
        if residual == "never" or b.role == "transition":
            short = None
        elif residual == "when_shapes_match":
            same = b.stride == 1 and b.in_channels == b.out_channels
            short = x if same and b.shortcut != "none" else None
        else:
            short = g.shortcut(x)
        out = g.join(body, short)
        return g.act("relu_out", out) if self.decl.act_after else out

    def _float(self, value: float | str, cfg: BlockConfig) -> float:
        return float(getattr(cfg, value)) if isinstance(value, str) else float(value)

    def _op(self, op: OpDecl, ins: list[tuple[str, int]], env: dict[str, int],
            cfg: BlockConfig, g: BlockBuilder) -> tuple[str, int]:
        """Append one declared op; return its node and output channels."""
        role = Role.BRANCH if op.role == "branch" else None
        src, c_in = ins[0]
        value = {k: self._eval(v, env) for k, v in op.ints.items()}
        for key in ("out", "groups", "kernel"):
            if key in value and not 1 <= value[key] <= MAX_CHANNELS:
                raise _channel_error(f"{op.name}.{key}", value[key], op.ints[key])
        attrs: OpAttrs
        if op.op == "conv":
            out, kernel = value["out"], value.get("kernel", 1)
            padding = value.get("padding", same_padding(kernel))
            node = g.conv(op.name, src, c_in, out, kernel, value.get("stride", 1),
                          padding=padding, groups=value.get("groups", 1), bias=op.bias,
                          role=role, span=op.span)
            return node, out
        if op.op == "norm":
            node = g.norm(op.name, src, c_in, residual_last=op.last, kind=op.kind, role=role,
                          span=op.span)
        elif op.op == "act":
            node = g.act(op.name, src, module=op.module or op.name, role=role, kind=op.kind,
                         span=op.span)
        else:
            if op.op == "layer_scale":
                attrs = LayerScale(c_in, self._float(op.floats.get("init", 1e-6), cfg))
            elif op.op in ("add", "mul"):
                attrs = Add() if op.op == "add" else Mul()
            elif op.op == "global_avg_pool":
                attrs = GlobalAvgPool()
            elif op.op == "dropout":
                attrs = Dropout(self._float(op.floats.get("p", 0.0), cfg))
            else:
                pool = MaxPool if op.op == "max_pool" else AvgPool
                k = value.get("kernel", 2)
                attrs = pool(k, value.get("stride", k), value.get("padding", 0))
            node = g.op(op.name, attrs, tuple(s for s, _ in ins), module=op.module or "",
                        role=role, span=op.span)
        return node, c_in


__all__ = ["BlockDecl", "DataBlockType", "Located", "OpDecl", "Residual"]

"""The op set: one typed record per op, holding its shape inference, parameters, MACs and label.

The base (`OpAttrs`, its traits and the shape helpers) is in `opbase.py`, the norms and the
activation in `norms.py` and `activations.py`; every record is registered in `OPS` here, and
each backend registers one lowering per name in `OPS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from ..core.registry import Registry
from .activations import ACTIVATIONS, Activation, ActivationKind
from .formula import Expr, Formula, num, product
from .norms import NORMS, BatchNorm, GroupNorm, LayerNorm, NormKind, make_norm
from .opbase import (
    Category,
    Op,
    OpAttrs,
    Shape,
    ShapeError,
    StrEnum,
    feature_map,
    same_padding,
    strided_size,
    strided_text,
    window,
    window_formula,
    with_channels,
)

__all__ = ["ACTIVATIONS", "NORMS", "OPS", "Activation", "ActivationKind", "Add", "AvgPool",
           "BatchNorm", "Category", "Conv2d", "DropPath", "Dropout", "Flatten", "GlobalAvgPool",
           "GroupNorm", "Input", "LayerNorm", "LayerScale", "Linear", "MaxPool", "Mul",
           "NormKind", "Op", "OpAttrs", "PadChannels", "Shape", "ShapeError", "StrEnum",
           "make_norm", "same_padding", "strided_size"]


@dataclass(frozen=True)
class Input(OpAttrs):
    """The network input."""

    OP: ClassVar[Op] = Op.INPUT
    ARITY: ClassVar[int] = 0
    CATEGORY: ClassVar[Category] = Category.INPUT
    FUNCTIONAL: ClassVar[bool] = True
    shape: Shape

    def infer(self, ins: list[Shape]) -> Shape:
        """The input has the shape it declares."""
        return tuple(self.shape)


@dataclass(frozen=True)
class Conv2d(OpAttrs):
    """A square-kernel 2-d convolution."""

    OP: ClassVar[Op] = Op.CONV
    CATEGORY: ClassVar[Category] = Category.CONV
    WINDOWED: ClassVar[bool] = True
    KEEPS_OUTPUT: ClassVar[bool] = False
    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0
    groups: int = 1
    bias: bool = False

    def infer(self, ins: list[Shape]) -> Shape:
        """Check channels and groups; slide the window over H and W."""
        c, h, w = with_channels(ins[0], self.in_channels, "conv2d")
        g = self.groups
        if c % g or self.out_channels % g:
            raise ShapeError("ARC203", f"groups={g} does not divide the channels "
                             f"({c} in, {self.out_channels} out)",
                             "choose groups that divide both channel counts")
        k, s, p = self.kernel, self.stride, self.padding
        return (self.out_channels, window(h, k, s, p, "conv2d"), window(w, k, s, p, "conv2d"))

    def channels_out(self, in_channels: int) -> int:
        """The conv's filters."""
        return self.out_channels

    def _weight_factors(self) -> tuple[tuple[int, str], ...]:
        """out · in/groups · k · k: the weights' factors, also one output pixel's MACs. The one
        place they are written: the formulas label them, `params` and `macs` multiply them."""
        return ((self.out_channels, "out channels"),
                (self.in_channels // self.groups, "in channels per group"),
                (self.kernel, "kernel"), (self.kernel, "kernel"))

    def _weights(self) -> Expr:
        """The weights as a worked formula."""
        return product(*(num(value, label) for value, label in self._weight_factors()))

    def params_formula(self) -> Expr:
        """Weights plus an optional bias, as a worked formula."""
        weights = self._weights()
        return weights + num(self.out_channels, "bias") if self.bias else weights

    def macs_formula(self, out: Shape) -> Expr:
        """One MAC per weight per output pixel, as a worked formula."""
        return product(self._weights(), num(out[1], "output height"), num(out[2], "output width"))

    # params and macs multiply the same factors as plain integers: building and walking the
    # formula costs more than the rest of a conv's inference, and a sample analyses millions of
    # distinct convs (tests/ir/test_ops_formulas.py holds them equal to the formulas).
    def params(self) -> int:
        """Weights plus an optional bias (the value of `params_formula`)."""
        weights = math.prod(value for value, _ in self._weight_factors())
        return weights + self.out_channels if self.bias else weights

    def macs(self, out: Shape) -> int:
        """One MAC per weight per output pixel (the value of `macs_formula`)."""
        return math.prod(value for value, _ in self._weight_factors()) * out[1] * out[2]

    def formulas(self, ins: list[Shape], out: Shape) -> tuple[Formula, ...]:
        """Output height and width, params and MACs."""
        k, s, p = self.kernel, self.stride, self.padding
        return (Formula("height", window_formula(ins[0][1], k, s, p)),
                Formula("width", window_formula(ins[0][2], k, s, p)),
                Formula("params", self.params_formula()), Formula("macs", self.macs_formula(out)))

    def text(self) -> str:
        """'3x3 conv, 128, /2, groups 32'."""
        text = strided_text(f"{self.kernel}x{self.kernel} conv, {self.out_channels}", self.stride)
        return text + (f", groups {self.groups}" if self.groups > 1 else "")


@dataclass(frozen=True)
class _Pool(OpAttrs):
    CATEGORY: ClassVar[Category] = Category.POOL
    WINDOWED: ClassVar[bool] = True
    kernel: int
    stride: int
    padding: int
    ceil_mode: bool = False

    def infer(self, ins: list[Shape]) -> Shape:
        """Slide the window; padding may not exceed half the kernel (torch's limit)."""
        c, h, w = feature_map(ins[0], "pool")
        k, s, p, ceil = self.kernel, self.stride, self.padding, self.ceil_mode
        if p > k // 2:
            raise ShapeError("ARC204", f"pool padding {p} exceeds half the kernel {k}",
                             f"use padding <= {k // 2}")
        return (c, window(h, k, s, p, "pool", ceil), window(w, k, s, p, "pool", ceil))

    def formulas(self, ins: list[Shape], out: Shape) -> tuple[Formula, ...]:
        """Output height and width."""
        k, s, p, ceil = self.kernel, self.stride, self.padding, self.ceil_mode
        return (Formula("height", window_formula(ins[0][1], k, s, p, ceil)),
                Formula("width", window_formula(ins[0][2], k, s, p, ceil)))

    def text(self) -> str:
        """'3x3 max pool, /2'."""
        kind = str(self.OP).split("_")[0]
        return strided_text(f"{self.kernel}x{self.kernel} {kind} pool", self.stride)


@dataclass(frozen=True)
class MaxPool(_Pool):
    """A max pool."""

    OP: ClassVar[Op] = Op.MAX_POOL


@dataclass(frozen=True)
class AvgPool(_Pool):
    """An average pool; `count_include_pad` False averages over real pixels only."""

    OP: ClassVar[Op] = Op.AVG_POOL
    count_include_pad: bool = True


@dataclass(frozen=True)
class PadChannels(OpAttrs):
    """Option-A shortcut: subsample by `stride` and zero-pad to `out_channels`; no parameters."""

    OP: ClassVar[Op] = Op.PAD_CHANNELS
    KEEPS_OUTPUT: ClassVar[bool] = False
    in_channels: int
    out_channels: int
    stride: int

    def infer(self, ins: list[Shape]) -> Shape:
        """Subsample H and W; grow the channels (never shrink them)."""
        c, h, w = with_channels(ins[0], self.in_channels, "zero-pad shortcut")
        if self.out_channels < c:
            raise ShapeError("ARC206", f"an option-A shortcut cannot shrink {c} channels to "
                             f"{self.out_channels}", "use shortcut B or C where channels shrink")
        s = self.stride
        return (self.out_channels, strided_size(h, s), strided_size(w, s))

    def channels_out(self, in_channels: int) -> int:
        """Padded to out_channels."""
        return self.out_channels

    def text(self) -> str:
        """'zero-pad 64→128, /2'."""
        return strided_text(f"zero-pad {self.in_channels}→{self.out_channels}", self.stride)


@dataclass(frozen=True)
class Add(OpAttrs):
    """The residual add of two equal shapes."""

    OP: ClassVar[Op] = Op.ADD
    ARITY: ClassVar[int] = 2
    CATEGORY: ClassVar[Category] = Category.MERGE
    FUNCTIONAL: ClassVar[bool] = True
    KEEPS_OUTPUT: ClassVar[bool] = False

    def infer(self, ins: list[Shape]) -> Shape:
        """Both inputs must have the same shape."""
        if ins[0] != ins[1]:
            raise ShapeError("ARC207", f"the residual add sees {ins[0]} from the body but "
                             f"{ins[1]} from the shortcut", "use shortcut B (projection) or A "
                             "(zero-pad) where the block changes channels or stride")
        return ins[0]

    def text(self) -> str:
        """'+'."""
        return "+"


@dataclass(frozen=True)
class Mul(OpAttrs):
    """A map times a per-channel gate (Cx1x1), as squeeze-and-excitation scales its input."""

    OP: ClassVar[Op] = Op.MUL
    ARITY: ClassVar[int] = 2
    CATEGORY: ClassVar[Category] = Category.MERGE
    FUNCTIONAL: ClassVar[bool] = True
    KEEPS_OUTPUT: ClassVar[bool] = False

    def infer(self, ins: list[Shape]) -> Shape:
        """The map's shape; the gate must be the same shape or one value per channel."""
        c = feature_map(ins[0], "mul")[0]
        if ins[1] != ins[0] and ins[1] != (c, 1, 1):
            raise ShapeError("ARC207", f"a gate of shape {ins[1]} cannot scale a map of shape "
                             f"{ins[0]}", "give the gate one value per channel of the map")
        return ins[0]

    def text(self) -> str:
        """'×'."""
        return "×"


@dataclass(frozen=True)
class DropPath(OpAttrs):
    """Stochastic depth: drop the whole residual branch of a sample with probability `p`."""

    OP: ClassVar[Op] = Op.DROP_PATH
    CATEGORY: ClassVar[Category] = Category.REGULARIZER
    KEEPS_OUTPUT: ClassVar[bool] = False
    p: float

    def text(self) -> str:
        """'drop path 0.05'."""
        return f"drop path {self.p:.3g}"


@dataclass(frozen=True)
class LayerScale(OpAttrs):
    """A learnt per-channel multiplier (CaiT, ConvNeXt's `gamma`), starting at `init`."""

    OP: ClassVar[Op] = Op.LAYER_SCALE
    CATEGORY: ClassVar[Category] = Category.SCALE
    KEEPS_OUTPUT: ClassVar[bool] = False
    channels: int
    init: float = 1e-6

    def infer(self, ins: list[Shape]) -> Shape:
        """Keep the shape; one multiplier per channel."""
        return with_channels(ins[0], self.channels, "layer_scale")

    def params(self) -> int:
        """One multiplier per channel."""
        return self.channels

    def formulas(self, ins: list[Shape], out: Shape) -> tuple[Formula, ...]:
        """Params: one per channel."""
        return (Formula("params", num(self.channels, "channels")),)

    def text(self) -> str:
        """'layer scale'."""
        return "layer scale"


@dataclass(frozen=True)
class GlobalAvgPool(OpAttrs):
    """Average over H and W, keeping a 1x1 map."""

    OP: ClassVar[Op] = Op.GLOBAL_AVG_POOL
    CATEGORY: ClassVar[Category] = Category.POOL

    def infer(self, ins: list[Shape]) -> Shape:
        """CxHxW -> Cx1x1."""
        return (feature_map(ins[0], "global_avg_pool")[0], 1, 1)

    def text(self) -> str:
        """'global avg pool'."""
        return "global avg pool"


@dataclass(frozen=True)
class Flatten(OpAttrs):
    """Flatten a map to features."""

    OP: ClassVar[Op] = Op.FLATTEN
    FUNCTIONAL: ClassVar[bool] = True

    def infer(self, ins: list[Shape]) -> Shape:
        """CxHxW -> (C*H*W,)."""
        size = 1
        for d in ins[0]:
            size *= d
        return (size,)


@dataclass(frozen=True)
class Dropout(OpAttrs):
    """Dropout with probability `p` (identity in eval mode)."""

    OP: ClassVar[Op] = Op.DROPOUT
    CATEGORY: ClassVar[Category] = Category.REGULARIZER
    p: float

    def text(self) -> str:
        """'dropout 0.2'."""
        return f"dropout {self.p}"


@dataclass(frozen=True)
class Linear(OpAttrs):
    """A fully connected layer."""

    OP: ClassVar[Op] = Op.LINEAR
    CATEGORY: ClassVar[Category] = Category.LINEAR
    KEEPS_OUTPUT: ClassVar[bool] = False
    in_features: int
    out_features: int
    bias: bool = True

    def infer(self, ins: list[Shape]) -> Shape:
        """Features in, features out."""
        if ins[0] != (self.in_features,):
            raise ShapeError("ARC202", f"linear expects {self.in_features} features but receives "
                             f"{ins[0]}", "flatten a globally pooled map before the classifier")
        return (self.out_features,)

    def channels_out(self, in_channels: int) -> int:
        """Features out."""
        return self.out_features

    def _weights(self) -> Expr:
        return num(self.in_features, "in features") * num(self.out_features, "out features")

    def params_formula(self) -> Expr:
        """Weights plus an optional bias, as a worked formula."""
        weights = self._weights()
        return weights + num(self.out_features, "bias") if self.bias else weights

    def params(self) -> int:
        """Weights plus an optional bias."""
        return self.params_formula().evaluate()

    def macs(self, out: Shape) -> int:
        """One MAC per weight."""
        return self._weights().evaluate()

    def formulas(self, ins: list[Shape], out: Shape) -> tuple[Formula, ...]:
        """Params and MACs."""
        return (Formula("params", self.params_formula()), Formula("macs", self._weights()))

    def text(self) -> str:
        """'fc 512→1000'."""
        return f"fc {self.in_features}→{self.out_features}"


OPS: Registry[type[OpAttrs]] = Registry("op")
for _record in (Input, Conv2d, BatchNorm, LayerNorm, GroupNorm, Activation, MaxPool, AvgPool,
                PadChannels, Add, Mul, LayerScale, DropPath, GlobalAvgPool, Flatten, Dropout,
                Linear):
    OPS.register(str(_record.OP), _record)

"""The op set: one typed record per op, holding its shape inference, parameters, MACs and label.

MACs are conv plus linear multiply-accumulates: torchvision's "GFLOPS" metadata and half of
torch.utils.flop_counter.FlopCounterMode's total. Norms, activations, pools and adds count zero.
Each record is the only place its formulas exist; analysis, rules, the summary and the diagram
all call these methods, and the torch backend is checked against them in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from ..core.registry import Registry

Shape = tuple[int, ...]  # (C, H, W) for maps, (F,) after flatten; no batch dimension


class StrEnum(str, Enum):
    """A str-valued enum that prints and formats as its value on every Python version."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Op(StrEnum):
    """The closed set of primitive ops the IR is made of."""

    INPUT = "input"
    CONV = "conv2d"
    BATCH_NORM = "batch_norm"
    ACTIVATION = "activation"
    MAX_POOL = "max_pool"
    AVG_POOL = "avg_pool"
    PAD_CHANNELS = "pad_channels"
    ADD = "add"
    MUL = "mul"
    DROP_PATH = "drop_path"
    GLOBAL_AVG_POOL = "global_avg_pool"
    FLATTEN = "flatten"
    DROPOUT = "dropout"
    LINEAR = "linear"


class ShapeError(Exception):
    """A shape that cannot be computed; the message says why and how to fix it."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def same_padding(kernel: int) -> int:
    """The padding that keeps an odd kernel's map size at stride 1 (torchvision's convention)."""
    return kernel // 2


def strided_size(size: int, stride: int) -> int:
    """Map length after strided subsampling (x[::s]), equal to a strided 'same' conv's output."""
    return -(-size // stride)


def _map(shape: Shape, op: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError("ARC205", f"{op} needs a CxHxW feature map, got {shape}",
                         "place this op before the flatten")
    return shape[0], shape[1], shape[2]


def _window(size: int, kernel: int, stride: int, padding: int, what: str,
            ceil_mode: bool = False) -> int:
    """Output length of a sliding window, by torch's rule (floor mode unless `ceil_mode`)."""
    out = (size + 2 * padding - kernel + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and out > 1 and (out - 1) * stride >= size + padding:
        out -= 1  # torch drops a last window that would start in the right padding
    if out < 1:
        raise ShapeError("ARC201", f"{what} collapses the map: {size} px with kernel {kernel}, "
                         f"stride {stride}, padding {padding} leaves nothing",
                         "use a larger input, fewer stride-2 stages, or a smaller stride")
    return out


def _channels(shape: Shape, want: int, op: str) -> tuple[int, int, int]:
    c, h, w = _map(shape, op)
    if c != want:
        raise ShapeError("ARC202", f"{op} expects {want} input channels but receives {c}",
                         "make the previous layer's out_channels match")
    return c, h, w


def _strided(text: str, stride: int) -> str:
    return text + (f", /{stride}" if stride > 1 else "")


@dataclass(frozen=True)
class OpAttrs:
    """Base of the op records: an op's attributes plus its formulas, defined once."""

    OP: ClassVar[Op]
    ARITY: ClassVar[int] = 1  # how many inputs the op takes

    @property
    def op(self) -> Op:
        """The op this record describes."""
        return self.OP

    def infer(self, ins: list[Shape]) -> Shape:
        """Return the output shape for the input shapes, or raise ShapeError."""
        return ins[0]

    def params(self) -> int:
        """Learnable parameters (weights and biases; BN running stats are buffers)."""
        return 0

    def macs(self, out: Shape) -> int:
        """Multiply-accumulates for one input, given the output shape."""
        return 0

    def text(self) -> str:
        """One line for diagrams: '3x3 conv, 128, /2', 'BN', 'zero-pad 64→128, /2'."""
        return str(self.OP)


@dataclass(frozen=True)
class Input(OpAttrs):
    """The network input."""

    OP: ClassVar[Op] = Op.INPUT
    ARITY: ClassVar[int] = 0
    shape: Shape

    def infer(self, ins: list[Shape]) -> Shape:
        """The input has the shape it declares."""
        return tuple(self.shape)


@dataclass(frozen=True)
class Conv2d(OpAttrs):
    """A square-kernel 2-d convolution."""

    OP: ClassVar[Op] = Op.CONV
    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0
    groups: int = 1
    bias: bool = False

    def infer(self, ins: list[Shape]) -> Shape:
        """Check channels and groups; slide the window over H and W."""
        c, h, w = _channels(ins[0], self.in_channels, "conv2d")
        g = self.groups
        if c % g or self.out_channels % g:
            raise ShapeError("ARC203", f"groups={g} does not divide the channels "
                             f"({c} in, {self.out_channels} out)",
                             "choose groups that divide both channel counts")
        k, s, p = self.kernel, self.stride, self.padding
        return (self.out_channels, _window(h, k, s, p, "conv2d"), _window(w, k, s, p, "conv2d"))

    def _per_pixel(self) -> int:
        return self.out_channels * (self.in_channels // self.groups) * self.kernel ** 2

    def params(self) -> int:
        """Weights plus an optional bias."""
        return self._per_pixel() + (self.out_channels if self.bias else 0)

    def macs(self, out: Shape) -> int:
        """One MAC per weight per output pixel."""
        return self._per_pixel() * out[1] * out[2]

    def text(self) -> str:
        """'3x3 conv, 128, /2, groups 32'."""
        text = _strided(f"{self.kernel}x{self.kernel} conv, {self.out_channels}", self.stride)
        return text + (f", groups {self.groups}" if self.groups > 1 else "")


@dataclass(frozen=True)
class BatchNorm(OpAttrs):
    """Batch norm over `channels`; `zero_init` starts its weight at 0 (zero_init_residual)."""

    OP: ClassVar[Op] = Op.BATCH_NORM
    channels: int
    zero_init: bool = False

    def infer(self, ins: list[Shape]) -> Shape:
        """Keep the shape; the channels must match."""
        return _channels(ins[0], self.channels, "batch_norm")

    def params(self) -> int:
        """Weight and bias per channel."""
        return 2 * self.channels

    def text(self) -> str:
        """'BN'."""
        return "BN"


_ACT_TEXT = {"relu": "ReLU", "silu": "SiLU", "gelu": "GELU", "sigmoid": "sigmoid"}


@dataclass(frozen=True)
class Activation(OpAttrs):
    """An elementwise activation: relu, silu, gelu, or sigmoid (a gate)."""

    OP: ClassVar[Op] = Op.ACTIVATION
    kind: str

    def text(self) -> str:
        """'ReLU'."""
        return _ACT_TEXT.get(self.kind, self.kind)


@dataclass(frozen=True)
class _Pool(OpAttrs):
    kernel: int
    stride: int
    padding: int
    ceil_mode: bool = False

    def infer(self, ins: list[Shape]) -> Shape:
        """Slide the window; padding may not exceed half the kernel (torch's limit)."""
        c, h, w = _map(ins[0], "pool")
        k, s, p, ceil = self.kernel, self.stride, self.padding, self.ceil_mode
        if p > k // 2:
            raise ShapeError("ARC204", f"pool padding {p} exceeds half the kernel {k}",
                             f"use padding <= {k // 2}")
        return (c, _window(h, k, s, p, "pool", ceil), _window(w, k, s, p, "pool", ceil))

    def text(self) -> str:
        """'3x3 max pool, /2'."""
        kind = str(self.OP).split("_")[0]
        return _strided(f"{self.kernel}x{self.kernel} {kind} pool", self.stride)


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
    in_channels: int
    out_channels: int
    stride: int

    def infer(self, ins: list[Shape]) -> Shape:
        """Subsample H and W; grow the channels (never shrink them)."""
        c, h, w = _channels(ins[0], self.in_channels, "zero-pad shortcut")
        if self.out_channels < c:
            raise ShapeError("ARC206", f"an option-A shortcut cannot shrink {c} channels to "
                             f"{self.out_channels}", "use shortcut B or C where channels shrink")
        s = self.stride
        return (self.out_channels, strided_size(h, s), strided_size(w, s))

    def text(self) -> str:
        """'zero-pad 64→128, /2'."""
        return _strided(f"zero-pad {self.in_channels}→{self.out_channels}", self.stride)


@dataclass(frozen=True)
class Add(OpAttrs):
    """The residual add of two equal shapes."""

    OP: ClassVar[Op] = Op.ADD
    ARITY: ClassVar[int] = 2

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

    def infer(self, ins: list[Shape]) -> Shape:
        """The map's shape; the gate must be the same shape or one value per channel."""
        c = _map(ins[0], "mul")[0]
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
    p: float

    def text(self) -> str:
        """'drop path 0.05'."""
        return f"drop path {self.p:.3g}"


@dataclass(frozen=True)
class GlobalAvgPool(OpAttrs):
    """Average over H and W, keeping a 1x1 map."""

    OP: ClassVar[Op] = Op.GLOBAL_AVG_POOL

    def infer(self, ins: list[Shape]) -> Shape:
        """CxHxW -> Cx1x1."""
        return (_map(ins[0], "global_avg_pool")[0], 1, 1)

    def text(self) -> str:
        """'global avg pool'."""
        return "global avg pool"


@dataclass(frozen=True)
class Flatten(OpAttrs):
    """Flatten a map to features."""

    OP: ClassVar[Op] = Op.FLATTEN

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
    p: float

    def text(self) -> str:
        """'dropout 0.2'."""
        return f"dropout {self.p}"


@dataclass(frozen=True)
class Linear(OpAttrs):
    """A fully connected layer."""

    OP: ClassVar[Op] = Op.LINEAR
    in_features: int
    out_features: int
    bias: bool = True

    def infer(self, ins: list[Shape]) -> Shape:
        """Features in, features out."""
        if ins[0] != (self.in_features,):
            raise ShapeError("ARC202", f"linear expects {self.in_features} features but receives "
                             f"{ins[0]}", "flatten a globally pooled map before the classifier")
        return (self.out_features,)

    def params(self) -> int:
        """Weights plus an optional bias."""
        return self.in_features * self.out_features + (self.out_features if self.bias else 0)

    def macs(self, out: Shape) -> int:
        """One MAC per weight."""
        return self.in_features * self.out_features

    def text(self) -> str:
        """'fc 512→1000'."""
        return f"fc {self.in_features}→{self.out_features}"


OPS: Registry[type[OpAttrs]] = Registry("op")
for _record in (Input, Conv2d, BatchNorm, Activation, MaxPool, AvgPool, PadChannels, Add, Mul,
                DropPath, GlobalAvgPool, Flatten, Dropout, Linear):
    OPS.register(str(_record.OP), _record)

"""What an op is: a frozen record of its attributes, its traits, and its formulas, defined once.

MACs are conv plus linear multiply-accumulates: torchvision's "GFLOPS" metadata and half of
torch.utils.flop_counter.FlopCounterMode's total. Norms, activations, pools and adds count zero.
Each record is the only place its formulas exist; analysis, rules, the summary and the diagram
all call these methods. A backend registers one lowering per op name (the torch backend's are in
`backends/pytorch/lowerings.py`), and a test fails when a backend lacks one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from .formula import Expr, Formula, num

Shape = tuple[int, ...]  # (C, H, W) for maps, (F,) after flatten; no batch dimension


class StrEnum(str, Enum):
    """A str-valued enum that prints and formats as its value on every Python version."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Op(StrEnum):
    """The names of the primitive ops the IR is made of (each has one record in OPS)."""

    INPUT = "input"
    CONV = "conv2d"
    BATCH_NORM = "batch_norm"
    LAYER_NORM = "layer_norm"
    GROUP_NORM = "group_norm"
    ACTIVATION = "activation"
    MAX_POOL = "max_pool"
    AVG_POOL = "avg_pool"
    PAD_CHANNELS = "pad_channels"
    ADD = "add"
    MUL = "mul"
    LAYER_SCALE = "layer_scale"
    DROP_PATH = "drop_path"
    GLOBAL_AVG_POOL = "global_avg_pool"
    FLATTEN = "flatten"
    DROPOUT = "dropout"
    LINEAR = "linear"


class Category(StrEnum):
    """What kind of layer an op is: how diagrams, summaries and rules treat it."""

    INPUT = "input"
    CONV = "conv"  # a weighted layer on a map
    NORM = "norm"
    ACTIVATION = "activation"
    POOL = "pool"
    MERGE = "merge"  # joins two values (add, mul)
    SCALE = "scale"  # a learnt per-channel multiplier
    REGULARIZER = "regularizer"  # identity in eval mode (dropout, drop path)
    RESHAPE = "reshape"
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


def feature_map(shape: Shape, op: str) -> tuple[int, int, int]:
    """The (C, H, W) of a map, or a ShapeError for features (after a flatten)."""
    if len(shape) != 3:
        raise ShapeError("ARC205", f"{op} needs a CxHxW feature map, got {shape}",
                         "place this op before the flatten")
    return shape[0], shape[1], shape[2]


@functools.lru_cache(maxsize=8192)  # frozen expressions, shared: a sweep shapes thousands a second
def window_formula(size: int, kernel: int, stride: int, padding: int,
                   ceil_mode: bool = False) -> Expr:
    """The output length of a sliding window as a worked formula, by torch's rule (floor mode
    unless `ceil_mode`): (size + 2·padding − kernel) / stride + 1."""
    body = num(size, "input size") + num(2) * num(padding, "padding") - num(kernel, "kernel")
    if ceil_mode:
        body = body + (num(stride, "stride") - num(1))
    out = body // num(stride, "stride") + num(1)
    value = out.evaluate()
    if ceil_mode and value > 1 and (value - 1) * stride >= size + padding:
        out = out - num(1, "last window in the padding")  # torch drops such a window
    return out


@functools.lru_cache(maxsize=8192)
def _window_value(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    return window_formula(size, kernel, stride, padding, ceil_mode).evaluate()


def window(size: int, kernel: int, stride: int, padding: int, what: str,
           ceil_mode: bool = False) -> int:
    """Output length of a sliding window: the value of `window_formula`, or a ShapeError."""
    out = _window_value(size, kernel, stride, padding, ceil_mode)
    if out < 1:
        raise ShapeError("ARC201", f"{what} collapses the map: {size} px with kernel {kernel}, "
                         f"stride {stride}, padding {padding} leaves nothing",
                         "use a larger input, fewer stride-2 stages, or a smaller stride")
    return out


def with_channels(shape: Shape, want: int, op: str) -> tuple[int, int, int]:
    """The (C, H, W) of a map whose channels must be `want`, or a ShapeError."""
    c, h, w = feature_map(shape, op)
    if c != want:
        raise ShapeError("ARC202", f"{op} expects {want} input channels but receives {c}",
                         "make the previous layer's out_channels match")
    return c, h, w


def strided_text(text: str, stride: int) -> str:
    """Append ', /2' to a label when the op strides."""
    return text + (f", /{stride}" if stride > 1 else "")


@dataclass(frozen=True)
class OpAttrs:
    """Base of the op records: an op's attributes, traits and formulas, defined once.

    Traits, read by every consumer instead of lists of op names:
    - ARITY: how many inputs the op takes;
    - CATEGORY: what kind of layer it is (diagrams, summaries and rules group by it);
    - WINDOWED: its stride slides a window over the map (rule ARC304 checks those);
    - FUNCTIONAL: it becomes an expression, not a submodule (no state, no module name);
    - KEEPS_OUTPUT: autograd keeps its output for the backward pass, so a value it made must
      never be changed in place (an in-place activation after it would corrupt the gradient).
    """

    OP: ClassVar[Op]
    ARITY: ClassVar[int] = 1
    CATEGORY: ClassVar[Category] = Category.RESHAPE
    WINDOWED: ClassVar[bool] = False
    FUNCTIONAL: ClassVar[bool] = False
    KEEPS_OUTPUT: ClassVar[bool] = True

    @property
    def op(self) -> Op:
        """The op this record describes."""
        return self.OP

    def infer(self, ins: list[Shape]) -> Shape:
        """Return the output shape for the input shapes, or raise ShapeError."""
        return ins[0]

    def channels_out(self, in_channels: int) -> int:
        """Channels of the output for an input of `in_channels` (the shape rule, channels only)."""
        return in_channels

    def params(self) -> int:
        """Learnable parameters (weights and biases; BN running stats are buffers)."""
        return 0

    def buffer_bytes(self, element_size: int) -> int:
        """Bytes of the non-learnt state the module keeps (BN's running statistics)."""
        return 0

    def macs(self, out: Shape) -> int:
        """Multiply-accumulates for one input, given the output shape."""
        return 0

    def formulas(self, ins: list[Shape], out: Shape) -> tuple[Formula, ...]:
        """The worked formulas of this op's output size, params and MACs, numbers filled in:
        the same expressions `infer`, `params` and `macs` evaluate (empty where all are trivial)."""
        return ()

    def text(self) -> str:
        """One line for diagrams: '3x3 conv, 128, /2', 'BN', 'zero-pad 64→128, /2'."""
        return str(self.OP)

"""The op registry: shape inference, parameter count and MAC count, defined once per op.

MACs are conv plus linear multiply-accumulates: torchvision's "GFLOPS" metadata and half of
torch.utils.flop_counter.FlopCounterMode's total. Norms, activations, pools and adds count zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .ir import Shape, same_padding  # noqa: F401  (re-exported for callers of ops)
from .registry import Registry

Attrs = Mapping[str, Any]


class ShapeError(Exception):
    """A shape that cannot be computed; the message says why and how to fix it."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@dataclass(frozen=True)
class OpDef:
    """How one op transforms shapes and what it costs."""

    name: str
    infer: Callable[[Attrs, list[Shape]], Shape]
    params: Callable[[Attrs], int] = lambda a: 0  # depends on attributes alone
    macs: Callable[[Attrs, Shape], int] = lambda a, out: 0  # needs the output shape


OPS: Registry[OpDef] = Registry("op")


def strided_size(size: int, stride: int) -> int:
    """Map length after strided subsampling (x[::s]), equal to a strided 'same' conv's output."""
    return -(-size // stride)


def _map(shape: Shape, op: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError("ARC205", f"{op} needs a CxHxW feature map, got {shape}",
                         "place this op before the flatten")
    return shape[0], shape[1], shape[2]


def _window(size: int, kernel: int, stride: int, padding: int, what: str) -> int:
    """Output length of a sliding window (floor mode, as torch's default)."""
    out = (size + 2 * padding - kernel) // stride + 1
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


def _conv_infer(a: Attrs, ins: list[Shape]) -> Shape:
    c, h, w = _channels(ins[0], a["in_channels"], "conv2d")
    g = a["groups"]
    if c % g or a["out_channels"] % g:
        raise ShapeError("ARC203", f"groups={g} does not divide the channels "
                         f"({c} in, {a['out_channels']} out)",
                         "choose groups that divide both channel counts")
    k, s, p = a["kernel"], a["stride"], a["padding"]
    return (a["out_channels"], _window(h, k, s, p, "conv2d"), _window(w, k, s, p, "conv2d"))


def _conv_params(a: Attrs) -> int:
    weight = a["out_channels"] * (a["in_channels"] // a["groups"]) * a["kernel"] ** 2
    return int(weight + (a["out_channels"] if a["bias"] else 0))


def _conv_macs(a: Attrs, out: Shape) -> int:
    per_pixel = a["out_channels"] * (a["in_channels"] // a["groups"]) * a["kernel"] ** 2
    return int(per_pixel * out[1] * out[2])


def _pool_infer(a: Attrs, ins: list[Shape]) -> Shape:
    c, h, w = _map(ins[0], "pool")
    k, s, p = a["kernel"], a["stride"], a["padding"]
    if p > k // 2:
        raise ShapeError("ARC204", f"pool padding {p} exceeds half the kernel {k}",
                         f"use padding <= {k // 2}")
    return (c, _window(h, k, s, p, "pool"), _window(w, k, s, p, "pool"))


def _same(a: Attrs, ins: list[Shape]) -> Shape:
    return ins[0]


def _bn_infer(a: Attrs, ins: list[Shape]) -> Shape:
    return _channels(ins[0], a["channels"], "batch_norm")


def _pad_infer(a: Attrs, ins: list[Shape]) -> Shape:
    c, h, w = _channels(ins[0], a["in_channels"], "zero-pad shortcut")
    if a["out_channels"] < c:
        raise ShapeError("ARC206", f"an option-A shortcut cannot shrink {c} channels to "
                         f"{a['out_channels']}", "use shortcut B or C where channels shrink")
    s = a["stride"]
    return (a["out_channels"], strided_size(h, s), strided_size(w, s))


def _add_infer(a: Attrs, ins: list[Shape]) -> Shape:
    if ins[0] != ins[1]:
        raise ShapeError("ARC207", f"the residual add sees {ins[0]} from the body but {ins[1]} "
                         "from the shortcut", "use shortcut B (projection) or A (zero-pad) "
                         "where the block changes channels or stride")
    return ins[0]


def _gap_infer(a: Attrs, ins: list[Shape]) -> Shape:
    return (_map(ins[0], "global_avg_pool")[0], 1, 1)


def _flatten_infer(a: Attrs, ins: list[Shape]) -> Shape:
    size = 1
    for d in ins[0]:
        size *= d
    return (size,)


def _linear_infer(a: Attrs, ins: list[Shape]) -> Shape:
    if ins[0] != (a["in_features"],):
        raise ShapeError("ARC202", f"linear expects {a['in_features']} features but receives "
                         f"{ins[0]}", "flatten a globally pooled map before the classifier")
    return (a["out_features"],)


OPS.register("input", OpDef("input", lambda a, ins: tuple(a["shape"])))
OPS.register("conv2d", OpDef("conv2d", _conv_infer, _conv_params, _conv_macs))
OPS.register("batch_norm", OpDef("batch_norm", _bn_infer, lambda a: 2 * a["channels"]))
OPS.register("activation", OpDef("activation", _same))
OPS.register("max_pool", OpDef("max_pool", _pool_infer))
OPS.register("avg_pool", OpDef("avg_pool", _pool_infer))
OPS.register("pad_channels", OpDef("pad_channels", _pad_infer))
OPS.register("add", OpDef("add", _add_infer))
OPS.register("global_avg_pool", OpDef("global_avg_pool", _gap_infer))
OPS.register("flatten", OpDef("flatten", _flatten_infer))
OPS.register("dropout", OpDef("dropout", _same))
OPS.register("linear", OpDef(
    "linear", _linear_infer,
    lambda a: a["in_features"] * a["out_features"] + (a["out_features"] if a["bias"] else 0),
    lambda a, out: a["in_features"] * a["out_features"]))

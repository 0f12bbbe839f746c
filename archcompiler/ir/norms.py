"""Normalisation ops, and the one registry of norm kinds that the schema, the IR and torch read.

A spec or block file names a norm by kind (`batch`, `layer`, `group`); `NORMS` turns the kind
into its op record. Each record keeps the eps of the module it becomes, so the torch module and
a reference implementation compute the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from ..core.registry import Registry
from .formula import Expr, Formula, num
from .opbase import Category, Op, OpAttrs, Shape, ShapeError, with_channels

PER_CHANNEL = 2  # a norm's learned weight and bias for each channel: its formula and its count


@dataclass(frozen=True)
class _Norm(OpAttrs):
    """A norm with an affine weight and bias per channel; `zero_init` starts the weight at 0."""

    CATEGORY: ClassVar[Category] = Category.NORM
    KEEPS_OUTPUT: ClassVar[bool] = False  # autograd keeps statistics, not the output
    LABEL: ClassVar[str] = "norm"
    channels: int
    zero_init: bool = False

    def infer(self, ins: list[Shape]) -> Shape:
        """Keep the shape; the channels must match."""
        return with_channels(ins[0], self.channels, self.OP)  # a str already

    def params_formula(self) -> Expr:
        """Weight and bias per channel, as a worked formula."""
        return num(PER_CHANNEL, "weight and bias") * num(self.channels, "channels")

    def params(self) -> int:
        """Weight and bias per channel (the value of `params_formula`, in plain integers)."""
        return PER_CHANNEL * self.channels

    def formulas(self, ins: list[Shape], out: Shape) -> tuple[Formula, ...]:
        """Params."""
        return (Formula("params", self.params_formula()),)

    def text(self) -> str:
        """'BN', 'LN', 'GN'."""
        return self.LABEL


@dataclass(frozen=True)
class BatchNorm(_Norm):
    """Batch norm over `channels` (torch's eps 1e-5, momentum 0.1)."""

    OP: ClassVar[Op] = Op.BATCH_NORM
    LABEL: ClassVar[str] = "BN"

    def buffer_bytes(self, element_size: int) -> int:
        """Running mean and variance per channel, plus one int64 batch counter."""
        return 2 * self.channels * element_size + 8


@dataclass(frozen=True)
class LayerNorm(_Norm):
    """Layer norm over the channels of each pixel (ConvNeXt's channels-first LayerNorm2d)."""

    OP: ClassVar[Op] = Op.LAYER_NORM
    LABEL: ClassVar[str] = "LN"
    eps: float = 1e-6


@dataclass(frozen=True)
class GroupNorm(_Norm):
    """Group norm: channels split into `groups`, each normalised over its channels and pixels."""

    OP: ClassVar[Op] = Op.GROUP_NORM
    LABEL: ClassVar[str] = "GN"
    groups: int = 32
    eps: float = 1e-5

    def infer(self, ins: list[Shape]) -> Shape:
        """Keep the shape; the groups must divide the channels."""
        if self.channels % self.groups:
            raise ShapeError("ARC203", f"group norm with {self.groups} groups cannot split "
                             f"{self.channels} channels", "choose groups that divide the channels")
        shape = super().infer(ins)
        if self.channels // self.groups * shape[1] * shape[2] < 2:
            # torch refuses to normalise a single value (its variance is undefined), even in eval
            raise ShapeError("ARC208", f"group norm with {self.groups} groups of "
                             f"{self.channels // self.groups} channel on a {shape[1]}x{shape[2]} "
                             "map normalises one value per group", "use fewer groups, more "
                             "channels, or a larger map (or the batch or layer norm)")
        return shape


@dataclass(frozen=True)
class NormKind:
    """A norm a spec can name: its op record for a channel count."""

    name: str
    make: Callable[[int, bool], _Norm]  # (channels, zero_init) -> record
    description: str


NORMS: Registry[NormKind] = Registry("norm kind")
for _kind in (
        NormKind("batch", lambda c, z: BatchNorm(c, z), "BatchNorm2d (ResNet)"),
        NormKind("layer", lambda c, z: LayerNorm(c, z), "LayerNorm over channels, eps 1e-6 "
                 "(ConvNeXt's LayerNorm2d)"),
        NormKind("group", lambda c, z: GroupNorm(c, z), "GroupNorm with 32 groups")):
    NORMS.register(_kind.name, _kind)


def make_norm(kind: str, channels: int, zero_init: bool = False) -> _Norm:
    """The norm record of a registered kind (UnknownNameError with a suggestion otherwise)."""
    if kind == "batch":  # the common case, without the registry look-up (lowering's inner loop)
        return BatchNorm(channels, zero_init)
    return NORMS.get(kind).make(channels, zero_init)

"""The activation op, and the one registry of activation kinds that the schema, IR and torch read.

A spec's `activation` field, a block's `act` ops and the torch backend all name activations from
`ACTIVATIONS`; a test checks that the torch backend has a module for every kind listed here, so
the analysis never accepts an activation that a build would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.registry import Registry
from .opbase import Category, Op, OpAttrs


@dataclass(frozen=True)
class ActivationKind:
    """An activation a spec can name: its label on diagrams and what it is."""

    name: str
    label: str
    description: str


ACTIVATIONS: Registry[ActivationKind] = Registry("activation")
for _kind in (
        ActivationKind("relu", "ReLU", "max(0, x)"),
        ActivationKind("relu6", "ReLU6", "min(max(0, x), 6) (MobileNetV2)"),
        ActivationKind("silu", "SiLU", "x * sigmoid(x) (swish)"),
        ActivationKind("gelu", "GELU", "x * Phi(x), exact (ConvNeXt)"),
        ActivationKind("hardswish", "Hardswish", "x * relu6(x + 3) / 6 (MobileNetV3)"),
        ActivationKind("sigmoid", "sigmoid", "1 / (1 + exp(-x)) (a gate)"),
        ActivationKind("identity", "identity", "x unchanged (no activation)")):
    ACTIVATIONS.register(_kind.name, _kind)


@dataclass(frozen=True)
class Activation(OpAttrs):
    """An elementwise activation of a registered kind."""

    OP: ClassVar[Op] = Op.ACTIVATION
    CATEGORY: ClassVar[Category] = Category.ACTIVATION
    kind: str

    def text(self) -> str:
        """'ReLU'."""
        return ACTIVATIONS.get(self.kind).label if self.kind in ACTIVATIONS else self.kind

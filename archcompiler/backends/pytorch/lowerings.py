"""The torch lowering of every op, registered by op name: its module (or expression) and its init.

As JAX registers one lowering per primitive, this backend registers one `Lowering` per name in
the IR's `OPS`, and one module factory per activation kind in `ACTIVATIONS`. A missing entry is
an error where it is used, never a silent default, and `tests/backends/pytorch/test_op_set.py`
walks every op and activation the analysis accepts and builds it here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ...ir.ops import (
    Activation,
    AvgPool,
    BatchNorm,
    Conv2d,
    Dropout,
    DropPath,
    GroupNorm,
    LayerNorm,
    LayerScale,
    Linear,
    MaxPool,
    Op,
    OpAttrs,
    PadChannels,
)
from . import modules as m


class BackendError(RuntimeError):
    """The IR holds something this backend cannot build: a bug or a missing backend feature."""


Make = Callable[[OpAttrs, torch.device, bool], nn.Module]  # (attrs, device, inplace) -> module
Init = Callable[[nn.Module, OpAttrs, "torch.Generator | None"], None]


@dataclass(frozen=True)
class Lowering:
    """How one op becomes torch: a module factory and its initialiser, or an expression.

    `expression` is a format string over the input variables ("{0} + {1}") for functional ops.
    `init` fills the module's parameters and buffers after `to_empty` (None: it has none).
    """

    make: Make | None = None
    init: Init | None = None
    expression: str | None = None


ACTIVATION_MODULES: dict[str, Callable[[bool], nn.Module]] = {
    "relu": lambda inplace: nn.ReLU(inplace=inplace),
    "relu6": lambda inplace: nn.ReLU6(inplace=inplace),
    "silu": lambda inplace: nn.SiLU(inplace=inplace),
    "gelu": lambda inplace: nn.GELU(),  # torch has no in-place GELU
    "hardswish": lambda inplace: nn.Hardswish(inplace=inplace),
    "sigmoid": lambda inplace: nn.Sigmoid(),
    "identity": lambda inplace: nn.Identity(),
}


def _activation(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, Activation)
    make = ACTIVATION_MODULES.get(a.kind)
    if make is None:
        raise BackendError(f"activation {a.kind!r} has no torch module; known: "
                           f"{', '.join(sorted(ACTIVATION_MODULES))}")
    # In place where the backend proved it safe, as torchvision does, to save memory.
    return make(inplace)


def _conv(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, Conv2d)
    return nn.Conv2d(a.in_channels, a.out_channels, a.kernel, a.stride, a.padding,
                     groups=a.groups, bias=a.bias, device=device)


def _init_conv(mod: nn.Module, a: OpAttrs, g: torch.Generator | None) -> None:
    assert isinstance(mod, nn.Conv2d)
    nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu", generator=g)
    if mod.bias is not None:
        nn.init.zeros_(mod.bias)


def _init_norm(mod: nn.Module, a: OpAttrs, g: torch.Generator | None) -> None:
    assert isinstance(mod, (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm))
    assert isinstance(a, (BatchNorm, LayerNorm, GroupNorm))
    if isinstance(mod, nn.BatchNorm2d):
        mod.reset_running_stats()  # to_empty left the buffers uninitialised
    # zero_init_residual: the block's last norm starts at 0, so the block starts as an identity.
    nn.init.constant_(mod.weight, 0.0 if a.zero_init else 1.0)
    nn.init.zeros_(mod.bias)


def _batch_norm(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, BatchNorm)
    return nn.BatchNorm2d(a.channels, device=device)


def _layer_norm(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, LayerNorm)
    return m.LayerNorm2d(a.channels, eps=a.eps, device=device)


def _group_norm(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, GroupNorm)
    return nn.GroupNorm(a.groups, a.channels, eps=a.eps, device=device)


def _layer_scale(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, LayerScale)
    return m.LayerScale(a.channels, device=device)


def _init_layer_scale(mod: nn.Module, a: OpAttrs, g: torch.Generator | None) -> None:
    assert isinstance(mod, m.LayerScale) and isinstance(a, LayerScale)
    nn.init.constant_(mod.gamma, a.init)


def _linear(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, Linear)
    return nn.Linear(a.in_features, a.out_features, bias=a.bias, device=device)


def _init_linear(mod: nn.Module, a: OpAttrs, g: torch.Generator | None) -> None:
    # nn.Linear.reset_parameters, spelled out because it takes no generator.
    assert isinstance(mod, nn.Linear)
    nn.init.kaiming_uniform_(mod.weight, a=math.sqrt(5), generator=g)
    if mod.bias is not None:
        bound = 1 / math.sqrt(mod.in_features) if mod.in_features > 0 else 0.0
        nn.init.uniform_(mod.bias, -bound, bound, generator=g)


def _pool(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    if isinstance(a, MaxPool):
        return nn.MaxPool2d(a.kernel, a.stride, a.padding, ceil_mode=a.ceil_mode)
    assert isinstance(a, AvgPool)
    return nn.AvgPool2d(a.kernel, a.stride, a.padding, ceil_mode=a.ceil_mode,
                        count_include_pad=a.count_include_pad)


def _pad(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, PadChannels)
    return m.PadShortcut(a.in_channels, a.out_channels, a.stride)


def _drop_path(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, DropPath)
    return m.DropPath(a.p)


def _dropout(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    assert isinstance(a, Dropout)
    return nn.Dropout(a.p)


LOWERINGS: dict[Op, Lowering] = {
    Op.INPUT: Lowering(expression="{0}"),
    Op.CONV: Lowering(_conv, _init_conv),
    Op.BATCH_NORM: Lowering(_batch_norm, _init_norm),
    Op.LAYER_NORM: Lowering(_layer_norm, _init_norm),
    Op.GROUP_NORM: Lowering(_group_norm, _init_norm),
    Op.ACTIVATION: Lowering(_activation),
    Op.MAX_POOL: Lowering(_pool),
    Op.AVG_POOL: Lowering(_pool),
    Op.PAD_CHANNELS: Lowering(_pad),
    Op.ADD: Lowering(expression="{0} + {1}"),
    Op.MUL: Lowering(expression="{0} * {1}"),
    Op.LAYER_SCALE: Lowering(_layer_scale, _init_layer_scale),
    Op.DROP_PATH: Lowering(_drop_path),
    Op.GLOBAL_AVG_POOL: Lowering(lambda a, d, i: nn.AdaptiveAvgPool2d((1, 1))),
    Op.FLATTEN: Lowering(expression="torch.flatten({0}, 1)"),
    Op.DROPOUT: Lowering(_dropout),
    Op.LINEAR: Lowering(_linear, _init_linear),
}


def lowering(op: str) -> Lowering:
    """The torch lowering of `op`; BackendError when this backend has none."""
    found = LOWERINGS.get(Op(op)) if op in Op._value2member_map_ else None
    if found is None:
        raise BackendError(f"op {op} has no torch lowering")
    return found


def make_layer(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    """The torch module for one op's attributes, created on `device` (meta while assembling).

    The device is passed to each constructor rather than set with `with torch.device(...)`, whose
    per-call dispatch overhead doubles the construction time of a deep net.
    """
    low = lowering(a.OP)
    if low.make is None:
        raise BackendError(f"op {a.OP} is an expression in torch, not a module")
    return low.make(a, device, inplace)

"""Per op: the torch module it becomes and how that module is initialised (torchvision's rules).

These tables are keyed by op, never by block type: a block is whatever ops it lowers to.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ...ir.ops import (
    Activation,
    AvgPool,
    BatchNorm,
    Conv2d,
    Dropout,
    DropPath,
    GlobalAvgPool,
    Linear,
    MaxPool,
    Op,
    OpAttrs,
    PadChannels,
)
from .modules import DropPath as DropPathModule
from .modules import PadShortcut


class BackendError(RuntimeError):
    """The IR holds something this backend cannot build: a bug or a missing backend feature."""


_ACTIVATIONS: dict[str, Callable[[bool], nn.Module]] = {
    "relu": lambda inplace: nn.ReLU(inplace=inplace),
    "silu": lambda inplace: nn.SiLU(inplace=inplace),
    "gelu": lambda inplace: nn.GELU(),  # torch has no in-place GELU
    "sigmoid": lambda inplace: nn.Sigmoid(),
}


def make_layer(a: OpAttrs, device: torch.device, inplace: bool) -> nn.Module:
    """The torch module for one op's attributes, created on `device` (meta while assembling).

    The device is passed to each constructor rather than set with `with torch.device(...)`, whose
    per-call dispatch overhead doubles the construction time of a deep net.
    """
    if isinstance(a, Conv2d):
        return nn.Conv2d(a.in_channels, a.out_channels, a.kernel, a.stride, a.padding,
                         groups=a.groups, bias=a.bias, device=device)
    if isinstance(a, BatchNorm):
        return nn.BatchNorm2d(a.channels, device=device)
    if isinstance(a, Activation):
        if a.kind not in _ACTIVATIONS:
            raise BackendError(f"activation {a.kind!r} has no torch module; known: "
                               f"{', '.join(sorted(_ACTIVATIONS))}")
        # In place where the backend proved it safe, as torchvision does, to save memory.
        return _ACTIVATIONS[a.kind](inplace)
    if isinstance(a, MaxPool):
        return nn.MaxPool2d(a.kernel, a.stride, a.padding, ceil_mode=a.ceil_mode)
    if isinstance(a, DropPath):
        return DropPathModule(a.p)
    if isinstance(a, AvgPool):
        return nn.AvgPool2d(a.kernel, a.stride, a.padding, ceil_mode=a.ceil_mode,
                            count_include_pad=a.count_include_pad)
    if isinstance(a, PadChannels):
        return PadShortcut(a.in_channels, a.out_channels, a.stride)
    if isinstance(a, GlobalAvgPool):
        return nn.AdaptiveAvgPool2d((1, 1))
    if isinstance(a, Dropout):
        return nn.Dropout(a.p)
    if isinstance(a, Linear):
        return nn.Linear(a.in_features, a.out_features, bias=a.bias, device=device)
    raise BackendError(f"op {a.OP} has no torch module")


def _init_conv(m: nn.Module, a: OpAttrs, g: torch.Generator | None) -> None:
    assert isinstance(m, nn.Conv2d)
    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=g)
    if m.bias is not None:
        nn.init.zeros_(m.bias)


def _init_bn(m: nn.Module, a: OpAttrs, g: torch.Generator | None) -> None:
    assert isinstance(m, nn.BatchNorm2d) and isinstance(a, BatchNorm)
    m.reset_running_stats()  # to_empty left the buffers uninitialised
    # zero_init_residual: the block's last BN starts at 0, so the block starts as an identity.
    nn.init.constant_(m.weight, 0.0 if a.zero_init else 1.0)
    nn.init.zeros_(m.bias)


def _init_linear(m: nn.Module, a: OpAttrs, g: torch.Generator | None) -> None:
    # nn.Linear.reset_parameters, spelled out because it takes no generator.
    assert isinstance(m, nn.Linear)
    nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
    if m.bias is not None:
        bound = 1 / math.sqrt(m.in_features) if m.in_features > 0 else 0.0
        nn.init.uniform_(m.bias, -bound, bound, generator=g)


INITS: dict[Op, Callable[[nn.Module, OpAttrs, torch.Generator | None], None]] = {
    Op.CONV: _init_conv, Op.BATCH_NORM: _init_bn, Op.LINEAR: _init_linear,
}

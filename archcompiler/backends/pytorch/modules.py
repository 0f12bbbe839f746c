"""The torch classes the IR materialises into: named bases, generated subclasses, op modules.

Every block and network class is generated from the IR (`codegen.py`): its `forward` is
straight-line code, one line per op, as in torchvision's `resnet.py`. Each generated class
derives from a named base: `ResNet` for networks, and one base per block type's
`module_class` (`BasicBlock`, `Bottleneck`, ...), so `isinstance(m, Bottleneck)` holds for
every bottleneck, whatever pattern its forward has. `print(model)` shows the base's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .network import NetworkMixin

__all__ = ["DropPath", "GeneratedModule", "Group", "LayerNorm2d", "LayerScale", "PadShortcut", "ResNet",
           "block_base", "network_base"]


class PadShortcut(nn.Module):
    """Option-A shortcut (He et al. 2015): subsample by `stride`, zero-pad the extra channels.

    It has no parameters. Padding goes (out - in) // 2 in front and the rest behind, which
    centres the identity channels as the paper's CIFAR code does.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.front = (out_channels - in_channels) // 2
        self.back = out_channels - in_channels - self.front

    def forward(self, x: Tensor) -> Tensor:
        """Return x subsampled and channel-padded to `out_channels`."""
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.front or self.back:
            # The pad tuple runs from the last dim backwards: (W, W, H, H, C, C).
            x = F.pad(x, (0, 0, 0, 0, self.front, self.back))
        return x

    def extra_repr(self) -> str:
        """Describe the padding for print(model)."""
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class DropPath(nn.Module):
    """Stochastic depth (Huang et al. 2016; timm's drop_path): zero a sample's residual branch
    with probability `p` in training, scaling the kept ones by 1 / (1 - p). Identity in eval."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        """Return x, or x with whole samples dropped in training."""
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty([x.shape[0], 1, 1, 1]).bernoulli_(keep)
        return x * mask.div_(keep)

    def extra_repr(self) -> str:
        """Show the rate."""
        return f"p={self.p:.3g}"


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map (timm's LayerNorm2d, ConvNeXt's norm): the
    same permute, layer_norm, permute as timm, so its outputs are bitwise timm's."""

    def forward(self, x: Tensor) -> Tensor:
        """Normalise each pixel's channel vector."""
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class LayerScale(nn.Module):
    """A learnt per-channel multiplier of an NCHW map (ConvNeXt's `gamma`, shape (C,))."""

    def __init__(self, channels: int, device: torch.device | None = None) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.empty(channels, device=device))

    def forward(self, x: Tensor) -> Tensor:
        """Scale each channel, as timm's ConvNeXt block does."""
        return x.mul(self.gamma.reshape(1, -1, 1, 1))

    def extra_repr(self) -> str:
        """Show the channels."""
        return str(self.gamma.shape[0])


class Group(nn.Module):
    """A named group of a block's submodules (e.g. `se`); the block's forward calls them."""


class GeneratedModule(nn.Module):
    """Base of the classes whose forward is generated from the IR.

    Submodules come ready-made, in the IR's order, so the state_dict keys are the IR's names.
    Class attributes carry no annotations: TorchScript reads class annotations as types.
    Pickling is defined by codegen on each generated class (`__reduce__`).
    """

    _archc_source = ""  # the generated forward's source; set on each generated class
    _archc_base_name = ""  # the named base this class derives from
    _archc_repr = ""  # what print(model) adds after the name, e.g. "residual=False"

    def __init__(self, modules: Mapping[str, nn.Module], absent: Iterable[str] = ()) -> None:
        super().__init__()
        for name in absent:  # torchvision keeps a missing optional submodule as None
            setattr(self, name, None)
        for name, module in modules.items():
            setattr(self, name, module)

    def extra_repr(self) -> str:
        """Say what print(model) cannot show otherwise, e.g. that a plain block has no add."""
        return type(self)._archc_repr

    def _get_name(self) -> str:
        # print(model) shows the named base (`Bottleneck(`), as torchvision's repr does.
        return type(self)._archc_base_name or type(self).__name__


class ResNet(NetworkMixin, GeneratedModule):
    """Stem, residual stages `layer1..layerN` and head, named as torchvision names them."""

    _archc_base_name = "ResNet"


_BASES: dict[str, type[GeneratedModule]] = {}
# Network bases are kept apart from block bases: they add timm's interface (network.py).
_NETWORKS: dict[str, type[GeneratedModule]] = {"ResNet": ResNet}


def _base(table: dict[str, type[GeneratedModule]], module_class: str,
          parents: tuple[type, ...], kind: str) -> type[GeneratedModule]:
    base = table.get(module_class)
    if base is None:
        if not module_class.isidentifier():
            raise ValueError(f"a {kind}'s module class must be a class name, got {module_class!r}")
        base = type(module_class, parents, {
            "__module__": __name__, "__qualname__": module_class,
            "__doc__": f"Base of every generated `{module_class}` {kind} class.",
            "_archc_base_name": module_class})
        table[module_class] = base
    return base


def network_base(module_class: str) -> type[GeneratedModule]:
    """The named base class of every network whose spec declares `module_class`, made on demand."""
    return _base(_NETWORKS, module_class, (NetworkMixin, GeneratedModule), "network")


def block_base(module_class: str) -> type[GeneratedModule]:
    """The named base class of every block whose type declares `module_class`, made on demand."""
    return _base(_BASES, module_class, (GeneratedModule,), "block")


def __getattr__(name: str) -> Any:
    # `from archcompiler.backends.pytorch.modules import Bottleneck`: the base of every block type
    # whose module_class is that name, as torchvision users import their block classes.
    from ...blocks import BLOCKS

    if any(block.module_class == name for _, block in BLOCKS.items()):
        return block_base(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

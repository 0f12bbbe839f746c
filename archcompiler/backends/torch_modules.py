"""The torch modules the IR materialises into: plain, torchvision-shaped classes.

Nothing here reads the IR at call time. `torch_backend` decides, from the IR, which of these
classes to instantiate and with which submodules; each forward is then straight-line code, as in
torchvision's `resnet.py`, so eager speed, torch.compile and torch.export see the same program.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn


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


class _Block(nn.Module):
    """Shared construction of the residual blocks: submodules come ready-made from the IR."""

    downsample: nn.Module | None
    shortcut: nn.Module | None
    relu: nn.Module

    def __init__(self, modules: Mapping[str, nn.Module], residual: bool) -> None:
        super().__init__()
        # Declared first so both always exist; a module assigned below replaces the None.
        self.downsample = None
        self.shortcut = None
        for name, module in modules.items():
            setattr(self, name, module)
        self.residual = residual  # False for shortcut 'none' (a plain net): no addition

    def extra_repr(self) -> str:
        """Show print(model) readers that a plain block adds no shortcut."""
        return "" if self.residual else "residual=False"

    def join(self, out: Tensor, x: Tensor) -> Tensor:
        """Add the shortcut of the block input `x` to the body output, then activate."""
        identity = x
        if self.downsample is not None:
            identity = self.downsample(x)
        elif self.shortcut is not None:
            identity = self.shortcut(x)
        if self.residual:
            out += identity
        out = self.relu(out)
        return out


class BasicBlock(_Block):
    """Two 3x3 convs (torchvision's BasicBlock), with a projection, pad, identity or no shortcut."""

    conv1: nn.Module
    bn1: nn.Module
    conv2: nn.Module
    bn2: nn.Module
    relu: nn.Module

    def forward(self, x: Tensor) -> Tensor:
        """Run the block."""
        out: Tensor = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        return self.join(out, x)


class Bottleneck(_Block):
    """1x1 reduce, 3x3 (grouped, possibly strided), 1x1 expand (torchvision's Bottleneck)."""

    conv1: nn.Module
    bn1: nn.Module
    conv2: nn.Module
    bn2: nn.Module
    conv3: nn.Module
    bn3: nn.Module
    relu: nn.Module

    def forward(self, x: Tensor) -> Tensor:
        """Run the block."""
        out: Tensor = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        out = self.relu(out)
        out = self.conv3(out)
        out = self.bn3(out)
        return self.join(out, x)


class ResNet(nn.Module):
    """Stem, residual stages `layer1..layerN` and head, named as torchvision names them."""

    conv1: nn.Module
    bn1: nn.Module
    relu: nn.Module
    maxpool: nn.Module | None
    avgpool_stem: nn.Module | None
    avgpool: nn.Module
    dropout: nn.Module | None
    fc: nn.Module

    def __init__(self, modules: Mapping[str, nn.Module]) -> None:
        super().__init__()
        # Optional parts default to None so forward can branch on them without lookups.
        self.maxpool = None
        self.avgpool_stem = None
        self.dropout = None
        for name, module in modules.items():
            setattr(self, name, module)
        # Stage count varies (3 for CIFAR, 4 for ImageNet), so forward walks these names.
        self.stage_names = tuple(n for n in modules if n.startswith("layer"))

    def forward(self, x: Tensor) -> Tensor:
        """Return the logits for a batch of NCHW images."""
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        if self.maxpool is not None:
            x = self.maxpool(x)
        if self.avgpool_stem is not None:
            x = self.avgpool_stem(x)
        for name in self.stage_names:
            x = getattr(self, name)(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        if self.dropout is not None:
            x = self.dropout(x)
        x = self.fc(x)
        return x

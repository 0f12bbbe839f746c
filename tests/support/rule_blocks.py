"""User block types for the rules catalogue: the codes that the built-in block types never reach.

docs/rules.md shows each as written here (inspect.getsource); tests/support/rule_catalogue.py
registers one only while its example runs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from archcompiler.blocks import BlockBuilder, BlockConfig, BlockType
from archcompiler.ir.ops import Flatten


class MiswiredConfig(BlockConfig):
    """A basic block whose second conv is declared with the wrong input channels."""

    type: Literal["miswired"] = Field(description="Block type tag.")


class Miswired(BlockType[MiswiredConfig]):
    """conv2 expects twice the channels that conv1 makes."""

    config = MiswiredConfig
    module_class = "BasicBlock"

    def lower(self, cfg: MiswiredConfig, x: str, g: BlockBuilder) -> str:
        """Two 3x3 convs, the second one miswired."""
        b = g.block
        h = g.act("relu1", g.bn("bn1", g.conv("conv1", x, b.in_channels, b.width, 3, b.stride),
                                b.width))
        h = g.conv("conv2", h, 2 * b.width, b.out_channels, 3)
        return g.residual(g.bn("bn2", h, b.out_channels), x)


class Grouped3Config(BlockConfig):
    """A basic block whose convs are split into three groups."""

    type: Literal["grouped3"] = Field(description="Block type tag.")


class Grouped3(BlockType[Grouped3Config]):
    """Three groups, which 64 channels do not divide into."""

    config = Grouped3Config
    module_class = "BasicBlock"

    def lower(self, cfg: Grouped3Config, x: str, g: BlockBuilder) -> str:
        """Two grouped 3x3 convs."""
        b = g.block
        h = g.conv("conv1", x, b.in_channels, b.width, 3, b.stride, groups=3)
        h = g.conv("conv2", g.act("relu1", g.bn("bn1", h, b.width)), b.width, b.out_channels, 3)
        return g.residual(g.bn("bn2", h, b.out_channels), x)


class FlatteningConfig(BlockConfig):
    """A block that flattens its input before convolving it."""

    type: Literal["flattening"] = Field(description="Block type tag.")


class Flattening(BlockType[FlatteningConfig]):
    """Flatten, then a conv: the conv gets features, not a map."""

    config = FlatteningConfig
    module_class = "BasicBlock"

    def lower(self, cfg: FlatteningConfig, x: str, g: BlockBuilder) -> str:
        """A flatten followed by a conv."""
        b = g.block
        flat = g.op("flatten", Flatten(), (x,), module=None)
        return g.conv("conv1", flat, b.in_channels, b.out_channels, 3, b.stride)


class OddKernelConfig(BlockConfig):
    """A basic block with a configurable kernel, which its own validator keeps odd."""

    type: Literal["odd_kernel"] = Field(description="Block type tag.")
    kernel: int = Field(3, description="Kernel of both convs; odd, so 'same' padding exists.")

    @field_validator("kernel")
    @classmethod
    def _odd(cls, kernel: int) -> int:
        if kernel % 2 == 0:
            raise ValueError("an even kernel has no 'same' padding")
        return kernel


class OddKernel(BlockType[OddKernelConfig]):
    """Two convs of the configured kernel."""

    config = OddKernelConfig
    module_class = "BasicBlock"

    def lower(self, cfg: OddKernelConfig, x: str, g: BlockBuilder) -> str:
        """Two convs and the residual ending."""
        b, k = g.block, cfg.kernel
        h = g.conv("conv1", x, b.in_channels, b.out_channels, k, b.stride)
        h = g.conv("conv2", g.act("relu1", g.bn("bn1", h, b.out_channels)), b.out_channels,
                   b.out_channels, k)
        return g.residual(g.bn("bn2", h, b.out_channels), x)


class RaisingConfig(BlockConfig):
    """A block type whose lowering has a bug of its own."""

    type: Literal["raising"] = Field(description="Block type tag.")


class Raising(BlockType[RaisingConfig]):
    """Reads a field its config does not have."""

    config = RaisingConfig
    module_class = "BasicBlock"

    def lower(self, cfg: RaisingConfig, x: str, g: BlockBuilder) -> str:
        """Fails before appending anything: `cfg.kernel` does not exist."""
        kernel = cfg.kernel  # type: ignore[attr-defined]
        return g.conv("conv1", x, g.block.in_channels, g.block.out_channels, kernel)


def simple_block(name: str) -> str:
    """A spec declaring a correct two-op block inline: the fix of the block-file examples."""
    return (f"extends: resnet20\nname: simple_{name}\nblocks:\n  simple: {{ops: [{{name: conv1, "
            "op: conv, out: out, kernel: 3, stride: stride}, {name: bn1, op: norm}], "
            "act_after: true}\nstages: {block: {type: simple}}\n")


class TwiceConfig(BlockConfig):
    """A block type that names two convs alike."""

    type: Literal["twice"] = Field(description="Block type tag.")


class Twice(BlockType[TwiceConfig]):
    """Two convs, both called conv1."""

    config = TwiceConfig
    module_class = "BasicBlock"

    def lower(self, cfg: TwiceConfig, x: str, g: BlockBuilder) -> str:
        """The second conv reuses the first one's name."""
        b = g.block
        h = g.conv("conv1", x, b.in_channels, b.out_channels, 3, b.stride)
        return g.conv("conv1", h, b.out_channels, b.out_channels, 3)

"""Block types, one file each: config model, channel arithmetic and lowering into IR ops.

Importing this package registers the built-in block types. A user adds one with
`register_block` (see docs/blocks.md); nothing outside this package names a block type.
"""

from . import (  # noqa: F401  (registers the built-in block types)
    basic,
    bottleneck,
    preact_basic,
    preact_bottleneck,
    se_bottleneck,
)
from .base import (
    BLOCKS,
    BlockBuilder,
    BlockConfig,
    BlockType,
    LayerBuilder,
    ResolvedBlock,
    register_block,
    unregister_block,
)

__all__ = ["BLOCKS", "BlockBuilder", "BlockConfig", "BlockType", "LayerBuilder", "ResolvedBlock",
           "register_block", "unregister_block"]

"""Block scopes: the block types one load may use, without touching any other load.

The built-in block types and those of `--plugin` modules live in the global `BLOCKS` registry.
A block declared by a spec (inline or in a block file) exists only in the scope of the loads
that read that spec: a sweep or an editor that loads another spec next never sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.registry import UnknownNameError
from .base import BLOCKS, BlockType


class BlockScope:
    """The global block types plus a load's own; a local tag may not shadow a global one."""

    def __init__(self, local: Mapping[str, BlockType[Any]] | None = None) -> None:
        self.local: dict[str, BlockType[Any]] = dict(local or {})

    def get(self, tag: str) -> BlockType[Any]:
        """The block type of `tag`, or UnknownNameError listing every tag in scope."""
        found = self.local.get(tag)
        if found is not None:
            return found
        if tag in BLOCKS:
            return BLOCKS.get(tag)
        raise UnknownNameError("block type", tag, self.names())

    def __contains__(self, tag: object) -> bool:
        return tag in self.local or tag in BLOCKS

    def names(self) -> list[str]:
        """Every tag in scope, sorted."""
        return sorted({*BLOCKS.names(), *self.local})


GLOBAL_SCOPE = BlockScope()

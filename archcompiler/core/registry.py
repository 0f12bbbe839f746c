"""Strict name registries: duplicates raise, unknown names list the known ones and the closest."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """An unknown registry name, with the known names and the closest match."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        self.suggestion = close[0] if close else None
        super().__init__(str(self))

    def __str__(self) -> str:
        hint = f"; did you mean '{self.suggestion}'?" if self.suggestion else ""
        return f"unknown {self.kind} '{self.name}' (known: {', '.join(self.known)}){hint}"


class Registry(Generic[T]):
    """A name -> value table that refuses to overwrite and explains misses."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        # Bumped on every change, so derived tables (the spec model's block union) know to rebuild.
        self.version = 0

    def register(self, name: str, item: T) -> T:
        """Add `item` under `name`; a second registration of the same name raises."""
        if name in self._items:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._items[name] = item
        self.version += 1
        return item

    def unregister(self, name: str) -> T:
        """Remove and return the item under `name`; an unknown name raises UnknownNameError."""
        item = self.get(name)
        del self._items[name]
        self.version += 1
        return item

    def get(self, name: str) -> T:
        """Return the item for `name` or raise UnknownNameError with a suggestion."""
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, sorted(self._items)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def names(self) -> list[str]:
        """Return the registered names in registration order."""
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        """Return (name, item) pairs in registration order."""
        return list(self._items.items())

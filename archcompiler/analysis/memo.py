"""Memoised analysis: identical blocks are lowered and shaped once, across variants and within a net.

A block's lowering depends on its resolved description (type, config, channels, stride,
shortcut, drop path, spans) and the spec's conventions (activation, norm, zero-init, conv bias),
never on the nodes lowered before it. So the nodes of a block are kept under that content, with
its name and place left out, and a later identical block gets them renamed to its own prefix.
Shape inference of a block depends on that content and its input shape only, so its shapes and
costs are kept the same way. Both tables are bounded (least recently used entries go first) and
guarded by a lock, so threads may share them. An entry is admitted on its second offer only
(a doorkeeper of hashes): in spaces of distinct nets (sampled RegNetX) most blocks occur in one
net only, and keeping them would only evict and churn the garbage collector; repeats within one
net are served by a table local to that analysis. Each entry keeps its own renamed copies (a
sweep's variants repeat their block names), admitted the same way (`moved`). `ARCHC_MEMO=0`
in the environment, or `memo_enabled(False)`, switches memoisation off (the random-spec
cross-checks run both ways); `ARCHC_MEMO_SIZE=N` bounds each table at N blocks.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, ParamSpec, TypeVar

__all__ = ["LRU", "Key", "clear_memo", "memo_enabled", "memo_on", "moved"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
P = ParamSpec("P")

# Blocks kept per table: a ResNet-50 has 16, of which 8 distinct, and a sweep shares most. A
# sample of RegNetX meets thousands of distinct blocks again and again: over 12,000 draws, 8,192
# entries found 75% of blocks kept where 1,024 found 45%, and took 12% less CPU a draw, for
# about 170 MB more (docs/benchmarks.md). The doorkeeper keeps one-off blocks out.
MAX_ENTRIES = 8192


def _size(text: str | None) -> int:
    """`ARCHC_MEMO_SIZE`, the entries a table keeps (16 or more), or MAX_ENTRIES."""
    return int(text) if text is not None and text.isdigit() and int(text) >= 16 else MAX_ENTRIES


SIZE = _size(os.environ.get("ARCHC_MEMO_SIZE"))  # a smaller bound for a long-lived process


class Key:
    """A content key whose hash is computed once (a block's content hashes many fields)."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: tuple[object, ...]) -> None:
        self.value = value
        self._hash = hash(value)  # TypeError for unhashable content, as the caller expects

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Key) and self._hash == other._hash
                                 and self.value == other.value)


class LRU(Generic[K, V]):
    """A bounded, thread-safe, least-recently-used table; with `doorkeeper`, a key is kept on
    its second `put` only."""

    def __init__(self, size: int = SIZE, *, doorkeeper: bool = False) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        # Hashes of keys offered once (ints: nothing for the garbage collector to trace). A
        # collision only admits a key early; lookups still compare whole keys.
        self._seen: set[int] | None = set() if doorkeeper else None

    def get(self, key: K) -> V | None:
        """The value kept under `key`, or None; a hit becomes the most recent entry."""
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: K, value: V) -> None:
        """Keep `value` under `key`, dropping the least recently used entry past the bound."""
        with self._lock:
            seen = self._seen
            if seen is not None and key not in self._data:
                h = hash(key)
                if h not in seen:
                    if len(seen) >= 4 * self.size:  # bounded too: forget the offers, not entries
                        seen.clear()
                    seen.add(h)
                    return
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry and the counts."""
        with self._lock:
            self._data.clear()
            if self._seen is not None:
                self._seen.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


MAX_MOVES = 32  # renamed copies kept per entry: a ResNet-50's widest repeat is 5 blocks a stage


def moved(moves: dict[Hashable, V | None], at: Hashable, make: Callable[P, V], *args: P.args,
          **kwargs: P.kwargs) -> V:
    """An entry as it is named at `at` (a block's name and input): kept, or `make(*args)`.

    `moves` is the entry's own table of renamed copies: no lock and no second lookup in the
    shared tables, and it goes when the entry goes. A copy is kept on its second ask only (the
    entry's doorkeeper): a sweep's variants repeat their names, a sample's rarely do. Dict reads
    and writes are atomic, so threads at worst make a copy twice.
    """
    got = moves.get(at)
    if got is not None:
        return got
    value = make(*args, **kwargs)
    if at in moves:
        moves[at] = value
    elif len(moves) < MAX_MOVES:
        moves[at] = None
    return value


_state = {"on": os.environ.get("ARCHC_MEMO", "1") not in ("0", "off", "false")}
_tables: list[LRU[object, object] | dict[object, object]] = []
T = TypeVar("T", LRU[Any, Any], dict[Any, Any])


def register(table: T) -> T:
    """Add a table (an LRU, or a plain dict) to those `clear_memo` empties."""
    _tables.append(table)
    return table


def memo_on() -> bool:
    """Whether analysis reuses memoised blocks now."""
    return _state["on"]


@contextmanager
def memo_enabled(on: bool) -> Iterator[None]:
    """Switch memoisation on or off inside a `with` block (process-wide)."""
    before = _state["on"]
    _state["on"] = on
    try:
        yield
    finally:
        _state["on"] = before


def clear_memo() -> None:
    """Empty every memo table."""
    for table in _tables:
        table.clear()

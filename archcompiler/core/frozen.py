"""A frozen dataclass copied with a few fields changed, at a fraction of dataclasses.replace."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def changed(record: T, **fields: object) -> T:
    """`record` with `fields` changed, as `dataclasses.replace` gives it.

    For frozen dataclasses without slots or __post_init__ whose fields need no checking:
    `replace` introspects the fields on every call and the frozen __init__ sets each one through
    object.__setattr__, and lowering and resolution copy thousands of records a second (a
    stage's repeated blocks, a memoised block's record under another name).
    """
    state = record.__dict__
    if not state.keys() >= fields.keys():  # a misspelt field would become a new attribute
        unknown = sorted(fields.keys() - state.keys())[0]
        raise TypeError(f"{type(record).__name__} has no field {unknown!r}")
    copy = object.__new__(type(record))
    object.__setattr__(copy, "__dict__", {**state, **fields})
    return copy

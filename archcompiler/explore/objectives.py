"""What a sweep optimises: objectives over its rows, Pareto fronts over a named pair, and names.

An objective is params, macs, depth (weighted layers, the count of ARC306), width (the last
stage's output channels) or stageN (stage N's output channels, from 1), with a direction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..core.outputs import unsafe_name

if TYPE_CHECKING:
    from .sweep import SweepRow

NAMES = ("params", "macs", "depth", "width")
_STAGE = re.compile(r"stage([1-9]\d?)")
_DIRECTIONS = ("min", "max")
# The depth in a name such as resnet56 or plain20, as rule ARC306 reads it.
DEPTH_IN_NAME = re.compile(r"(?:resnet|plain)(\d+)(?!\d)")


@dataclass(frozen=True)
class Objective:
    """One quantity of a row and the way it is better: "min" or "max"."""

    name: str
    direction: str = "min"

    def __str__(self) -> str:
        return f"{self.direction}imum {self.name}" if self.name else "-"

    def value(self, row: SweepRow) -> int | None:
        """The row's value of this quantity; None when the variant has none."""
        if self.name == "params":
            return row.params
        if self.name == "macs":
            return row.macs
        if self.name == "depth":
            return row.depth
        if not row.stages:
            return None
        if self.name == "width":
            return row.stages[-1]
        index = int(self.name.removeprefix("stage")) - 1
        return row.stages[index] if index < len(row.stages) else None

    def key(self, row: SweepRow) -> int:
        """A number to minimise: the value, negated for a maximum (rows without one last)."""
        v = self.value(row)
        if v is None:
            return 1 << 62
        return -v if self.direction == "max" else v


def parse_objective(text: str, direction: str, option: str) -> Objective:
    """`depth`, `params`, ... as an objective; ValueError naming `option` and the fix."""
    name = text.strip().lower()
    if name not in NAMES and not _STAGE.fullmatch(name):
        raise ValueError(f"{option} {text!r}: not a quantity; use one of "
                         f"{', '.join(NAMES)} or stageN (stage N's output channels, e.g. stage2)")
    return Objective(name, direction)


def parse_pair(text: str, option: str = "--pareto") -> tuple[Objective, Objective]:
    """`A,B` or `A:max,B:min` as the pair a Pareto front is over; ValueError when malformed."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{option} {text!r}: name two quantities, e.g. {option} depth:max,params")
    out = []
    for part in parts:
        name, _, way = part.partition(":")
        way = way.strip().lower() or "min"
        if way not in _DIRECTIONS:
            raise ValueError(f"{option} {text!r}: the direction {way!r} is neither min nor max "
                             f"(write {name.strip()}:max or {name.strip()}:min)")
        out.append(parse_objective(name, way, option))
    if out[0].name == out[1].name:
        raise ValueError(f"{option} {text!r}: name two different quantities")
    return out[0], out[1]


def default_pair(goal: Objective | None) -> tuple[Objective, Objective]:
    """The front shown when none is named: the goal against params (or MACs), else both costs."""
    if goal is None:
        return Objective("params"), Objective("macs")
    return goal, Objective("macs" if goal.name == "params" else "params")


def mark_front(rows: Sequence[SweepRow], pair: tuple[Objective, Objective]) -> list[SweepRow]:
    """Mark the valid rows that no other valid row beats on both objectives of `pair`."""
    a, b = pair
    valid = [r for r in rows if r.ok and a.value(r) is not None and b.value(r) is not None]
    front: set[int] = set()
    lowest: int | None = None
    # Sorted by the first key then the second, a row is on the front when its second key is
    # below every earlier row's: one pass, not every pair.
    for r in sorted(valid, key=lambda r: (a.key(r), b.key(r), r.index)):
        k = b.key(r)
        if lowest is None or k < lowest:
            front.add(r.index)
            lowest = k
    return [replace(r, pareto=r.index in front) for r in rows]


def rank(rows: Sequence[SweepRow], goal: Objective) -> list[SweepRow]:
    """The rows best first by `goal`; ties go to fewer params, then MACs, then grid order."""
    return sorted(rows, key=lambda r: (not r.ok, goal.key(r), r.params or 0, r.macs or 0,
                                       r.index))


def _slug(value: object) -> str:
    """A grid value as a short file-safe text: [3, 3, 5] -> 3.3.5, 0.5 -> 0.5, A -> A."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ".".join(_slug(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):  # a block: its type, then its other fields
        return "_".join(_slug(v) if k == "type" else f"{_slug(k)}{_slug(v)}"
                        for k, v in value.items())
    if value is None:
        return "null"
    return re.sub(r"[^A-Za-z0-9_.]+", "_", str(value)).strip("_.") or "x"


def _letters(keys: Sequence[str]) -> dict[str, str]:
    """A short tag per grid key: the first letter of its last named part (the whole part when
    two keys share the letter), then any list indices after it: stages.depths.2 -> d2_."""
    last: dict[str, str] = {}
    index: dict[str, str] = {}
    for k in keys:
        parts = k.lower().split(".")
        named = [i for i, p in enumerate(parts) if not p.isdigit()]
        at = named[-1] if named else -1
        last[k] = (re.sub(r"[^a-z0-9]+", "_", parts[at]).strip("_") if named else "") or "v"
        digits = parts[at + 1:]
        index[k] = ".".join(digits) + "_" if digits else ""
    first = {k: v[0] for k, v in last.items()}
    shared = [first[k] + index[k] for k in keys]
    tags = {k: (first[k] if shared.count(first[k] + index[k]) == 1 else last[k]) + index[k]
            for k in keys}
    # a tag ending in a digit (w0) is kept apart from its value: w0_48, not w048
    return {k: t + "_" if t[-1].isdigit() else t for k, t in tags.items()}


def variant_name(base: str, values: Mapping[str, object], varying: Sequence[str],
                 depth: int | None, index: int) -> str:
    """A variant's name from the values that vary, with the counted depth where the base's name
    says one (resnet20 at depths [3,3,5] -> resnet24-d3.3.5), so rule ARC306 holds for it.

    The name is a safe file name (core/outputs.py) whenever the base's name is one.
    """
    stem = base
    if depth is not None and DEPTH_IN_NAME.search(base):
        stem = DEPTH_IN_NAME.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + str(depth),
                                 base, count=1)
    tags = _letters(varying)
    suffix = "-".join(f"{tags[k]}{_slug(values.get(k))}" for k in varying)
    name = f"{stem}-{suffix}" if suffix else f"{stem}-v{index}"
    if len(name) > 100 or unsafe_name(name) is not None:
        name = f"{stem[:80]}-v{index}"
    return name


def unique(rows: Sequence[SweepRow]) -> list[SweepRow]:
    """The rows with any repeated name made unique by the variant's number."""
    seen: set[str | None] = set()
    out = []
    for r in rows:
        if r.name in seen and r.name is not None:
            r = replace(r, name=f"{r.name[:80]}-v{r.index}")
        seen.add(r.name)
        out.append(r)
    return out

"""Depth and width multipliers, applied to the explicit stages before blocks are made.

Widths round to a multiple of `width_divisor`. Rounding can change the ratio between two stages'
widths, and with it rule (i) (equal maps, equal widths) or rule (ii) (the width doubles where
the map halves): that is reported as ARC116 with a multiplier that keeps the ratios, never
repaired behind the user's back.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from typing import Protocol, TypeVar

from ..core.diagnostics import Diagnostic, Span, error


class Scalable(Protocol):
    """A stage entry: what a multiplier changes."""

    @property
    def depth(self) -> int: ...

    @property
    def width(self) -> int | None: ...

    @property
    def out_channels(self) -> int | None: ...


E = TypeVar("E", bound=Scalable)


def _round(value: float, divisor: int) -> int:
    """Round half up to a multiple of `divisor`, at least `divisor` (timm's make_divisible)."""
    return max(divisor, int(value / divisor + 0.5) * divisor)


def _keeps_ratios(multiplier: float, widths: list[int], divisor: int) -> bool:
    scaled = [_round(w * multiplier, divisor) for w in widths]
    return all(Fraction(s, scaled[0]) == Fraction(w, widths[0]) for w, s in zip(widths, scaled))


def _suggest(multiplier: float, widths: list[int], divisor: int) -> float | None:
    """The multiplier nearest to `multiplier` that keeps every ratio, from a short search."""
    step = Fraction(divisor, math.gcd(*widths))  # scales every width to a multiple of divisor
    j = max(1, round(multiplier / step))
    for k in range(0, 64):
        for cand in (j - k, j + k):
            if cand >= 1 and _keeps_ratios(float(cand * step), widths, divisor):
                return float(cand * step)
    return None


def scale_stages(entries: list[E], depth_multiplier: float, width_multiplier: float,
                 divisor: int, span: Span, diags: list[Diagnostic]) -> list[E]:
    """Apply the multipliers to stage entries; report (ARC116) a width rounding that breaks rules."""
    if depth_multiplier == 1.0 and width_multiplier == 1.0:
        return entries
    out = []
    for e in entries:
        depth = max(1, int(e.depth * depth_multiplier + 0.5))
        width = _round(e.width * width_multiplier, divisor) if e.width is not None else None
        channels = _round(e.out_channels * width_multiplier, divisor) \
            if e.out_channels is not None else None
        out.append(replace(e, depth=depth, width=width, out_channels=channels))  # type: ignore[type-var]
    if width_multiplier != 1.0:
        widths = [e.width if e.width is not None else e.out_channels or 1 for e in entries]
        if not _keeps_ratios(width_multiplier, widths, divisor):
            scaled = [_round(w * width_multiplier, divisor) for w in widths]
            i = next(k for k in range(1, len(widths))
                     if Fraction(scaled[k], scaled[k - 1]) != Fraction(widths[k], widths[k - 1]))
            good = _suggest(width_multiplier, widths, divisor)
            rule = "i" if widths[i] == widths[i - 1] else "ii"
            diags.append(error(
                "ARC116", f"width_multiplier {width_multiplier:g} rounds layer{i} to "
                f"{scaled[i - 1]} and layer{i + 1} to {scaled[i]} (multiples of {divisor}), which "
                f"breaks the {widths[i - 1]} -> {widths[i]} ratio of the widths (rule {rule})",
                span, hint=(f"use width_multiplier {good:g}, which keeps every ratio" if good
                            else "choose a multiplier whose widths are multiples of "
                                 "width_divisor") + ", or change width_divisor"))
    return out

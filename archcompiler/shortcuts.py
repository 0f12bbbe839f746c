"""The one place that decides what a block's shortcut is; lowering and the rules both ask here."""

from __future__ import annotations

from typing import Literal

ShortcutKind = Literal["none", "identity", "pad", "projection"]


def shape_changes(stride: int, in_channels: int, out_channels: int) -> bool:
    """True when a block's output shape differs from its input's (torchvision's test)."""
    return stride != 1 or in_channels != out_channels


def shortcut_kind(option: str, stride: int, in_channels: int, out_channels: int) -> ShortcutKind:
    """Return the shortcut a block gets under option A, B, C, identity or none."""
    if option == "none":
        return "none"
    if option == "C":
        return "projection"
    if not shape_changes(stride, in_channels, out_channels):
        return "identity"
    if option == "B":
        return "projection"
    if option == "A":
        return "pad"
    return "identity"  # option 'identity' never adapts; rule ARC303 reports the mismatch

"""The resolved spec: frozen, fully explicit, one entry per block, every value located."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..blocks import ResolvedBlock
from ..core.diagnostics import Span
from ..ir.graph import StageRecord

# A resolved stage is already what the graph records: its settings, block names and spans.
ResolvedStage = StageRecord

__all__ = ["ResolvedBlock", "ResolvedSpec", "ResolvedStage", "ResolvedStem"]


@dataclass(frozen=True)
class ResolvedStem:
    """The stem conv and optional pool with explicit padding."""

    out_channels: int
    kernel: int
    stride: int
    padding: int
    pool_kind: str | None
    pool_kernel: int
    pool_stride: int
    pool_padding: int
    conv_span: Span
    pool_span: Span | None
    deep: tuple[int, ...] = ()  # widths of the deep stem's extra 3x3 convs (ResNet-C)
    norm: bool = True  # BN and activation after the stem conv (false for pre-activation)


@dataclass(frozen=True)
class ResolvedSpec:
    """A spec after inheritance, defaults and expansion: what lowering consumes."""

    name: str
    description: str
    input_shape: tuple[int, int, int]
    stem: ResolvedStem
    stages: tuple[ResolvedStage, ...]
    blocks: tuple[ResolvedBlock, ...]  # every block of every stage, in order
    activation: str
    classes: int
    dropout: float
    zero_init_residual: bool
    rules: dict[str, str]
    name_span: Span
    input_span: Span
    head_span: Span
    activation_span: Span
    head_norm: bool = False  # the final BN and activation of a pre-activation net
    conv_bias: bool = False
    rule_spans: dict[str, Span] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()

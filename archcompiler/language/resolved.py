"""The resolved spec: frozen, fully explicit, one entry per block, every value located."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..blocks import ResolvedBlock
from ..blocks.head import ResolvedHead
from ..blocks.stem import ResolvedStem
from ..core.diagnostics import Diagnostic, Span
from ..ir.graph import StageRecord

# A resolved stage is already what the graph records: its settings, block names and spans.
ResolvedStage = StageRecord

__all__ = ["ResolvedBlock", "ResolvedHead", "ResolvedSpec", "ResolvedStage", "ResolvedStem"]


@dataclass(frozen=True)
class ResolvedSpec:
    """A spec after inheritance, defaults and expansion: what lowering consumes."""

    name: str
    description: str
    input_shape: tuple[int, int, int]
    stem: ResolvedStem
    stages: tuple[ResolvedStage, ...]
    # Every element between stem and head in order: each stage's downsampling layer (role
    # "transition"), then its blocks.
    blocks: tuple[ResolvedBlock, ...]
    head: ResolvedHead
    activation: str
    zero_init_residual: bool
    rules: dict[str, str]
    name_span: Span
    input_span: Span
    activation_span: Span
    conv_bias: bool = False
    norm: str = "batch"  # the norm kind every block, stem and head norm uses by default
    module_class: str = "ResNet"  # the named base class of the built network
    rule_spans: dict[str, Span] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    # Warnings and notes of the resolution itself (a derived padding), which every analysis of
    # this spec reports first.
    notes: tuple[Diagnostic, ...] = ()
    # Where each written value came from, by dotted field ("stages.drop_path"); a field not
    # here took its default. Derived values (a block's drop-path rate) point at their source.
    field_spans: dict[str, Span] = field(default_factory=dict)

    def span_of(self, key: str, fallback: Span | None = None) -> Span | None:
        """Where `key` was set (a parent mapping's span for a key inside it), else `fallback`."""
        found = self.field_spans.get(key)
        return found if found is not None else fallback
    # What a rule generated that the spec does not spell out (the regnet rule's stages), with
    # the span of the rule: shown by `archc summary`, so no rule adjusts anything silently.
    generated: tuple[tuple[str, Span], ...] = ()

    @property
    def classes(self) -> int:
        """Output classes of the head."""
        return self.head.classes

    @property
    def dropout(self) -> float:
        """Dropout before the classifier."""
        return self.head.dropout

    @property
    def head_norm(self) -> bool:
        """Whether the head starts with a norm and the activation (pre-activation nets)."""
        return self.head.norm

    @property
    def head_span(self) -> Span:
        """Where the head was given."""
        return self.head.span

    @property
    def residual_blocks(self) -> tuple[ResolvedBlock, ...]:
        """The blocks proper, without the stages' downsampling layers."""
        return tuple(b for b in self.blocks if b.role == "block")

"""The spec language as pydantic models: strict, frozen, and documented field by field.

The JSON Schema, the docs and editor tooltips all come from the `description` of each field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warn", "off"]
ShortcutOption = Literal["A", "B", "C", "identity", "none"]
Activation = Literal["relu", "silu", "gelu"]

# Generous ceilings: they only stop absurd values from costing time or memory downstream.
Channels = Annotated[int, Field(gt=0, le=65536)]
Kernel = Annotated[int, Field(gt=0, le=31)]
Stride = Annotated[int, Field(gt=0, le=64)]


class _Model(BaseModel):
    """Base of every spec model: unknown keys, coercion, NaN and mutation are all refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False,
                              defer_build=True)


class InputSpec(_Model):
    """The input tensor, without the batch dimension."""

    channels: Channels = Field(3, description="Input channels (3 for RGB).")
    height: Annotated[int, Field(gt=0, le=16384)] = Field(224, description="Input height in pixels.")
    width: Annotated[int, Field(gt=0, le=16384)] = Field(224, description="Input width in pixels.")


class StemConv(_Model):
    """The first convolution, followed by batch norm and the activation."""

    out_channels: Channels = Field(64, description="Filters of the stem convolution.")
    kernel: Kernel = Field(7, description="Square kernel size.")
    stride: Stride = Field(2, description="Stride of the stem convolution.")
    padding: Annotated[int, Field(ge=0, le=31)] | None = Field(
        None, description="Zero padding on each side; default kernel // 2.")


class StemPool(_Model):
    """An optional pooling layer after the stem convolution (ImageNet nets use max 3/2)."""

    kind: Literal["max", "avg"] = Field("max", description="Pooling kind.")
    kernel: Kernel = Field(3, description="Square window size.")
    stride: Stride = Field(2, description="Stride of the pool.")
    padding: Annotated[int, Field(ge=0, le=31)] | None = Field(
        None, description="Zero padding on each side; default kernel // 2.")


class Stem(_Model):
    """The stem: one convolution, batch norm, activation, and an optional pool."""

    conv: StemConv = Field(default_factory=StemConv, description="The stem convolution.")
    pool: StemPool | None = Field(
        None, description="Pool after the stem conv; omit or null for CIFAR-style stems.")


class BasicBlock(_Model):
    """Two 3x3 convolutions (He et al. 2015, Fig. 5 left); expansion 1."""

    type: Literal["basic"] = Field(description="Block type tag.")


class BottleneckBlock(_Model):
    """1x1 reduce, 3x3, 1x1 expand (He et al. 2015, Fig. 5 right)."""

    type: Literal["bottleneck"] = Field(description="Block type tag.")
    expansion: Annotated[int, Field(gt=0, le=64)] = Field(
        4, description="Output channels = width x expansion.")
    downsample_at: Literal["1x1", "3x3"] = Field(
        "3x3", description="Where the stride sits: '1x1' is the paper's v1, '3x3' torchvision's v1.5.")
    groups: Annotated[int, Field(gt=0, le=1024)] = Field(
        1, description="Groups of the 3x3 conv (ResNeXt cardinality).")
    width_per_group: Annotated[int, Field(gt=0, le=4096)] = Field(
        64, description="Inner width = int(width x width_per_group / 64) x groups, as torchvision.")


BlockConfig = Annotated[BasicBlock | BottleneckBlock, Field(discriminator="type")]


class WidthRule(_Model):
    """Widths from a base and a rule, instead of an explicit list."""

    base: Channels = Field(description="Width of the first stage.")
    rule: Literal["double", "constant"] = Field(
        "double", description="'double': x2 at every stage whose stride is above 1.")


class StageEntry(_Model):
    """One stage in the explicit form; block and shortcut default to the enclosing `stages`."""

    depth: Annotated[int, Field(gt=0, le=10000)] = Field(description="Number of blocks.")
    width: Channels | None = Field(
        None, description="Block width (bottleneck: inner width). Give this or out_channels.")
    out_channels: Channels | None = Field(
        None, description="Output channels of every block. Give this or width.")
    stride: Stride = Field(1, description="Stride of the first block of the stage.")
    block: BlockConfig | None = Field(None, description="Block type of this stage.")
    shortcut: ShortcutOption | None = Field(None, description="Shortcut option of this stage.")


class Stages(_Model):
    """The residual stages: give `depths` (with widths and strides) or an explicit `per_stage` list."""

    block: BlockConfig = Field(description="Block type, e.g. {type: bottleneck}.")
    shortcut: ShortcutOption = Field(
        "B", description="A: zero-pad, B: project when shapes change, C: always project; "
                         "'identity' never projects, 'none' gives a plain net.")
    depths: list[Annotated[int, Field(gt=0, le=10000)]] | None = Field(
        None, min_length=1, max_length=64, description="Blocks per stage.")
    widths: WidthRule | list[Channels] | None = Field(
        None, description="A width rule {base, rule} or one width per stage.")
    strides: list[Stride] | None = Field(
        None, min_length=1, max_length=64, description="Stride per stage; default [1, 2, 2, ...].")
    per_stage: list[StageEntry] | None = Field(
        None, min_length=1, max_length=64, description="Explicit stages, instead of depths.")


class Head(_Model):
    """Global pooling, optional dropout, and a fully connected classifier."""

    pool: Literal["avg"] = Field("avg", description="Global pooling kind.")
    classes: Annotated[int, Field(gt=0, le=1_000_000)] = Field(1000, description="Output classes.")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="Dropout probability before the classifier; 0 adds no layer.")


class Rules(_Model):
    """Severity of each design rule for this spec: error, warn or off."""

    same_map_same_width: Severity = Field(
        "error", description="ARC301, rule (i): equal map sizes have equal widths.")
    double_on_halve: Severity = Field(
        "error", description="ARC302, rule (ii): the width doubles when the map halves.")
    shortcut_shapes: Severity = Field(
        "error", description="ARC303: shortcuts match shapes (identity equal, A out >= in).")
    exact_downsampling: Severity = Field(
        "warn", description="ARC304: each stride divides the feature map exactly.")
    complexity_preserved: Severity = Field(
        "warn", description="ARC305: MACs per conv layer stay within 2x across stages.")
    name_matches_depth: Severity = Field(
        "warn", description="ARC306: a name like resnet50 matches the counted depth.")
    stride_within_kernel: Severity = Field(
        "warn", description="ARC307: no main-path conv has a stride larger than its kernel.")


class Spec(_Model):
    """A ResNet-family network."""

    spec_version: Literal[1] = Field(description="Version of the spec language; 1.")
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=100)] = Field(
        description="Model name, e.g. resnet50.")
    description: Annotated[str, Field(max_length=10_000)] = Field(
        "", description="Free text for people.")
    extends: str | None = Field(
        None, description="A built-in spec name or a path relative to this file to inherit from.")
    input: InputSpec = Field(default_factory=InputSpec, description="The input tensor.")
    stem: Stem = Field(default_factory=Stem, description="The stem.")
    stages: Stages = Field(description="The residual stages.")
    activation: Activation = Field("relu", description="Activation used throughout.")
    head: Head = Field(default_factory=Head, description="The classifier head.")
    zero_init_residual: bool = Field(
        False, description="Zero the last BN weight of each block, so each block starts as identity.")
    rules: Rules = Field(default_factory=Rules, description="Severity of each design rule.")


def json_schema() -> dict[str, object]:
    """Return the published JSON Schema of the spec language."""
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://archcompiler.dev/schema/spec-v1.json"
    return schema

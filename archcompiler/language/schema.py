"""The spec language as pydantic models: strict, frozen, and documented field by field.

The JSON Schema, the docs and editor tooltips all come from the `description` of each field.
The block types are not listed here: `spec_model()` builds the models that hold a block config
(`StageEntry`, `Stages`, `Spec`) around the union of the block registry's configs, and rebuilds
them when a block type is registered. (No `from __future__ import annotations`: the models built
inside `_build` need their annotations evaluated where the union is in scope.)
"""

import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ..blocks import BLOCKS
from ..blocks.shortcut import ShortcutOption
from ..core.model import SpecModel as _Model

Severity = Literal["error", "warn", "off"]
Activation = Literal["relu", "silu", "gelu"]

# Generous ceilings: they only stop absurd values from costing time or memory downstream.
Channels = Annotated[int, Field(gt=0, le=65536)]
Kernel = Annotated[int, Field(gt=0, le=31)]
Stride = Annotated[int, Field(gt=0, le=64)]


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
    deep: list[Channels] | None = Field(
        None, min_length=1, max_length=8,
        description="A deep stem (ResNet-C, He et al. 2019): the widths of extra 3x3 convs, each "
                    "with BN and the activation, before the stem conv. The first takes the stride; "
                    "the stem conv then runs at stride 1. timm's resnet50c/d: [32, 32] with a "
                    "3x3 stem conv of 64.")
    norm: bool = Field(
        True, description="BN and the activation after the stem conv. Pre-activation nets set "
                          "false: their first unit normalises its own input.")


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


class WidthRule(_Model):
    """Widths from a base and a rule, instead of an explicit list."""

    base: Channels = Field(description="Width of the first stage.")
    rule: Literal["double", "constant"] = Field(
        "double", description="'double': x2 at every stage whose stride is above 1.")


class Head(_Model):
    """Global pooling, optional dropout, and a fully connected classifier."""

    pool: Literal["avg"] = Field("avg", description="Global pooling kind.")
    classes: Annotated[int, Field(gt=0, le=1_000_000)] = Field(1000, description="Output classes.")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="Dropout probability before the classifier; 0 adds no layer.")
    norm: bool = Field(
        False, description="BN and the activation before the global pool: the final ones of a "
                           "pre-activation net (He et al. 2016).")


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


def _build(block_config: Any) -> type[BaseModel]:
    """Build the models that hold a block config around `block_config`, the block union."""

    class StageEntry(_Model):
        """One stage in the explicit form; block and shortcut default to the enclosing `stages`."""

        depth: Annotated[int, Field(gt=0, le=10000)] = Field(description="Number of blocks.")
        width: Channels | None = Field(
            None, description="Block width (bottleneck: inner width). Give this or out_channels.")
        out_channels: Channels | None = Field(
            None, description="Output channels of every block. Give this or width.")
        stride: Stride = Field(1, description="Stride of the first block of the stage.")
        block: block_config | None = Field(None, description="Block type of this stage.")
        shortcut: ShortcutOption | None = Field(None, description="Shortcut option of this stage.")

    class Stages(_Model):
        """The residual stages: give `depths` (with widths and strides) or an explicit `per_stage` list."""

        block: block_config = Field(description="Block type, e.g. {type: bottleneck}.")
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
        shortcut_pool: Literal["none", "avg"] = Field(
            "none", description="'avg': a projection shortcut average-pools by the block's stride "
                                "and then convolves 1x1 at stride 1, so no pixel is skipped "
                                "(ResNet-D, He et al. 2019); 'none': a strided 1x1 conv.")
        drop_path: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
            0.0, description="Stochastic depth: the rate at which the last block's residual branch "
                             "is dropped in training (Huang et al. 2016). No-op in eval mode.")
        drop_path_schedule: Literal["linear", "constant"] = Field(
            "linear", description="'linear': block i of N drops at rate x i / (N - 1), as timm; "
                                  "'constant': every block at the rate.")
        depth_multiplier: Annotated[float, Field(gt=0.0, le=16.0)] = Field(
            1.0, description="Scale every stage's depth; each rounds half up, to at least 1.")
        width_multiplier: Annotated[float, Field(gt=0.0, le=16.0)] = Field(
            1.0, description="Scale every stage's width, rounded to a multiple of width_divisor. A "
                             "multiplier whose rounding would break rule (i) or (ii) is an error "
                             "(ARC116), never repaired silently.")
        width_divisor: Annotated[int, Field(gt=0, le=1024)] = Field(
            8, description="Multiplied widths round to a multiple of this (at least the divisor).")

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
        conv_bias: bool = Field(
            False, description="Give every conv a bias (torchvision's have none), to match a "
                               "hand-written model parameter for parameter.")
        rules: Rules = Field(default_factory=Rules, description="Severity of each design rule.")

    return Spec


_cache: dict[int, type[BaseModel]] = {}


def block_union() -> Any:
    """The discriminated union of every registered block type's config model."""
    configs = tuple(block.config for _, block in BLOCKS.items())
    if len(configs) == 1:  # a discriminator needs a union; one config is its own schema
        return configs[0]
    return Annotated[typing.Union[configs], Field(discriminator="type")]


def spec_model() -> type[BaseModel]:
    """The `Spec` model for the block types registered now (rebuilt after a registration)."""
    model = _cache.get(BLOCKS.version)
    if model is None:
        _cache.clear()
        model = _cache[BLOCKS.version] = _build(block_union())
    return model


def __getattr__(name: str) -> Any:
    # `schema.Spec` reads as a class but follows the registry: it is built on first use.
    if name == "Spec":
        return spec_model()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def json_schema() -> dict[str, object]:
    """Return the published JSON Schema: a complete spec, or an overlay when it `extends`."""
    from .editor_schema import overlay_schema

    schema = overlay_schema(spec_model().model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://archcompiler.dev/schema/spec-v1.json"
    return schema

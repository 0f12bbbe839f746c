"""The spec language as pydantic models: strict, frozen, and documented field by field.

The JSON Schema, the docs and editor tooltips all come from the `description` of each field.
Block configs are checked in two passes: the static `Spec` model holds each block mapping as a
`BlockRef` (a `type` tag plus its fields), and `validate.py` then checks each against the config
model of the block type the tag names, in the scope of the load (built-ins, plugins, and the
blocks the spec declares). The models are generic in the block slot, so the published JSON
Schema is the same models with the union of the built-in block configs in that slot.
"""

import functools
import json
import typing
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..blocks import BLOCKS
from ..blocks.shortcut import ShortcutOption
from ..core.model import SpecModel as _Model
from ..ir.ops import ACTIVATIONS, NORMS

Severity = Literal["error", "warn", "note", "off"]
if TYPE_CHECKING:
    ActivationName = str
    NormName = str
else:  # the registries are the one list of names: the schema enumerates them
    ActivationName = Literal[tuple(ACTIVATIONS.names())]
    NormName = Literal[tuple(NORMS.names())]

# Generous ceilings: they only stop absurd values from costing time or memory downstream.
Channels = Annotated[int, Field(gt=0, le=65536)]
Kernel = Annotated[int, Field(gt=0, le=31)]
Stride = Annotated[int, Field(gt=0, le=64)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


class BlockRef(_Model):
    """A block mapping as the static model sees it: a type tag and that type's fields, which are
    checked against the type's own config model in a second pass."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, allow_inf_nan=False)

    type: str = Field(description="Block type tag: a built-in, a plugin's, or one the spec "
                                  "declares under `blocks:`.")


BlockT = TypeVar("BlockT")


class _Slotted(_Model):
    """A model generic in its block slot; every parametrisation keeps the plain name, so the
    JSON Schema's definitions read `Stages`, not the union spelled out."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """The class's own name, whatever fills the block slot."""
        return cls.__name__

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """A parametrised model keeps its generic class's docstring (the docs show it)."""
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__doc__:
            cls.__doc__ = next((b.__doc__ for b in cls.__mro__[1:] if b.__doc__), None)


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
        True, description="A norm (and the activation) after the stem conv. Pre-activation nets "
                          "set false: their first unit normalises its own input.")
    act: bool | None = Field(
        None, description="The activation after the stem conv (and its norm); default: true "
                          "with a norm, false without one. ConvNeXt's patchify stem has none; "
                          "VGG's first conv has one and no norm.")


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


class RegNetRule(_Model):
    """RegNet's width rule (Radosavovic et al. 2020): stage widths and depths, as pycls."""

    rule: Literal["regnet"] = Field(description="'regnet': generate widths and depths.")
    depth: Annotated[int, Field(ge=1, le=1000)] = Field(description="Blocks in all (d).")
    w0: Annotated[int, Field(gt=0, le=4096, multiple_of=8)] = Field(
        description="Initial width, a multiple of 8 (pycls's quantum: every width is one).")
    wa: Annotated[float, Field(ge=0.0, le=4096.0)] = Field(description="Width slope per block.")
    wm: Annotated[float, Field(gt=1.0, le=16.0)] = Field(
        description="Width multiplier between stages: widths are w0 x wm^k.")
    group_width: Annotated[int, Field(gt=0, le=4096)] = Field(
        description="Channels per group (g); clipped to each stage's width, and the width "
                    "rounded to a multiple of it. Passed to a block field group_width.")
    bottleneck_ratio: Annotated[float, Field(ge=1.0, le=1.0)] = Field(
        1.0, description="Inner width / block width (b); only 1 (RegNetX and RegNetY) for "
                         "now: the blocks take their inner width from the stage width.")


class HeadConv(_Model):
    """A 1x1 conv with its norm and activation before the global pool (MobileNetV2's 1280)."""

    out_channels: Channels = Field(description="Filters of the head conv.")


class Head(_Model):
    """Global pooling, optional dropout, and a fully connected classifier."""

    pool: Literal["avg", "none"] = Field(
        "avg", description="Global pooling kind; 'none' flattens the map as it is (VGG).")
    classes: Annotated[int, Field(gt=0, le=1_000_000)] = Field(1000, description="Output classes.")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="Dropout probability before the classifier; 0 adds no layer.")
    norm: bool = Field(
        False, description="A norm and the activation before the global pool: the final ones of "
                           "a pre-activation net (He et al. 2016).")
    conv: HeadConv | None = Field(
        None, description="A 1x1 conv (with norm and activation) before the pool, e.g. "
                          "MobileNetV2's {out_channels: 1280}.")
    pooled_norm: bool = Field(
        False, description="A norm of the pooled features before the classifier (ConvNeXt's "
                           "head.norm).")
    max_pool: Kernel | None = Field(
        None, description="A max pool with this kernel and stride before the pooling (VGG's "
                          "last 2x2 pool).")
    hidden: list[Channels] = Field(
        default_factory=list, max_length=8,
        description="Hidden fully connected layers before the classifier, each followed by the "
                    "activation and `dropout` (VGG's [4096, 4096]); torchvision's names "
                    "classifier.0, .3, .6.")


class Rules(_Model):
    """Severity of each design rule for this spec: error, warn, note or off."""

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
    bias_before_norm: Severity = Field(
        "note", description="ARC308: a conv bias followed by batch norm is redundant.")


class StageEntry(_Slotted, Generic[BlockT]):
    """One stage in the explicit form; block and shortcut default to the enclosing `stages`."""

    depth: Annotated[int, Field(gt=0, le=10000)] = Field(description="Number of blocks.")
    width: Channels | None = Field(
        None, description="Block width (bottleneck: inner width). Give this or out_channels.")
    out_channels: Channels | None = Field(
        None, description="Output channels of every block. Give this or width.")
    stride: Stride = Field(1, description="Stride of the first block of the stage.")
    block: BlockT | None = Field(None, description="Block type of this stage.")
    shortcut: ShortcutOption | None = Field(None, description="Shortcut option of this stage.")

class Stages(_Slotted, Generic[BlockT]):
    """The residual stages: give `depths` (with widths and strides) or an explicit `per_stage` list."""

    block: BlockT = Field(description="Block type, e.g. {type: bottleneck}.")
    shortcut: ShortcutOption = Field(
        "B", description="A: zero-pad, B: project when shapes change, C: always project; "
                         "'identity' never projects, 'none' gives a plain net.")
    depths: list[Annotated[int, Field(gt=0, le=10000)]] | None = Field(
        None, min_length=1, max_length=64, description="Blocks per stage.")
    widths: WidthRule | RegNetRule | list[Channels] | None = Field(
        None, description="A width rule {base, rule}, RegNet's rule {rule: regnet, ...} (which "
                          "also gives the depths), or one width per stage.")
    strides: list[Stride] | None = Field(
        None, min_length=1, max_length=64,
        description="Stride per stage; default [1, 2, 2, ...] ([2, 2, ...] under the regnet "
                    "rule).")
    per_stage: list[StageEntry[BlockT]] | None = Field(
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
    downsample: BlockT | None = Field(
        None, description="A downsampling layer before each stage whose stride or width changes "
                          "(ConvNeXt: LayerNorm, then a 2x2 stride-2 conv); that stage's blocks "
                          "then all run at stride 1.")
    naming: Literal["torchvision", "timm"] = Field(
        "torchvision", description="Module names: 'torchvision' layer1.0 (and transition1 for a "
                                   "downsampling layer), 'timm' stages.0.blocks.0 (and "
                                   "stages.0.downsample).")

class Spec(_Slotted, Generic[BlockT]):
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
    stages: Stages[BlockT] = Field(description="The residual stages.")
    activation: ActivationName = Field("relu", description="Activation used throughout.")
    norm: NormName = Field(
        "batch", description="Norm used throughout: batch, layer (over channels) or group.")
    blocks: dict[Identifier, str | dict[str, Any]] | None = Field(
        None, max_length=64, description="Block types this spec declares: a tag mapped to a "
                                         "block file (a path relative to this file) or to an "
                                         "inline declaration; see docs/blocks.md.")
    module_class: Identifier = Field(
        "ResNet", description="Class name of the built network module.")
    head: Head = Field(default_factory=Head, description="The classifier head.")
    zero_init_residual: bool = Field(
        False, description="Zero the last BN weight of each block, so each block starts as identity.")
    conv_bias: bool = Field(
        False, description="Give every conv a bias (torchvision's have none), to match a "
                           "hand-written model parameter for parameter.")
    rules: Rules = Field(default_factory=Rules, description="Severity of each design rule.")





def block_union() -> Any:
    """The discriminated union of every registered block type's config model."""
    configs = tuple(block.config for _, block in BLOCKS.items())
    if len(configs) == 1:  # a discriminator needs a union; one config is its own schema
        return configs[0]
    return Annotated[typing.Union[configs], Field(discriminator="type")]


@functools.cache  # the same class each time; subscripting a generic model costs ~1 us a call
def spec_model() -> type[BaseModel]:
    """The static `Spec` model: block mappings are `BlockRef`s, checked in a second pass."""
    return Spec[BlockRef]


_schema_cache: dict[int, type[BaseModel]] = {}


def schema_model() -> type[BaseModel]:
    """The `Spec` model with the registered block types' configs in the block slot (for the
    JSON Schema and the docs, which list every block's fields)."""
    model = _schema_cache.get(BLOCKS.version)
    if model is None:
        _schema_cache.clear()
        made: type[BaseModel] = Spec[block_union()]  # type: ignore[misc,assignment]
        model = _schema_cache[BLOCKS.version] = made
    return model


def _plain_names(schema: dict[str, Any]) -> dict[str, Any]:
    """Name the definitions of the generic models by their class, not by the filled-in union."""
    defs = schema.get("$defs", {})
    rename = {}
    for key in defs:
        head, sep, _ = key.partition("_Annotated_")
        if sep:
            rename[key] = head + ("Overlay" if key.endswith("Overlay") else "")
    text = json.dumps(schema)
    for old, new in rename.items():
        text = text.replace(f'"#/$defs/{old}"', f'"#/$defs/{new}"').replace(f'"{old}":', f'"{new}":')
    out: dict[str, Any] = json.loads(text)
    return out


def json_schema() -> dict[str, object]:
    """Return the published JSON Schema: a complete spec, or an overlay when it `extends`."""
    from .editor_schema import overlay_schema

    schema = _plain_names(overlay_schema(schema_model().model_json_schema()))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://archcompiler.dev/schema/spec-v1.json"
    return schema

"""The Python API: load, resolve and analyze specs, and hand reports to the backends.

`analyze` is the one resolve-then-analyze path; the CLI and every backend entry point go
through it. The backends are imported only when called, so validation never imports torch.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Union

from .analysis.analyze import analyze_resolved
from .analysis.report import Report
from .analysis.table import DEPTHS, Row
from .core.diagnostics import Diagnostic, SpecError
from .core.limits import DEFAULT_LIMITS, Limits
from .core.outputs import check_not_input, check_output, input_paths
from .ir.ops import Shape
from .language.load import resolve
from .language.resolved import ResolvedSpec
from .language.sources import KeywordOverrides, Overrides
from .language.zoo import builtin_names

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .backends.pytorch.weights import WeightsSource

# A path, a built-in name, YAML text, a whole spec as a mapping, or an already resolved spec.
SpecLike = Union[str, "os.PathLike[str]", Mapping[str, object], ResolvedSpec]
InputShape = Union[int, tuple[int, int], tuple[int, int, int]]  # size, HxW or CxHxW

__all__ = ["TIMM_KEYWORDS", "InputShape", "Overrides", "Row", "SpecLike", "analyze",
           "build_module", "create_model", "full_input_shape", "keyword_overrides", "list_models",
           "load_spec", "render", "summary", "to_dot", "validate"]

# timm's model keywords and the spec field each one sets (a located override, see
# `language.sources.KeywordOverrides`).
TIMM_KEYWORDS = {"num_classes": "head.classes", "in_chans": "input.channels",
                 "drop_rate": "head.dropout", "drop_path_rate": "stages.drop_path"}


def load_spec(ref: SpecLike, *, allow_outside: bool = False, limits: Limits = DEFAULT_LIMITS,
              overrides: Overrides | None = None) -> ResolvedSpec:
    """Return the resolved, validated spec for a spec source, or raise SpecError.

    `overrides` ("KEY=VALUE" strings as `archc --set` takes them, or a mapping of dotted keys
    to values) are merged over the spec, one `extends` layer each.
    """
    if isinstance(ref, ResolvedSpec):
        if overrides:
            raise ValueError("overrides apply to a spec source (path, name, text or mapping), "
                             "not to a ResolvedSpec")
        return ref
    res = resolve(ref, allow_outside=allow_outside, limits=limits, overrides=overrides)
    if res.spec is None:
        raise SpecError(res.diagnostics, res.sources)
    return res.spec


def validate(ref: SpecLike, input_shape: InputShape | None = None, *,
             allow_outside: bool = False, limits: Limits = DEFAULT_LIMITS,
             overrides: Overrides | None = None) -> list[Diagnostic]:
    """Return every diagnostic of a spec (loading, schema, shapes, rules); never raise SpecError."""
    spec: ResolvedSpec | None
    diags: list[Diagnostic] = []
    if isinstance(ref, ResolvedSpec):
        spec = load_spec(ref, overrides=overrides)
    else:
        res = resolve(ref, allow_outside=allow_outside, limits=limits, overrides=overrides)
        spec, diags = res.spec, res.diagnostics
    if spec is None:
        return diags
    shape = None if input_shape is None else full_input_shape(spec.input_shape, input_shape)
    try:
        return diags + analyze_resolved(spec, shape, limits).diagnostics
    except SpecError as exc:  # a block type failed to lower: its located diagnostic
        return diags + exc.diagnostics


def full_input_shape(spec_shape: Shape, given: InputShape) -> Shape:
    """Expand a square size or HxW to CxHxW, keeping the spec's channels."""
    if isinstance(given, bool) or not isinstance(given, (int, tuple, list)):
        raise ValueError(f"an input shape is a size, (H, W) or (C, H, W); got {given!r}")
    if isinstance(given, int):
        return (spec_shape[0], given, given)
    if len(given) == 2:
        return (spec_shape[0], given[0], given[1])
    return tuple(given)


def analyze(ref: SpecLike | Report, input_shape: InputShape | None = None, *,
            allow_outside: bool = False, limits: Limits = DEFAULT_LIMITS,
            overrides: Overrides | None = None) -> Report:
    """Return shapes, params, MACs and design-rule diagnostics for a spec, without torch.

    `input_shape` is a square size, (H, W) or (C, H, W); a different C changes the first conv.
    A Report is returned as it is, or re-analyzed at another input shape.
    """
    if isinstance(ref, Report):
        if overrides:
            raise ValueError("overrides apply to a spec source, not to a Report")
        if input_shape is None:
            return ref
        spec = ref.spec
    else:
        spec = load_spec(ref, allow_outside=allow_outside, limits=limits, overrides=overrides)
    shape = None if input_shape is None else full_input_shape(spec.input_shape, input_shape)
    return analyze_resolved(spec, shape, limits)


def summary(ref: SpecLike | Report, depth: str = "stage", *,
            input_shape: InputShape | None = None, allow_outside: bool = False,
            limits: Limits = DEFAULT_LIMITS, overrides: Overrides | None = None) -> list[Row]:
    """The summary table of a spec as typed rows (name, kind, shape, params, MACs), at stage,
    block or layer depth; `analyze(...).to_dict()` gives the whole record as JSON-ready data."""
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {', '.join(DEPTHS)}, got {depth!r}")
    report = analyze(ref, input_shape, allow_outside=allow_outside, limits=limits,
                     overrides=overrides)
    return report.rows(depth)


def keyword_overrides(call: str, timm_keywords: Mapping[str, object],
                       fields: Mapping[str, object], overrides: Overrides | None
                       ) -> Overrides | None:
    """timm's keywords (those not None) and spec-field keywords (`stages__depths`) as overrides
    located in the text of `call` (one of sources.KEYWORD_CALLS), applied over `overrides`."""
    entries = [(k, TIMM_KEYWORDS[k], v) for k, v in timm_keywords.items() if v is not None]
    entries += [(k, k.replace("__", "."), v) for k, v in fields.items()]
    return KeywordOverrides(call, tuple(entries), overrides) if entries else overrides


def build_module(ref: SpecLike | Report, *, seed: int | None = None,
                 device: str | torch.device | int | None = None,
                 dtype: torch.dtype | None = None,
                 input_shape: InputShape | None = None,
                 limits: Limits = DEFAULT_LIMITS, allow_outside: bool = False,
                 overrides: Overrides | None = None,
                 weights: WeightsSource | None = None,
                 num_classes: int | None = None, in_chans: int | None = None,
                 drop_rate: float | None = None,
                 drop_path_rate: float | None = None) -> nn.Module:
    """Build a torch module from a spec path, built-in name, resolved spec or report.

    `input_shape` (a square size, HxW or CxHxW) sets the size the spec is checked at; a channel
    count other than the spec's also changes the first conv, as it would in the spec. `limits`
    bounds what the build may allocate (by default: the memory this machine has available).
    `weights` is a torchvision- or timm-style state_dict file, read with
    `torch.load(weights_only=True)`, or a state_dict in memory, loaded strictly (timm's layouts
    are mapped, backends/pytorch/keymaps.py); a mismatch raises a SpecError (ARC502) that lists
    every missing, unexpected and wrongly shaped key with its spec line. `num_classes`,
    `in_chans`, `drop_rate` and `drop_path_rate` are timm's keywords, each an override of its
    spec field (TIMM_KEYWORDS) located at the keyword: `build_module(num_classes=0)` fails there.
    """
    from .backends.pytorch.build import check_seed, module_from_report

    check_seed(seed)
    overrides = keyword_overrides("build_module", {
        "num_classes": num_classes, "in_chans": in_chans, "drop_rate": drop_rate,
        "drop_path_rate": drop_path_rate}, {}, overrides)
    report = analyze(ref, input_shape, limits=limits, allow_outside=allow_outside,
                     overrides=overrides)
    model = module_from_report(report, seed=seed, device=device, dtype=dtype, limits=limits)
    if weights is not None:
        from .backends.pytorch.weights import load_weights

        load_weights(model, report, weights, limits)
    return model


def create_model(name_or_spec: SpecLike | Report, *, num_classes: int | None = None,
                 in_chans: int | None = None, drop_rate: float | None = None,
                 drop_path_rate: float | None = None,
                 pretrained_weights: WeightsSource | None = None,
                 weights: WeightsSource | None = None, seed: int | None = None,
                 device: str | torch.device | int | None = None,
                 dtype: torch.dtype | None = None, input_shape: InputShape | None = None,
                 limits: Limits = DEFAULT_LIMITS, allow_outside: bool = False,
                 overrides: Overrides | None = None, **fields: object) -> nn.Module:
    """Build a spec's module the way timm's `create_model` is called.

    `num_classes`, `in_chans`, `drop_rate` and `drop_path_rate` set their spec fields
    (TIMM_KEYWORDS); any other keyword sets the spec field it names, a double underscore for
    each dot (`stages__depths=[3, 4, 9, 3]`). Each is an override located at its keyword, so a
    bad value raises SpecError pointing at `create_model(num_classes=0)`. `pretrained_weights`
    (or `weights`) is a state_dict file or mapping, in this package's, torchvision's or timm's
    layout, loaded strictly. The rest is `build_module`'s.
    """
    if pretrained_weights is not None and weights is not None:
        raise TypeError("create_model() takes pretrained_weights or weights, not both")
    return build_module(name_or_spec, seed=seed, device=device, dtype=dtype,
                        input_shape=input_shape, limits=limits, allow_outside=allow_outside,
                        weights=weights if weights is not None else pretrained_weights,
                        overrides=keyword_overrides("create_model", {
                            "num_classes": num_classes, "in_chans": in_chans,
                            "drop_rate": drop_rate, "drop_path_rate": drop_path_rate},
                            fields, overrides))


def _natural_key(name: str) -> list[int | str]:
    """timm's sort key: digit runs compare as numbers, so resnet18 < resnet50 < resnet101."""
    return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", name.lower())]


@functools.cache
def _zoo_family(name: str) -> tuple[str, frozenset[str]]:
    """A built-in spec's family phrase and traits, as `archc list` shows them (cached: the zoo
    is package data)."""
    from .report.summary import family, traits

    report = analyze(name)
    return family(report), frozenset(t.lower() for t in traits(report))


def list_models(pattern: str | Sequence[str] = "*", *, family: str | None = None) -> list[str]:
    """The built-in spec names matching a wildcard pattern (or any of several), sorted as timm's.

    `family` keeps the specs whose family, as `archc list` prints it, matches it as a
    case-insensitive wildcard (`"SE*"`, `"ResNet"`), or that have it as a trait
    (`"pre-activation"`, `"depthwise"`, `"CIFAR"`, `"ResNet-D"`).
    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    names = [n for n in builtin_names() if any(fnmatchcase(n, p) for p in patterns)]
    if family is not None:
        want = family.lower()
        names = [n for n in names if fnmatchcase(_zoo_family(n)[0].lower(), want)
                 or want in _zoo_family(n)[1]]
    return sorted(names, key=_natural_key)


def to_dot(spec_or_report: SpecLike | Report, *, detail: str = "block", rankdir: str = "TB",
           input_shape: InputShape | None = None, allow_outside: bool = False,
           limits: Limits = DEFAULT_LIMITS, overrides: Overrides | None = None,
           style: str = "default") -> str:
    """Return the architecture diagram of a spec (any SpecLike) or report, as DOT text."""
    from .backends.render import check_options, to_dot_text

    check_options(detail, rankdir, style)
    report = analyze(spec_or_report, input_shape, allow_outside=allow_outside, limits=limits,
                     overrides=overrides)
    return to_dot_text(report, detail, rankdir, style)


def render(spec: SpecLike | Report, path: str | os.PathLike[str], *, detail: str = "block",
           rankdir: str = "TB", input_shape: InputShape | None = None,
           allow_outside: bool = False, limits: Limits = DEFAULT_LIMITS,
           overrides: Overrides | None = None, style: str = "default") -> Path:
    """Draw a spec to .svg/.png/.pdf/.html (needs graphviz `dot`) or .dot; return the path.

    The path is checked first (its folder exists and takes files; it is no input of the spec):
    an OutputError (a ValueError) says why not.
    """
    from .backends.render import check_options, write_diagram

    check_options(detail, rankdir, style)
    target = check_output(Path(path), "render path")  # before any work (core/outputs.py)
    report = analyze(spec, input_shape, allow_outside=allow_outside, limits=limits,
                     overrides=overrides)
    check_not_input(target, "render path", input_paths(report.spec.sources))
    return write_diagram(report, target, detail, rankdir, style)


def _report_html(report: Report) -> str:
    """A report's notebook view: its stage diagram and stage table (the render backend's)."""
    from .backends.render.notebook import report_html

    return report_html(report)


Report.html_view = _report_html

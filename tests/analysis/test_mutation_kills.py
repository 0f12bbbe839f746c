"""Tests written to kill the mutants that survived mutation testing (scripts/mutation.sh).

Each names its outside reference: a count from torchvision, timm or pycls, or a paper's table.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field

import archcompiler
from archcompiler import SpecError
from archcompiler.blocks.base import (
    BLOCKS,
    BlockBuilder,
    BlockConfig,
    BlockType,
    config_tag,
    register_block,
    unregister_block,
)
from archcompiler.blocks.basic import Basic, BasicBlock
from archcompiler.blocks.scope import GLOBAL_SCOPE, BlockScope
from archcompiler.blocks.se_bottleneck import squeezed_channels
from archcompiler.core.diagnostics import Diagnostic, Span
from archcompiler.core.registry import UnknownNameError
from archcompiler.ir.graph import Role
from archcompiler.ir.ops import (
    Activation,
    Add,
    AvgPool,
    BatchNorm,
    Conv2d,
    Dropout,
    GlobalAvgPool,
    LayerNorm,
    LayerScale,
    Linear,
    MaxPool,
    Mul,
    OpAttrs,
    PadChannels,
    Shape,
    ShapeError,
)
from tests.conftest import write_spec

# torchvision's resnet18: 11,689,512 params and 1,814,073,344 MACs at 3x224x224 (torchvision's
# model card; tests/test_analysis.py pins both).
TV_RESNET18 = (11_689_512, 1_814_073_344)


def _diags(spec: dict[str, Any], code: str) -> list[Any]:
    return [d for d in archcompiler.validate(spec) if d.code == code]


def test_width_rule_with_a_strided_first_stage_is_torchvisions() -> None:
    # torchvision's ResNet._make_layer(BasicBlock, 64, 2, stride=2) for layer1 (the stem's
    # max-pool removed, so the maps after layer1 are resnet18's): the planes stay 64, 128, 256,
    # 512 (the width rule doubles only after the first stage) and layer1.0 gains the
    # conv1x1(64, 64) + BN downsample torchvision adds when stride != 1: +4,096 + 128 params and
    # 64 x 64 x 56 x 56 MACs. Kills `_stage_widths`' `i >= 0` (a doubled first stage).
    # (Rule (ii) of the paper would have layer1 double; torchvision does not, so it is off.)
    spec = {"extends": "resnet18", "name": "strided_first", "rules": {"double_on_halve": "off"},
            "stem": {"pool": None}, "stages": {"strides": [2, 2, 2, 2]}}
    report = archcompiler.analyze(spec)
    assert report.ok, report.diagnostics
    assert [s.width for s in report.spec.stages] == [64, 128, 256, 512]
    assert (report.params, report.macs) == (TV_RESNET18[0] + 64 * 64 + 2 * 64,
                                            TV_RESNET18[1] + 64 * 64 * 56 * 56)


def test_arc116_is_checked_at_a_width_multiplier_of_two() -> None:
    # timm's make_divisible(20 * 2.0, 8) = 40 is exact, but make_divisible(10 * 2.0, 8) = 24
    # (round half up): the doubling 10 -> 20 becomes 24 -> 40, so x2.0 breaks rule (ii) like any
    # other multiplier. Kills `scale_stages`' `width_multiplier != 2.0`.
    spec = {"extends": "resnet18", "name": "scaled", "stages": {
        "depths": [1, 1], "widths": [10, 20], "strides": [1, 2],
        "width_multiplier": 2.0, "width_divisor": 8}}
    (diag,) = _diags(spec, "ARC116")
    assert diag.message == ("width_multiplier 2 rounds layer1 to 24 and layer2 to 40 (multiples "
                            "of 8), which breaks the 10 -> 20 ratio of the widths (rule ii)")


def _errors(path: Path) -> list[Diagnostic]:
    with pytest.raises(SpecError) as exc:
        archcompiler.analyze(path)
    return list(exc.value.diagnostics)


def test_regnet_rule_over_the_width_bound_is_located(tmp_path: Path) -> None:
    # pycls's generate_regnet(wa=4096, w0=4096, wm=3, depth=30): the last block's width
    # 4096 + 4096 x 29 = 122,880 quantizes to 4096 x 3^3 = 110,592 channels, over the schema's
    # 65,536. The error points at the rule (line 3, col 11), in the user's file.
    path = write_spec(tmp_path, "extends: regnetx_002\nname: r\nstages:\n"
                                "  widths: {w0: 4096, wa: 4096.0, depth: 30, wm: 3.0}\n")
    (d,) = _errors(path)
    assert (d.code, d.message, d.hint) == (
        "ARC117", "the regnet rule makes a stage 110592 channels wide, over the limit of 65536",
        "use a smaller w0, wa or depth")
    assert d.span == Span(str(path), 4, 11)


def test_regnet_rule_with_depths_is_located(tmp_path: Path) -> None:
    # pycls's RegNet generates its depths (RegNetX-200MF: [1, 1, 4, 7]); a spec that also gives
    # depths is refused at the depths it gave.
    path = write_spec(tmp_path, "extends: regnetx_002\nname: r\nstages:\n  depths: [1, 2]\n")
    (d,) = _errors(path)
    assert (d.code, d.message, d.hint) == (
        "ARC111", "stages.depths does not go with the regnet rule, which generates the depths",
        "remove depths (or set `depths: null` over an inherited one)")
    assert d.span == Span(str(path), 4, 11)


# Diagnostics of the resolution, each checked whole: code, severity, message, hint, location
# and notes. A location is ("spec" or a zoo name, text): the first place the text appears in
# that file, so the expected spans come from the YAML, not from the code under test.
ZOO = Path(archcompiler.__file__).resolve().parent / "specs"
Where = tuple[str, str]
Expected = tuple[str, str, str, str, Where, tuple[tuple[str, Where], ...]]


def _at(path: Path, needle: str) -> Span:
    """The span of the first `needle` in `path`'s text (1-based line and column)."""
    text = path.read_text(encoding="utf-8")
    i = text.index(needle)
    return Span(str(path), text.count("\n", 0, i) + 1, i - text.rfind("\n", 0, i))


def _value(path: Path, key: str) -> Span:
    """The span of the value of the first `key: value` in `path`'s text."""
    span = _at(path, f"{key}: ")
    return Span(span.file, span.line, span.col + len(key) + 2)


def _abs(span: Span) -> Span:
    """`span` with an absolute file name (a base named by a relative path keeps it)."""
    return Span(os.path.abspath(span.file), span.line, span.col)


def _where(spec: Path, w: Where) -> Span:
    return _at(spec if w[0] == "spec" else ZOO / f"{w[0]}.yaml", w[1])


def _lines(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


PER_STAGE = ("stages:", "  depths: null", "  widths: null", "  strides: null", "  per_stage:")
DIAGNOSED: dict[str, tuple[str, list[Expected]]] = {
    "strides_vs_depths": (_lines("stages: {strides: [1, 2]}"), [(
        "ARC110", "ERROR", "stages.strides has 2 entries but depths has 4",
        "give one stride per stage", ("spec", "[1, 2]"),
        (("stages.depths inherited from", ("resnet18", "[2, 2, 2, 2]")),))]),
    "widths_vs_depths": (_lines("stages: {widths: [64, 128]}"), [(
        "ARC110", "ERROR", "stages.widths has 2 entries but depths has 4",
        "give one width per stage", ("spec", "[64, 128]"),
        (("stages.depths inherited from", ("resnet18", "[2, 2, 2, 2]")),))]),
    "no_widths": (_lines("stages: {widths: null}"), [(
        "ARC112", "ERROR", "stages.widths is required with stages.depths",
        "add `widths: {base: 64, rule: double}`", ("spec", "{widths"),
        (("stages.depths inherited from", ("resnet18", "[2, 2, 2, 2]")),))]),
    "both_forms": (_lines("stages:", "  per_stage: [{depth: 1, width: 64, stride: 1}]"), [(
        "ARC111", "ERROR", "give exactly one of stages.depths and stages.per_stage",
        "to switch an inherited spec to per_stage, also set `depths: null, widths: null, "
        "strides: null`", ("spec", "per_stage"),  # the stages mapping: its first key
        (("stages.depths inherited from", ("resnet18", "[2, 2, 2, 2]")),))]),
    "neither_form": (_lines("stages: {depths: null}"), [(
        "ARC111", "ERROR", "give exactly one of stages.depths and stages.per_stage",
        "use depths+widths+strides, or a per_stage list", ("spec", "{depths"), ())]),
    "per_stage_with_widths": (_lines("stages:", "  depths: null", "  strides: null",
                                     "  per_stage: [{depth: 1, width: 64, stride: 1}]"), [(
        "ARC111", "ERROR", "stages.widths does not go with per_stage",
        "set width and stride on each per_stage entry", ("spec", "[{depth"),
        (("stages.widths inherited from", ("resnet18", "{base: 64")),))]),
    "per_stage_with_strides": (_lines("stages:", "  depths: null", "  widths: null",
                                      "  per_stage: [{depth: 1, width: 64, stride: 1}]"), [(
        "ARC111", "ERROR", "stages.strides does not go with per_stage",
        "set width and stride on each per_stage entry", ("spec", "[{depth"),
        (("stages.strides inherited from", ("resnet18", "[1, 2, 2, 2]")),))]),
    "width_and_out_channels": (_lines(*PER_STAGE,
                                      "    - {depth: 1, width: 64, out_channels: 64, stride: 1}"), [(
        "ARC112", "ERROR", "give exactly one of width and out_channels",
        "width is the block width; out_channels = width x expansion", ("spec", "64, out"), ())]),
    "out_channels_not_a_multiple": (_lines(*PER_STAGE, "    - {depth: 1, width: 64, stride: 1}",
                                           "    - {depth: 1, out_channels: 250, stride: 2}"), [(
        "ARC113", "ERROR", "out_channels 250 is not a multiple of the expansion 4",
        "use a multiple of 4, or give width instead", ("spec", "250"), ())]),
    "too_many_blocks": (_lines("stages: {depths: [3000, 3000, 3000, 3000]}"), [(
        "ARC115", "ERROR", "the stages hold 12000 blocks, over the 5000 limit",
        "use fewer blocks per stage, or raise the bound (--max-blocks, "
        "limits=Limits(max_blocks=...))", ("spec", "{depths"), ())]),
    "doubled_past_the_bound": (_lines("stages: {widths: {base: 40000, rule: double}}"), [(
        "ARC117", "ERROR", "the width rule doubles layer2 to 80000, over the limit of 65536",
        "use a smaller base or fewer stride-2 stages", ("spec", "{base"), ())]),
    "arc116": (_lines("stages: {width_multiplier: 0.3, width_divisor: 8}"), [(
        # timm's make_divisible: 64 x 0.3 = 19.2 -> 16, 128 x 0.3 = 38.4 -> 40.
        "ARC116", "ERROR", "width_multiplier 0.3 rounds layer1 to 16 and layer2 to 40 "
        "(multiples of 8), which breaks the 64 -> 128 ratio of the widths (rule ii)",
        "use width_multiplier 0.25, which keeps every ratio, or change width_divisor",
        ("spec", "0.3"), ())]),
    "arc118": (_lines("stem: {conv: {kernel: 3}}"), [(
        "ARC118", "NOTE", "stem.conv.padding follows the kernel 3 written here: 1, not the 3 "
        "inherited for the base's kernel", "write `padding: 3` beside the kernel to keep it",
        ("spec", "3}"), (("the padding inherited from", ("resnet18", "3}")),))]),
    "arc118_pool": (_lines("stem: {pool: {kernel: 5}}"), [(
        "ARC118", "NOTE", "stem.pool.padding follows the kernel 5 written here: 2, not the 1 "
        "inherited for the base's kernel", "write `padding: 1` beside the kernel to keep it",
        ("spec", "5}"), (("the padding inherited from", ("resnet18", "1}")),))]),
    "arc119": (_lines("stem: {conv: {kernel: 3, padding: 2}}"), [(
        "ARC119", "WARNING", "stem.conv.padding 2 is over half the kernel 3: the map grows by "
        "2 px", "use padding 1 (kernel // 2), or leave it out", ("spec", "2}"), ())]),
}


@pytest.mark.parametrize("case", sorted(DIAGNOSED))
def test_resolution_diagnostics_are_exact(case: str, tmp_path: Path) -> None:
    text, expected = DIAGNOSED[case]
    base = "resnet50" if "out_channels" in case else "resnet18"
    path = write_spec(tmp_path, f"extends: {base}\nname: r\n{text}")
    try:
        got = list(archcompiler.analyze(path).diagnostics)
    except SpecError as exc:
        got = list(exc.diagnostics)
    got = [d for d in got if d.code.startswith("ARC1")]
    want = [(code, sev, msg, hint, _where(path, span),
             tuple((label, _where(path, w)) for label, w in notes))
            for code, sev, msg, hint, span, notes in expected]
    assert [(d.code, d.severity.name, d.message, d.hint, d.span, d.notes) for d in got] == want


def test_resolved_spans_point_at_the_values(tmp_path: Path) -> None:
    # Every stage, block and stem field keeps where it was written: in the user's file, or in
    # the zoo spec it came from (hovers, `diff` and notes read these).
    path = write_spec(tmp_path, _lines(
        "extends: resnet50", "name: r", "stem: {pool: null}", *PER_STAGE,
        "    - {depth: 1, width: 64, stride: 1}",
        "    - {depth: 2, out_channels: 512, stride: 2, shortcut: A, block: {type: basic}}"))
    spec = archcompiler.analyze(path).spec
    zoo = ZOO / "resnet18.yaml"  # resnet50 extends resnet34, which extends resnet18
    s0, s1 = spec.stages
    assert (s0.depth_span, s0.width_span, s0.stride_span, s0.shortcut_span) == (
        _at(path, "1, width"), _at(path, "64, stride"), _at(path, "1}"),
        _value(zoo, "shortcut"))
    assert (s1.depth_span, s1.width_span, s1.stride_span, s1.shortcut_span) == (
        _at(path, "2, out"), _at(path, "512"), _at(path, "2, shortcut"), _at(path, "A,"))
    assert [(b.name, b.span, b.shortcut_span) for b in spec.blocks] == [
        ("layer1.0", _at(ZOO / "resnet50.yaml", "{type: bottleneck"),
         _value(zoo, "shortcut")),
        ("layer2.0", _at(path, "{type: basic"), _at(path, "A,")),
        ("layer2.1", _at(path, "{type: basic"), _at(path, "A,"))]
    assert (spec.stem.conv_span, spec.stem.pool_span) == (_at(zoo, "{out_channels: 64"), None)
    assert spec.head.span == _at(zoo, "{pool: avg")
    # The compact form: each list element is its stage's.
    plain = archcompiler.analyze("resnet18").spec
    assert [(s.depth_span.col, s.stride_span.col) for s in plain.stages] == [
        (12, 13), (15, 16), (18, 19), (21, 22)]
    assert plain.stem.pool_span == _at(zoo, "{kind: max")


def test_transition_layers_are_named_per_stage(tmp_path: Path) -> None:
    # ConvNeXt's separate downsampling layers (timm's stages.N.downsample); with torchvision
    # naming they are transitionN beside layerN, as DenseNet's torchvision modules are named.
    path = write_spec(tmp_path, "extends: convnext_tiny\nname: c\nstages: {naming: torchvision}\n")
    spec = archcompiler.analyze(path).spec
    assert [s.transition for s in spec.stages] == [None, "transition2", "transition3",
                                                    "transition4"]
    timm = archcompiler.analyze("convnext_tiny").spec
    assert [s.transition for s in timm.stages] == [None, "stages.1.downsample",
                                                   "stages.2.downsample", "stages.3.downsample"]


def test_arc116_names_the_first_ratio_it_breaks() -> None:
    # timm's make_divisible(w x 0.5, 8): 16 -> 8, 16 -> 8, 24 -> 16. The 16 -> 16 ratio holds
    # and the 16 -> 24 one breaks (8 -> 16): the message names layer2 and layer3.
    spec = {"extends": "resnet18", "name": "scaled", "stages": {
        "depths": [1, 1, 1], "widths": [16, 16, 24], "strides": [1, 1, 2],
        "width_multiplier": 0.5, "width_divisor": 8}}
    (diag,) = _diags(spec, "ARC116")
    assert diag.message == ("width_multiplier 0.5 rounds layer2 to 8 and layer3 to 16 (multiples "
                            "of 8), which breaks the 16 -> 24 ratio of the widths (rule ii)")


def test_convnext_drop_path_rates_are_timms() -> None:
    # timm's ConvNeXt: dp_rates = torch.linspace(0, drop_path_rate, sum(depths)) over the 18
    # blocks of convnext_tiny; the downsampling layers between stages take no rate and no
    # place in the ramp.
    spec = archcompiler.analyze({"extends": "convnext_tiny", "name": "c",
                                 "stages": {"drop_path": 0.1}}).spec
    blocks = [b for b in spec.blocks if b.role == "block"]
    assert [b.drop_path for b in blocks] == pytest.approx([0.1 * i / 17 for i in range(18)])
    moved = [b for b in spec.blocks if b.role == "transition"]
    assert [b.name for b in moved] == [f"stages.{i}.downsample" for i in (1, 2, 3)]
    assert {b.span for b in moved} == {b.shortcut_span for b in moved} == {
        _at(ZOO / "convnext_tiny.yaml", "{type: convnext_downsample}")}


def test_arc111_notes_each_inherited_form(tmp_path: Path) -> None:
    # per_stage set in one base, depths in resnet18, the stages mapping last written in a
    # third file: the error is there, with one note for each of the two forms.
    write_spec(tmp_path, _lines("extends: resnet18", "name: a", "stages:",
                                "  per_stage: [{depth: 1, width: 64, stride: 1}]"), "a.yaml")
    write_spec(tmp_path, _lines("extends: a.yaml", "name: m", "stages: {shortcut: A}"), "m.yaml")
    path = write_spec(tmp_path, _lines("extends: m.yaml", "name: u"), "u.yaml")
    (d,) = _errors(path)
    assert d.code == "ARC111" and d.span is not None
    assert _abs(d.span) == _at(tmp_path / "m.yaml", "{shortcut")
    assert tuple((label, _abs(span)) for label, span in d.notes) == (
        ("stages.per_stage inherited from", _at(tmp_path / "a.yaml", "[{depth")),
        ("stages.depths inherited from", _at(ZOO / "resnet18.yaml", "[2, 2, 2, 2]")))


def test_resolved_spec_keeps_its_sources(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "extends: resnet18\nname: r\n")
    spec = archcompiler.analyze(path).spec
    assert list(spec.sources) == list(spec.files) == [str(path), str(ZOO / "resnet18.yaml")]
    assert spec.sources[str(path)] == path.read_text(encoding="utf-8")


TABLE = json.loads((Path(__file__).resolve().parents[1] / "data" / "outside_reference.json")
                   .read_text(encoding="utf-8"))["cases"]


def _state_dict(graph: Any) -> dict[str, list[int]]:
    """The state_dict shapes the graph's modules promise, torch-free: conv, linear, BN."""
    out: dict[str, list[int]] = {}
    for n in graph.nodes:
        a, m = n.attrs, n.module
        if m is None:
            continue
        if isinstance(a, Conv2d):
            out[f"{m}.weight"] = [a.out_channels, a.in_channels // a.groups, a.kernel, a.kernel]
            if a.bias:
                out[f"{m}.bias"] = [a.out_channels]
        elif isinstance(a, Linear):
            out[f"{m}.weight"] = [a.out_features, a.in_features]
            if a.bias:
                out[f"{m}.bias"] = [a.out_features]
        elif isinstance(a, BatchNorm):
            out.update({f"{m}.{k}": [a.channels] for k in
                        ("weight", "bias", "running_mean", "running_var")})
            out[f"{m}.num_batches_tracked"] = []
        else:
            assert not a.params(), f"{n.name}: {a} holds parameters this mirror does not know"
    return out


@pytest.mark.parametrize("case", TABLE, ids=[c["id"] for c in TABLE])
def test_graph_modules_hold_the_references_tensors(case: dict[str, Any]) -> None:
    # tests/data/outside_reference.json's state_dict (torchvision's and timm's own modules),
    # checked against the graph without building torch modules: every module name, every
    # conv's bias and every shape. (test_outside_reference.py builds the torch module too.)
    graph = archcompiler.analyze(case["spec"]).graph
    assert _state_dict(graph) == case["state_dict"], f"{case['id']}: {case['reference']}"


# layer2.0's dataflow, as (node, inputs, module), from the references' forward(): torchvision's
# BasicBlock and Bottleneck (one shared `relu` module; identity = downsample(x)), timm's
# SEModule (fc1, act, fc2, gate, x * gate before the add), timm's ResNetV2 pre-activation
# blocks (the projection reads the pre-activated x_preact), He et al.'s option A (a zero-pad).
ReLU, BLOCK_IN = "relu", "in"
DATAFLOW: dict[str, list[tuple[str, list[str], str | None]]] = {
    "resnet18": [
        ("conv1", [BLOCK_IN], "conv1"), ("bn1", ["conv1"], "bn1"), ("relu1", ["bn1"], ReLU),
        ("conv2", ["relu1"], "conv2"), ("bn2", ["conv2"], "bn2"),
        ("downsample.0", [BLOCK_IN], "downsample.0"),
        ("downsample.1", ["downsample.0"], "downsample.1"),
        ("add", ["bn2", "downsample.1"], None), ("relu_out", ["add"], ReLU)],
    "resnet50": [
        ("conv1", [BLOCK_IN], "conv1"), ("bn1", ["conv1"], "bn1"), ("relu1", ["bn1"], ReLU),
        ("conv2", ["relu1"], "conv2"), ("bn2", ["conv2"], "bn2"), ("relu2", ["bn2"], ReLU),
        ("conv3", ["relu2"], "conv3"), ("bn3", ["conv3"], "bn3"),
        ("downsample.0", [BLOCK_IN], "downsample.0"),
        ("downsample.1", ["downsample.0"], "downsample.1"),
        ("add", ["bn3", "downsample.1"], None), ("relu_out", ["add"], ReLU)],
    "se_resnet50": [
        ("conv1", [BLOCK_IN], "conv1"), ("bn1", ["conv1"], "bn1"), ("relu1", ["bn1"], ReLU),
        ("conv2", ["relu1"], "conv2"), ("bn2", ["conv2"], "bn2"), ("relu2", ["bn2"], ReLU),
        ("conv3", ["relu2"], "conv3"), ("bn3", ["conv3"], "bn3"),
        ("se.pool", ["bn3"], "se.pool"), ("se.fc1", ["se.pool"], "se.fc1"),
        ("se.relu", ["se.fc1"], "se.relu"), ("se.fc2", ["se.relu"], "se.fc2"),
        ("se.gate", ["se.fc2"], "se.gate"), ("se.scale", ["bn3", "se.gate"], None),
        ("downsample.0", [BLOCK_IN], "downsample.0"),
        ("downsample.1", ["downsample.0"], "downsample.1"),
        ("add", ["se.scale", "downsample.1"], None), ("relu_out", ["add"], ReLU)],
    "preact_resnet50": [
        ("bn1", [BLOCK_IN], "bn1"), ("relu1", ["bn1"], ReLU), ("conv1", ["relu1"], "conv1"),
        ("bn2", ["conv1"], "bn2"), ("relu2", ["bn2"], ReLU), ("conv2", ["relu2"], "conv2"),
        ("bn3", ["conv2"], "bn3"), ("relu3", ["bn3"], ReLU), ("conv3", ["relu3"], "conv3"),
        ("downsample.0", ["relu1"], "downsample.0"), ("add", ["conv3", "downsample.0"], None)],
    "wrn28_10": [
        ("bn1", [BLOCK_IN], "bn1"), ("relu1", ["bn1"], ReLU), ("conv1", ["relu1"], "conv1"),
        ("bn2", ["conv1"], "bn2"), ("relu2", ["bn2"], ReLU), ("conv2", ["relu2"], "conv2"),
        ("downsample.0", ["relu1"], "downsample.0"), ("add", ["conv2", "downsample.0"], None)],
    "resnet20": [
        ("conv1", [BLOCK_IN], "conv1"), ("bn1", ["conv1"], "bn1"), ("relu1", ["bn1"], ReLU),
        ("conv2", ["relu1"], "conv2"), ("bn2", ["conv2"], "bn2"),
        ("shortcut", [BLOCK_IN], "shortcut"), ("add", ["bn2", "shortcut"], None),
        ("relu_out", ["add"], ReLU)],
}


def _dataflow(spec: Any, block: str) -> list[tuple[str, list[str], str | None]]:
    graph = archcompiler.analyze(spec).graph
    nodes = [n for n in graph.nodes if n.block == block]
    inside = {n.name for n in nodes}
    short = len(block) + 1
    return [(n.name[short:], [i[short:] if i in inside else BLOCK_IN for i in n.inputs],
             n.module[short:] if n.module else None) for n in nodes]


@pytest.mark.parametrize("name", sorted(DATAFLOW))
def test_block_dataflow_is_the_references(name: str) -> None:
    assert _dataflow(name, "layer2.0") == DATAFLOW[name]


def test_wrn_dropout_sits_between_the_convs() -> None:
    # Zagoruyko and Komodakis's WRN (github.com/szagoruyko/wide-residual-networks, and
    # xternalz/WideResNet-pytorch): dropout after the second BN-ReLU, before conv2, only when
    # the rate is above 0.
    spec = {"extends": "wrn28_10", "name": "w", "stages": {"block": {"dropout": 0.3}}}
    flow = _dataflow(spec, "layer2.0")
    assert flow[5:7] == [("dropout", ["relu2"], "dropout"), ("conv2", ["dropout"], "conv2")]
    (drop,) = [n for n in archcompiler.analyze(spec).graph.nodes if n.name == "layer2.0.dropout"]
    assert drop.attrs == Dropout(0.3)


@pytest.mark.parametrize(("name", "last"), [("resnet18", "bn2"), ("resnet50", "bn3"),
                                            ("se_resnet50", "bn3")])
def test_zero_init_residual_zeroes_torchvisions_norms(name: str, last: str) -> None:
    # torchvision's ResNet(zero_init_residual=True): nn.init.constant_(m.bn2.weight, 0) for each
    # BasicBlock, m.bn3.weight for each Bottleneck, and nothing else (timm's SE-ResNets too).
    spec = {"extends": name, "name": "z", "zero_init_residual": True}
    graph = archcompiler.analyze(spec).graph
    zeroed = {n.name for n in graph.nodes if isinstance(n.attrs, BatchNorm) and n.attrs.zero_init}
    assert zeroed == {f"{b.name}.{last}" for b in graph.blocks}


BOTTLENECKS = [c for c in TABLE if c.get("spec", {}).get("stages", {}).get("block", {}).get(
    "type") in ("bottleneck", "preact_bottleneck")][::4]


@pytest.mark.parametrize("case", BOTTLENECKS, ids=[c["id"] for c in BOTTLENECKS])
def test_stride_on_the_first_1x1_is_the_references_with_conv1_strided(case: dict[str, Any]
                                                                       ) -> None:
    # The paper's v1 layout (downsample_at: 1x1) moves the stride from the 3x3 to the first
    # 1x1. Against the reference's v1.5 network (torchvision's or timm's, in the table): the
    # same params and block output shapes (a 1x1 at stride 2, padding 0, and a 3x3 at stride 2,
    # padding 1, both give ceil(h / 2)), and fewer MACs by conv1 of each strided block now
    # running at the output map: in x mid x (h_in w_in - h_out w_out), all read off the table.
    spec = json.loads(json.dumps(case["spec"]))
    spec["stages"]["block"]["downsample_at"] = "1x1"
    report = archcompiler.analyze(spec)
    shapes = {b.name: list(report.shape(b.output) or ()) for b in report.graph.blocks}
    assert (report.params, shapes) == (case["params"], case["blocks"])
    names = list(case["blocks"])
    saved = 0
    for prev, name in itertools.pairwise(names):
        (c_in, h_in, w_in), (_, h_out, w_out) = case["blocks"][prev], case["blocks"][name]
        if (h_in, w_in) != (h_out, w_out):
            mid = case["state_dict"][f"{name}.conv1.weight"][0]
            saved += c_in * mid * (h_in * w_in - h_out * w_out)
    assert report.macs == case["macs"] - saved, case["reference"]


def test_vgg19_classifier_is_torchvisions() -> None:
    # torchvision's VGG.classifier: Sequential(Linear(512 * 7 * 7, 4096), ReLU(True),
    # Dropout(p=0.5), Linear(4096, 4096), ReLU(True), Dropout(p=0.5), Linear(4096, 1000)).
    graph = archcompiler.analyze("vgg19").graph
    head = [(n.name, n.attrs, n.module) for n in graph.nodes if n.name.startswith("classifier")]
    relu = Activation("relu")
    assert head == [
        ("classifier.0", Linear(25088, 4096), "classifier.0"),
        ("classifier.1", relu, "classifier.1"), ("classifier.2", Dropout(0.5), "classifier.2"),
        ("classifier.3", Linear(4096, 4096), "classifier.3"),
        ("classifier.4", relu, "classifier.4"), ("classifier.5", Dropout(0.5), "classifier.5"),
        ("classifier.6", Linear(4096, 1000), "classifier.6")]


def _flow_attrs(name: str, block: str) -> list[tuple[str, Any, list[str]]]:
    nodes = [n for n in archcompiler.analyze(name).graph.nodes if n.block == block]
    inside = {n.name for n in nodes}
    short = len(block) + 1
    return [(n.name[short:], n.attrs, [i[short:] if i in inside else BLOCK_IN for i in n.inputs])
            for n in nodes]


def test_data_blocks_dataflow_is_timms() -> None:
    # timm's ConvNeXtBlock (convnext_tiny, stage 1): conv_dw 7x7 depthwise with bias, norm
    # (LayerNorm, eps 1e-6), mlp.fc1, mlp.act (GELU), mlp.fc2, gamma (ls_init_value 1e-6),
    # then x + shortcut.
    assert _flow_attrs("convnext_tiny", "stages.1.blocks.0") == [
        ("conv_dw", Conv2d(192, 192, 7, 1, 3, 192, True), [BLOCK_IN]),
        ("norm", LayerNorm(192, eps=1e-6), ["conv_dw"]),
        ("mlp.fc1", Conv2d(192, 768, 1, bias=True), ["norm"]),
        ("mlp.act", Activation("gelu"), ["mlp.fc1"]),
        ("mlp.fc2", Conv2d(768, 192, 1, bias=True), ["mlp.act"]),
        ("gamma", LayerScale(192, 1e-6), ["mlp.fc2"]), ("add", Add(), ["gamma", BLOCK_IN])]
    # timm's state_dict key stages.1.blocks.0.gamma: the layer scale is a module.
    gamma = archcompiler.analyze("convnext_tiny").graph.by_name()["stages.1.blocks.0.gamma"]
    assert gamma.module == "stages.1.blocks.0.gamma"
    # timm's RegNet Bottleneck with SEModule (regnety_040, layer2.0): x * gate before conv3.
    flow = _flow_attrs("regnety_040", "layer2.0")
    assert [(n, type(a).__name__, i) for n, a, i in flow][6:12] == [
        ("se.pool", "GlobalAvgPool", ["conv2.act"]), ("se.fc1", "Conv2d", ["se.pool"]),
        ("se.act", "Activation", ["se.fc1"]), ("se.fc2", "Conv2d", ["se.act"]),
        ("se.gate", "Activation", ["se.fc2"]), ("se.scale", "Mul", ["conv2.act", "se.gate"])]
    assert flow[10][1] == Activation("sigmoid") and flow[-2][1] == Add()
    # timm's InvertedResidual (mobilenetv2_100, stage 1): conv_pw, bn1, ReLU6, conv_dw 3x3
    # stride 2 padding 1, bn2, ReLU6, conv_pwl, bn3, no shortcut at stride 2.
    assert _flow_attrs("mobilenetv2_100", "stages.1.blocks.0") == [
        ("conv_pw", Conv2d(16, 96, 1), [BLOCK_IN]), ("bn1", BatchNorm(96), ["conv_pw"]),
        ("act1", Activation("relu6"), ["bn1"]), ("conv_dw", Conv2d(96, 96, 3, 2, 1, 96), ["act1"]),
        ("bn2", BatchNorm(96), ["conv_dw"]), ("act2", Activation("relu6"), ["bn2"]),
        ("conv_pwl", Conv2d(96, 24, 1), ["act2"]), ("bn3", BatchNorm(24), ["conv_pwl"])]


TWIN = _lines(
    "block: twin",
    "fields:",
    "  scale: {type: float, default: 0.5, min: 0.0, max: 1.0, description: A start.}",
    "ops:",
    "  - {name: a, op: conv, out: out, kernel: 3, stride: stride}",
    "  - {name: b, op: conv, out: out, kernel: 1, stride: stride, input: in}",
    "  - {name: sum, op: add, inputs: [a, b]}",
    "  - {name: ls, op: layer_scale, init: 0.25}",
    "  - {name: ls2, op: layer_scale, init: scale}",
    "  - {name: drop, op: dropout, p: 0.1}",
    "  - {name: act, op: act, kind: relu6}",
    "residual: never")


def test_a_block_file_becomes_the_graph_it_describes(tmp_path: Path) -> None:
    # docs/blocks.md's op table: `add` sums its inputs, `layer_scale` and `dropout` take a
    # number or a float field, a conv's padding defaults to kernel // 2; each node points at
    # its op in the block file.
    block = write_spec(tmp_path, TWIN, "twin.yaml")
    path = write_spec(tmp_path, _lines("extends: resnet20", "name: t",
                                       "blocks: {twin: twin.yaml}",
                                       "stages: {block: {type: twin, scale: 0.75}}"))
    nodes = [n for n in archcompiler.analyze(path).graph.nodes if n.block == "layer2.0"]
    assert [(n.name, n.attrs, n.inputs) for n in nodes] == [
        ("layer2.0.a", Conv2d(16, 32, 3, 2, 1), ("layer1.2.act",)),
        ("layer2.0.b", Conv2d(16, 32, 1, 2, 0), ("layer1.2.act",)),
        ("layer2.0.sum", Add(), ("layer2.0.a", "layer2.0.b")),
        ("layer2.0.ls", LayerScale(32, 0.25), ("layer2.0.sum",)),
        ("layer2.0.ls2", LayerScale(32, 0.75), ("layer2.0.ls",)),
        ("layer2.0.drop", Dropout(0.1), ("layer2.0.ls2",)),
        ("layer2.0.act", Activation("relu6"), ("layer2.0.drop",))]
    assert [n.span and _abs(n.span) for n in nodes] == [
        _at(block, "{name: a,"), _at(block, "{name: b,"), _at(block, "{name: sum"),
        _at(block, "{name: ls,"), _at(block, "{name: ls2"), _at(block, "{name: drop"),
        _at(block, "{name: act")]


BAD_BLOCKS: dict[str, tuple[list[str], tuple[str, str, str, str]]] = {
    "ends_with_other_channels": (["ops:", "  - {name: conv1, op: conv, out: out * 2, kernel: 3}",
                                  "  - {name: bn1, op: norm}"], (
        "ARC165", "block 'x' ends with 32 channels but its out_channels is 16 (width 16 x "
        "expansion)", "make the last op produce `out` channels, or set the block's expansion",
        "{name: bn1")),
    "division_by_zero": (["ops:", "  - {name: c, op: conv, out: out // (stride - stride)}"], (
        "ARC162", "division by zero in '//'", "make sure the divisor cannot be 0", "//")),
    "negative_out": (["ops:", "  - {name: c, op: conv, out: 0 - out, kernel: 3}"], (
        "ARC164", "c.out evaluates to -16, outside 1..65536",
        "check the expression and the block's fields", "0 - out")),
    "negative_expansion": (["fields:",
                            "  e: {type: int, default: 2, min: 1, max: 8, description: E.}",
                            "expansion: 1 - e", "ops:", "  - {name: c, op: conv, out: out}"], (
        "ARC164", "expansion evaluates to -1, outside 1..65536",
        "check the expression and the block's fields", "1 - e")),
}


@pytest.mark.parametrize("case", sorted(BAD_BLOCKS))
def test_block_file_errors_are_exact(case: str, tmp_path: Path) -> None:
    lines, (code, message, hint, where) = BAD_BLOCKS[case]
    block = write_spec(tmp_path, _lines(*lines), "x.yaml")
    path = write_spec(tmp_path, _lines("extends: resnet20", "name: t", "blocks: {x: x.yaml}",
                                       "stages: {block: {type: x}}"))
    (d,) = _errors(path)
    assert (d.code, d.message, d.hint) == (code, message, hint)
    assert d.span is not None and _abs(d.span) == _at(block, where)


class _TwinBasicBlock(BasicBlock):
    type: Literal["twin_basic"] = Field(description="Block type tag.")  # type: ignore[assignment]


class _TwinBasic(Basic):
    config = _TwinBasicBlock  # type: ignore[assignment]


class _NoConfig(Basic):
    config = int  # type: ignore[assignment]

    @property
    def name(self) -> str:
        return "no_config"


def _config_with_tag(tag: Any) -> type[BlockConfig]:
    return type("C", (BlockConfig,), {"__annotations__": {"type": tag}})


def test_a_registered_block_type_is_usable_at_once() -> None:
    # A copy of the basic block under a new tag: resnet18 with it is torchvision's resnet18.
    register_block(_TwinBasic)
    try:
        report = archcompiler.analyze({"extends": "resnet18", "name": "t",
                                       "stages": {"block": {"type": "twin_basic"}}})
        assert (report.params, report.macs) == TV_RESNET18
        with pytest.raises(ValueError):
            register_block(_TwinBasic)  # the tag is taken
    finally:
        unregister_block("twin_basic")


@pytest.mark.parametrize(("tag", "ok"), [("twin_basic", True), ("_twin", False),
                                         ("twin-basic", False), ("twïn", False),
                                         ("t" * 64, True), ("t" * 65, False)])
def test_block_tags_are_identifiers(tag: str, ok: bool) -> None:
    block = type("T", (Basic,), {"config": type("TC", (BasicBlock,), {
        "__annotations__": {"type": Literal[tag]},
        "type": Field(description="Block type tag.")})})
    if ok:
        register_block(block)
        unregister_block(tag)
        return
    with pytest.raises(ValueError) as exc:
        register_block(block)
    assert str(exc.value) == ("a block type's tag must be an identifier (letters, digits and _, "
                              f"not starting with _), got {tag!r}")


def test_register_block_refuses_what_is_not_a_block_type() -> None:
    with pytest.raises(TypeError) as exc:
        register_block(object())  # type: ignore[type-var]
    assert str(exc.value) == "register_block wants a BlockType, got object"
    with pytest.raises(TypeError) as exc:
        register_block(_NoConfig)
    assert str(exc.value) == "_NoConfig.config must be a BlockConfig subclass"
    no_class = type("NoClass", (_TwinBasic,), {"module_class": "not a class"})
    with pytest.raises(TypeError) as exc:
        register_block(no_class)
    assert str(exc.value) == "NoClass.module_class must be a class name"
    assert "twin_basic" not in BLOCKS.names()


# list["x"]: one string argument, but not a Literal.
ONE_STRING_NOT_LITERAL = list.__class_getitem__("x")


@pytest.mark.parametrize("annotation", [str, Literal["a", "b"], Literal[1], ONE_STRING_NOT_LITERAL])
def test_config_tag_wants_one_literal_string(annotation: Any) -> None:
    with pytest.raises(TypeError) as exc:
        config_tag(_config_with_tag(annotation))
    assert str(exc.value) == "C.type must be Literal['<tag>'] with one string"
    assert config_tag(_TwinBasicBlock) == "twin_basic"


FORMULA_CASES = TABLE[::8]


@pytest.mark.parametrize("case", FORMULA_CASES, ids=[c["id"] for c in FORMULA_CASES])
def test_worked_formulas_add_up_to_the_references_counts(case: dict[str, Any]) -> None:
    # `archc explain` shows each op's worked formulas. Summed over the nodes, their params and
    # MACs are the reference's (the table: torchvision's and timm's counts at odd, non-square
    # inputs), and each output size formula gives the node's shape.
    report = archcompiler.analyze(case["spec"])
    params = macs = 0
    for n in report.graph.nodes:
        ins = [report.shape(i) for i in n.inputs]
        out = report.shape(n.name)
        assert (ins and out) or n.attrs.ARITY == 0
        formulas = {f.quantity: f for f in n.attrs.formulas(ins, out)}  # type: ignore[arg-type]
        assert all(name for f in formulas.values() for name, _ in f.expr.terms()), n.name
        params += formulas["params"].result if "params" in formulas else 0
        macs += formulas["macs"].result if "macs" in formulas else 0
        if "height" in formulas and out is not None:
            assert (formulas["height"].result, formulas["width"].result) == tuple(out[1:]), n.name
    assert (params, macs) == (case["params"], case["macs"]), case["reference"]


def test_conv_formula_terms_are_named() -> None:
    # torchvision's resnet18 conv1: 64 filters of 3x7x7 over a 112x112 output.
    report = archcompiler.analyze("resnet18")
    conv1 = report.graph.by_name()["conv1"]
    f = {x.quantity: x for x in conv1.attrs.formulas([(3, 224, 224)], (64, 112, 112))}
    assert f["macs"].expr.terms() == [
        ("out channels", 64), ("in channels per group", 3), ("kernel", 7), ("kernel", 7),
        ("output height", 112), ("output width", 112)]
    assert f["macs"].result == 118_013_952 and f["params"].result == 9_408


SHAPE_ERRORS: list[tuple[OpAttrs, list[Shape], tuple[str, str, str]]] = [
    (Conv2d(4, 8, 3), [(3, 8, 8)], ("ARC202", "conv2d expects 4 input channels but receives 3",
                                    "make the previous layer's out_channels match")),
    (Conv2d(6, 8, 3, groups=4), [(6, 8, 8)], (
        "ARC203", "groups=4 does not divide the channels (6 in, 8 out)",
        "choose groups that divide both channel counts")),
    (Conv2d(3, 8, 7), [(3, 4, 4)], (
        "ARC201", "conv2d collapses the map: 4 px with kernel 7, stride 1, padding 0 leaves "
        "nothing", "use a larger input, fewer stride-2 stages, or a smaller stride")),
    (MaxPool(3, 2, 2), [(3, 8, 8)], ("ARC204", "pool padding 2 exceeds half the kernel 3",
                                     "use padding <= 1")),
    (PadChannels(8, 4, 1), [(8, 8, 8)], (
        "ARC206", "an option-A shortcut cannot shrink 8 channels to 4",
        "use shortcut B or C where channels shrink")),
    (Add(), [(8, 4, 4), (8, 2, 2)], (
        "ARC207", "the residual add sees (8, 4, 4) from the body but (8, 2, 2) from the "
        "shortcut", "use shortcut B (projection) or A (zero-pad) where the block changes "
        "channels or stride")),
    (Mul(), [(8, 4, 4), (4, 1, 1)], (
        "ARC207", "a gate of shape (4, 1, 1) cannot scale a map of shape (8, 4, 4)",
        "give the gate one value per channel of the map")),
    (LayerScale(8), [(4, 2, 2)], ("ARC202", "layer_scale expects 8 input channels but receives 4",
                                  "make the previous layer's out_channels match")),
    (GlobalAvgPool(), [(8,)], ("ARC205", "global_avg_pool needs a CxHxW feature map, got (8,)",
                               "place this op before the flatten")),
    (Linear(4, 3), [(5,)], ("ARC202", "linear expects 4 features but receives (5,)",
                            "flatten a globally pooled map before the classifier")),
    (Mul(), [(8,), (8, 1, 1)], ("ARC205", "mul needs a CxHxW feature map, got (8,)",
                                "place this op before the flatten")),
    (PadChannels(8, 16, 2), [(4, 8, 8)], (
        "ARC202", "zero-pad shortcut expects 8 input channels but receives 4",
        "make the previous layer's out_channels match")),
]


@pytest.mark.parametrize(("op", "ins", "want"), SHAPE_ERRORS,
                         ids=[f"{type(o).__name__}-{w[0]}" for o, _, w in SHAPE_ERRORS])
def test_shape_errors_are_exact(op: OpAttrs, ins: list[Shape], want: tuple[str, str, str]
                                ) -> None:
    with pytest.raises(ShapeError) as exc:
        op.infer(ins)
    assert (exc.value.code, exc.value.message, exc.value.hint) == want


def test_op_labels_params_and_buffers_are_torchs_and_the_papers() -> None:
    # Labels in He et al. 2015's Fig. 3 notation ("3x3 conv, 128, /2"); params and buffer
    # bytes of torch's modules: nn.Conv2d(3, 64, 7) 9,408 (resnet18's conv1), nn.Linear(512,
    # 1000) 513,000 (its fc), nn.BatchNorm2d(64) 128 params and 64 x 4 x 2 + 8 buffer bytes
    # (running mean and var in float32, num_batches_tracked in int64), a LayerNorm no buffers.
    samples: list[tuple[OpAttrs, str, int, int]] = [
        (Conv2d(64, 128, 3, 2, 1, 32), "3x3 conv, 128, /2, groups 32", 2304, 0),
        (Conv2d(3, 64, 7, 2, 3), "7x7 conv, 64, /2", 9408, 0),
        (MaxPool(3, 2, 1), "3x3 max pool, /2", 0, 0), (AvgPool(2, 2, 0), "2x2 avg pool, /2", 0, 0),
        (PadChannels(16, 32, 2), "zero-pad 16→32, /2", 0, 0), (Add(), "+", 0, 0),
        (Mul(), "×", 0, 0), (LayerScale(8), "layer scale", 8, 0),
        (GlobalAvgPool(), "global avg pool", 0, 0), (Linear(512, 1000), "fc 512→1000", 513000, 0),
        (Dropout(0.5), "dropout 0.5", 0, 0), (BatchNorm(64), "BN", 128, 520),
        (LayerNorm(64), "LN", 128, 0), (Activation("relu"), "ReLU", 0, 0)]
    assert [(o.text(), o.params(), o.buffer_bytes(4)) for o, *_ in samples] == [
        tuple(s[1:]) for s in samples]


def test_shortcut_nodes_point_at_the_shortcut_option() -> None:
    # He et al.'s option A (resnet20's `shortcut: A`): the zero-pad and the add it feeds are
    # located at the option, so rule ARC303 and hovers point there.
    graph = archcompiler.analyze("resnet20").graph
    nodes = {n.name: n for n in graph.nodes}
    at = _value(ZOO / "resnet20.yaml", "shortcut")
    assert nodes["layer2.0.shortcut"].attrs == PadChannels(16, 32, 2)
    assert nodes["layer2.0.shortcut"].span == nodes["layer2.0.add"].span == at


def test_an_average_pooled_stem_is_not_named_maxpool() -> None:
    # torchvision names its stem pool `maxpool`; an average pool there is another module.
    spec = {"extends": "resnet18", "name": "a", "stem": {"pool": {"kind": "avg"}}}
    stem = [n for n in archcompiler.analyze(spec).graph.nodes if n.name in
            ("maxpool", "avgpool_stem")]
    assert [(n.name, n.attrs) for n in stem] == [("avgpool_stem", AvgPool(3, 2, 1))]


def test_block_scope_lists_every_tag_it_knows() -> None:
    # The five built-in block types (He et al. 2015 and 2016, Hu et al. 2018) plus a load's own.
    scope = BlockScope({"mine": Basic()})
    assert "mine" in scope and "basic" in scope and "mine" not in GLOBAL_SCOPE
    assert isinstance(scope.get("mine"), Basic) and isinstance(scope.get("basic"), Basic)
    assert scope.names() == ["basic", "bottleneck", "mine", "preact_basic", "preact_bottleneck",
                             "se_bottleneck"]
    with pytest.raises(UnknownNameError) as exc:
        scope.get("basik")
    assert (exc.value.kind, exc.value.name, exc.value.known) == ("block type", "basik",
                                                                   scope.names())
    assert str(exc.value) == ("unknown block type 'basik' (known: basic, bottleneck, mine, "
                              "preact_basic, preact_bottleneck, se_bottleneck); did you mean "
                              "'basic'?")


def _plain_bottleneck(case: dict[str, Any]) -> bool:
    block = case.get("spec", {}).get("stages", {}).get("block", {})
    return block.get("type") in ("bottleneck", "preact_bottleneck", "se_bottleneck") and \
        block.get("groups", 1) == 1 and block.get("width_per_group", 64) == 64


GROUPED = [c for c in TABLE if _plain_bottleneck(c)][::4]


@pytest.mark.parametrize("case", GROUPED, ids=[c["id"] for c in GROUPED])
def test_grouped_3x3_is_the_references_with_conv2_grouped(case: dict[str, Any]) -> None:
    # groups=g with width_per_group=64/g keeps torchvision's inner width int(w x (64/g) / 64) x g
    # where g divides the widths, and only conv2 (the 3x3) becomes grouped, as in torchvision's
    # and timm's ResNeXt blocks: params and MACs fall by conv2's (1 - 1/g), its weight shape
    # and output map read off the table's reference network.
    g = 2
    spec = json.loads(json.dumps(case["spec"]))
    spec["stages"]["block"].update(groups=g, width_per_group=64 // g)
    sd = case["state_dict"]
    conv2 = {k[: -len(".conv2.weight")]: v for k, v in sd.items() if k.endswith(".conv2.weight")}
    if any(v[0] % g for v in conv2.values()):
        pytest.skip("a width that 2 does not divide")
    weights = {b: v[0] * v[1] * v[2] * v[3] for b, v in conv2.items()}
    saved_params = sum(w - w // g for w in weights.values())
    saved_macs = sum((w - w // g) * case["blocks"][b][1] * case["blocks"][b][2]
                     for b, w in weights.items())
    report = archcompiler.analyze(spec)
    assert (report.params, report.macs) == (case["params"] - saved_params,
                                            case["macs"] - saved_macs), case["reference"]


def test_roles_of_the_add_and_of_a_branch_norm(tmp_path: Path) -> None:
    # The add is the merge (rule ARC306 counts layers without it); an op of a block file with
    # `role: branch` is a side branch, its norm too (docs/blocks.md).
    nodes = archcompiler.analyze("resnet18").graph.by_name()
    assert nodes["layer2.0.add"].role == Role.MERGE
    assert nodes["layer2.0.bn1"].role == Role.MAIN
    write_spec(tmp_path, _lines("ops:", "  - {name: c, op: conv, out: out, kernel: 3, "
                                "stride: stride}", "  - {name: n, op: norm, role: branch}"),
               "x.yaml")
    path = write_spec(tmp_path, _lines("extends: resnet20", "name: t", "blocks: {x: x.yaml}",
                                       "stages: {block: {type: x}}"))
    nodes = archcompiler.analyze(path).graph.by_name()
    assert (nodes["layer2.0.c"].role, nodes["layer2.0.n"].role) == (Role.MAIN, Role.BRANCH)
    span = nodes["layer2.0.n"].span
    assert span is not None and _abs(span) == _at(tmp_path / "x.yaml", "{name: n")


def test_layer_scale_formula_names_its_channels() -> None:
    (f,) = LayerScale(8).formulas([(8, 4, 4)], (8, 4, 4))
    assert (f.quantity, f.expr.terms(), f.result) == ("params", [("channels", 8)], 8)


def test_every_written_value_keeps_its_span() -> None:
    # `diff`, hovers and notes ask the resolved spec where each value was written.
    spec = archcompiler.analyze("resnet18").spec
    zoo = ZOO / "resnet18.yaml"
    assert spec.span_of("stem.conv.kernel") == _value(zoo, "kernel")
    assert spec.span_of("stages.depths") == _value(zoo, "depths")
    assert spec.span_of("head.classes") == _value(zoo, "classes")
    assert spec.span_of("no.such.field") is None


def test_a_derived_padding_is_located_at_its_kernel(tmp_path: Path) -> None:
    # resnet18's stem padding 3 was for its 7x7 kernel: with a 3x3 written here the padding is
    # derived (1), and located at the kernel that set it.
    path = write_spec(tmp_path, "extends: resnet18\nname: r\nstem: {conv: {kernel: 3}}\n")
    spec = archcompiler.analyze(path).spec
    assert spec.stem.padding == 1
    assert spec.span_of("stem.conv.padding") == _at(path, "3}")


def test_a_stem_without_pool_has_the_identity_pool_fields() -> None:
    # torchvision's CIFAR-style stems have no max-pool: the resolved stem says kernel 1,
    # stride 1, padding 0 (no pool), as `archc diff` reads it.
    spec = archcompiler.analyze("resnet20").spec
    st = spec.stem
    assert (st.pool_kind, st.pool_kernel, st.pool_stride, st.pool_padding, st.pool_span) == (
        None, 1, 1, 0, None)


def test_arc114_names_each_stage_without_inner_channels() -> None:
    # torchvision's Bottleneck: width = int(planes * (base_width / 64.)) * groups, 0 for
    # planes 16 and 32 at base_width 1: those stages have no 3x3 to build.
    spec = {"extends": "resnet50", "name": "r",
            "stages": {"widths": [16, 32, 64, 128], "block": {"width_per_group": 1}}}
    assert [(d.message, d.hint) for d in _diags(spec, "ARC114")] == [
        (f"the bottleneck blocks of layer{i} get 0 inner channels from width {w}",
         "raise the width or width_per_group so width x width_per_group >= 64")
        for i, w in ((1, 16), (2, 32))]


def test_transitions_and_the_activation_are_placed() -> None:
    spec = archcompiler.analyze("convnext_tiny").spec
    assert [(b.stage, b.index) for b in spec.blocks if b.role == "transition"] == [
        (1, -1), (2, -1), (3, -1)]
    assert spec.activation_span == _value(ZOO / "convnext_tiny.yaml", "activation")


def test_arc116_checks_the_out_channels_form() -> None:
    # timm's make_divisible(256 x 0.3, 8) = 80 and make_divisible(512 x 0.3, 8) = 152: the
    # outputs' 1:2 ratio breaks, in the out_channels form as in the widths form.
    spec = {"extends": "resnet50", "name": "r", "stages": {
        "depths": None, "widths": None, "strides": None,
        "per_stage": [{"depth": 1, "out_channels": 256, "stride": 1},
                      {"depth": 1, "out_channels": 512, "stride": 2}],
        "width_multiplier": 0.3, "width_divisor": 8}}
    (diag,) = _diags(spec, "ARC116")
    assert diag.message == ("width_multiplier 0.3 rounds layer1 to 80 and layer2 to 152 "
                            "(multiples of 8), which breaks the 256 -> 512 ratio of the widths "
                            "(rule ii)")


def test_block_file_op_defaults(tmp_path: Path) -> None:
    # docs/blocks.md: a layer scale starts at 1e-6 (timm's ls_init_value), a dropout's p is 0,
    # a pool's padding 0, unless written.
    write_spec(tmp_path, _lines(
        "ops:", "  - {name: c, op: conv, out: out, kernel: 3, stride: stride}",
        "  - {name: ls, op: layer_scale}", "  - {name: d, op: dropout}",
        "  - {name: p, op: max_pool, kernel: 1, stride: 1}", "  - {name: q, op: avg_pool}",
        "residual: never"), "x.yaml")
    path = write_spec(tmp_path, _lines("extends: resnet20", "name: t", "blocks: {x: x.yaml}",
                                       "stages: {block: {type: x}}"))
    nodes = [n for n in archcompiler.analyze(path).graph.nodes if n.block == "layer2.0"]
    assert [n.attrs for n in nodes][1:] == [LayerScale(32, 1e-6), Dropout(0.0), MaxPool(1, 1, 0),
                                            AvgPool(2, 2, 0)]


def test_wrn_identity_blocks_add_their_input() -> None:
    # timm's PreActBasic (and WRN): out = conv2(...) + x where the shape is kept.
    assert _dataflow("wrn28_10", "layer2.1")[-1] == ("add", ["conv2", BLOCK_IN], None)


def test_head_modules_are_named() -> None:
    # torchvision's resnet head (avgpool, fc; a Dropout before fc where asked), vgg19's
    # pool before the classifier, and MobileNetV2's 1x1 conv head with its BN (timm's
    # conv_head and bn2, which the key map reaches from bn_head).
    def head(spec: Any) -> list[tuple[str, str | None]]:
        g = archcompiler.analyze(spec).graph
        return [(n.name, n.module) for n in g.nodes if n.role == Role.HEAD]
    assert head("mobilenetv2_100") == [
        ("conv_head", "conv_head"), ("bn_head", "bn_head"), ("act_head", "relu6"),
        ("avgpool", "avgpool"), ("flatten", None), ("fc", "fc")]
    assert head("vgg19")[:2] == [("pool_head", "pool_head"), ("flatten", None)]
    assert head({"extends": "resnet18", "name": "d", "head": {"dropout": 0.2}}) == [
        ("avgpool", "avgpool"), ("flatten", None), ("dropout", "dropout"), ("fc", "fc")]


class _BadArity(Basic):
    config = _TwinBasicBlock  # type: ignore[assignment]

    def lower(self, cfg: BasicBlock, x: str, g: BlockBuilder) -> str:
        return g.op("add", Add(), (x,))


def test_an_op_with_the_wrong_inputs_is_a_plugin_error() -> None:
    register_block(_BadArity)
    try:
        with pytest.raises(SpecError) as exc:
            archcompiler.analyze({"extends": "resnet18", "name": "t",
                                  "stages": {"block": {"type": "twin_basic"}}})
        (d,) = exc.value.diagnostics
        assert d.code == "ARC170" and d.message.endswith(
            "failed to lower layer1.0: ValueError: layer1.0.add: add takes 2 inputs, got 1")
    finally:
        unregister_block("twin_basic")


def test_a_block_file_expansion_may_reach_the_channel_bound(tmp_path: Path) -> None:
    # The schema's bound on a channel count, 65,536, is inclusive: an expansion that reaches it
    # exactly is no ARC164 (the rules may still object to the design).
    write_spec(tmp_path, _lines("expansion: 65536", "ops:",
                                "  - {name: c, op: conv, out: out, kernel: 1, stride: stride}",
                                "residual: never"), "e.yaml")
    path = write_spec(tmp_path, _lines("extends: resnet20", "name: t", "blocks: {e: e.yaml}",
                                       "stages: {block: {type: e}, widths: [1, 1, 1]}"))
    assert not [d for d in archcompiler.validate(path) if d.code == "ARC164"]


def test_stem_modules_are_timms_and_torchvisions() -> None:
    # timm's resnet50d deep stem: conv1 = Sequential(conv, bn, act, conv, bn, act, conv), so
    # its modules are conv1.0 ... conv1.6, then bn1, act1 (our relu) and maxpool. The pool is
    # located at the stem's pool mapping.
    g = archcompiler.analyze("resnet50d").graph
    stem = [(n.name, n.module) for n in g.nodes if n.role == Role.STEM and n.module]
    assert stem == [(f"conv1.{i}", f"conv1.{i}") for i in range(7)] + [
        ("bn1", "bn1"), ("relu", "relu"), ("maxpool", "maxpool")]
    pool = archcompiler.analyze("resnet18").graph.by_name()["maxpool"]
    assert pool.span == _at(ZOO / "resnet18.yaml", "{kind: max")


def test_more_formula_terms_and_torchs_pool_padding() -> None:
    # nn.Conv2d(4, 8, 1, bias=True): 8·4·1·1 + 8; nn.Linear(4, 3): 4·3 + 3. torch's pools
    # allow padding up to half the kernel: a 2x2 pool with padding 1 is valid (8 -> 5).
    (f,) = [x for x in Conv2d(4, 8, 1, bias=True).formulas([(4, 2, 2)], (8, 2, 2))
            if x.quantity == "params"]
    assert f.expr.terms()[-1] == ("bias", 8) and f.result == 40
    lin = {x.quantity: x.expr.terms() for x in Linear(4, 3).formulas([(4,)], (3,))}
    assert lin == {"params": [("in features", 4), ("out features", 3), ("bias", 3)],
                   "macs": [("in features", 4), ("out features", 3)]}
    assert MaxPool(2, 2, 1).infer([(3, 8, 8)]) == (3, 5, 5)


def test_se_squeeze_rounds_half_up_as_timm() -> None:
    # timm's make_divisible(192 / 16, 8) = int(12 + 4) // 8 * 8 = 16 (12 is nearer 16 than 8
    # only by timm's round-half-up); 56 / 16 = 3.5 rounds to the floor of 8.
    assert squeezed_channels(192, 16, 8) == 16
    assert squeezed_channels(56, 16, 8) == 8
    assert Conv2d(4, 4, 3, groups=2).text() == "3x3 conv, 4, groups 2"


def test_resnet_d_projection_pools_as_timm() -> None:
    # timm's resnet50d downsample: AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False),
    # then the 1x1 conv; located at the shortcut option, as the add is.
    g = archcompiler.analyze("resnet50d").graph.by_name()
    pool = g["layer2.0.downsample.0"]
    assert pool.attrs == AvgPool(2, 2, 0, ceil_mode=True, count_include_pad=False)
    assert pool.span == g["layer2.0.add"].span == _value(ZOO / "resnet18.yaml", "shortcut")


def test_regnet_zero_init_last_is_timms() -> None:
    # timm's RegNet(zero_init_last=True) zeroes each block's conv3.bn (the file's `last: true`).
    g = archcompiler.analyze({"extends": "regnetx_002", "name": "z",
                              "zero_init_residual": True}).graph
    zeroed = {n.name for n in g.nodes if isinstance(n.attrs, BatchNorm) and n.attrs.zero_init}
    assert zeroed == {f"{b.name}.conv3.bn" for b in g.blocks}


class _NoModuleClass(BlockType[_TwinBasicBlock]):
    config = _TwinBasicBlock

    def lower(self, cfg: _TwinBasicBlock, x: str, g: BlockBuilder) -> str:
        return x


def test_register_block_wants_a_module_class() -> None:
    with pytest.raises(TypeError) as exc:
        register_block(_NoModuleClass)
    assert str(exc.value) == "_NoModuleClass.module_class must be a class name"


def test_regnet_y_se_activation_is_a_branch() -> None:
    # timm's RegNetY: the SE module (fc1, act, fc2, gate) is a side branch of the block.
    g = archcompiler.analyze("regnety_040").graph.by_name()
    assert [g[f"layer2.0.se.{k}"].role for k in ("fc1", "act", "fc2", "gate")] == [
        Role.BRANCH] * 4

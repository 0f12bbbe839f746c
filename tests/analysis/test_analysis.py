"""Static analysis against golden numbers from the paper, torchvision and DESIGN section 2."""

from __future__ import annotations

from pathlib import Path

import pytest

import archcompiler
from archcompiler.analysis.report import infer
from archcompiler.core.diagnostics import Severity
from archcompiler.ir.graph import Graph
from archcompiler.ir.ops import OPS, ShapeError
from tests.conftest import write_spec

# torchvision 0.29.1 at 224x224 (params; MACs = FlopCounterMode total / 2), v1.5 layout.
IMAGENET = {
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet34": (21_797_672, 3_663_761_408),
    "resnet50": (25_557_032, 4_089_184_256),
    "resnet101": (44_549_160, 7_801_405_440),
    "resnet152": (60_192_808, 11_513_626_624),
    "resnext50_32x4d": (25_028_904, 4_230_479_872),
    "resnext101_32x8d": (88_791_336, 16_414_015_488),
    "wide_resnet50_2": (68_883_240, 11_398_021_120),
    "wide_resnet101_2": (126_886_696, 22_753_050_624),
}
# The paper's v1 layout (stride on the first 1x1): same params, fewer MACs (Table 1: 3.8/7.6/11.3e9).
IMAGENET_V1 = {
    "resnet50_v1": (25_557_032, 3_857_973_248),
    "resnet101_v1": (44_549_160, 7_570_194_432),
    "resnet152_v1": (60_192_808, 11_282_415_616),
}
# CIFAR-10 (section 4.2): 6n+2 layers, option A.
CIFAR = {
    "resnet20": (269_722, 40_551_040),
    "resnet32": (464_154, 68_862_592),
    "resnet44": (658_586, 97_174_144),
    "resnet56": (853_018, 125_485_696),
    "resnet110": (1_727_962, 252_887_680),
    "resnet1202": (19_421_274, 2_829_238_912),
}
# Shortcut options on ImageNet (paper Table 3 setting), params.
OPTIONS = {
    ("resnet18", "A"): 11_515_688, ("resnet18", "B"): 11_689_512, ("resnet18", "C"): 12_043_816,
    ("resnet34", "A"): 21_623_848, ("resnet34", "B"): 21_797_672, ("resnet34", "C"): 22_716_840,
}


@pytest.mark.parametrize("name", sorted({**IMAGENET, **IMAGENET_V1, **CIFAR}))
def test_golden_params_and_macs(name: str) -> None:
    params, macs = {**IMAGENET, **IMAGENET_V1, **CIFAR}[name]
    report = archcompiler.analyze(name)
    assert report.ok, report.diagnostics
    assert (report.params, report.macs) == (params, macs)


@pytest.mark.parametrize(("base", "option"), sorted(OPTIONS))
def test_shortcut_options(tmp_path: Path, base: str, option: str) -> None:
    spec = write_spec(tmp_path, f"""
        spec_version: 1
        extends: {base}
        name: {base}_{option}
        stages: {{shortcut: {option}}}
    """)
    report = archcompiler.analyze(spec)
    assert report.ok
    assert report.params == OPTIONS[(base, option)]


def test_option_a_has_no_shortcut_parameters() -> None:
    report = archcompiler.analyze("resnet20")
    pads = [n for n in report.graph.nodes if n.op == "pad_channels"]
    assert [n.name for n in pads] == ["layer2.0.shortcut", "layer3.0.shortcut"]
    assert all(report.nodes[n.name].params == 0 for n in pads)


def test_plain_net_has_the_same_params_as_option_a(tmp_path: Path) -> None:
    # DESIGN section 2: "Plain nets have the same parameter counts" as option-A CIFAR nets.
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet56
        name: plain56
        stages: {shortcut: none}
    """)
    report = archcompiler.analyze(spec)
    assert report.params == CIFAR["resnet56"][0]
    assert not [n for n in report.graph.nodes if n.op == "add"]


def test_torchvision_node_names_and_shapes() -> None:
    report = archcompiler.analyze("resnet50")
    names = [n.name for n in report.graph.nodes]
    assert len(names) == len(set(names))
    for name, shape in [("conv1", (64, 112, 112)), ("maxpool", (64, 56, 56)),
                        ("layer1.0.downsample.0", (256, 56, 56)), ("layer2.0.conv2", (128, 28, 28)),
                        ("layer2.0.downsample.1", (512, 28, 28)), ("layer4.2.relu_out", (2048, 7, 7)),
                        ("avgpool", (2048, 1, 1)), ("fc", (1000,))]:
        assert report.shape(name) == shape, name
    assert report.graph.by_name()["layer2.0.relu1"].module == "layer2.0.relu"


def test_v1_puts_the_stride_on_the_first_1x1() -> None:
    v1 = archcompiler.analyze("resnet50_v1").graph.by_name()
    v15 = archcompiler.analyze("resnet50").graph.by_name()
    assert (v1["layer2.0.conv1"].attrs.stride, v1["layer2.0.conv2"].attrs.stride) == (2, 1)
    assert (v15["layer2.0.conv1"].attrs.stride, v15["layer2.0.conv2"].attrs.stride) == (1, 2)


@pytest.mark.parametrize(("name", "size", "out"), [
    ("resnet50", 160, (2048, 5, 5)), ("resnet18", 97, (512, 4, 4)), ("resnet20", 40, (64, 10, 10)),
])
def test_any_input_size(name: str, size: int, out: tuple[int, int, int]) -> None:
    report = archcompiler.analyze(name, (3, size, size))
    assert report.shape("avgpool")[0] == out[0]
    assert report.shape(f"layer{len(report.spec.stages)}.0.relu_out") == out


def test_every_node_remembers_its_spec_line() -> None:
    report = archcompiler.analyze("resnet101")
    assert all(n.span is not None for n in report.graph.nodes)
    # resnet101 inherits its blocks from resnet50.yaml; the block line is found there.
    assert report.graph.by_name()["layer3.22.conv2"].span.file.endswith("resnet50.yaml")


def test_map_collapse_is_an_error_naming_node_and_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: tiny
        stem:
          conv: {padding: 0}
    """)
    report = archcompiler.analyze(spec, (3, 5, 5))
    errors = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    assert [d.code for d in errors] == ["ARC201"]
    assert errors[0].node == "conv1"
    assert errors[0].span is not None and errors[0].span.line == 5  # `conv:` in this file
    assert report.output_shape is None


def test_groups_must_divide_channels() -> None:
    conv = OPS.get("conv2d")(in_channels=64, out_channels=64, kernel=3, stride=1, padding=1,
                             groups=3, bias=False)
    with pytest.raises(ShapeError) as info:
        conv.infer([(64, 8, 8)])
    assert info.value.code == "ARC203"


def test_add_mismatch_is_a_shape_error_at_the_block(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: mismatched
        stages: {shortcut: identity}
        rules: {shortcut_shapes: off}
    """)
    report = archcompiler.analyze(spec)
    assert [d.code for d in report.diagnostics] == ["ARC207"]
    assert report.diagnostics[0].node == "layer2.0.add"


def test_op_registry_defines_every_op_once() -> None:
    used = {n.op for name in ("resnet50", "resnet20") for n in archcompiler.analyze(name).graph.nodes}
    assert used <= set(OPS.names())
    with pytest.raises(ValueError, match="already registered"):
        OPS.register("conv2d", OPS.get("conv2d"))


def test_infer_is_a_pure_function_of_the_graph() -> None:
    graph: Graph = archcompiler.analyze("resnet18").graph
    first, _ = infer(graph)
    # Inferring another graph in between changes nothing (no state kept across calls)...
    other, _ = infer(archcompiler.analyze("resnet20").graph)
    second, _ = infer(graph)
    assert first == second
    assert first != other
    # ...and the result is torchvision's resnet18, not merely the same thing twice.
    params, macs = IMAGENET["resnet18"]
    assert sum(i.params for i in second.values()) == params
    assert sum(i.macs for i in second.values()) == macs
    assert second[graph.blocks[-1].output].shape == (512, 7, 7)
    assert second[graph.output].shape == (1000,)


def test_explicit_per_stage_form_matches_the_compact_form(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        name: resnet18_explicit
        stem:
          conv: {out_channels: 64, kernel: 7, stride: 2}
          pool: {kind: max}
        stages:
          block: {type: basic}
          per_stage:
            - {depth: 2, width: 64}
            - {depth: 2, out_channels: 128, stride: 2}
            - {depth: 2, width: 256, stride: 2}
            - {depth: 2, width: 512, stride: 2}
    """)
    report = archcompiler.analyze(spec)
    assert (report.params, report.macs) == IMAGENET["resnet18"]
    assert [s.stride for s in report.spec.stages] == [1, 2, 2, 2]
    assert report.spec.stages[1].width_span.line == 10


@pytest.mark.parametrize(("body", "code", "line"), [
    ("depths: [2, 2]\n  widths: [64, 128, 256]", "ARC110", 6),
    ("depths: [2, 2]\n  widths: [64, 128]\n  strides: [1]", "ARC110", 7),
    ("depths: [2, 2]", "ARC112", 4),
    ("depths: [2]\n  widths: [64]\n  per_stage: [{depth: 1, width: 8}]", "ARC111", 4),
    ("per_stage: [{depth: 1, width: 8, out_channels: 8}]", "ARC112", 5),
    ("per_stage: [{depth: 1}]", "ARC112", 5),
])
def test_inconsistent_stage_settings(tmp_path: Path, body: str, code: str, line: int) -> None:
    spec = write_spec(tmp_path, "spec_version: 1\nname: x\nstages:\n  block: {type: basic}\n  "
                      + body + "\n")
    with pytest.raises(archcompiler.SpecError) as info:
        archcompiler.load_spec(spec)
    diag = info.value.diagnostics[0]
    assert (diag.code, diag.span.line if diag.span else None) == (code, line)


def test_out_channels_must_be_a_multiple_of_the_expansion(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        name: x
        stages:
          block: {type: bottleneck}
          per_stage: [{depth: 1, out_channels: 130}]
    """)
    with pytest.raises(archcompiler.SpecError) as info:
        archcompiler.load_spec(spec)
    assert info.value.diagnostics[0].code == "ARC113"


def test_a_bottleneck_with_no_inner_channels_is_refused(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        name: starved
        stages:
          block: {type: bottleneck, groups: 32, width_per_group: 1}
          depths: [1, 1]
          widths: [16, 32]
    """)
    with pytest.raises(archcompiler.SpecError) as info:
        archcompiler.load_spec(spec)
    assert [(d.code, d.span.line) for d in info.value.diagnostics] == [("ARC114", 4), ("ARC114", 4)]


def test_the_total_number_of_blocks_is_bounded(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet20
        name: huge
        stages: {depths: [10000, 10000, 10000]}
    """)
    with pytest.raises(archcompiler.SpecError) as info:
        archcompiler.load_spec(spec)
    assert info.value.diagnostics[0].code == "ARC115"


def test_input_override_is_checked_like_the_schema() -> None:
    with pytest.raises(ValueError, match="height must be at most 16384"):
        archcompiler.analyze("resnet18", (3, 99999, 224))
    with pytest.raises(ValueError, match="channels, height, width"):
        archcompiler.analyze("resnet18", (1, 3, 224, 224))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"a size, \(H, W\) or \(C, H, W\)"):
        archcompiler.analyze("resnet18", "3x224x224")  # type: ignore[arg-type]
    # A square size and HxW keep the spec's channels.
    assert archcompiler.analyze("resnet18", 160).input_shape == (3, 160, 160)
    assert archcompiler.analyze("resnet18", (128, 96)).input_shape == (3, 128, 96)


def test_block_depth_summary_lists_every_block_of_a_deep_net() -> None:
    # How long this takes is checked by benchmarks/bench_limits.py, not here.
    from archcompiler.report.summary import format_text

    text = format_text(archcompiler.analyze("resnet1202"), "block")
    assert sum(line.startswith("layer") for line in text.splitlines()) == 600
    assert "total params  19,421,274" in text

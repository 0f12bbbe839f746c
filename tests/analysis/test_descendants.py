"""ResNet's descendants (issue 18): ConvNeXt, RegNet, MobileNetV2 and SE-ResNet-34 from specs,
each pinned to counts from outside, and RegNet's width rule against pycls's reference values."""

from __future__ import annotations

from pathlib import Path

import pytest

import archcompiler
from archcompiler import SpecError
from archcompiler.language.regnet import (
    RegNetParams,
    adjust_block_compatibility,
    generate_regnet,
    regnet_stages,
)
from archcompiler.language.zoo import builtin_names
from archcompiler.report.summary import format_json, format_text
from tests.conftest import write_spec

# Params and MACs (conv + linear, no bias adds; batch 1, 3x224x224, 1000 classes) from timm
# 1.0.31, agreeing with torchvision and pycls where they have the model (issue 18's table).
GOLDEN = {
    "convnext_tiny": (28_589_128, 4_455_531_264),
    "convnext_small": (50_223_688, 8_683_712_256),
    "convnext_base": (88_591_464, 15_354_729_472),
    "regnetx_002": (2_684_792, 199_039_872),
    "regnetx_040": (22_118_248, 3_964_498_816),
    "regnety_040": (20_646_656, 3_973_288_448),
    "mobilenetv2_100": (3_504_872, 300_774_272),
    "se_resnet34": (21_960_416, 3_663_920_128),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_counts(name: str) -> None:
    report = archcompiler.analyze(name)
    assert (report.params, report.macs) == GOLDEN[name]
    assert report.ok, report.diagnostics


def test_block_files_are_not_zoo_names() -> None:
    names = builtin_names()
    assert set(GOLDEN) <= set(names)
    assert not {"convnext", "regnet_x", "se_basic", "inverted_residual"} & set(names)
    assert not any(n.startswith("step") or "roadmap" in n for n in names)


# pycls's reference stages for the zoo's three (issue 18); test_timm_descendants.py checks
# the rule against timm's own implementation over many more.
REGNET = [
    ((13, 24, 36.44, 2.49, 8), [24, 56, 152, 368], [1, 1, 4, 7]),  # RegNetX-200MF
    ((23, 96, 38.65, 2.43, 40), [80, 240, 560, 1360], [2, 5, 14, 2]),  # RegNetX-4.0GF
    ((22, 96, 31.41, 2.24, 64), [128, 192, 512, 1088], [2, 6, 12, 2]),  # RegNetY-4.0GF
]


@pytest.mark.parametrize(("args", "widths", "depths"), REGNET, ids=[str(r[0]) for r in REGNET])
def test_regnet_rule_matches_pycls(args: tuple[int, int, float, float, int], widths: list[int],
                                   depths: list[int]) -> None:
    stages = regnet_stages(RegNetParams(*args))
    assert (list(stages.widths), list(stages.depths)) == (widths, depths)


def test_regnet_steps_quantize_then_adjust() -> None:
    # X-4.0GF quantizes to [96, 232, 568, 1376]; group width 40 then rounds each to 40k.
    assert generate_regnet(38.65, 96, 2.43, 23) == ([96, 232, 568, 1376], [2, 5, 14, 2])
    assert adjust_block_compatibility([96, 232, 568, 1376], [1.0] * 4, [40] * 4) == \
        ([80, 240, 560, 1360], [40, 40, 40, 40])
    # The group width is clipped to a narrower stage first (pycls: g = min(g, w x b)).
    assert adjust_block_compatibility([24, 56], [1.0, 1.0], [32, 32]) == ([24, 64], [24, 32])
    with pytest.raises(ValueError, match="multiple of 8"):
        regnet_stages(RegNetParams(13, 20, 36.44, 2.49, 8))


def test_the_regnet_rule_is_never_silent() -> None:
    report = archcompiler.analyze("regnetx_040")
    text = format_text(report)
    assert ("note: the regnet rule generated widths [80, 240, 560, 1360], depths "
            "[2, 5, 14, 2] (quantized [96, 232, 568, 1376], adjusted to the group widths), "
            "group widths [40, 40, 40, 40] (regnetx_040.yaml:8)") in text
    assert '"notes"' in format_json(report)
    by = report.graph.by_name()
    assert by["layer1.0.conv2.conv"].attrs.groups == 80 // 40  # type: ignore[union-attr]
    assert [s.width for s in report.graph.stages] == [80, 240, 560, 1360]
    assert [s.stride for s in report.graph.stages] == [2, 2, 2, 2]


def test_regnet_rule_errors_are_located(tmp_path: Path) -> None:
    bad = write_spec(tmp_path, "extends: regnetx_002\nname: r\n"
                               "stages: {widths: {w0: 20}}\n")
    with pytest.raises(SpecError) as exc:
        archcompiler.analyze(bad)
    d = exc.value.diagnostics[0]
    assert d.code == "ARC104" and "multiple of 8" in d.message and d.span is not None
    both = write_spec(tmp_path, "extends: regnetx_002\nname: r\nstages: {depths: [1, 2]}\n",
                      name="both.yaml")
    with pytest.raises(SpecError) as exc:
        archcompiler.analyze(both)
    assert exc.value.diagnostics[0].code == "ARC111"
    strides = write_spec(tmp_path, "extends: regnetx_002\nname: r\nstages: {strides: [2, 2]}\n",
                         name="strides.yaml")
    with pytest.raises(SpecError) as exc:
        archcompiler.analyze(strides)
    assert exc.value.diagnostics[0].code == "ARC110"
    assert "makes 4 stages" in exc.value.diagnostics[0].message


def test_regnet_y_squeezes_from_the_block_input() -> None:
    report = archcompiler.analyze("regnety_040")
    # layer2.0 reads 128 channels (layer1's width) and is 192 wide: SE 128 / 4 = 32, not 48.
    assert report.shape("layer2.0.se.fc1") == (32, 1, 1)
    assert report.shape("layer2.1.se.fc1") == (48, 1, 1)


def test_mobilenetv2_structure() -> None:
    report = archcompiler.analyze("mobilenetv2_100")
    by = report.graph.by_name()
    first = [n.rpartition(".")[2] for n in report.graph.blocks[0].nodes]
    assert "conv_pw" in first and "act1" in first and len(
        [n for n in report.graph.blocks[0].nodes if by[n].op == "conv2d"]) == 2
    acts = {getattr(by[n].attrs, "kind", None) for n in by if by[n].op == "activation"}
    assert acts == {"relu6"}
    assert report.shape(report.graph.blocks[-1].output) == (320, 7, 7)
    assert sum(1 for b in report.graph.blocks if by[b.output].op == "add") == 10
    assert all(d.severity != "error" for d in report.diagnostics)


def test_se_resnet34_squeeze_widths() -> None:
    report = archcompiler.analyze("se_resnet34")
    assert [report.shape(f"{s}.0.se.fc1") for s in ("layer1", "layer2", "layer3", "layer4")] \
        == [(8, 1, 1), (8, 1, 1), (16, 1, 1), (32, 1, 1)]


def _timm_names(key: str) -> str:
    """Our key -> timm's, written out by hand (the inverse of keymaps' layouts) for the test."""
    import re

    for ours, theirs in (("conv1.", "stem.0."), ("bn1.", "stem.1."), ("head_norm.", "head.norm."),
                         ("fc.", "head.fc.")):
        if key.startswith(ours):
            return theirs + key[len(ours):]
    return re.sub(r"\.gamma\.gamma$", ".gamma", key)


def test_timm_convnext_layout_maps_to_the_spec(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from archcompiler.backends.pytorch.keymaps import adapt_state_dict

    own = archcompiler.build_module("convnext_tiny").state_dict()
    timm_like = {_timm_names(k): (v.flatten(1) if ".mlp.fc" in k and v.dim() == 4 else v)
                 for k, v in own.items()}
    assert "stem.0.weight" in timm_like and "stages.0.blocks.0.gamma" in timm_like
    assert timm_like["stages.0.blocks.0.mlp.fc1.weight"].shape == (384, 96)
    mapped = adapt_state_dict(own, timm_like)
    assert mapped.keys() == own.keys()
    assert all(torch.equal(mapped[k], own[k]) for k in own)
    # Through the loader: a file in timm's layout builds the same module.
    path = tmp_path / "w.pth"
    torch.save(timm_like, path)
    built = archcompiler.build_module("convnext_tiny", weights=path)
    assert torch.equal(built.state_dict()["stages.2.blocks.8.gamma.gamma"],
                       own["stages.2.blocks.8.gamma.gamma"])
    # One key too many: no layout matches exactly, nothing is renamed, and the strict loader
    # names the keys (ARC502) instead of loading a partial mapping.
    timm_like["extra.weight"] = torch.zeros(1)
    assert adapt_state_dict(own, timm_like) is timm_like
    torch.save(timm_like, path)
    with pytest.raises(SpecError) as exc:
        archcompiler.build_module("convnext_tiny", weights=path)
    assert {d.code for d in exc.value.diagnostics} == {"ARC502"}


def test_families_read_from_the_graph() -> None:
    from archcompiler.report.summary import family

    got = {n: family(archcompiler.analyze(n)) for n in
           ("convnext_tiny", "mobilenetv2_100", "regnetx_002", "regnety_040", "se_resnet34")}
    assert got == {"convnext_tiny": "depthwise ResNet", "mobilenetv2_100": "depthwise ResNet",
                   "regnetx_002": "ResNeXt", "regnety_040": "SE ResNeXt",
                   "se_resnet34": "SE ResNet"}

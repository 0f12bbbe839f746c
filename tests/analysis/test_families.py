"""The families beyond the paper: counts pinned from outside, and each option doing what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

import archcompiler
from archcompiler import SpecError
from archcompiler.analysis.table import macs_per_layer
from archcompiler.language.zoo import builtin_names
from tests.conftest import write_spec

# MACs are conv + linear multiply-accumulates, batch 1; CIFAR at 3x32x32 with 10 classes,
# ImageNet at 3x224x224 with 1000.
GOLDEN = {
    "preact_resnet164": (1_703_258, 247_646_720),  # He et al. 2016's CIFAR net, BN counted
    "preact_resnet1001": (10_327_706, 1_490_995_712),  # the paper's CIFAR net
    "preact_resnet50": (25_549_352, 4_089_184_256),  # timm resnetv2_50
    "se_resnet50": (28_088_024, 4_091_699_200),  # timm seresnet50 (SE convs have biases)
    "resnet50d": (25_576_264, 4_328_824_832),  # timm resnet50d
    "resnet50c": (25_576_264, 4_328_824_832),  # timm resnet50c (timm 1.0.31)
    "se_resnext50_32x4d": (27_559_896, 4_232_994_816),  # timm seresnext50_32x4d (timm 1.0.31)
    # torchvision's resnet18/34 (tests/analysis/test_analysis.py) less their three projections: 173,824
    # params and 3 x 6,422,528 MACs. So plain nets equal their option-A twins, not the option-B
    # resnets.
    "plain18": (11_689_512 - 173_824, 1_814_073_344 - 19_267_584),
    "plain34": (21_797_672 - 173_824, 3_663_761_408 - 19_267_584),
    # The CIFAR option-A resnet20/110 (He et al. 2015, Table 6: 0.27M and 1.7M params).
    "plain20": (269_722, 40_551_040),
    "plain110": (1_727_962, 252_887_680),
    "wrn28_10": (36_479_194, 5_243_328_768),  # WRN-28-10, pre-activation, 1x1 conv shortcuts
    "resnext101_64x4d": (83_455_272, 15_460_270_080),  # torchvision
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_counts(name: str) -> None:
    report = archcompiler.analyze(name)
    assert (report.params, report.macs) == GOLDEN[name]
    assert report.ok and not report.diagnostics, report.diagnostics


PLAIN = {"plain18": "resnet18", "plain34": "resnet34", "plain20": "resnet20",
         "plain32": "resnet32", "plain44": "resnet44", "plain56": "resnet56",
         "plain110": "resnet110"}


@pytest.mark.parametrize("plain", sorted(PLAIN))
def test_plain_nets_equal_their_option_a_twins(plain: str, tmp_path: Path) -> None:
    twin = write_spec(tmp_path, f"extends: {PLAIN[plain]}\nname: {PLAIN[plain]}\n"
                                "stages: {shortcut: A}\n")
    a, p = archcompiler.analyze(twin), archcompiler.analyze(plain)
    assert (p.params, p.macs) == (a.params, a.macs)
    assert {b.shortcut for b in p.graph.blocks} == {"none"} and p.ok


def test_every_new_zoo_spec_is_clean() -> None:
    new = ["plain18", "plain34", "plain20", "plain32", "plain44", "plain56", "plain110",
           "preact_resnet18", "preact_resnet34", "preact_resnet50", "preact_resnet164",
           "preact_resnet1001", "se_resnet50", "se_resnext50_32x4d", "resnet50c", "resnet50d",
           "wrn28_10", "resnext101_64x4d"]
    assert set(new) <= set(builtin_names())
    for name in new:
        assert not archcompiler.analyze(name).diagnostics, name


def test_preact_unit_order_and_shortcut() -> None:
    report = archcompiler.analyze("preact_resnet50")
    by = report.graph.by_name()
    b = report.graph.blocks[3]  # layer2.0: a projection
    ops = [(n.split(".", 2)[-1], str(by[n].op)) for n in b.nodes if by[n].role == "main"]
    assert ops[:3] == [("bn1", "batch_norm"), ("relu1", "activation"), ("conv1", "conv2d")]
    assert by[b.output].op == "add"  # no activation after the add
    # The projection reads the pre-activated input, and has no BN.
    assert by["layer2.0.downsample.0"].inputs == ("layer2.0.relu1",)
    assert "layer2.0.downsample.1" not in by
    # The stem conv goes straight into the pool; a final BN and ReLU come before it.
    assert by["maxpool"].inputs == ("conv1",)
    assert by["avgpool"].inputs == ("norm_relu",) and by["norm_relu"].inputs == ("norm",)


def test_se_convs_do_not_distort_the_per_layer_cost() -> None:
    assert macs_per_layer(archcompiler.analyze("se_resnet50")) == \
        macs_per_layer(archcompiler.analyze("resnet50"))
    report = archcompiler.analyze("se_resnet50")
    assert report.shape("layer1.0.se.fc1") == (16, 1, 1)
    assert report.shape("layer4.2.se.fc1") == (128, 1, 1)
    assert report.shape("layer3.0.se.scale") == (1024, 14, 14)


def test_se_divisor_rounds_the_squeezed_width(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "extends: se_resnet50\nname: se_r3\n"
                                "stages: {block: {se_reduction: 3, se_divisor: 8}}\n")
    report = archcompiler.analyze(spec)
    assert report.shape("layer1.0.se.fc1") == (88, 1, 1)  # 256 / 3 = 85.3 -> 88


def test_resnet_d_projection_pools_then_convolves() -> None:
    by = archcompiler.analyze("resnet50d").graph.by_name()
    pool, conv = by["layer2.0.downsample.0"].attrs, by["layer2.0.downsample.1"].attrs
    assert (str(pool.OP), pool.kernel, pool.stride, pool.ceil_mode) == ("avg_pool", 2, 2, True)
    assert (conv.kernel, conv.stride) == (1, 1)


def test_deep_stem_is_three_3x3_convs() -> None:
    nodes = archcompiler.analyze("resnet50c").graph.nodes
    convs = [n.attrs for n in nodes if n.role == "stem" and n.op == "conv2d"]
    assert [(c.in_channels, c.out_channels, c.kernel, c.stride) for c in convs] == [
        (3, 32, 3, 2), (32, 32, 3, 1), (32, 64, 3, 1)]


def test_drop_path_changes_no_count_and_ramps_linearly(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "extends: resnet50\nname: resnet50_dp\n"
                                "stages: {drop_path: 0.2}\n")
    report = archcompiler.analyze(spec)
    base = archcompiler.analyze("resnet50")
    assert (report.params, report.macs) == (base.params, base.macs)
    rates = [n.attrs.p for n in report.graph.nodes if n.op == "drop_path"]
    assert len(rates) == 15 and rates[0] == pytest.approx(0.2 / 15) and rates[-1] == 0.2
    # layer1.0 gets rate 0, so no drop-path op at all
    assert "layer1.0.drop_path" not in report.graph.by_name()


def test_drop_path_is_a_no_op_in_eval(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    spec = write_spec(tmp_path, "extends: resnet20\nname: resnet20_dp\n"
                                "stages: {drop_path: 0.5, drop_path_schedule: constant}\n")
    with_dp = archcompiler.build_module(spec, seed=0)
    without = archcompiler.build_module("resnet20", seed=0)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(with_dp.eval()(x), without.eval()(x))
        torch.manual_seed(0)
        assert not torch.equal(with_dp.train()(x), without.train()(x))


def test_conv_bias_adds_one_per_conv_filter(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "extends: resnet18\nname: resnet18_bias\nconv_bias: true\n")
    report = archcompiler.analyze(spec)
    filters = sum(n.attrs.out_channels for n in report.graph.nodes if n.op == "conv2d")
    assert report.params == 11_689_512 + filters


def test_multipliers_keep_the_rules(tmp_path: Path) -> None:
    half = write_spec(tmp_path, "extends: resnet50\nname: r50_half\n"
                                "stages: {width_multiplier: 0.5, depth_multiplier: 2.0}\n",
                      "half.yaml")
    spec = archcompiler.load_spec(half)
    assert [s.width for s in spec.stages] == [32, 64, 128, 256]
    assert [s.depth for s in spec.stages] == [6, 8, 12, 6]
    bad = write_spec(tmp_path, "extends: resnet50\nname: r50_odd\n"
                               "stages: {width_multiplier: 0.3}\n", "odd.yaml")
    with pytest.raises(SpecError) as info:
        archcompiler.load_spec(bad)
    (diag,) = info.value.diagnostics
    assert diag.code == "ARC116" and diag.span is not None and diag.span.line == 3
    assert "rule ii" in diag.message and diag.hint and "0.25" in diag.hint


def test_the_diagram_shows_each_family(tmp_path: Path) -> None:
    assert "pre-act BN → ReLU" in archcompiler.to_dot("preact_resnet50")
    se = archcompiler.to_dot("se_resnet50")
    assert "se: 1x1 conv, 16 → ReLU → 1x1 conv, 256 → sigmoid ×" in se
    assert '"layer1.0.se.scale"' in archcompiler.to_dot("se_resnet50", detail="layer")
    d = archcompiler.to_dot("resnet50d")
    assert "3x3 conv, 32, /2<BR/>3x3 conv, 32<BR/>3x3 conv, 64" in d  # the deep stem
    assert "2x2 avg pool, /2" in d  # the avg-pool shortcut


def test_every_count_in_the_families_page_is_pinned() -> None:
    import re

    page = (Path(__file__).resolve().parents[2] / "docs" / "families.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    counts = {int(n.replace(",", "")) for row in rows for n in re.findall(r"\d{1,3}(?:,\d{3})+", row)}
    from tests.analysis.test_descendants import GOLDEN as DESCENDANTS  # the descendants' counts (issue 18)

    pinned = {n for table in (GOLDEN, DESCENDANTS) for pair in table.values() for n in pair}
    assert counts, "no counts found in docs/families.md"
    assert counts <= pinned, f"docs/families.md quotes counts no test pins: {sorted(counts - pinned)}"


# timm 1.0.31: ResNet(BasicBlock, layers, drop_path_rate=0.2), each block's DropPath.drop_prob
# (0 where it has none).
TIMM_DROP_PATH = {(1, 1, 1, 1): [0.0, 0.066667, 0.133333, 0.2],
                  (2, 1, 1, 1): [0.0, 0.05, 0.1, 0.15, 0.2]}


def _block_rates(spec: dict[str, object]) -> list[float]:
    report = archcompiler.analyze(spec)
    rates = {n.block: n.attrs.p for n in report.graph.nodes if n.op == "drop_path"}
    return [rates.get(b.name, 0.0) for b in report.graph.blocks]


@pytest.mark.parametrize("depths", sorted(TIMM_DROP_PATH))
def test_drop_path_rates_are_timms(depths: tuple[int, ...]) -> None:
    got = _block_rates({"extends": "resnet18", "name": "dp",
                        "stages": {"depths": list(depths), "drop_path": 0.2}})
    assert got == pytest.approx(TIMM_DROP_PATH[depths], abs=1e-6), \
        f"timm's ResNet(drop_path_rate=0.2) gives {TIMM_DROP_PATH[depths]}; archcompiler {got}"


def test_drop_path_at_one_and_two_blocks_and_constant() -> None:
    one = {"extends": "resnet18", "name": "dp1", "rules": {"name_matches_depth": "off"},
           "stages": {"depths": [1], "widths": [64], "strides": [1], "drop_path": 0.2}}
    assert _block_rates(one) == [0.0]  # nothing to ramp over (timm would divide by zero)
    two = {**one, "stages": {**one["stages"], "depths": [2]}}  # type: ignore[dict-item]
    assert _block_rates(two) == pytest.approx([0.0, 0.2])  # the linear ramp's two ends
    flat = {"extends": "resnet18", "name": "dp2",
            "stages": {"drop_path": 0.2, "drop_path_schedule": "constant"}}
    assert _block_rates(flat) == pytest.approx([0.2] * 8)  # the rate throughout, as documented


def _keeps(widths: list[int], x: float, divisor: int) -> bool:
    """Whether widths x `x`, each rounded half up to a multiple of `divisor`, keep every ratio."""
    scaled = [max(divisor, int(w * x / divisor + 0.5) * divisor) for w in widths]
    return all(s * widths[0] == w * scaled[0] for w, s in zip(widths, scaled))


def _nearest_exact_multiplier(widths: list[int], m: float, divisor: int) -> float:
    """By brute force over k/3000: the multiplier nearest m that scales every width to an exact
    multiple of `divisor` (no rounding at all), an independent check of ARC116's hint."""
    from fractions import Fraction

    exact = [Fraction(k, 3000) for k in range(1, 12000)
             if all((w * Fraction(k, 3000)) % divisor == 0 for w in widths)]
    return float(min(exact, key=lambda x: (abs(x - Fraction(m)), x)))


@pytest.mark.parametrize(("widths", "m"), [([20, 40, 80], 0.5), ([64, 128, 256, 512], 0.1),
                                           ([24, 48, 96], 0.55)])
def test_arc116_suggests_the_nearest_exact_multiplier(widths: list[int], m: float) -> None:
    spec = {"extends": "resnet18", "name": "scaled", "stages": {
        "depths": [1] * len(widths), "widths": widths, "strides": [1] + [2] * (len(widths) - 1),
        "width_multiplier": m, "width_divisor": 8}}
    (diag,) = [d for d in archcompiler.validate(spec) if d.code == "ARC116"]
    want = _nearest_exact_multiplier(widths, m, 8)
    assert _keeps(widths, want, 8)
    assert diag.hint and f"use width_multiplier {want:g}," in diag.hint, (want, diag.hint)


def test_arc116_names_the_stages_and_widths_it_breaks() -> None:
    # 20 x 0.5 = 10 rounds to 8 and 40 x 0.5 = 20 rounds half up to 24 (multiples of 8): the
    # doubling 20 -> 40 becomes 8 -> 24.
    spec = {"extends": "resnet18", "name": "scaled", "stages": {
        "depths": [1, 1, 1], "widths": [20, 40, 80], "strides": [1, 2, 2],
        "width_multiplier": 0.5, "width_divisor": 8}}
    (diag,) = [d for d in archcompiler.validate(spec) if d.code == "ARC116"]
    assert diag.message == ("width_multiplier 0.5 rounds layer1 to 8 and layer2 to 24 (multiples "
                            "of 8), which breaks the 20 -> 40 ratio of the widths (rule ii)")

"""timm's weights for ResNet's descendants (issue 18) load through `build_module(weights=)`,
with the shipped key mapping (backends/pytorch/keymaps.py), and the outputs agree with timm's.
Runs where timm is installed (the comparison venv, .venv-ref); skipped elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

import archcompiler  # noqa: E402
from archcompiler.backends.pytorch.keymaps import adapt_state_dict  # noqa: E402
from archcompiler.language.regnet import RegNetParams, regnet_stages  # noqa: E402

pytestmark = pytest.mark.torchvision

# ours -> timm's name, for every model of the issue.
MODELS = {"convnext_tiny": "convnext_tiny", "convnext_small": "convnext_small",
          "convnext_base": "convnext_base", "regnetx_002": "regnetx_002",
          "regnetx_040": "regnetx_040", "regnety_040": "regnety_040",
          "mobilenetv2_100": "mobilenetv2_100", "se_resnet34": "seresnet34"}


def _randomised(name: str) -> torch.nn.Module:
    """timm's model with random norm statistics and affines, and layer scales of order 1, so
    that every parameter and buffer moves the output."""
    torch.manual_seed(0)
    ref = timm.create_model(name, pretrained=False).eval()
    with torch.no_grad():
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
        for key, p in ref.named_parameters():
            if key.endswith("gamma"):
                p.uniform_(0.1, 0.5)
    return ref


@pytest.mark.parametrize("ours", sorted(MODELS))
def test_timm_state_dict_loads(ours: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    state = timm.create_model(MODELS[ours], pretrained=False).state_dict()
    path = tmp_path / "w.pth"
    torch.save(state, path)
    mine = archcompiler.build_module(ours, weights=path)  # strict: every key, every shape
    own = mine.state_dict()
    assert len(own) == len(state)
    assert sum(p.numel() for p in mine.parameters()) == \
        sum(p.numel() for p in timm.create_model(MODELS[ours]).parameters())


# (ours, timm's, bitwise): bitwise where the ops are the same; ConvNeXt's pointwise convs are
# nn.Linear on NHWC in timm and 1x1 convs here, the same sums rounded by other kernels.
OUTPUTS = [("convnext_tiny", "convnext_tiny", False), ("regnety_040", "regnety_040", True),
           ("mobilenetv2_100", "mobilenetv2_100", True)]


@pytest.mark.parametrize(("ours", "theirs", "bitwise"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_outputs_agree_with_timm(ours: str, theirs: str, bitwise: bool, tmp_path: Path) -> None:
    ref = _randomised(theirs)
    path = tmp_path / "w.pth"
    torch.save(ref.state_dict(), path)
    mine = archcompiler.build_module(ours, weights=path).eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        got, want = mine(x), ref(x)
    diff = (got - want).abs().max().item()
    scale = want.abs().max().item()
    print(f"{ours} vs timm {theirs}: max abs diff {diff:.3g} (max |logit| {scale:.3g})")
    assert scale > 1.0  # the randomised statistics reach the logits
    if bitwise:
        assert diff == 0.0
    else:
        assert diff <= 1e-5 * scale, diff


def test_the_mapping_is_needed_and_exact() -> None:
    state = timm.create_model("regnetx_002").state_dict()
    own = archcompiler.build_module("regnetx_002").state_dict()
    assert not state.keys() & {"conv1.weight", "fc.weight"}  # timm's names differ ...
    mapped = adapt_state_dict(own, dict(state))
    assert mapped.keys() == own.keys()  # ... and map one to one
    assert mapped["layer1.0.downsample.0.weight"] is state["s1.b1.downsample.conv.weight"]


# timm's own RegNet configs, through timm's own generator, against the regnet rule.
REGNETS = ["regnetx_002", "regnetx_004", "regnetx_006", "regnetx_008", "regnetx_016",
           "regnetx_032", "regnetx_040", "regnetx_064", "regnetx_080", "regnetx_120",
           "regnetx_160", "regnetx_320", "regnety_002", "regnety_004", "regnety_006",
           "regnety_008", "regnety_016", "regnety_032", "regnety_040", "regnety_064",
           "regnety_080", "regnety_120", "regnety_160", "regnety_320"]


@pytest.mark.parametrize("name", REGNETS)
def test_regnet_rule_matches_timm(name: str) -> None:
    from timm.models import regnet as tr

    cfg = tr.model_cfgs[name]
    assert not cfg.group_min_ratio  # torchvision's other rounding, which the rule does not do
    stages, _ = tr.RegNet._get_stage_args(None, cfg)  # uses no state of the model
    made = regnet_stages(RegNetParams(cfg.depth, cfg.w0, cfg.wa, cfg.wm, cfg.group_size,
                                      cfg.bottle_ratio))
    assert list(made.widths) == [s["out_chs"] for s in stages]
    assert list(made.depths) == [s["depth"] for s in stages]
    assert list(made.group_widths) == [s["group_size"] for s in stages]

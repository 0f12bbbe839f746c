"""timm's weights load into the families' modules (after the key mapping of docs/families.md),
and the outputs agree. Runs where timm is installed (the torchvision venv); skipped elsewhere."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

import archcompiler  # noqa: E402
from archcompiler.backends.pytorch.keymaps import adapt_state_dict  # noqa: E402

pytestmark = pytest.mark.torchvision


def resnetv2_keys(own: dict[str, torch.Tensor], state: dict[str, torch.Tensor]
                  ) -> dict[str, torch.Tensor]:
    """timm resnetv2 names -> archcompiler's, by the layout the package ships (keymaps.py, the
    mapping documented in docs/families.md), which `build_module(weights=)` applies too."""
    mapped = adapt_state_dict(own, state)
    assert mapped is not state, "the shipped resnetv2 layout did not match timm's keys"
    return mapped


CASES = [("resnet50d", "resnet50d", None), ("se_resnet50", "seresnet50", None),
         ("preact_resnet50", "resnetv2_50", resnetv2_keys)]


@pytest.mark.parametrize(("ours", "theirs", "mapping"), CASES, ids=[c[0] for c in CASES])
def test_timm_weights_load_and_outputs_agree(ours: str, theirs: str, mapping: object) -> None:
    torch.manual_seed(0)
    ref = timm.create_model(theirs, pretrained=False).eval()
    # Random BN statistics, so the comparison exercises every parameter and buffer.
    with torch.no_grad():
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    state = ref.state_dict()
    mine = archcompiler.build_module(ours).eval()
    if callable(mapping):
        state = mapping(mine.state_dict(), state)
    mine.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 160, 160, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        got, want = mine(x), ref(x)
    diff = (got - want).abs().max().item()
    scale = want.abs().max().item()
    print(f"{ours} vs timm {theirs}: max abs diff {diff:.3g} (max |logit| {scale:.3g})")
    if mapping is None:  # the same modules in the same order: the same bits
        assert diff == 0.0
    else:
        # resnetv2's classifier is a 1x1 conv where ours is a linear: the same sums, rounded
        # by another kernel. Every stage before it is bitwise equal.
        assert diff <= 1e-5 * scale, diff


# The counts of tests/analysis/test_families.py that come from timm, re-measured from timm itself.
TIMM_COUNTS = [("preact_resnet50", "resnetv2_50"), ("se_resnet50", "seresnet50"),
               ("se_resnext50_32x4d", "seresnext50_32x4d"), ("resnet50c", "resnet50c"),
               ("resnet50d", "resnet50d")]


@pytest.mark.parametrize(("ours", "theirs"), TIMM_COUNTS, ids=[c[0] for c in TIMM_COUNTS])
def test_timm_counts_match_the_analysis(ours: str, theirs: str) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    from tests.analysis.test_families import GOLDEN

    ref = timm.create_model(theirs, pretrained=False).eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        ref(torch.zeros(1, 3, 224, 224))
    want = (sum(p.numel() for p in ref.parameters()), counter.get_total_flops() // 2)
    report = archcompiler.analyze(ours)
    assert want == GOLDEN[ours], f"timm {theirs} says {want}; test_families pins {GOLDEN[ours]}"
    assert (report.params, report.macs) == want, \
        f"timm {theirs} says {want}; archcompiler's analysis gives {(report.params, report.macs)}"

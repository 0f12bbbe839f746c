"""`archc compare`: the study note's own ResNet-34 and ResNet-50 code against the zoo specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from archcompiler.cli import main

from .conftest import ROOT

pytest.importorskip("torch")
NOTE = ROOT / "tests" / "data" / "note" / "resnet_note.py"
R34 = ["resnet34", "--set", "conv_bias=true", "--set", "head.classes=10"]


def test_note_resnet34_matches_and_outputs_are_equal(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Biased convs, option B, 10 classes: the structure matches, the weights map by structure
    (conv1.0 -> conv1, layer0 -> layer1), and the outputs are equal."""
    out = tmp_path / "mapped.pth"
    assert main(["compare", f"{NOTE}:ResNet34", *R34, "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "structure matches resnet34" in text and "outputs equal" in text
    import torch

    state = torch.load(out, weights_only=True)
    assert "conv1.weight" in state and "layer1.0.conv1.bias" in state
    assert sum(v.numel() for k, v in state.items()
               if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))) \
        == 21_298_314


def test_note_resnet50_diverges_at_layer1_with_the_swap_named(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The note's ResNet-50 passes block counts as strides: reported at layer1, swap named."""
    assert main(["compare", f"{NOTE}:ResNet50", "resnet50", "--set", "conv_bias=true",
                 "--set", "head.classes=10"]) == 1
    text = capsys.readouterr().out
    assert text.startswith("diverges at layer1:")
    assert "stride and block count look swapped" in text
    assert "strides [3, 4, 6, 3]" in text


def test_bad_module_references_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """No file, no class, no colon: exit 2 with the argument named, never a traceback."""
    for ref in ("nope.py:X", f"{NOTE}:Nope", "resnet34"):
        assert main(["compare", ref, "resnet34"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "MODULE" in err

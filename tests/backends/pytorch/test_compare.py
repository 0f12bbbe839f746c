"""`archc compare`: the study note's own ResNet-34 and ResNet-50 code against the zoo specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from archcompiler.cli import main
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # builds and runs ResNet-34 and ResNet-50

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


def test_weights_differ_only_in_their_names(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The note's saved ResNet-34 weights: every key maps by structure, the renamed ones are
    reported as differing only in their names, and the outputs with those weights are equal."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("resnet_note", NOTE)
    assert spec is not None and spec.loader is not None
    note = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(note)
    torch.manual_seed(3)
    saved = tmp_path / "note34.pth"
    torch.save(note.ResNet34().state_dict(), saved)
    out = tmp_path / "spec34.pth"
    assert main(["compare", f"{NOTE}:ResNet34", *R34, "--weights", str(saved),
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "differ only in their names (e.g. conv1.0.weight -> conv1.weight)" in text
    assert "outputs equal" in text
    mine = torch.load(saved, weights_only=True)
    theirs = torch.load(out, weights_only=True)
    assert torch.equal(theirs["layer1.0.conv1.weight"], mine["layer0.0.conv1.weight"])
    assert main(["compare", f"{NOTE}:ResNet34", *R34, "--weights", str(NOTE)]) == 2
    assert "--weights" in capsys.readouterr().err

"""Zoo specs and spec files as timm models (issue 21): built by `timm.create_model`, trained one
step with timm's own optimizer and loss, and behaving as timm's own resnet50 does. Runs where
timm is installed (the comparison venv, .venv-ref); skipped elsewhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

from timm.data import IMAGENET_DEFAULT_MEAN, create_transform, resolve_data_config  # noqa: E402
from timm.loss import LabelSmoothingCrossEntropy  # noqa: E402
from timm.optim import create_optimizer_v2  # noqa: E402

import archcompiler  # noqa: E402
from archcompiler.interop.timm import register_spec_file  # noqa: E402
from archcompiler.interop.timm_train import main as train_main  # noqa: E402

pytestmark = pytest.mark.torchvision


@pytest.fixture(scope="module", autouse=True)
def registered() -> list[str]:
    return archcompiler.timm_register()


def test_every_zoo_spec_is_a_timm_model(registered: list[str]) -> None:
    assert sorted(registered) == sorted("archc_" + n for n in archcompiler.list_models())
    assert set(timm.list_models("archc_*")) == set(registered)
    assert archcompiler.timm_register() == registered  # again: nothing re-registered, no warning
    with pytest.raises(ValueError, match="not built-in"):
        archcompiler.timm_register(["resnet5"])


def test_one_training_step_with_timms_optimizer_and_loss() -> None:
    torch.manual_seed(0)
    model = timm.create_model("archc_resnet18", num_classes=10)
    assert model.num_classes == 10 and model.fc.out_features == 10
    config = resolve_data_config({}, model=model)
    assert config["input_size"] == (3, 224, 224) and config["mean"] == IMAGENET_DEFAULT_MEAN
    create_transform(**config)  # timm's data pipeline takes the config as it is
    optimizer = create_optimizer_v2(model, opt="sgd", lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = LabelSmoothingCrossEntropy(smoothing=0.1)
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    y = torch.arange(8) % 10
    model.train()
    losses = []
    for step in range(3):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if step == 0:
            grads = {k: p.grad for k, p in model.named_parameters()}
            assert all(g is not None and g.abs().sum() > 0 for g in grads.values()), \
                [k for k, g in grads.items() if g is None or g.abs().sum() == 0]
        optimizer.step()
        losses.append(loss.item())
    print("losses", losses)
    assert losses[-1] < losses[0]


def _pair() -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    theirs = timm.create_model("resnet50").eval()
    ours = timm.create_model("archc_resnet50").eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)  # the same keys: torchvision's
    return ours, theirs


def test_forward_features_and_reset_classifier_behave_as_timms_resnet50() -> None:
    ours, theirs = _pair()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        a, b = ours.forward_features(x), theirs.forward_features(x)
        assert a.shape == b.shape == (1, 2048, 7, 7)
        assert torch.equal(a, b)  # timm's weights, the same ops: the same bits
        assert torch.equal(ours.forward_head(a, pre_logits=True),
                           theirs.forward_head(b, pre_logits=True))
        assert torch.equal(ours.forward_head(a), theirs.forward_head(b))
    assert ours.num_features == theirs.num_features == 2048
    assert [(f["num_chs"], f["reduction"]) for f in ours.feature_info] == \
        [(f["num_chs"], f["reduction"]) for f in theirs.feature_info]
    for model in (ours, theirs):
        model.reset_classifier(0)
    with torch.no_grad():
        pooled = ours.forward_head(a)
        assert pooled.shape == theirs.forward_head(b).shape == (1, 2048)
        assert torch.equal(pooled, theirs.forward_head(b))
    for model, features in ((ours, a), (theirs, b)):
        model.reset_classifier(5)
        assert model.num_classes == 5 and model.get_classifier().out_features == 5
        with torch.no_grad():
            assert model.forward_head(features).shape == (1, 5)
    assert ours.get_classifier(name_only=True) == theirs.get_classifier(name_only=True) == "fc"


def test_pretrained_and_checkpoint_files_load_through_timm(tmp_path: Path) -> None:
    _, theirs = _pair()
    path = tmp_path / "resnet50.pth"
    torch.save(theirs.state_dict(), path)
    ours = timm.create_model("archc_resnet50", pretrained=True, num_classes=7,
                             pretrained_cfg_overlay={"file": str(path), "num_classes": -1})
    assert torch.equal(ours.layer4[2].conv3.weight, theirs.layer4[2].conv3.weight)
    assert ours.fc.out_features == 7  # the head adapted, as timm's would
    # timm's own checkpoint_path loads after the build: the keys are timm's.
    again = timm.create_model("archc_resnet50", checkpoint_path=str(path))
    assert torch.equal(again.fc.weight, theirs.fc.weight)


def test_timm_resnetv2_weights_load_through_the_shipped_layout(tmp_path: Path) -> None:
    torch.manual_seed(0)
    theirs = timm.create_model("resnetv2_18").eval()
    path = tmp_path / "resnetv2_18.pth"
    torch.save(theirs.state_dict(), path)
    ours = timm.create_model("archc_preact_resnet18", pretrained=True,
                             pretrained_cfg_overlay={"file": str(path)}).eval()
    in_memory = archcompiler.create_model("preact_resnet18", weights=theirs.state_dict()).eval()
    x = torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(ours.forward_features(x), theirs.forward_features(x))
        assert torch.equal(in_memory(x), ours(x))
        # timm's classifier is a 1x1 conv, ours a linear: the same sums by another kernel.
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)


def test_a_spec_file_is_a_timm_model(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text("extends: resnet18\nname: resnet10\nstages: {depths: [1, 1, 1, 1]}\n")
    assert register_spec_file(spec) == "archc_tiny"
    assert register_spec_file(spec, "my_tiny_net") == "my_tiny_net"
    model = timm.create_model("my_tiny_net", num_classes=3)
    assert len(model.layer2) == 1 and model(torch.zeros(1, 3, 64, 64)).shape == (1, 3)
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: resnet18\nname: resnet18\nhead: {classes: 0}\n")
    with pytest.raises(archcompiler.SpecError):
        register_spec_file(bad)


# What train.py (timm 1.0.x) does with a model name, step by step: create_model with the
# keywords its defaults give, num_classes from the model, the data config, timm's optimizer and
# loss. timm's wheel does not ship train.py, so this stands in for it under the launcher.
TRAIN_STUB = '''
import json, sys
import torch, timm
from timm.data import resolve_data_config
from timm.loss import LabelSmoothingCrossEntropy
from timm.optim import create_optimizer_v2

model_name, out = sys.argv[sys.argv.index("--model") + 1], sys.argv[-1]
model = timm.create_model(
    model_name, pretrained=False, in_chans=3, num_classes=None, drop_rate=0.0,
    drop_path_rate=None, drop_block_rate=None, global_pool=None, bn_momentum=None, bn_eps=None,
    scriptable=None, checkpoint_path=None)
num_classes = model.num_classes
data_config = resolve_data_config({}, model=model)
optimizer = create_optimizer_v2(model, opt="sgd", lr=0.05, weight_decay=2e-5, momentum=0.9)
loss_fn = LabelSmoothingCrossEntropy(smoothing=0.1)
x = torch.randn(4, *data_config["input_size"][:1], 64, 64)
loss = loss_fn(model(x), torch.arange(4) % num_classes)
loss.backward()
optimizer.step()
json.dump({"name": __name__, "argv": sys.argv, "classes": num_classes,
           "input_size": list(data_config["input_size"]), "loss": loss.item()}, open(out, "w"))
'''


def test_the_launcher_runs_a_training_script_unchanged(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "train.py"
    script.write_text(TRAIN_STUB)
    spec = tmp_path / "cifar.yaml"
    spec.write_text("extends: resnet20\nname: resnet8\nstages: {depths: [1, 1, 1]}\n")
    out = tmp_path / "result.json"
    monkeypatch.setattr(sys, "argv", ["timm_train"])
    monkeypatch.setattr(sys, "path", list(sys.path))
    train_main(["--spec", f"{spec}=archc_cifar8", str(script), "--model", "archc_cifar8",
                "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["name"] == "__main__" and result["argv"][0] == str(script)
    assert result["classes"] == 10 and result["input_size"] == [3, 32, 32]
    assert result["loss"] > 0

"""The timm entrypoints' handling of what timm passes (issue 21), without timm: the keywords
train.py gives, head adaptation of loaded weights, and the launcher's command line. The run
through timm itself is tests/backends/pytorch/test_timm_interop.py (the comparison venv)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import archcompiler
from archcompiler import SpecError
from archcompiler.interop.timm import create_timm_model
from archcompiler.interop.timm_train import _split, main

torch = pytest.importorskip("torch")

# What timm's train.py passes to create_model with its default arguments, after timm drops the
# None values (timm's create_model: `kwargs = {k: v for k, v in kwargs.items() if v is not None}`).
TRAIN_PY_DEFAULTS = {"pretrained": False, "pretrained_cfg": None, "pretrained_cfg_overlay": None,
                     "cache_dir": None, "in_chans": 3, "drop_rate": 0.0}


def test_train_py_defaults_build_the_spec_as_it_is() -> None:
    model = create_timm_model("resnet20", "archc_resnet20", **TRAIN_PY_DEFAULTS)
    plain = archcompiler.build_module("resnet20")
    assert model.state_dict().keys() == plain.state_dict().keys()
    assert model.num_classes == 10 and model.pretrained_cfg["architecture"] == "archc_resnet20"
    cfg = model.pretrained_cfg
    assert (cfg["input_size"], cfg["pool_size"], cfg["classifier"], cfg["first_conv"]) == \
        ((3, 32, 32), (8, 8), "fc", "conv1")
    assert model.default_cfg is model.pretrained_cfg


def test_timm_keywords_reach_the_spec_and_the_module() -> None:
    model = create_timm_model("resnet20", "archc_resnet20", num_classes=7, in_chans=1,
                              drop_rate=0.1, drop_path_rate=0.05, bn_momentum=0.01, bn_eps=1e-3,
                              stages__depths=[1, 1, 1], global_pool="max")
    assert model.fc.out_features == 7 and model.num_classes == 7
    assert model.conv1.in_channels == 1 and model.pretrained_cfg["input_size"] == (1, 32, 32)
    assert model.dropout.p == 0.1 and len(model.layer2) == 1
    assert model.layer3[0].drop_path.p == pytest.approx(0.05)
    assert isinstance(model.avgpool, torch.nn.AdaptiveMaxPool2d)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(m.momentum == 0.01 and m.eps == 1e-3 for m in bns)


def test_num_classes_zero_is_timms_headless_net() -> None:
    model = create_timm_model("resnet20", "archc_resnet20", num_classes=0)
    assert isinstance(model.fc, torch.nn.Identity) and model.num_classes == 0
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 64)
    assert model.pretrained_cfg["num_classes"] == 0


def test_a_bad_keyword_is_located_in_timms_call() -> None:
    with pytest.raises(SpecError) as exc:
        create_timm_model("resnet20", "archc_resnet20", in_chans=-1)
    assert "    1 | timm.create_model(in_chans=-1)\n" in str(exc.value)
    with pytest.raises(SpecError, match="unknown key 'stagez'"):
        create_timm_model("resnet20", "archc_resnet20", stagez__depths=[1])


def test_what_is_not_supported_says_so() -> None:
    create_timm_model("resnet20", "archc_resnet20", drop_block_rate=0.0, features_only=False)
    for key, value in (("drop_block_rate", 0.1), ("features_only", True)):
        with pytest.raises(TypeError, match=key):
            create_timm_model("resnet20", "archc_resnet20", **{key: value})
    with pytest.raises(RuntimeError, match="no hosted weights"):
        create_timm_model("resnet20", "archc_resnet20", pretrained=True)
    with pytest.raises(ValueError, match="no pretrained tags"):
        create_timm_model("resnet20", "archc_resnet20", pretrained_cfg="a1_in1k")
    with pytest.raises(ValueError, match="global_pool"):
        create_timm_model("resnet20", "archc_resnet20", global_pool="avgmax")


def test_pretrained_file_loads_strictly_then_the_head_adapts(tmp_path: Path) -> None:
    source = archcompiler.build_module("resnet20", seed=4)
    path = tmp_path / "w.pth"
    torch.save(source.state_dict(), path)
    # train.py --pretrained --pretrained-path: the file's 10 classes load, then a head of 3.
    model = create_timm_model("resnet20", "archc_resnet20", pretrained=True, num_classes=3,
                              pretrained_cfg_overlay={"file": str(path), "num_classes": -1})
    assert torch.equal(model.layer3[2].conv2.weight, source.layer3[2].conv2.weight)
    assert model.fc.out_features == 3 and model.num_classes == 3
    assert model.pretrained_cfg["file"] == str(path)
    same = create_timm_model("resnet20", "archc_resnet20", pretrained=True,
                             pretrained_cfg_overlay={"file": str(path)})
    assert torch.equal(same.fc.weight, source.fc.weight)  # no new head when none was asked for
    # Without pretrained=True the file is not read, as in timm.
    fresh = create_timm_model("resnet20", "archc_resnet20",
                              pretrained_cfg_overlay={"file": str(tmp_path / "missing.pth")})
    assert fresh.num_classes == 10
    with pytest.raises(SpecError) as exc:  # weights that do not fit: the strict loader's ARC502
        create_timm_model("resnet32", "archc_resnet32", pretrained=True,
                          pretrained_cfg_overlay={"file": str(path)})
    assert exc.value.diagnostics[0].code == "ARC502"


def test_the_launcher_splits_its_options_from_the_scripts() -> None:
    assert _split(["--spec", "a.yaml", "--spec=b.yaml=my_net", "train.py", "--spec", "x"]) == \
        (["a.yaml", "b.yaml=my_net"], ["train.py", "--spec", "x"])
    with pytest.raises(SystemExit):
        _split(["--spec"])


def test_the_launcher_without_a_script_prints_its_usage(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2 and "usage:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0 and "archc_<name>" in capsys.readouterr().out
    assert sys.argv[0]  # untouched: nothing was run

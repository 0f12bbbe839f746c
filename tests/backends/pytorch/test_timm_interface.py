"""timm's model interface on built networks (issue 21): num_classes, num_features,
forward_features, forward_head, get_classifier, reset_classifier and feature_info, with the
state_dict keys unchanged. The comparison with timm's own resnet50 is
tests/backends/pytorch/test_timm_interop.py."""

from __future__ import annotations

import copy
import pickle

import pytest

import archcompiler

torch = pytest.importorskip("torch")
nn = torch.nn

# timm's resnet50.feature_info, channels and reductions (timm calls the stem's activation act1;
# torchvision, and so this spec, relu).
RESNET50_FEATURES = [(64, 2, "relu"), (256, 4, "layer1"), (512, 8, "layer2"), (1024, 16, "layer3"),
                     (2048, 32, "layer4")]


def _info(model: nn.Module) -> list[tuple[int, int, str]]:
    return [(f["num_chs"], f["reduction"], f["module"]) for f in model.feature_info]


@pytest.mark.parametrize(("name", "size"), [("resnet20", 32), ("resnet18", 64), ("preact_resnet18", 64),
                                            ("mobilenetv2_100", 64), ("resnet50d", 64)])
def test_forward_is_head_of_features(name: str, size: int) -> None:
    model = archcompiler.build_module(name, seed=0, input_shape=size).eval()
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        features = model.forward_features(x)
        pooled = model.forward_head(features, pre_logits=True)
        assert torch.equal(model.forward_head(features), model(x))  # the same ops, the same bits
        assert torch.equal(model.get_classifier()(pooled), model(x))
    assert features.dim() == 4 and features.shape[1] == model.num_features
    assert pooled.shape == (2, model.head_hidden_size)
    assert model.feature_info[-1]["num_chs"] == model.num_features or name == "mobilenetv2_100"


def test_resnet50_has_timms_shapes_and_feature_info() -> None:
    model = archcompiler.build_module("resnet50", device="meta")
    x = torch.empty(2, 3, 224, 224, device="meta")
    assert model.forward_features(x).shape == (2, 2048, 7, 7)
    assert model.forward_head(model.forward_features(x), pre_logits=True).shape == (2, 2048)
    assert model.forward_head(model.forward_features(x)).shape == (2, 1000)
    assert (model.num_classes, model.num_features, model.head_hidden_size) == (1000, 2048, 2048)
    assert _info(model) == RESNET50_FEATURES
    assert model.get_classifier() is model.fc and model.get_classifier(name_only=True) == "fc"
    for f in model.feature_info:  # each named module exists and makes that map
        assert isinstance(model.get_submodule(f["module"]), nn.Module)
    assert archcompiler.create_model("resnet50", num_classes=10, device="meta").num_classes == 10


def test_feature_info_of_the_descendants_matches_timms_reductions() -> None:
    # timm's convnext_tiny and mobilenetv2_100 feature_info: (channels, reduction).
    convnext = archcompiler.build_module("convnext_tiny", device="meta")
    assert [(c, r) for c, r, _ in _info(convnext)] == [(96, 4), (192, 8), (384, 16), (768, 32)]
    assert [m for _, _, m in _info(convnext)] == ["stages.0", "stages.1", "stages.2", "stages.3"]
    mobilenet = archcompiler.build_module("mobilenetv2_100", device="meta")
    assert [(c, r) for c, r, _ in _info(mobilenet)] == [(16, 2), (24, 4), (32, 8), (96, 16),
                                                        (320, 32)]
    assert (mobilenet.num_features, convnext.num_features) == (1280, 768)


def test_a_net_without_global_pool_splits_at_the_flatten() -> None:
    vgg = archcompiler.build_module("vgg19", device="meta")
    x = torch.empty(1, 3, 224, 224, device="meta")
    assert vgg.forward_features(x).shape == (1, 512, 7, 7)
    # pre_logits runs the hidden layers of the classifier Sequential, not its last linear.
    assert vgg.forward_head(vgg.forward_features(x), pre_logits=True).shape == (1, 4096)
    assert vgg.get_classifier(name_only=True) == "classifier.6"
    vgg.reset_classifier(3)
    assert isinstance(vgg.classifier[6], nn.Linear) and vgg.classifier[6].out_features == 3
    assert vgg(x).shape == (1, 3)
    with pytest.raises(ValueError, match="global_pool"):
        vgg.reset_classifier(3, global_pool="avg")  # it has none to replace


def test_reset_classifier() -> None:
    model = archcompiler.build_module("resnet20", seed=0, dtype=torch.float64)
    keys = list(model.state_dict())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    model.eval()
    with torch.no_grad():
        pooled = model.forward_head(model.forward_features(x), pre_logits=True)
    model.reset_classifier(0)
    assert isinstance(model.fc, nn.Identity) and model.num_classes == 0
    assert not model.fc.training  # the new head is in the mode of the net (eval here)
    with torch.no_grad():
        assert torch.equal(model(x), pooled)  # the pooled features, 64 of them
    model.train()
    model.reset_classifier(5)
    assert isinstance(model.fc, nn.Linear) and (model.fc.in_features, model.fc.out_features) == \
        (64, 5)
    assert model.fc.weight.dtype == torch.float64 and model.fc.training
    assert list(model.state_dict()) == keys  # the same keys, in the same order
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items()
               if not k.startswith("fc."))
    assert model.num_classes == 5 and model(x).shape == (2, 5)
    model.reset_classifier(5, global_pool="max")
    assert isinstance(model.avgpool, nn.AdaptiveMaxPool2d)
    with torch.no_grad():
        assert torch.equal(model.forward_head(model.forward_features(x), pre_logits=True),
                           model.forward_features(x).amax(dim=(2, 3)))
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="num_classes"):
            model.reset_classifier(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="global_pool"):
        model.reset_classifier(5, global_pool="avgmax")


def test_the_interface_survives_pickle_deepcopy_and_script() -> None:
    model = archcompiler.build_module("resnet20", seed=0).eval()
    x = torch.randn(1, 3, 32, 32)
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert other.feature_info == model.feature_info and other.num_classes == 10
        with torch.no_grad():
            assert torch.equal(other.forward_features(x), model.forward_features(x))
        other.reset_classifier(3)
        assert other(x).shape == (1, 3)
    # Blocks are no networks: they do not get the interface, before or after a pickle.
    block = pickle.loads(pickle.dumps(model.layer1[0]))
    assert not hasattr(block, "forward_features")
    with torch.no_grad():
        assert torch.equal(torch.jit.script(model)(x), model(x))
    # Nothing of the interface is state: the keys are torchvision's.
    assert not any(k.startswith(("num_", "feature_info", "_archc")) for k in model.state_dict())

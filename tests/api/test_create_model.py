"""The timm-style Python API (issue 21): list_models over the zoo, create_model's keywords as
located overrides, build_module's timm keywords, and weights given as a path or in memory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archcompiler
from archcompiler import SpecError
from archcompiler.api import TIMM_KEYWORDS, create_model, list_models
from archcompiler.language.zoo import builtin_names

torch = pytest.importorskip("torch")


# -- list_models ---------------------------------------------------------------------------------

def test_list_models_matches_wildcards_in_timms_natural_order() -> None:
    assert list_models("resnet5*") == ["resnet50", "resnet50_v1", "resnet50c", "resnet50d",
                                       "resnet56"]
    got = list_models("resnet*")
    # Digit runs compare as numbers (timm's _natural_key), not as text.
    for a, b in [("resnet18", "resnet20"), ("resnet56", "resnet101"), ("resnet110", "resnet152"),
                 ("resnet152_v1", "resnet1202")]:
        assert got.index(a) < got.index(b), (a, b)
    assert list_models() == sorted(builtin_names(), key=lambda n: [
        int(s) if s.isdigit() else s for s in re.split(r"(\d+)", n)])
    assert list_models(["plain2*", "vgg*"]) == ["plain20", "vgg19"]
    assert list_models("no_such_*") == []


def test_list_models_filters_by_the_family_archc_list_prints() -> None:
    from archcompiler.report.summary import family, traits

    assert list_models(family="SE*") == ["regnety_040", "se_resnet34", "se_resnet50",
                                         "se_resnext50_32x4d"]
    assert list_models("resnet*", family="resnet") == ["resnet18", "resnet34", "resnet50",
                                                       "resnet101", "resnet152"]
    assert list_models(family="ResNet-D") == ["resnet50d"]  # a trait
    assert list_models("*", family="pre-activation")[:3] == ["preact_resnet18", "preact_resnet34",
                                                             "preact_resnet50"]
    # Every spec is found under its own family phrase, and under none it does not have.
    for name in builtin_names():
        report = archcompiler.analyze(name)
        assert name in list_models(family=family(report)), name
        for trait in traits(report):
            assert name in list_models(family=trait), (name, trait)
    assert "resnet50" not in list_models(family="SE*")
    assert "convnext_tiny" in list_models(family="depthwise")


# -- keywords as located overrides ---------------------------------------------------------------

@pytest.mark.parametrize(("call", "kwargs", "text", "col", "field"), [
    ("create_model", {"num_classes": 0}, "create_model(num_classes=0)", 26, "head.classes"),
    ("create_model", {"in_chans": -1}, "create_model(in_chans=-1)", 23, "input.channels"),
    ("create_model", {"drop_path_rate": 1.5}, "create_model(drop_path_rate=1.5)", 29,
     "stages.drop_path"),
    ("create_model", {"drop_rate": -0.5}, "create_model(drop_rate=-0.5)", 24, "head.dropout"),
    ("build_module", {"num_classes": 0}, "build_module(num_classes=0)", 26, "head.classes"),
])
def test_a_bad_keyword_is_a_spec_error_at_the_keyword(call: str, kwargs: dict[str, object],
                                                       text: str, col: int, field: str) -> None:
    fn = create_model if call == "create_model" else archcompiler.build_module
    with pytest.raises(SpecError) as exc:
        fn("resnet50", device="meta", **kwargs)  # type: ignore[operator]
    [diag] = exc.value.diagnostics
    assert diag.span is not None and (diag.span.file, diag.span.line, diag.span.col) == \
        (f"<{call}>", 1, col)
    assert diag.message.startswith(field + ":"), diag.message
    shown = str(exc.value)
    assert f"<{call}>:1:{col}: error[ARC104]" in shown
    assert f"    1 | {text}\n" in shown
    assert shown.split("\n")[2] == "      |" + " " * col + "^"  # the caret under the value


def test_every_timm_keyword_sets_its_field() -> None:
    model = archcompiler.build_module("resnet50", device="meta", num_classes=10, in_chans=1,
                                      drop_rate=0.25, drop_path_rate=0.2)
    assert model.fc.out_features == 10
    assert model.conv1.in_channels == 1
    assert model.dropout.p == 0.25
    # timm's linear ramp: the last block drops at the rate.
    assert model.layer4[2].drop_path.p == pytest.approx(0.2)
    assert set(TIMM_KEYWORDS) == {"num_classes", "in_chans", "drop_rate", "drop_path_rate"}
    plain = archcompiler.build_module("resnet50", device="meta")
    assert plain.fc.out_features == 1000 and plain.conv1.in_channels == 3


def test_field_keywords_and_overrides_compose() -> None:
    model = create_model("resnet50", device="meta", stages__depths=[3, 4, 9, 3],
                         overrides={"head.classes": 5, "head.dropout": 0.1}, num_classes=7)
    assert len(model.layer3) == 9
    assert model.fc.out_features == 7  # the keyword is applied over `overrides`
    assert model.dropout.p == 0.1
    with pytest.raises(SpecError) as exc:
        create_model("resnet50", device="meta", stagez__depths=[1])
    [diag] = exc.value.diagnostics
    assert diag.code == "ARC101" and diag.span is not None and diag.span.col == 14
    assert "did you mean 'stages'" in (diag.hint or "")
    with pytest.raises(SpecError) as exc:
        create_model("resnet50", device="meta", stages__depths=[3, 4, 0, 3])
    assert exc.value.diagnostics[0].span.col == 36  # type: ignore[union-attr]


def test_create_model_is_build_module() -> None:
    a = create_model("resnet20", seed=3, num_classes=7)
    b = archcompiler.build_module("resnet20", seed=3, overrides=["head.classes=7"])
    assert a.state_dict().keys() == b.state_dict().keys()
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    with pytest.raises(TypeError, match="not both"):
        create_model("resnet20", pretrained_weights={}, weights={})


# -- weights: a path or a state_dict in memory ---------------------------------------------------

def test_weights_from_memory_and_from_a_file(tmp_path: Path) -> None:
    source = archcompiler.build_module("resnet20", seed=1)
    state = source.state_dict()
    path = tmp_path / "w.pth"
    torch.save(state, path)
    for given in (state, {"state_dict": state}, path, str(path)):
        model = create_model("resnet20", seed=2, pretrained_weights=given)
        assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    model = archcompiler.build_module("resnet20", seed=2, weights=state)
    assert torch.equal(model.fc.weight, source.fc.weight)


def test_a_mapping_that_does_not_fit_names_every_key() -> None:
    state = archcompiler.build_module("resnet20", seed=1).state_dict()
    with pytest.raises(SpecError) as exc:
        create_model("resnet20", num_classes=7, weights=state)
    head = exc.value.diagnostics[0]
    assert head.code == "ARC502" and head.message.startswith("the given state_dict does not fit")
    assert any("fc.weight" in d.message for d in exc.value.diagnostics[1:])
    bad = dict(state)
    bad["fc.weight"] = "not a tensor"  # type: ignore[assignment]
    with pytest.raises(SpecError) as exc:
        create_model("resnet20", weights=bad)
    assert exc.value.diagnostics[0].code == "ARC501"
    assert "the given state_dict: 1 entries are not named tensors" in str(exc.value)


def _timm_resnetv2_names(key: str) -> str:
    """Our preact key -> timm resnetv2's (the inverse of keymaps' 'timm resnetv2' layout)."""
    key = re.sub(r"^layer(\d+)\.(\d+)\.", lambda m: f"stages.{int(m[1]) - 1}.blocks.{m[2]}.", key)
    key = re.sub(r"\.bn(\d)\.", r".norm\1.", key).replace(".downsample.0.", ".downsample.conv.")
    return re.sub(r"^conv1\.", "stem.conv.", re.sub(r"^fc\.", "head.fc.", key))


def test_timm_resnetv2_layout_ships_in_the_package() -> None:
    """A pre-activation state_dict in timm's resnetv2 names (its classifier a 1x1 conv) loads
    through weights=, mapped by keymaps.py, not by a copy of the mapping in a test."""
    source = archcompiler.build_module("preact_resnet18", seed=1)
    own = source.state_dict()
    timm_like = {_timm_resnetv2_names(k): (v[:, :, None, None] if k == "fc.weight" else v)
                 for k, v in own.items()}
    assert "stages.3.blocks.1.norm2.weight" in timm_like and "stem.conv.weight" in timm_like
    assert timm_like["head.fc.weight"].shape == (1000, 512, 1, 1)
    assert "stages.1.blocks.0.downsample.conv.weight" in timm_like
    model = create_model("preact_resnet18", seed=2, pretrained_weights=timm_like)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in own.items())

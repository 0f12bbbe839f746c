"""The `vgg19` zoo spec: torchvision's vgg19 counts exactly, its state_dict maps by the shipped
key layout, and (in the comparison venv, where torchvision is installed) its outputs equal."""

from __future__ import annotations

import pytest

import archcompiler

# torchvision's vgg19 (configuration E): 'M' is a 2x2 max pool; convs and pools are numbered
# together in `features`, with a ReLU after each conv. Typed from torchvision's definition.
CFG_E = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"]


def test_vgg19_has_torchvisions_counts() -> None:
    """torchvision's vgg19: 143,667,240 params, 19,632,062,464 MACs (its 19.63 GFLOPS)."""
    report = archcompiler.analyze("vgg19")
    assert report.params == 143_667_240
    assert report.macs == 19_632_062_464
    assert report.output_shape == (1000,)
    assert report.diagnostics == []


def test_vgg19_breaks_rule_ii_at_its_last_stage_and_its_spec_says_so() -> None:
    """With the spec's `double_on_halve: off` switched back on, rule (ii) fires at layer5 (512
    filters kept where the map halves), the place the spec's comment names."""
    from archcompiler.language.load import resolve

    res = resolve("vgg19", overrides=["rules.double_on_halve=error"])
    assert res.spec is not None
    found = [d for d in archcompiler.analyze(res.spec).diagnostics if d.code == "ARC302"]
    assert [d.node for d in found] == ["layer5.0"]
    assert "512 -> 512, not 1024" in found[0].message
    text = (archcompiler.analyze("vgg19").spec.sources)
    assert any("breaks rule (ii) once" in t for t in text.values())


def _torchvision_shapes() -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    i, c = 0, 3
    for v in CFG_E:
        if v == "M":
            i += 1
            continue
        assert isinstance(v, int)
        shapes[f"features.{i}.weight"] = (v, c, 3, 3)
        shapes[f"features.{i}.bias"] = (v,)
        c, i = v, i + 2
    for j, (out, inp) in zip((0, 3, 6), ((4096, 25088), (4096, 4096), (1000, 4096))):
        shapes[f"classifier.{j}.weight"] = (out, inp)
        shapes[f"classifier.{j}.bias"] = (out,)
    return shapes


def test_torchvision_vgg19_keys_map_onto_the_spec() -> None:
    """The shipped layout renames all 38 of torchvision's keys onto the spec's, shapes equal."""
    torch = pytest.importorskip("torch")
    from archcompiler.backends.pytorch.keymaps import adapt_state_dict

    own = archcompiler.build_module("vgg19", device="meta").state_dict()
    theirs = {k: torch.empty(s, device="meta") for k, s in _torchvision_shapes().items()}
    mapped = adapt_state_dict(own, theirs)
    assert mapped.keys() == own.keys() and len(own) == 38
    assert all(tuple(mapped[k].shape) == tuple(own[k].shape) for k in own)


@pytest.mark.torchvision
def test_torchvision_vgg19_outputs_equal() -> None:
    """torchvision's vgg19 state_dict loads into the spec's module, and the outputs are equal
    (runs in the comparison venv, .venv-ref; skipped where torchvision is missing)."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from archcompiler.backends.pytorch.keymaps import adapt_state_dict

    torch.manual_seed(0)
    ref = torchvision.models.vgg19(weights=None).eval()
    ours = archcompiler.build_module("vgg19").eval()
    ours.load_state_dict(adapt_state_dict(ours.state_dict(), ref.state_dict()), strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(ours(x), ref(x))

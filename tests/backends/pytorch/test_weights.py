"""Loading weights: `archc build --weights` and backends/pytorch/weights.load_weights."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archcompiler  # noqa: E402
from archcompiler.backends.pytorch.weights import (  # noqa: E402
    MISMATCH_CODE,
    READ_CODE,
    WeightsError,
    load_weights,
)
from archcompiler.core.diagnostics import SpecError  # noqa: E402
from tests.conftest import run_cli, write_spec  # noqa: E402

Capsys = pytest.CaptureFixture[str]



@pytest.fixture(scope="module")
def r20_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A torchvision-format file: the state_dict of a built resnet20, seed 7."""
    path = tmp_path_factory.mktemp("w") / "resnet20.pth"
    torch.save(archcompiler.build_module("resnet20", seed=7).state_dict(), path)
    return path


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("wrap", [None, "state_dict", "model"])
def test_build_with_weights(wrap: str | None, r20_weights: Path, tmp_path: Path,
                            capsys: Capsys) -> None:
    source = r20_weights
    if wrap is not None:  # a training checkpoint: the state_dict under a key, and more beside
        source = tmp_path / "ckpt.pth"
        torch.save({wrap: torch.load(r20_weights, weights_only=True), "epoch": 90}, source)
    out = tmp_path / "out.pt"
    rc, text, err = run_cli(capsys, "build", "resnet20", "--weights", str(source), "-o", str(out),
                        "--check")
    assert rc == 0 and err == ""
    assert f"weights from {source}" in text and "check: ok" in text
    want = archcompiler.build_module("resnet20", seed=7).state_dict()
    assert _same(torch.load(out, weights_only=True), want)


def test_load_weights_api(r20_weights: Path) -> None:
    report = archcompiler.analyze("resnet20")
    model = archcompiler.build_module(report, seed=0)
    load_weights(model, report, r20_weights)
    assert _same(model.state_dict(), archcompiler.build_module("resnet20", seed=7).state_dict())


def _mismatch(spec: str | Path, weights: Path) -> WeightsError:
    report = archcompiler.analyze(spec)
    model = archcompiler.build_module(report, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError) as info:
        load_weights(model, report, weights)
    assert _same(model.state_dict(), before)  # nothing was loaded
    assert isinstance(info.value, SpecError)
    return info.value


def test_missing_keys_name_their_spec_node(r20_weights: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        extends: resnet20
        name: resnet26
        stages: {depths: [4, 4, 4]}
    """)
    error = _mismatch(spec, r20_weights)
    head, *diags = error.diagnostics
    assert head.code == MISMATCH_CODE and "0 unexpected and 0 wrongly shaped" in head.message
    missing = [d for d in diags if d.message.startswith("missing key")]
    assert missing and all(d.code == MISMATCH_CODE for d in missing)
    conv = next(d for d in missing if "layer1.3.conv1.weight" in d.message)
    assert conv.node == "layer1.3.conv1"
    # A whole block is missing, so the line shown is the depth that made it.
    assert conv.span is not None and (conv.span.file, conv.span.line) == (str(spec), 3)
    assert f"the file has no block layer1.3, which the depth at {spec}:3 makes" in conv.message


def test_a_missing_layer_points_at_its_block(r20_weights: Path, tmp_path: Path) -> None:
    state = torch.load(r20_weights, weights_only=True)
    del state["layer2.1.bn2.running_var"]
    partial = tmp_path / "partial.pth"
    torch.save(state, partial)
    (head, diag) = _mismatch("resnet20", partial).diagnostics
    assert "1 missing" in head.message and diag.node == "layer2.1.bn2"
    assert "IR node layer2.1.bn2, resnet20.yaml:" in diag.message


def test_wrong_shapes_point_at_the_spec_line(r20_weights: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        extends: resnet20
        name: resnet20_c100
        head: {classes: 100}
    """)
    error = _mismatch(spec, r20_weights)
    shaped = [d for d in error.diagnostics if d.message.startswith("wrong shape")]
    assert [d.node for d in shaped] == ["fc", "fc"]
    assert "the file has 10x64, the spec makes 100x64" in shaped[0].message
    assert shaped[0].span is not None and shaped[0].span.file == str(spec)
    assert shaped[0].span.line == 3  # head: {classes: 100}


def test_unexpected_keys_and_data_parallel_prefixes(r20_weights: Path, tmp_path: Path) -> None:
    state = torch.load(r20_weights, weights_only=True)
    extra = tmp_path / "extra.pth"
    torch.save({**state, "layer1.0.conv3.weight": torch.zeros(1)}, extra)
    error = _mismatch("resnet20", extra)
    (unexpected,) = [d for d in error.diagnostics if d.message.startswith("unexpected key")]
    assert unexpected.node == "layer1.0.conv1" or unexpected.node is None
    prefixed = tmp_path / "ddp.pth"
    torch.save({f"module.{k}": v for k, v in state.items()}, prefixed)
    error = _mismatch("resnet20", prefixed)
    # One line says what happened, instead of 12 missing and 12 unexpected keys.
    _head, prefix = error.diagnostics
    assert "every key in the file starts with 'module.'" in prefix.message
    assert f"{len(state)} of {len(state)} keys match" in prefix.message
    assert prefix.hint == "saved from DataParallel or DDP: save model.module.state_dict() instead"


def test_cli_mismatch_is_exit_1_and_writes_nothing(r20_weights: Path, tmp_path: Path,
                                                   capsys: Capsys) -> None:
    out = tmp_path / "x.pt"
    rc, text, err = run_cli(capsys, "build", "resnet32", "--weights", str(r20_weights), "-o", str(out))
    assert rc == 1 and not out.exists()
    assert f"error[{MISMATCH_CODE}]" in err and "missing key layer1.3.conv1.weight" in err
    assert "resnet32.yaml:" in err  # each key with the spec line it needs
    assert "refused:" in text and "Traceback" not in err


class _Payload:
    """Unpickling this would touch a file: safe loading must refuse it, not run it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("kind", ["text", "pickle_code", "plain_pickle", "not_tensors", "empty",
                                  "folder"])
def test_unreadable_weights(kind: str, tmp_path: Path, capsys: Capsys) -> None:
    path = tmp_path / "w.pth"
    marker = tmp_path / "code_ran"
    if kind == "text":
        path.write_text("not a torch file", encoding="utf-8")
    elif kind == "pickle_code":
        torch.save({"fc.weight": _Payload(marker)}, path)
    elif kind == "plain_pickle":
        path.write_bytes(pickle.dumps({"fc.weight": [1.0, 2.0]}))
    elif kind == "not_tensors":
        torch.save({"fc.weight": [1.0, 2.0]}, path)
    elif kind == "empty":
        torch.save({}, path)
    else:
        path.mkdir()
    report = archcompiler.analyze("resnet20")
    model = archcompiler.build_module(report, seed=0)
    with pytest.raises(WeightsError) as info:
        load_weights(model, report, path)
    assert [d.code for d in info.value.diagnostics] == [READ_CODE]
    assert not marker.exists()
    if kind != "folder":  # the CLI checks that --weights is a file first
        rc, _, err = run_cli(capsys, "build", "resnet20", "--weights", str(path), "-o",
                         str(tmp_path / "o.pt"))
        assert rc == 2 and f"error[{READ_CODE}]" in err and "Traceback" not in err
        assert not marker.exists() and not (tmp_path / "o.pt").exists()


def test_build_module_loads_weights(tmp_path: Path) -> None:
    """The Python API takes the same file as `archc build --weights`."""
    torch = pytest.importorskip("torch")
    source = archcompiler.build_module("resnet20", seed=3)
    path = tmp_path / "r20.pth"
    torch.save(source.state_dict(), path)
    model = archcompiler.build_module("resnet20", seed=0, weights=path)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 source.state_dict().values()))
    with pytest.raises(archcompiler.SpecError) as info:
        archcompiler.build_module("resnet20", weights=path, overrides={"head.classes": 7})
    assert {d.code for d in info.value.diagnostics} == {"ARC502"}

"""`archc build -o model.onnx`: export with a dynamic batch, checked with onnxruntime.

The exporter needs the optional `onnx` extra (onnx, onnxscript, onnxruntime); without it the
export tests skip, and the clear-message tests still run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archcompiler  # noqa: E402
from archcompiler.backends.pytorch import onnx as onnx_backend  # noqa: E402
from archcompiler.cli import main  # noqa: E402

pytestmark = pytest.mark.slow  # ONNX export and onnxruntime

Capsys = pytest.CaptureFixture[str]


def _have(*names: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(n) is not None for n in names)


needs_exporter = pytest.mark.skipif(not _have("onnx", "onnxscript"),
                                    reason="the onnx extra is not installed")
needs_runtime = pytest.mark.skipif(not _have("onnx", "onnxscript", "onnxruntime"),
                                   reason="the onnx extra is not installed")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """resnet20 built by the CLI as ONNX, with its stdout (one export serves every test)."""
    if not _have("onnx", "onnxscript"):
        pytest.skip("the onnx extra is not installed")
    import contextlib
    import io

    out = tmp_path_factory.mktemp("onnx") / "r20.onnx"
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(["build", "resnet20", "-o", str(out), "--seed", "3"]) == 0
    return out, text.getvalue()


@needs_runtime
def test_onnx_runs_with_any_batch_and_matches_torch(exported: tuple[Path, str]) -> None:
    import onnxruntime as ort

    path, text = exported
    assert f"wrote {path}: resnet20 as onnx (eval mode, input Nx3x32x32, N dynamic)" in text
    assert "onnxruntime matches torch to" in text and "at batch 1 and 3" in text
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    # The names users see: `input`, `logits`, and a batch dimension called `batch`.
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.shape, out.name, out.shape) == ("input", ["batch", 3, 32, 32],
                                                          "logits", ["batch", 10])
    model = archcompiler.build_module("resnet20", seed=3).eval()
    for batch in (2, 5):
        x = torch.randn(batch, 3, 32, 32)
        got = session.run(None, {"input": x.numpy()})[0]
        with torch.no_grad():
            assert torch.allclose(torch.from_numpy(got), model(x), atol=1e-4, rtol=1e-4)


@needs_exporter
def test_check_is_skipped_without_onnxruntime(exported: tuple[Path, str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    report = archcompiler.analyze("resnet20")
    result = onnx_backend.check_onnx(exported[0].read_bytes(),
                                     archcompiler.build_module(report, seed=3), report)
    assert not result.ok and result.skipped is not None and "onnxruntime" in result.skipped


@needs_runtime
def test_a_disagreeing_model_is_not_written(exported: tuple[Path, str], tmp_path: Path,
                                            capsys: Capsys, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    data = exported[0].read_bytes()
    monkeypatch.setattr(onnx_backend, "onnx_bytes", lambda model, report: data)
    out = tmp_path / "x.onnx"
    # Weights other than the exported ones (seed 4, not 3): onnxruntime and torch disagree.
    assert main(["build", "resnet20", "-o", str(out), "--seed", "4"]) == 1
    assert "check: FAILED: the ONNX outputs differ" in capsys.readouterr().out
    assert not out.exists()


def test_missing_exporter_is_a_clear_error(tmp_path: Path, capsys: Capsys,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    out = tmp_path / "x.onnx"
    assert main(["build", "resnet20", "-o", str(out), "--format", "onnx"]) == 2
    err = capsys.readouterr().err
    assert "archcompiler[onnx]" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@needs_runtime
def test_the_check_compares_fp32_models_only(exported: tuple[Path, str]) -> None:
    report = archcompiler.analyze("resnet20")
    model = archcompiler.build_module(report, seed=3).half()
    result = onnx_backend.check_onnx(exported[0].read_bytes(), model, report)
    assert result.skipped is not None and "fp32" in result.skipped and not result.ok

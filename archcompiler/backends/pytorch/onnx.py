"""ONNX export with a dynamic batch, checked against torch with onnxruntime when it is installed.

Both are optional (the `onnx` extra): torch.onnx needs `onnx` and `onnxscript` to export, and
the check needs `onnxruntime`. The model is exported from the same `torch.export` program as
`archc build --format exported`, so both formats share one trace and one dynamic batch.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...analysis.report import Report
from ...core.fileio import atomic_write_bytes
from .check import export_program

__all__ = ["INSTALL_HINT", "OnnxCheck", "OnnxUnavailableError", "check_onnx", "export_onnx"]

INSTALL_HINT = "pip install 'archcompiler[onnx]' (onnx, onnxscript and onnxruntime)"
CHECK_BATCHES = (1, 3)  # two sizes, so the dynamic batch is exercised, not just the traced one
_MAX_PROTO = 2**31 - 1  # protobuf's limit on one serialised ONNX file


class OnnxUnavailableError(ImportError):
    """The ONNX exporter's packages are not installed."""


@dataclass(frozen=True)
class OnnxCheck:
    """The ONNX model's outputs against torch's, per batch size (None when not run)."""

    max_abs_diff: float | None
    tolerance: float
    batches: tuple[int, ...]
    skipped: str | None = None  # why the check did not run

    @property
    def ok(self) -> bool:
        """True when the check ran and every output was within the tolerance."""
        return self.max_abs_diff is not None and self.max_abs_diff <= self.tolerance


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hold back the exporter's progress lines, warnings and log records: the CLI reports."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "onnxscript")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


@contextlib.contextmanager
def _full_fp32() -> Iterator[None]:
    """Run CUDA convs and matmuls in full fp32: TF32 (on for convs by default) differs from
    onnxruntime's fp32 by about 1e-3, which would read as a wrong export."""
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    with warnings.catch_warnings():  # newer torch prefers fp32_precision and says so
        warnings.simplefilter("ignore")
        saved = (matmul.allow_tf32, cudnn.allow_tf32)
        try:
            matmul.allow_tf32 = cudnn.allow_tf32 = False
            yield
        finally:
            matmul.allow_tf32, cudnn.allow_tf32 = saved


def onnx_bytes(model: nn.Module, report: Report) -> bytes:
    """Export `model` (in eval mode, batch dynamic) and return the serialised ONNX model."""
    try:
        import onnx  # noqa: F401  (torch.onnx needs both; fail with one clear message)
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise OnnxUnavailableError(f"ONNX export needs {exc.name}: {INSTALL_HINT}") from None
    param = next(model.parameters(), None)
    if param is not None and param.device.type != "cpu":
        # torch.export guards a CUDA batch at 65,535 (a grid limit) against the 65,536 of
        # export_program's dynamic batch, so an accelerator's module is exported from a CPU copy.
        model = copy.deepcopy(model).cpu()
    with _quiet():
        program = export_program(model, report)
        exported = torch.onnx.export(program, dynamo=True, verbose=False)
    if exported is None:  # only the legacy exporter returns nothing
        raise RuntimeError("torch.onnx.export returned no program")
    _name_interface(exported.model.graph)
    proto = exported.model_proto
    if proto.ByteSize() > _MAX_PROTO:
        raise ValueError(f"{report.spec.name} has {report.params:,} params, over the 2 GB that "
                         "one ONNX file can hold")
    return bytes(proto.SerializeToString())


def _name_interface(graph: Any) -> None:
    """Name what users see: the input `input`, the output `logits`, and the dynamic batch
    dimension `batch` everywhere (the exporter names them `x`, `linear` and a symbol `s77`)."""
    import onnx_ir as ir

    batch = graph.inputs[0].shape[0] if graph.inputs and graph.inputs[0].shape else None
    values = [*graph.inputs, *graph.outputs, *(v for node in graph for v in node.outputs)]
    for value in values:
        if value.shape is not None and batch is not None and any(d == batch for d in value.shape):
            value.shape = ir.Shape(["batch" if d == batch else d for d in value.shape])
    graph.inputs[0].name = "input"
    graph.outputs[0].name = "logits"


def check_onnx(data: bytes, model: nn.Module, report: Report, tolerance: float = 1e-4
               ) -> OnnxCheck:
    """Run the ONNX model in onnxruntime at two batch sizes and compare with torch's outputs.

    The tolerance is relative to the largest output magnitude (at least 1): kernels differ in
    summation order, so fp32 outputs agree to about 1e-6, not bit for bit.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        return OnnxCheck(None, tolerance, (), f"onnxruntime is not installed ({INSTALL_HINT})")
    param = next(model.parameters())
    if param.dtype != torch.float32:
        return OnnxCheck(None, tolerance, (), f"the check compares fp32 models (this is {param.dtype})")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    model.eval()
    worst = 0.0
    generator = torch.Generator().manual_seed(0)
    for batch in CHECK_BATCHES:
        x = torch.randn(batch, *report.input_shape, generator=generator)
        with torch.no_grad(), _full_fp32():
            want = model(x.to(param.device)).cpu()
        got = torch.from_numpy(session.run(None, {name: x.numpy()})[0])
        scale = max(1.0, float(want.abs().max()))
        worst = max(worst, float((got - want).abs().max()) / scale)
    return OnnxCheck(worst, tolerance, CHECK_BATCHES)


def export_onnx(model: nn.Module, report: Report, path: Path) -> OnnxCheck:
    """Export to `path` atomically and check the file with onnxruntime where it is installed."""
    data = onnx_bytes(model, report)
    result = check_onnx(data, model, report)
    if result.skipped is None and not result.ok:
        return result  # the caller reports it; a model that disagrees with torch is not written
    atomic_write_bytes(path, data)
    return result

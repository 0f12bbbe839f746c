"""`archc build`: compile a spec to a state_dict, an exported program or ONNX, written atomically."""

from __future__ import annotations

import io
import sys
from pathlib import Path

# The backend's package first: it silences torch's import-time NumPy warning before torch loads.
from ..backends import pytorch as _backend  # noqa: F401

# isort: split
import torch
from torch import nn

from ..analysis.report import Report
from ..backends.pytorch.build import module_from_report
from ..backends.pytorch.check import check_shapes, export_program
from ..backends.pytorch.weights import READ_CODE, WeightsError, load_weights
from ..core.diagnostics import SpecError, format_text
from ..core.fileio import atomic_write_bytes
from ..core.limits import DEFAULT_LIMITS, Limits
from .codes import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from .common import UsageError
from .term import use_color


def run_build(report: Report, output: Path, fmt: str, check: bool, seed: int,
              limits: Limits = DEFAULT_LIMITS, weights: Path | None = None) -> int:
    """Build the module, load weights and check it when asked, and save it; return the exit code."""
    try:
        model = module_from_report(report, seed=seed, limits=limits)
    except SpecError as exc:  # a resource bound: refused before anything was allocated
        print(format_text(exc.diagnostics, exc.sources, use_color()), file=sys.stderr)
        print(f"refused: {report.spec.name}: nothing was built or written")
        return EXIT_SPEC
    if weights is not None:
        try:
            load_weights(model, report, weights, limits)
        except WeightsError as exc:
            print(format_text(exc.diagnostics, exc.sources, use_color()), file=sys.stderr)
            print(f"refused: {weights} does not load into {report.spec.name}: nothing was "
                  "written")
            # An unreadable file is an I/O problem; keys that do not fit are the spec's.
            unreadable = any(d.code == READ_CODE for d in exc.diagnostics)
            return EXIT_USAGE if unreadable else EXIT_SPEC
    if check:
        result = check_shapes(model, report)
        c, h, w = report.input_shape
        if not result.ok:
            for line in result.mismatches[:20]:
                print(f"  {line}", file=sys.stderr)
            print(f"check: FAILED: {len(result.mismatches)} of {result.checked} node shapes "
                  f"differ from the analysis (input 2x{c}x{h}x{w})")
            return EXIT_SPEC
        print(f"check: ok: {result.checked} node shapes match the analysis (input 2x{c}x{h}x{w})")
    if fmt == "onnx":
        return _write_onnx(model, report, output, seed, weights)
    # Serialised in memory first: torch's zip writer turns an error or Ctrl-C in mid-write into a
    # RuntimeError, which would hide a full disk behind "internal error". The file write below
    # then fails with the real OSError or KeyboardInterrupt, atomically.
    buffer = io.BytesIO()
    if fmt == "state_dict":
        torch.save(model.state_dict(), buffer)
    elif fmt == "exported":
        torch.export.save(export_program(model, report), buffer)
    else:
        raise ValueError(f"unknown build format {fmt!r}")
    atomic_write_bytes(output, buffer.getvalue())
    size = output.stat().st_size
    c, h, w = report.input_shape
    # An exported program is traced: say what it was traced for, so its limits are no surprise.
    traced = f" (eval mode, input Nx{c}x{h}x{w}, N dynamic)" if fmt == "exported" else ""
    print(f"wrote {output}: {report.spec.name} as {fmt}{traced}, {report.params:,} params, "
          f"{_origin(seed, weights)}, {size / 1e6:.1f} MB")
    return EXIT_OK


def _origin(seed: int, weights: Path | None) -> str:
    return f"weights from {weights}" if weights is not None else f"seed {seed}"


def _write_onnx(model: nn.Module, report: Report, output: Path, seed: int,
                weights: Path | None) -> int:
    """Export to ONNX, check it with onnxruntime where installed, and say what was checked."""
    from ..backends.pytorch.onnx import OnnxUnavailableError, export_onnx

    try:
        result = export_onnx(model, report, output)
    except OnnxUnavailableError as exc:
        raise UsageError(str(exc)) from None
    c, h, w = report.input_shape
    if result.skipped is not None:
        checked = f"not checked: {result.skipped}"
    elif not result.ok:
        print(f"check: FAILED: the ONNX outputs differ from torch's by {result.max_abs_diff:.2e} "
              f"(relative), over {result.tolerance:.0e}; nothing was written")
        return EXIT_SPEC
    else:
        checked = (f"onnxruntime matches torch to {result.max_abs_diff:.1e} at batch "
                   f"{' and '.join(map(str, result.batches))}")
    print(f"wrote {output}: {report.spec.name} as onnx (eval mode, input Nx{c}x{h}x{w}, N "
          f"dynamic), {report.params:,} params, {_origin(seed, weights)}, "
          f"{output.stat().st_size / 1e6:.1f} MB; {checked}")
    return EXIT_OK

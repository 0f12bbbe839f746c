"""`archc build`: compile a spec to a state_dict or an exported program, written atomically."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import torch

from ..analysis.report import Report
from ..backends.pytorch.build import module_from_report
from ..backends.pytorch.check import check_shapes, export_program
from ..core.diagnostics import SpecError, format_text
from ..core.fileio import atomic_write
from ..core.limits import DEFAULT_LIMITS, Limits
from .codes import EXIT_OK, EXIT_SPEC


def run_build(report: Report, output: Path, fmt: str, check: bool, seed: int,
              limits: Limits = DEFAULT_LIMITS) -> int:
    """Build the module, check it when asked, and save it; return the exit code."""
    try:
        model = module_from_report(report, seed=seed, limits=limits)
    except SpecError as exc:  # a resource bound: refused before anything was allocated
        print(format_text(exc.diagnostics, exc.sources, sys.stderr.isatty()), file=sys.stderr)
        print(f"refused: {report.spec.name}: nothing was built or written")
        return EXIT_SPEC
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
    write: Callable[[IO[bytes]], None]
    if fmt == "state_dict":
        state = model.state_dict()
        write = lambda f: torch.save(state, f)  # noqa: E731
    elif fmt == "exported":
        program = export_program(model, report)
        write = lambda f: torch.export.save(program, f)  # noqa: E731
    else:
        raise ValueError(f"unknown build format {fmt!r}")
    atomic_write(output, write)
    size = output.stat().st_size
    c, h, w = report.input_shape
    # An exported program is traced: say what it was traced for, so its limits are no surprise.
    traced = f" (eval mode, input Nx{c}x{h}x{w}, N dynamic)" if fmt == "exported" else ""
    print(f"wrote {output}: {report.spec.name} as {fmt}{traced}, {report.params:,} params, "
          f"seed {seed}, {size / 1e6:.1f} MB")
    return EXIT_OK

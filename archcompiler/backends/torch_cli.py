"""`archc build`: compile a spec to a state_dict or an exported program, written atomically."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import torch

from ..analysis import Report
from .torch_backend import check_shapes, export_program, module_from_report

EXIT_OK, EXIT_MISMATCH = 0, 1


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` through a temporary file in the same folder, then rename it into place.

    A crash or an exception leaves either the old file or none, never a partial one.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide the mode, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def run_build(report: Report, output: Path, fmt: str, check: bool, seed: int) -> int:
    """Build the module, check it when asked, and save it; return the exit code."""
    model = module_from_report(report, seed=seed)
    if check:
        result = check_shapes(model, report)
        c, h, w = report.input_shape
        if not result.ok:
            for line in result.mismatches[:20]:
                print(f"  {line}", file=sys.stderr)
            print(f"check: FAILED: {len(result.mismatches)} of {result.checked} node shapes "
                  f"differ from the analysis (input 2x{c}x{h}x{w})")
            return EXIT_MISMATCH
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
    print(f"wrote {output}: {report.spec.name} as {fmt}, {report.params:,} params, "
          f"seed {seed}, {size / 1e6:.1f} MB")
    return EXIT_OK

"""The ConvNeXt roadmap table of docs/convnext_roadmap.md: each step's params and MACs beside
the paper's GFLOPs, and (where fvcore is installed) fvcore's count of the same built module.

Run: `.venv-ref/bin/python scripts/roadmap_table.py` (fvcore in the comparison venv), or with
.venv for the params and MACs alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import archcompiler

ROOT = Path(__file__).resolve().parent.parent / "archcompiler" / "specs" / "convnext_roadmap"
# Liu et al. 2022, Table 10 (the ResNet-50 regime), one figure per step, in GFLOPs (fvcore).
PAPER = [4.09, 4.53, 4.42, 2.35, 5.27, 4.64, 4.07, 4.15, 4.15, 4.15, 4.15, 4.46, 4.49]


def _fvcore(path: Path) -> tuple[float, dict[str, float]] | None:
    """fvcore's total for the built module (G), and its totals by operator, or None."""
    try:
        import torch
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        return None
    model = archcompiler.build_module(path).eval()
    flops = FlopCountAnalysis(model, torch.zeros(1, 3, 224, 224))
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    return flops.total() / 1e9, {k: v / 1e9 for k, v in flops.by_operator().items()}


def main() -> int:
    """Print the table as Markdown rows."""
    steps = sorted(ROOT.glob("[0-9][0-9]_*.yaml"))
    print("| step | spec | params | MACs (G) | paper (G) | ours - paper | fvcore of ours (G) | "
          "fvcore's non-conv/linear part |")
    print("|---|---|---|---|---|---|---|---|")
    for i, (path, paper) in enumerate(zip(steps, PAPER), 1):
        report = archcompiler.analyze(path)
        macs = report.macs / 1e9
        fv = _fvcore(path)
        shown = extra = "-"
        if fv is not None:
            total, by_op = fv
            others = {k: v for k, v in by_op.items() if k not in ("conv", "linear") and v}
            shown = f"{total:.3f}"
            extra = ", ".join(f"{k} {v:.3f}" for k, v in sorted(others.items())) or "none"
        print(f"| {i} | `{path.name}` | {report.params:,} | {macs:.3f} | {paper:.2f} | "
              f"{macs - paper:+.3f} | {shown} | {extra} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

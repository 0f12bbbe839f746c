"""`archc table`: the paper's Table 1 (He et al. 2015), checked cell by cell against the paper."""

from __future__ import annotations

import pytest

from archcompiler.cli import main
from tests.conftest import ROOT

SPECS = ["resnet18", "resnet34", "resnet50_v1", "resnet101_v1", "resnet152_v1"]
# Typed from the paper's Table 1: (layer name, output size, one cell per net).
PAPER = [
    ("conv1", "112×112", ["7×7, 64, stride 2"] * 5),
    ("conv2_x", "56×56", ["3×3 max pool, stride 2"] * 5),
    ("", "", ["[3×3, 64; 3×3, 64] ×2", "[3×3, 64; 3×3, 64] ×3",
              "[1×1, 64; 3×3, 64; 1×1, 256] ×3", "[1×1, 64; 3×3, 64; 1×1, 256] ×3",
              "[1×1, 64; 3×3, 64; 1×1, 256] ×3"]),
    ("conv3_x", "28×28", ["[3×3, 128; 3×3, 128] ×2", "[3×3, 128; 3×3, 128] ×4",
                          "[1×1, 128; 3×3, 128; 1×1, 512] ×4",
                          "[1×1, 128; 3×3, 128; 1×1, 512] ×4",
                          "[1×1, 128; 3×3, 128; 1×1, 512] ×8"]),
    ("conv4_x", "14×14", ["[3×3, 256; 3×3, 256] ×2", "[3×3, 256; 3×3, 256] ×6",
                          "[1×1, 256; 3×3, 256; 1×1, 1024] ×6",
                          "[1×1, 256; 3×3, 256; 1×1, 1024] ×23",
                          "[1×1, 256; 3×3, 256; 1×1, 1024] ×36"]),
    ("conv5_x", "7×7", ["[3×3, 512; 3×3, 512] ×2", "[3×3, 512; 3×3, 512] ×3"]
     + ["[1×1, 512; 3×3, 512; 1×1, 2048] ×3"] * 3),
    ("", "1×1", ["average pool, 1000-d fc, softmax"] * 5),
]
PAPER_FLOPS = [1.8, 3.6, 3.8, 7.6, 11.3]  # ×10^9


def test_table_matches_the_papers_table_1() -> None:
    """Every output size and bracket as the paper prints it; FLOPs within the paper's rounding
    (it prints one decimal, rounded unevenly: 3.66 as 3.6 but 7.57 as 7.6)."""
    import archcompiler
    from archcompiler.backends.paper_table import paper_table

    table = paper_table([archcompiler.analyze(n) for n in SPECS])
    assert [(n, s, list(c)) for n, s, c in table.rows] == PAPER
    for got, want in zip(table.flops, PAPER_FLOPS):
        assert abs(got / 1e9 - want) < 0.07, (got, want)


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each format prints every bracket and the FLOPs row."""
    assert main(["table", *SPECS, "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "FLOPs" in out and "11.28" in out
    if fmt == "latex":
        assert r"\begin{tabular}" in out and r"$\times$36" in out
    else:
        assert "[1×1, 256; 3×3, 256; 1×1, 1024] ×36" in out


def test_docs_hold_the_current_output(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/paper.md shows the table as `archc table` prints it now."""
    assert main(["table", *SPECS, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.strip() in (ROOT / "docs/paper.md").read_text(encoding="utf-8")


def test_unknown_spec_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing spec: exit 2, no traceback."""
    assert main(["table", "resnet18", "no_such_spec"]) == 2
    assert "Traceback" not in capsys.readouterr().err

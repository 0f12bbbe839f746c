"""`archc render A B C`: specs side by side, aligned by map size, as the paper's Figure 3."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archcompiler
from archcompiler.backends.render.figure import boxes, figure_dot
from archcompiler.cli import main


def test_figure3_columns_alignment_and_stage_edges() -> None:
    """Three columns with their MACs; every map change labelled with sizes and channels; the
    first box of each map size shares a rank with that size's anchor."""
    reports = [archcompiler.analyze(n) for n in ("vgg19", "plain34", "resnet34")]
    text = figure_dot(reports)
    assert "19.63 billion MACs" in text and "3.64 billion MACs" in text
    assert "3.66 billion MACs" in text
    # resnet34's and plain34's rule (ii) transitions, each on its stage edge.
    for label in ("56→28, 64→128", "28→14, 128→256", "14→7, 256→512"):
        assert text.count(label) == 2, label
    assert "28→14, 512→512" in text  # where VGG keeps its width (it breaks rule ii there)
    for size in (112, 56, 28, 14, 7):
        ranked = re.search(rf"\{{rank=same; size_{size}; ([^}}]*)\}}", text)
        assert ranked is not None and len(ranked.group(1).split("; ")) == 3, size
    assert "INVALID" not in text
    # The drawn layers: 16 convs + 5 pools + 3 fc for VGG-19; 34 + 2 pools for the others.
    assert len(boxes(reports[0])) == 24 and len(boxes(reports[2])) == 36


def test_invalid_spec_is_titled_and_its_messages_stand_beside_red_boxes(tmp_path: Path) -> None:
    """A spec with errors: its title says so, and each message is a note beside its red box."""
    from archcompiler.language.load import resolve

    res = resolve("resnet34", overrides=["stages.strides=[4,2,2,2]"])
    assert res.spec is not None
    text = figure_dot([archcompiler.analyze(res.spec)])
    assert "INVALID: 1 error" in text
    flagged = re.findall(r"(s0_\d+) \[label=\"3x3 conv, 64, /4\".*?color=\"red\"", text)
    assert flagged, text[:500]
    assert f"{flagged[0]}_msg" in text and "ARC302: layer1 shrinks the map" in text


def test_cli_renders_several_specs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`archc render vgg19 plain34 resnet34 -o figure3.dot`; --watch needs one spec."""
    out = tmp_path / "figure3.dot"
    assert main(["render", "vgg19", "plain34", "resnet34", "-o", str(out)]) == 0
    assert "3 specs side by side" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("digraph figure")
    assert main(["render", "resnet18", "resnet34", "-o", str(tmp_path / "x.html")]) == 2
    assert main(["render", "resnet18", "resnet34", "--watch", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--watch follows one spec" in err

"""Summary output: golden tables and JSON records, regenerated only with ARCHC_REGEN_GOLDEN=1."""

from __future__ import annotations

import json

import pytest

import archcompiler
from archcompiler.report.summary import format_json, format_text, rows
from tests.conftest import GOLDEN, assert_golden


@pytest.mark.parametrize(("spec", "depth"), [("resnet18", "stage"), ("resnet50", "stage"),
                                             ("resnet20", "block"), ("resnet18", "layer")])
def test_golden_summary_table(spec: str, depth: str) -> None:
    text = format_text(archcompiler.analyze(spec), depth) + "\n"
    assert_golden(GOLDEN / f"summary_{spec}_{depth}.txt", text)


def test_golden_summary_json() -> None:
    assert_golden(GOLDEN / "summary_resnet20.json", format_json(archcompiler.analyze("resnet20")) + "\n")


@pytest.mark.parametrize("depth", ["stage", "block", "layer"])
def test_rows_add_up_to_the_totals(depth: str) -> None:
    report = archcompiler.analyze("resnet50")
    table = rows(report, depth)
    assert sum(r.params for r in table) == report.params
    assert sum(r.macs for r in table) == report.macs


def test_json_record_per_node() -> None:
    data = json.loads(format_json(archcompiler.analyze("resnet18", (3, 160, 160))))
    assert data["input_shape"] == [3, 160, 160] and data["output_shape"] == [1000]
    fc = next(n for n in data["nodes"] if n["name"] == "fc")
    assert fc == {"name": "fc", "op": "linear", "output_shape": [1000], "params": 513_000,
                  "macs": 512_000}
    assert sum(n["macs"] for n in data["nodes"]) == data["macs"]


def test_the_summary_is_data() -> None:
    """archcompiler.summary gives typed rows; the report's to_dict is what --json prints."""
    import json

    from archcompiler import Row, analyze, summary
    from archcompiler.report.summary import format_json

    rows = summary("resnet18", depth="stage")
    assert all(isinstance(r, Row) for r in rows)
    assert [r.name for r in rows] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert rows[2].shape == (128, 28, 28) and sum(r.params for r in rows) == 11_689_512
    report = analyze("resnet18")
    assert json.loads(report.to_json("block")) == report.to_dict("block")
    assert json.loads(format_json(report, "block")) == report.to_dict("block")

"""Sweep objectives: ranking, Pareto fronts over a named pair, derived names, --jobs, errors."""

from __future__ import annotations

import json

import pytest

import archcompiler
from archcompiler.explore.objectives import (
    Objective,
    mark_front,
    parse_objective,
    parse_pair,
    rank,
    variant_name,
)
from archcompiler.explore.sweep import SweepRow
from tests.conftest import run_cli

Capsys = pytest.CaptureFixture[str]
GRID = ["--grid", "stages.depths=[3,3,3],[5,5,5],[7,7,7],[9,9,9],[18,18,18],[3,3,5]",
        "--grid", "stages.widths=[16,32,64],[32,64,128]"]



def row(i: int, params: int, macs: int, depth: int, stages: tuple[int, ...] = (16,)) -> SweepRow:
    return SweepRow(i, {}, f"n{i}", params, macs, depth, stages=stages)


def test_the_deepest_under_a_budget(capsys: Capsys) -> None:
    """The issue's question: the deepest CIFAR net under 1M params. Golden figures are the
    CIFAR ResNets of He et al. (2016), Table 6: ResNet-56 has 0.85M params, ResNet-110 1.7M."""
    rc, out, err = run_cli(capsys, "sweep", "resnet20", *GRID, "--max-params", "1M",
                       "--maximize", "depth", "--json")
    assert rc == 0, err
    rows = json.loads(out)
    assert rows[0]["name"] == "resnet56-d9.9.9-w16.32.64" and rows[0]["depth"] == 56
    assert round(rows[0]["params"] / 1e6, 2) == 0.85
    assert [r["depth"] for r in rows] == sorted((r["depth"] for r in rows), reverse=True)
    assert all(r["params"] <= 1_000_000 for r in rows)
    assert not any("ARC306" in r["warnings"] for r in rows)
    assert "maximum depth: 56, reached by 1 variant" in err
    # the front over (max depth, min params): the cheapest net at each depth that beats all
    # shallower ones, here the 16-wide nets
    assert {r["name"] for r in rows if r["pareto"]} == {
        "resnet56-d9.9.9-w16.32.64", "resnet44-d7.7.7-w16.32.64", "resnet32-d5.5.5-w16.32.64",
        "resnet24-d3.3.5-w16.32.64", "resnet20-d3.3.3-w16.32.64"}


def test_minimize_and_a_stage_width(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", *GRID, "--minimize", "macs", "--json")
    rows = json.loads(out)
    assert rc == 0 and [r["macs"] for r in rows] == sorted(r["macs"] for r in rows)
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", *GRID, "--maximize", "stage2", "--json")
    rows = json.loads(out)
    assert rc == 0 and rows[0]["stage_channels"][1] == 64 and rows[-1]["stage_channels"][1] == 32


def test_front_over_the_named_pair() -> None:
    rows = [row(1, 10, 50, 20), row(2, 20, 20, 32), row(3, 30, 10, 32), row(4, 40, 40, 56)]
    by_cost = mark_front(rows, parse_pair("params,macs"))
    assert [r.index for r in by_cost if r.pareto] == [1, 2, 3]
    by_depth = mark_front(rows, parse_pair("depth:max,params"))
    assert [r.index for r in by_depth if r.pareto] == [1, 2, 4]
    assert [r.index for r in rank(rows, Objective("depth", "max"))] == [4, 2, 3, 1]


@pytest.mark.parametrize("text, fix", [("stage0", "stageN"), ("speed", "one of params"),
                                       ("", "one of params")])
def test_bad_objective(text: str, fix: str) -> None:
    with pytest.raises(ValueError, match=fix):
        parse_objective(text, "max", "--maximize")


@pytest.mark.parametrize("text", ["depth", "depth,depth", "depth:up,params", ",", "a,b"])
def test_bad_pair(text: str) -> None:
    with pytest.raises(ValueError, match="--pareto"):
        parse_pair(text)


@pytest.mark.parametrize("argv", [["--maximize", "speed"], ["--pareto", "depth"],
                                  ["--jobs", "0"], ["--minimize", "stage0"]])
def test_bad_options_name_the_argument(capsys: Capsys, argv: list[str]) -> None:
    rc, _, err = run_cli(capsys, "sweep", "resnet20", *GRID, *argv)
    assert rc == 2 and argv[0] in err and "Traceback" not in err


def test_names() -> None:
    keys = ["stages.depths", "stages.widths"]
    values = {"stages.depths": [3, 3, 5], "stages.widths": [32, 64, 128]}
    assert variant_name("resnet20", values, keys, 24, 7) == "resnet24-d3.3.5-w32.64.128"
    assert variant_name("mynet", values, keys[:1], 24, 7) == "mynet-d3.3.5"
    assert variant_name("resnet20", {"x": "a b/../c"}, ["x"], 20, 3) == "resnet20-xa_b_.._c"
    assert variant_name("resnet20", values, [], 24, 3) == "resnet24-v3"
    long = variant_name("resnet20", {"k": list(range(60))}, ["k"], 20, 9)
    assert long == "resnet20-v9"


def test_jobs_give_the_same_rows(capsys: Capsys) -> None:
    grid = ["--grid", "stages.depths=" + ",".join(f"[{a},{b},2]" for a in range(1, 13)
                                                   for b in range(1, 12))]
    rc, one, _ = run_cli(capsys, "sweep", "resnet20", *grid, "--json")
    rc2, two, _ = run_cli(capsys, "sweep", "resnet20", *grid, "--json", "--jobs", "2")
    assert rc == rc2 == 0 and json.loads(one) == json.loads(two)
    assert len(json.loads(one)) == 132
    first = json.loads(one)[0]
    ref = archcompiler.analyze("resnet20", overrides=first["overrides"])
    assert (first["params"], first["macs"]) == (ref.params, ref.macs)


def test_plot_draws_the_budget(tmp_path: object, capsys: Capsys) -> None:
    pytest.importorskip("matplotlib")
    from pathlib import Path

    path = Path(str(tmp_path)) / "s.svg"
    rc, _, err = run_cli(capsys, "sweep", "resnet20", *GRID, "--max-params", "1M",
                     "--maximize", "depth", "--plot", str(path))
    assert rc == 0, err
    svg = path.read_text(encoding="utf-8")
    assert "--max-params 1M" in svg or "max-params" in svg
    assert "10^{-1}" not in svg and "×10" not in svg

"""`archc sweep` and explore/sweep.py: grids, filters, output formats, variant files, plots."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

import archcompiler
from archcompiler.cli import UsageError, main
from archcompiler.cli import sweep as cli_sweep
from archcompiler.cli.sweep import parse_grid, split_values
from archcompiler.explore.sweep import SweepRow, mark_pareto, variant_mapping, weighted_depth
from tests.conftest import run_cli, write_spec

Capsys = pytest.CaptureFixture[str]
DEPTHS = ["--grid", "stages.depths=[1,1,1],[2,2,2],[3,3,3]"]



# The grid


@pytest.mark.parametrize(("text", "values"), [
    ("1,2,3", ["1", "2", "3"]),
    ("[2,2,2,2],[3,4,6,3]", ["[2,2,2,2]", "[3,4,6,3]"]),
    ("{type: basic}, {type: bottleneck, groups: 2}", ["{type: basic}",
                                                       "{type: bottleneck, groups: 2}"]),
    ("'a,b',\"c,d\",e", ["'a,b'", '"c,d"', "e"]),
    ("[[1, 2], [3]],null", ["[[1, 2], [3]]", "null"]),
    ("7", ["7"]),
])
def test_split_values_at_bracket_depth_0(text: str, values: list[str]) -> None:
    assert split_values(text) == values


@pytest.mark.parametrize(("text", "message"), [
    ("[1,2", "unclosed bracket"), ("1]", "closes nothing"), ("'a,b", "unclosed quote"),
    ("1,,2", "empty value"), ("1,2,", "empty value"), ("", "empty value"),
])
def test_split_values_refuses_malformed_lists(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        split_values(text)


@pytest.mark.parametrize(("grid", "message"), [
    ([], "at least one --grid"),
    (["stages.depths"], "write KEY=V1,V2"),
    (["=1,2"], "write KEY=V1,V2"),
    (["head.classes=1,2", "head.classes=3"], "given twice"),
])
def test_parse_grid_refuses(grid: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_grid(grid)


def test_parse_grid_bounds_the_variant_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_sweep, "MAX_VARIANTS", 5)
    with pytest.raises(UsageError, match="the grid has 6 variants"):
        parse_grid(["head.classes=1,2,3", "head.dropout=0.0,0.5"])


@pytest.mark.parametrize(("argv", "message"), [
    (["sweep", "resnet20"], "at least one --grid"),
    (["sweep", "resnet20", "--grid", "stages.depths=[1,1,1],[2,2"], "unclosed bracket"),
    (["sweep", "resnet20", "--grid", "head.classes=10,a: b: c"], "not a spec value"),
    (["sweep", "resnet20", "--grid", "head.classes=10,!!python/name:os.system"], "ARC007"),
    (["sweep", "resnet20", "--grid", "stages.depth=[1,1,1]"], "does not have"),
    (["sweep", "resnet20", "--grid", "stages.depths.7=1,2"], "does not have"),
    (["sweep", "no_such_base", "--grid", "head.classes=1,2"], "ARC012"),
    (["sweep", "resnet20", "--grid", "head.classes=1,2", "--plot", "x.jpg"], "ending in .png"),
    (["sweep", "resnet20", "--grid", "head.classes=1,2", "--input", "32x32x3"], "3x32x32"),
])
def test_malformed_sweeps_are_usage_errors(argv: list[str], message: str, capsys: Capsys,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2 and message in err and out == ""
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


def test_an_unknown_grid_key_is_shown_where_it_was_given(capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "sweep", "resnet20", "--grid", "stages.depth=[1,1,1],[2,2,2]")
    assert rc == 2
    assert "<--grid stages.depth=[1,1,1]>:1:8: error[ARC101]" in err
    assert "did you mean 'depths'?" in err


# Rows


def test_sweep_rows_match_analyze(capsys: Capsys) -> None:
    rc, out, err = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--grid",
                       "stages.widths.base=16,32", "--json")
    assert rc == 0 and "sweep: 6 variants of resnet20" in err
    rows = json.loads(out)
    assert [r["variant"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["overrides"] == {"stages.depths": [1, 1, 1], "stages.widths.base": 16}
    for r in rows:
        ov = r["overrides"]
        ref = archcompiler.analyze("resnet20", overrides=ov)
        assert (r["params"], r["macs"]) == (ref.params, ref.macs)
        assert r["depth"] == 6 * ov["stages.depths"][0] + 2  # CIFAR ResNets have 6n+2 layers
    # Each variant is named for its counted depth and the values that vary, so ARC306 (the name
    # says the depth) holds for every row; the base's own name would fail it for five of six.
    assert [r["name"] for r in rows] == [
        "resnet8-d1.1.1-b16", "resnet8-d1.1.1-b32", "resnet14-d2.2.2-b16",
        "resnet14-d2.2.2-b32", "resnet20-d3.3.3-b16", "resnet20-d3.3.3-b32"]
    assert all("ARC306" not in r["warnings"] for r in rows)
    for r in rows:
        named = archcompiler.analyze("resnet20", overrides={**r["overrides"], "name": r["name"]})
        assert "ARC306" not in {d.code for d in named.diagnostics}
    assert [r["pareto"] for r in rows] == [True, False, False, False, False, False]


def test_sweep_table_and_csv(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", *DEPTHS)
    assert rc == 0
    header, _, *body = out.splitlines()
    assert header.split() == ["name", "stages.depths", "params", "MACs", "depth", "errors",
                              "warnings"]
    assert len(body) == 3 and body[0].split()[:4] == ["resnet8-d1.1.1", "[1,", "1,", "1]"]
    assert body[0].endswith("*")
    assert "269,722" in body[2]
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--csv")
    records = list(csv.DictReader(io.StringIO(out)))
    assert [r["stages.depths"] for r in records] == ["[1, 1, 1]", "[2, 2, 2]", "[3, 3, 3]"]
    assert records[2]["params"] == "269722" and records[2]["depth"] == "20"


def test_set_applies_under_the_grid(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--set", "head.classes=100",
                     "--json")
    assert rc == 0
    want = archcompiler.analyze("resnet20", overrides=["head.classes=100"]).params
    assert json.loads(out)[2]["params"] == want


def test_variants_with_errors_are_rows(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", "--grid",
                     "stages.widths=[16,32,64],[16,16,64]", "--grid", "head.classes=10,0",
                     "--json")
    assert rc == 0
    rows = json.loads(out)
    assert rows[0]["errors"] == [] and rows[0]["pareto"]
    assert rows[1]["errors"] == ["ARC104"] and rows[1]["params"] is None  # did not resolve
    assert "ARC302" in rows[2]["errors"] and rows[2]["params"] is not None
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", "--grid",
                     "stages.widths=[16,32,64],[16,16,64]", "--grid", "head.classes=10,0",
                     "--valid-only", "--json")
    assert [r["variant"] for r in json.loads(out)] == [1]


def test_budget_filters(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--max-params", "200K", "--json")
    assert rc == 0 and [r["variant"] for r in json.loads(out)] == [1, 2]
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--max-macs", "0.02G", "--json")
    assert rc == 0 and [r["variant"] for r in json.loads(out)] == [1]


def test_depth_filter_compares_one_depth(capsys: Capsys) -> None:
    rc, out, _ = run_cli(capsys, "sweep", "resnet20", "--grid", "stages.depths.0=1,2,3",
                     "--grid", "stages.depths.1=1,2,3", "--depth", "16", "--json")
    assert rc == 0
    rows = json.loads(out)
    assert [r["overrides"] for r in rows] == [
        {"stages.depths.0": 1, "stages.depths.1": 3}, {"stages.depths.0": 2, "stages.depths.1": 2},
        {"stages.depths.0": 3, "stages.depths.1": 1}]
    assert len({r["macs"] for r in rows}) == 1  # rule (ii): every layer costs the same MACs
    assert [r["pareto"] for r in rows] == [False, False, True]  # the same MACs, fewest params
    rc, _, err = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--depth", "99")
    assert rc == 1 and "--depth 99 (the depths are 8 to 20)" in err


def test_filters_that_drop_everything(capsys: Capsys) -> None:
    rc, out, err = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--max-params", "10K")
    assert rc == 1 and out == ""
    assert "no variant is left" in err and "--max-params 10,000 (the smallest has 75,290)" in err


def test_max_params_is_a_budget_not_a_bound(capsys: Capsys) -> None:
    with pytest.raises(SystemExit):  # sweep takes no resource bounds: --max-memory is unknown
        main(["sweep", "resnet20", *DEPTHS, "--max-memory", "1G"])
    assert "unrecognized arguments: --max-memory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "resnet20", *DEPTHS, "--max-params", "lots"])
    assert "not a size" in capsys.readouterr().err


def test_weighted_depth_is_the_rule_count() -> None:
    assert weighted_depth(archcompiler.analyze("resnet50")) == 50
    assert weighted_depth(archcompiler.analyze("se_resnet50")) == 50  # SE convs are no layers
    assert weighted_depth(archcompiler.analyze("resnet50d")) == 50  # nor the deep stem's
    assert weighted_depth(archcompiler.analyze("plain110")) == 110


def test_pareto_front() -> None:
    def row(i: int, p: int, m: int, errors: tuple[str, ...] = ()) -> SweepRow:
        return SweepRow(i, {}, "x", p, m, 10, errors)

    rows = mark_pareto([row(1, 10, 50), row(2, 20, 20), row(3, 30, 10), row(4, 30, 30),
                        row(5, 5, 5, ("ARC302",)), row(6, 20, 20)])
    assert [r.index for r in rows if r.pareto] == [1, 2, 3]


# --write


def test_write_variants_that_extend_a_builtin(tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "variants"
    rc, _, err = run_cli(capsys, "sweep", "resnet50", "--grid", "stages.depths.2=6,9",
                     "--grid", "stages.block={type: basic},{type: bottleneck, groups: 2}",
                     "--write", str(out))
    assert rc == 0 and f"wrote 4 variant files to {out}" in err
    # Named for the counted depth and the values that vary, so that ARC306 holds:
    # stages.depths.2=9 makes resnet50 a resnet59. In grid order:
    names = ["resnet34-d2_6-bbasic.yaml", "resnet50-d2_6-bbottleneck_groups2.yaml",
             "resnet40-d2_9-bbasic.yaml", "resnet59-d2_9-bbottleneck_groups2.yaml"]
    assert sorted(f.name for f in out.iterdir()) == sorted(names)
    files = [out / n for n in names]
    text = files[0].read_text(encoding="utf-8")
    assert "extends: resnet50\n" in text and "name: resnet34-d2_6-bbasic\n" in text
    assert "block: {type: basic}" in text  # a new block type replaces the mapping
    assert "depths:" not in text  # stages.depths.2=6 is the base's value: nothing to write
    assert "depths: [3, 4, 9, 3]" in files[2].read_text(encoding="utf-8")  # the whole list
    for f, ov in zip(files, [["stages.depths.2=6", "stages.block={type: basic}"],
                             ["stages.depths.2=6", "stages.block={type: bottleneck, groups: 2}"],
                             ["stages.depths.2=9", "stages.block={type: basic}"],
                             ["stages.depths.2=9", "stages.block={type: bottleneck, groups: 2}"]]):
        assert archcompiler.analyze(f).params == archcompiler.analyze("resnet50",
                                                                       overrides=ov).params


def test_write_variants_of_a_file(tmp_path: Path, capsys: Capsys,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path, """
        extends: resnet20
        name: mynet
        head: {classes: 100}
    """, "base.yaml")
    (tmp_path / "out").mkdir()  # --write makes its folder, not the folders above it
    rc, _, err = run_cli(capsys, "sweep", "base.yaml", *DEPTHS, "--set", "head.dropout=0.1",
                     "--max-params", "200K", "--write", "out/v")
    assert rc == 0 and "--allow-outside" in err
    first, _ = sorted((tmp_path / "out" / "v").iterdir())
    text = first.read_text(encoding="utf-8")
    assert "extends: ../../base.yaml" in text and "dropout: 0.1" in text
    report = archcompiler.analyze(first, allow_outside=True)
    assert report.spec.name == "mynet-d1.1.1" and report.spec.classes == 100
    assert report.spec.dropout == 0.1


def test_write_refuses_a_file_as_the_folder(tmp_path: Path, capsys: Capsys) -> None:
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    rc, _, err = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--write", str(target))
    assert rc == 2 and "is a file" in err


def test_variant_mapping_is_minimal() -> None:
    base = {"a": 1, "s": {"block": {"type": "b", "x": 1}, "d": [1, 2], "w": 3}}
    assert variant_mapping(base, base) == {}
    assert variant_mapping(base, {"a": 1, "s": {"block": {"type": "b", "x": 2}, "d": [1, 2],
                                                "w": 3}}) == {"s": {"block": {"x": 2}}}
    assert variant_mapping(base, {"a": 1, "s": {"block": {"type": "c"}, "d": [1, 3]}}) == \
        {"s": {"block": {"type": "c"}, "d": [1, 3], "w": None}}


# --plot


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot(suffix: str, tmp_path: Path, capsys: Capsys) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / f"sweep{suffix}"
    rc, _, err = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--grid", "stages.widths.base=8,16",
                     "--plot", str(target))
    assert rc == 0 and f"wrote {target}" in err
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data[:2000]
    if suffix == ".svg":
        text = data.decode("utf-8")
        assert "resnet20" in text and "resnet32" in text  # the zoo of its family is labelled
        assert "resnet50" not in text  # an ImageNet net is not a CIFAR sweep's reference


def test_plot_without_matplotlib_is_a_clear_error(tmp_path: Path, capsys: Capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    rc, out, err = run_cli(capsys, "sweep", "resnet20", *DEPTHS, "--plot", str(tmp_path / "p.png"))
    assert rc == 2 and "archcompiler[plot]" in err and out == ""


# Progress


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    progress = cli_sweep.Progress(40)
    progress.update(40)
    progress.close()
    assert "\rsweep: 40/40 variants (100%)" in tty.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    quiet = cli_sweep.Progress(40)
    quiet.update(40)
    quiet.close()
    assert piped.getvalue() == ""

"""The render backend: golden DOT files, diagram structure, diagnostics, and the `dot` fallback.

Regenerate the golden files with `ARCHC_REGEN_GOLDEN=1 pytest tests/backends/render/test_render.py`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import archcompiler
from archcompiler import cli
from archcompiler.analysis.report import Report
from archcompiler.backends import render as rb
from archcompiler.backends.render.dot import html_escape, quote
from archcompiler.core.diagnostics import Diagnostic, Severity
from tests.conftest import GOLDEN, assert_golden, write_spec

HAS_DOT = shutil.which("dot") is not None

NODE = re.compile(r'^\s*"(?P<id>[^"]+)" \[(?P<attrs>.*)\]$')
EDGE = re.compile(r'^\s*"(?P<a>[^"]+)" -> "(?P<b>[^"]+)" \[(?P<attrs>.*)\]$')
ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|<.*?>(?=, \w+=|$))')


def attrs(text: str) -> dict[str, str]:
    """Parse a DOT attribute list as this backend writes it."""
    return {k: v[1:-1] if v.startswith('"') else v for k, v in ATTR.findall(text)}


def nodes(dot: str) -> dict[str, dict[str, str]]:
    """Every node statement of a DOT text, by id."""
    return {m["id"]: attrs(m["attrs"]) for line in dot.splitlines() if (m := NODE.match(line))}


def edges(dot: str) -> list[tuple[str, str, dict[str, str]]]:
    """Every edge statement of a DOT text."""
    return [(m["a"], m["b"], attrs(m["attrs"])) for line in dot.splitlines()
            if (m := EDGE.match(line))]


def r18_variant(name: str, body: str = "") -> str:
    """The text of a resnet18 variant named `name`, with `body` added."""
    return f"spec_version: 1\nextends: resnet18\nname: {name}\n{body}"


@pytest.fixture(scope="module")
def r18() -> Report:
    return archcompiler.analyze("resnet18")


# ---- golden files ---------------------------------------------------------------------------

@pytest.mark.parametrize("spec,detail", [("resnet18", "stage"), ("resnet18", "block"),
                                         ("resnet18", "layer"), ("resnet20", "block"),
                                         ("resnet50", "stage")])
def test_golden_dot(spec: str, detail: str) -> None:
    assert_golden(GOLDEN / f"{spec}_{detail}.dot", archcompiler.to_dot(spec, detail=detail))


# ---- structure ------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["resnet18", "resnet20", "resnet50"])
@pytest.mark.parametrize("detail", ["block", "layer"])
def test_one_add_node_per_block(spec: str, detail: str) -> None:
    report = archcompiler.analyze(spec)
    adds = [i for i, a in nodes(archcompiler.to_dot(report, detail=detail)).items()
            if a.get("label") == "+"]
    assert len(adds) == len(report.spec.blocks)
    assert sorted(adds) == sorted(f"{b.name}.add" for b in report.spec.blocks)


def test_stage_detail_collapses_identical_blocks() -> None:
    dot = archcompiler.to_dot("resnet152", detail="stage")
    found = nodes(dot)
    # layer3: the strided first block, then 35 identical blocks as one representative.
    assert "layer3.0" in found and "layer3.1" in found and "layer3.2" not in found
    assert "×35" in found["layer3.1"]["label"] and "layer3.35" in found["layer3.1"]["label"]
    # The representative keeps its add node and identity skip, on a plate marked ×35: the skip
    # leaves from the plate's entry point, so it reads as each block's own, not one around all.
    skip = [e for e in edges(dot) if e[1] == "layer3.1.add" and e[0] == "layer3.1.in"]
    assert skip and skip[0][2]["class"] == "skip-identity"
    assert 'subgraph "cluster_layer3.1.run"' in dot


def test_stage_clusters_are_labelled(r18: Report) -> None:
    dot = archcompiler.to_dot(r18)
    assert "layer2: 2 x basic, width 128, stride 2, out 128x28x28" in dot
    assert 'subgraph "cluster_layer4"' in dot
    # Costs in labels: the block's params and MACs, and the stage's.
    assert "230K params · 180M MACs" in nodes(dot)["layer2.0"]["label"]


def _skip_classes(dot: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for _, _, a in edges(dot):
        if a.get("class", "").startswith("skip-"):
            out[a["class"]] = {k: a[k] for k in ("color", "style", "penwidth")}
    return out


def test_shortcut_options_have_distinct_edge_styles(tmp_path: Path) -> None:
    styles = {}
    for option in ("A", "B", "C"):
        name = f"r18{option.lower()}"
        spec = write_spec(tmp_path, r18_variant(name, f"stages: {{shortcut: {option}}}\n"
                                                      "rules: {name_matches_depth: off}\n"),
                          f"{name}.yaml")
        dot = archcompiler.to_dot(spec)
        styles[option] = _skip_classes(dot)
        if option == "C":  # every block projects, so every add is fed by a 'proj' node
            found = nodes(dot)
            assert all(f"{b}.downsample" in found for b in
                       [f"layer{s}.{i}" for s in range(1, 5) for i in range(2)])
    assert set(styles["A"]) == {"skip-pad", "skip-identity"}
    assert set(styles["B"]) == {"skip-projection", "skip-identity"}
    assert set(styles["C"]) == {"skip-projection"}
    kinds = [styles["A"]["skip-pad"], styles["B"]["skip-projection"],
             styles["B"]["skip-identity"]]
    assert len({tuple(sorted(k.items())) for k in kinds}) == 3
    assert styles["A"]["skip-pad"]["style"] == "dashed"
    assert styles["B"]["skip-projection"]["style"] == "bold"


def test_zero_pad_edge_is_labelled() -> None:
    pads = [a for _, _, a in edges(archcompiler.to_dot("resnet20"))
            if a.get("class") == "skip-pad"]
    assert len(pads) == 2 and all(a["label"].startswith("zero-pad 16→32") or
                                  a["label"].startswith("zero-pad 32→64") for a in pads)


def test_rule_violation_is_highlighted(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, r18_variant("r18bad", "stages: {widths: [64, 64, 256, 512]}\n"
                      "rules: {double_on_halve: warn, name_matches_depth: off}\n"), "r18bad.yaml")
    report = archcompiler.analyze(spec)
    assert any(d.code == "ARC302" for d in report.diagnostics)
    for detail, ident in (("block", "layer2.0"), ("stage", "layer2.0")):
        found = nodes(archcompiler.to_dot(report, detail=detail))
        assert found[ident]["color"] == "red" and found[ident]["penwidth"] == "2"
        assert "ARC302" in found[ident]["tooltip"]
        assert found["layer1.0"].get("color") != "red"
    dot = archcompiler.to_dot(report, detail="layer")  # a block's cluster takes the outline
    cluster = dot.split('subgraph "cluster_layer2.0" {')[1].split("}")[0]
    assert 'color="red"' in cluster and "ARC302" in cluster


def test_diagnostic_without_node_goes_to_a_note(tmp_path: Path) -> None:
    report = archcompiler.analyze(write_spec(tmp_path, r18_variant("resnet19"), "resnet19.yaml"))
    assert [d.code for d in report.diagnostics] == ["ARC306"]
    note = nodes(archcompiler.to_dot(report))["diagnostics"]
    assert note["color"] == "red" and "ARC306" in note["label"]


def test_labels_are_escaped(r18: Report) -> None:
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert html_escape('<B>&"') == "&lt;B&gt;&amp;&quot;"
    nasty = Diagnostic("ARC999", Severity.ERROR, 'bad "quote" <tag> & \\ back}', None,
                       node="layer1.0")
    report = replace(r18, diagnostics=[nasty])
    dot = archcompiler.to_dot(report)
    assert 'bad \\"quote\\" <tag> & \\\\ back}' in nodes(dot)["layer1.0"]["tooltip"]
    if HAS_DOT:
        subprocess.run(["dot", "-Tsvg"], input=dot.encode(), check=True, capture_output=True)


def test_tooltips_carry_spec_line_params_macs(r18: Report) -> None:
    tip = nodes(archcompiler.to_dot(r18))["layer2.0"]["tooltip"]
    assert re.search(r"resnet18\.yaml:\d+", tip)
    assert "params 230,144" in tip and "MACs 179,830,784" in tip


def test_options_input_shape_and_rankdir() -> None:
    dot = archcompiler.to_dot("resnet18", rankdir="LR", input_shape=(3, 64, 64))
    assert 'rankdir="LR"' in dot and "512x2x2" in dot
    spec = archcompiler.load_spec("resnet18")
    assert archcompiler.to_dot(spec) == archcompiler.to_dot("resnet18")
    with pytest.raises(ValueError):
        archcompiler.to_dot("resnet18", detail="module")


# ---- files, `dot`, and the CLI --------------------------------------------------------------

def test_cli_dot_output_is_atomic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.dot"
    assert cli.main(["render", "resnet20", "-o", str(out), "--detail", "stage"]) == 0
    assert out.read_text(encoding="utf-8").startswith('digraph "resnet20"')
    assert [p.name for p in tmp_path.iterdir()] == ["r.dot"]  # no temporary left behind


def test_cli_rejects_unknown_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", "resnet18", "-o", str(tmp_path / "r.jpg")]) == cli.EXIT_USAGE
    assert ".svg" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_missing_dot_falls_back_to_dot_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "net.svg"
    assert cli.main(["render", "resnet18", "-o", str(out)]) == cli.EXIT_NO_DOT == 4
    assert not out.exists()
    assert (tmp_path / "net.dot").read_text(encoding="utf-8").startswith('digraph "resnet18"')
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "brew install graphviz" in err
    with pytest.raises(rb.DotNotFoundError):
        archcompiler.render("resnet18", tmp_path / "api.png")
    assert (tmp_path / "api.dot").exists()


def test_to_dot_does_not_import_torch() -> None:
    code = ("import archcompiler, sys; archcompiler.to_dot('resnet50'); "
            "assert 'torch' not in sys.modules and 'graphviz' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not HAS_DOT, reason="graphviz `dot` is not installed")
def test_svg_render(tmp_path: Path, r18: Report) -> None:
    path = archcompiler.render(r18, tmp_path / "r18.svg")
    svg = path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "skip&#45;projection" in svg and re.search(r'xlink:title="layer2\.0: basic block', svg)
    assert cli.main(["render", "resnet20", "-o", str(tmp_path / "r20.png")]) == 0
    assert (tmp_path / "r20.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_exit_code_reflects_spec_errors(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, r18_variant("r18err", "stages: {widths: [64, 64, 256, 512]}\n"),
                      "r18err.yaml")
    out = tmp_path / "err.dot"
    assert cli.main(["render", str(spec), "-o", str(out)]) == cli.EXIT_SPEC
    assert 'color="red"' in out.read_text(encoding="utf-8")  # drawn anyway, errors in red


def test_plain_net_has_no_add_nodes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, r18_variant("plain18", "stages: {shortcut: none}\n"), "plain18.yaml")
    for detail in ("stage", "block", "layer"):
        dot = archcompiler.to_dot(spec, detail=detail)
        assert not [i for i, a in nodes(dot).items() if a.get("label") == "+"]
        assert not [e for e in edges(dot) if e[2].get("class", "").startswith("skip-")]


def test_shape_error_still_draws(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, r18_variant("collapse18", "input: {height: 5, width: 5}\n"
                                            "stem: {conv: {padding: 0}}\n"), "collapse18.yaml")
    report = archcompiler.analyze(spec)
    assert any(d.code == "ARC201" for d in report.diagnostics)
    for detail in ("stage", "block", "layer"):
        found = nodes(archcompiler.to_dot(report, detail=detail))
        stem = found["conv1" if detail == "layer" else "stem"]
        assert stem["color"] == "red" and "ARC201" in stem["tooltip"]
        assert "?" in found["output"]["label"]  # shapes after the failure are unknown


@pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a shell script")
def test_a_failing_dot_keeps_the_dot_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from archcompiler.cli import main

    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: broken' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    rc = main(["render", "resnet20", "-o", str(tmp_path / "x.svg")])
    err = capsys.readouterr().err
    assert rc == 4 and "internal error" not in err and "broken" in err
    assert (tmp_path / "x.dot").read_text().startswith("digraph")
    assert not (tmp_path / "x.svg").exists()


def test_stage_titles_are_main_path_nodes(r18: Report) -> None:
    """No skip or projection crosses a stage title: the title is a node the main path enters."""
    dot = archcompiler.to_dot(r18, detail="block")
    found = nodes(dot)
    assert "layer2: 2 x basic" in found["layer2.title"]["label"]
    into = [e for e in edges(dot) if e[1] == "layer2.0.downsample"]
    assert [e[0] for e in into] == ["layer2.title"]


def test_preact_projection_reads_the_preactivated_input() -> None:
    dot = archcompiler.to_dot("preact_resnet164", detail="block")
    found = nodes(dot)
    assert "BN → ReLU" in found["layer2.0.preact"]["label"]
    assert ("layer2.0.preact", "layer2.0.downsample") in [(a, b) for a, b, _ in edges(dot)]
    # Every unit's BN-ReLU is listed before its conv.
    assert found["layer2.0"]["label"].count("BN → ReLU →") == 2
    wrn = nodes(archcompiler.to_dot("wrn28_10", detail="stage",
                                    overrides=["stages.block.dropout=0.3"]))
    assert "BN → ReLU → dropout 0.3 → 3x3 conv, 160" in wrn["layer1.1"]["label"]


def test_resnet_d_has_no_pool_at_stride_1() -> None:
    """timm's stride-1 downsample.0 is an Identity: no op in the IR, the conv keeps index 1."""
    by_name = archcompiler.analyze("resnet50d").graph.by_name()
    assert "layer1.0.downsample.0" not in by_name
    assert by_name["layer1.0.downsample.1"].op == "conv2d"
    assert by_name["layer2.0.downsample.0"].op == "avg_pool"  # stride 2: the pool is there
    assert "avg pool" not in nodes(archcompiler.to_dot("resnet50d"))["layer1.0.downsample"]["label"]


def test_drop_path_rates_group_with_their_range() -> None:
    report = archcompiler.analyze("resnet50d", overrides=["stages.drop_path=0.1"])
    found = nodes(archcompiler.to_dot(report, detail="stage"))
    assert "×5" in found["layer3.1"]["label"] and "drop path" in found["layer3.1"]["label"]
    assert "–" in found["layer3.1"]["label"]


def test_legend_names_the_colours(r18: Report) -> None:
    legend = nodes(archcompiler.to_dot(r18))["legend"]["label"]
    assert "projection shortcut" in legend and "identity shortcut" in legend


@pytest.mark.skipif(not HAS_DOT, reason="needs graphviz `dot`")
def test_paper_style_resnet34_fits_1000px(tmp_path: Path) -> None:
    out = tmp_path / "r34.png"
    assert cli.main(["render", "resnet34", "-o", str(out), "--detail", "stage",
                     "--style", "paper"]) == 0
    data = out.read_bytes()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert height <= 1000 and width <= 340
    dot = rb.to_dot_text(archcompiler.analyze("resnet34"), "stage", "TB", "paper")
    assert "Times-Roman" in dot and "#1f5fbf" not in dot and 'color="red"' not in dot


def test_report_displays_itself_in_jupyter(r18: Report) -> None:
    page = r18._repr_html_()
    assert "<table>" in page and "<td>layer2</td>" in page and "526K" in page
    if HAS_DOT:
        assert "<svg" in page and "max-height:640px;overflow:auto" in page


def test_analysis_imports_no_renderer() -> None:
    code = ("import sys, archcompiler.analysis.report as r; "
            "print(any(m.startswith('archcompiler.backends') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_se_multiply_is_not_a_line_of_its_own() -> None:
    label = nodes(archcompiler.to_dot("se_resnet50", detail="stage"))["layer1.0"]["label"]
    assert "<BR/>×<BR/>" not in label and "se: 1x1 conv, 16 → ReLU → 1x1 conv, 256" in label


def test_api_takes_the_style() -> None:
    assert "Times-Roman" in archcompiler.to_dot("resnet20", detail="stage", style="paper")
    with pytest.raises(ValueError, match="style must be one of"):
        archcompiler.to_dot("resnet20", style="poster")

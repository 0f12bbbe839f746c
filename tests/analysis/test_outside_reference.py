"""Block arithmetic against outside references: torchvision's and timm's own constructors.

tests/data/outside_reference.json holds, for a few hundred seeded random configurations, the
params, MACs, block output shapes and state_dict shapes that torchvision, timm (or, for option A
and plain nets, which no library has, a hand-written module) give; scripts/outside_reference.py
wrote it in the comparison venv. Each case holds the archcompiler spec of the same network.
These tests need neither torchvision nor timm: they read the table.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

import archcompiler

ROOT = Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "tests" / "data" / "outside_reference.json").read_text())
CASES: list[dict[str, Any]] = TABLE["cases"]


def _script() -> Any:
    """scripts/outside_reference.py as a module (its case drawing needs no torch)."""
    spec = importlib.util.spec_from_file_location("outside_reference",
                                                  ROOT / "scripts" / "outside_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _says(case: dict[str, Any]) -> str:
    """'torchvision ResNet(...) says' for a failure message."""
    return f"{case['id']}: {case['reference']} at {case['input'][0]}x{case['input'][1]} says"


def test_table_holds_the_scripts_cases() -> None:
    script = _script()
    drawn = script.draw_cases(TABLE["header"]["seed"])
    want = [(c["id"], script.spec_digest(c)) for c in drawn]
    have = [(c["id"], c["digest"]) for c in CASES]
    assert have == want, ("tests/data/outside_reference.json and scripts/outside_reference.py "
                          "disagree about the cases; rerun the script in .venv-ref")
    assert [c["spec"] for c in drawn] == [c["spec"] for c in CASES]
    header = TABLE["header"]
    for key in ("torch", "torchvision", "timm", "command", "seed"):
        assert header[key], key
    # Every family the issue asks for is drawn.
    assert {c["family"] for c in CASES} >= {"tv_basic", "tv_bottleneck", "tv_standard", "timm_d",
                                            "timm_se", "timm_preact", "option_a", "plain",
                                            "timm_scaled"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_analysis_matches_outside_reference(case: dict[str, Any]) -> None:
    report = archcompiler.analyze(case["spec"])
    assert report.ok, (f"{_says(case)} this network exists; archcompiler reports "
                       f"{[str(d) for d in report.diagnostics if d.severity.name == 'ERROR']}")
    assert report.params == case["params"], (
        f"{_says(case)} {case['params']:,} params; archcompiler's analysis gives "
        f"{report.params:,}")
    assert report.macs == case["macs"], (
        f"{_says(case)} {case['macs']:,} MACs (FlopCounterMode / 2); archcompiler's analysis "
        f"gives {report.macs:,}")
    ours = {b.name: list(report.shape(b.output) or ()) for b in report.graph.blocks}
    assert ours == case["blocks"], (
        f"{_says(case)} block output shapes {case['blocks']}; archcompiler's analysis gives "
        f"{ours}")
    # A stage's output is its last block's: the reference's stage depths are the spec's.
    depths = [len(s.blocks) for s in report.graph.stages]
    theirs = [sum(1 for k in case["blocks"] if k.startswith(f"layer{i + 1}."))
              for i in range(len(depths))]
    assert depths == theirs, f"{_says(case)} stage depths {theirs}; archcompiler has {depths}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_module_state_dict_matches_outside_reference(case: dict[str, Any]) -> None:
    pytest.importorskip("torch")
    model = archcompiler.build_module(case["spec"], device="meta")
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    want: dict[str, list[int]] = case["state_dict"]
    missing = sorted(set(want) - set(ours))
    extra = sorted(set(ours) - set(want))
    shapes = {k: (want[k], ours[k]) for k in set(want) & set(ours) if want[k] != ours[k]}
    assert not (missing or extra or shapes), (
        f"{_says(case)} a state_dict that the built module does not have: missing "
        f"{missing[:8]}, unexpected {extra[:8]}, shapes (theirs, ours) "
        f"{dict(sorted(shapes.items())[:8])}")


def _exact_scaled(case: dict[str, Any]) -> bool:
    """A timm_scaled bottleneck case whose widths and outputs scale to exact multiples."""
    if case["family"] != "timm_scaled":
        return False
    st = case["spec"]["stages"]
    return st["block"]["type"] == "bottleneck" and all(
        (w * st["width_multiplier"]).is_integer() and int(w * st["width_multiplier"])
        % st["width_divisor"] == 0 for w in st["widths"])


SCALED = [c for c in CASES if _exact_scaled(c)]


@pytest.mark.parametrize("case", SCALED, ids=[c["id"] for c in SCALED])
def test_scaled_out_channels_form_matches_outside_reference(case: dict[str, Any]) -> None:
    # The explicit form with out_channels (= width x 4) scales the outputs, not the widths; where
    # the scaled widths are exact multiples of the divisor the two forms are the same network.
    spec = json.loads(json.dumps(case["spec"]))
    st = spec["stages"]
    st["per_stage"] = [{"depth": d, "out_channels": 4 * w, "stride": s}
                       for d, w, s in zip(st.pop("depths"), st.pop("widths"), st.pop("strides"))]
    report = archcompiler.analyze(spec)
    assert all(type(s.width) is int for s in report.spec.stages), report.spec.stages
    assert (report.params, report.macs) == (case["params"], case["macs"]), (
        f"{_says(case)} {case['params']:,} params and {case['macs']:,} MACs; archcompiler gives "
        f"{report.params:,} and {report.macs:,} for the out_channels form")


def _rule_form(case: dict[str, Any]) -> bool:
    """A case whose widths follow {base, rule: double}: doubled exactly where the stride > 1."""
    st = case["spec"].get("stages", {})
    w, s = st.get("widths"), st.get("strides")
    return isinstance(w, list) and s is not None and "width_multiplier" not in st and all(
        w[k] == w[k - 1] * (2 if s[k] > 1 else 1) for k in range(1, len(w)))


RULED = [c for c in CASES if _rule_form(c)]


@pytest.mark.parametrize("case", RULED, ids=[c["id"] for c in RULED])
def test_width_rule_form_matches_outside_reference(case: dict[str, Any]) -> None:
    spec = json.loads(json.dumps(case["spec"]))
    spec["stages"]["widths"] = {"base": spec["stages"]["widths"][0], "rule": "double"}
    report = archcompiler.analyze(spec)
    assert (report.params, report.macs) == (case["params"], case["macs"]), (
        f"{_says(case)} {case['params']:,} params and {case['macs']:,} MACs; archcompiler gives "
        f"{report.params:,} and {report.macs:,} with widths {{base, rule: double}}")

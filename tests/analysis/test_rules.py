"""One small test per design rule: each fires at the spec line that caused it, and obeys `rules:`."""

from __future__ import annotations

from pathlib import Path

import pytest

import archcompiler
from archcompiler.analysis.rules import RULES
from archcompiler.core.diagnostics import Severity
from archcompiler.language.zoo import builtin_names
from tests.conftest import write_spec


def codes(report: archcompiler.Report, severity: Severity | None = None) -> list[str]:
    return [d.code for d in report.diagnostics if severity is None or d.severity is severity]


@pytest.mark.parametrize("name", builtin_names())
def test_zoo_specs_are_clean(name: str) -> None:
    assert archcompiler.analyze(name).diagnostics == []


def test_rule_registry_codes_are_unique_and_every_rule_has_a_severity_field() -> None:
    from archcompiler.language.schema import Rules

    all_codes = [RULES.get(k).code for k in RULES.names()]
    assert len(all_codes) == len(set(all_codes))
    assert set(RULES.names()) == set(Rules.model_fields)


def test_rule_ii_flags_the_offending_width(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: widths
        stages:
          widths: [64, 64, 256, 512]
    """)
    report = archcompiler.analyze(spec)
    found = [d for d in report.diagnostics if d.code == "ARC302"]
    # widths[1] (64, should be 128) and widths[2] (256 after 64: x4, not x2).
    assert [(d.span.line, d.span.col) for d in found] == [(5, 16), (5, 20)]
    assert all(d.severity is Severity.ERROR for d in found)
    assert "128" in found[0].hint


def test_rule_i_same_map_same_width(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: rule_i
        stages:
          widths: [64, 128, 256, 512]
          strides: [1, 1, 2, 2]
    """)
    report = archcompiler.analyze(spec)
    found = [d for d in report.diagnostics if d.code == "ARC301"]
    assert len(found) == 1 and found[0].span.line == 5 and found[0].span.col == 16
    assert "layer1" in found[0].message


def test_identity_shortcuts_across_a_width_change_are_flagged(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: plain_identity
        stages: {shortcut: identity}
    """)
    report = archcompiler.analyze(spec)
    found = [d for d in report.diagnostics if d.code == "ARC303"]
    assert found and found[0].span.line == 4 and found[0].node == "layer2.0"
    assert not report.ok


def test_option_a_cannot_shrink_channels(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet20
        name: shrink
        stages: {widths: [64, 32, 64], strides: [1, 1, 2]}
        rules: {same_map_same_width: off, double_on_halve: off, complexity_preserved: off}
    """)
    report = archcompiler.analyze(spec)
    assert "ARC303" in codes(report, Severity.ERROR)
    assert "ARC206" in codes(report, Severity.ERROR)  # and the shapes cannot be built either


def test_swapped_strides_and_depths_are_caught_before_building(tmp_path: Path) -> None:
    # What a hand-written builder produces when its stride and block-count arguments are swapped.
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet50
        name: resnet50
        stages: {depths: [1, 1, 1, 1], strides: [3, 4, 6, 3]}
    """)
    report = archcompiler.analyze(spec)
    assert not report.ok
    assert {"ARC301", "ARC302", "ARC304", "ARC306"} <= set(codes(report))
    depth = next(d for d in report.diagnostics if d.code == "ARC306")
    assert "14" in depth.message and depth.span.line == 3


def test_exact_downsampling_warns_on_odd_maps() -> None:
    report = archcompiler.analyze("resnet18", (3, 225, 225))
    found = [d for d in report.diagnostics if d.code == "ARC304"]
    assert found and found[0].severity is Severity.WARNING and report.ok


def test_complexity_preserved_reports_stage_costs(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: flat
        stages: {widths: {base: 64, rule: constant}}
        rules: {double_on_halve: off}
    """)
    report = archcompiler.analyze(spec)
    assert [d.code for d in report.diagnostics].count("ARC305") == 3  # layers 2, 3 and 4
    assert report.ok  # a warning by default


def test_stride_within_kernel_flags_v1_unless_switched_off(tmp_path: Path) -> None:
    assert archcompiler.analyze("resnet50_v1").diagnostics == []  # the zoo spec sets it off
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet50
        name: resnet50_v1_warned
        stages:
          block: {downsample_at: 1x1}
    """)
    report = archcompiler.analyze(spec)
    assert codes(report) == ["ARC307"] * 3
    assert report.diagnostics[0].node == "layer2.0.conv1"


@pytest.mark.parametrize(("level", "expected"), [
    ("error", Severity.ERROR), ("warn", Severity.WARNING), ("off", None)])
def test_each_spec_sets_rule_severity(tmp_path: Path, level: str, expected: Severity | None) -> None:
    spec = write_spec(tmp_path, f"""
        spec_version: 1
        extends: resnet18
        name: widths
        stages:
          widths: [64, 64, 256, 512]
        rules: {{double_on_halve: {level}, complexity_preserved: off}}
    """)
    report = archcompiler.analyze(spec)
    found = [d.severity for d in report.diagnostics if d.code == "ARC302"]
    assert found == ([expected, expected] if expected else [])


def test_rules_compare_output_channels_across_block_types(tmp_path: Path) -> None:
    # Filters double at each halving (64 -> 128 -> 256) although the bottleneck's width is 64.
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: mixed
        stages:
          depths: null
          widths: null
          strides: null
          per_stage:
            - {depth: 1, width: 64}
            - {depth: 1, out_channels: 128, stride: 2, block: {type: bottleneck, expansion: 2}}
            - {depth: 1, width: 256, stride: 2}
        rules: {complexity_preserved: off}
    """)
    assert archcompiler.analyze(spec).diagnostics == []


def test_an_identity_shortcut_mismatch_points_at_the_shortcut_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: identity18
        stages: {shortcut: identity}
    """)
    report = archcompiler.analyze(spec)
    add = next(d for d in report.diagnostics if d.code == "ARC207")
    assert add.span is not None and add.span.file == str(spec) and add.span.line == 4


PER_STAGE = """spec_version: 1
name: ps
input: {channels: 3, height: 30, width: 30}
stem:
  conv: {out_channels: 64, kernel: 3, stride: 1, padding: 1}
stages:
  block: {type: bottleneck}
  per_stage:
    - {depth: 1, width: 64}
    - {depth: 1, out_channels: 256, stride: 2}
    - {depth: 2, width: 100, stride: 4}
head: {classes: 10}
"""
COMPACT = """spec_version: 1
name: cs
input: {channels: 3, height: 30, width: 30}
stem:
  conv: {out_channels: 64, kernel: 3, stride: 1, padding: 1}
stages:
  block: {type: bottleneck}
  depths: [1, 1, 2]
  widths: [64, 64, 100]
  strides: [1, 2, 4]
head: {classes: 10}
"""


def _at(text: str, line: int, needle: str) -> tuple[int, int]:
    """(line, col) of `needle` on a 1-based line of `text`, as an editor counts them."""
    return line, text.splitlines()[line - 1].index(needle) + 1


@pytest.mark.parametrize(("text", "where"), [
    (PER_STAGE, {("ARC302", "layer2"): (10, "256"), ("ARC302", "layer3"): (11, "4}"),
                 ("ARC304", "layer3"): (11, "4}"), ("ARC305", "layer3"): (11, "100")}),
    (COMPACT, {("ARC302", "layer2"): (9, "64, 100"), ("ARC302", "layer3"): (10, "4]"),
               ("ARC304", "layer3"): (10, "4]"), ("ARC305", "layer3"): (9, "100")}),
], ids=["per_stage", "compact"])
def test_stage_diagnostics_point_at_the_value_that_set_it(text: str,
                                                          where: dict[tuple[str, str], tuple[int, str]]
                                                          ) -> None:
    got = {(d.code, d.message.split()[0].split(".")[0]): (d.span.line, d.span.col)
           for d in archcompiler.validate(text) if d.span is not None}
    for key, (line, needle) in where.items():
        assert got.get(key) == _at(text, line, needle), (key, got)


def test_rule_ii_applies_at_the_first_stage_and_states_the_stem_exemption() -> None:
    """`--set stages.strides=[4,2,2,2]` quarters the map at layer1 (issue 22): rule (ii) fires
    there, pointing at the override, and says why the stem itself is exempt."""
    from archcompiler.language.load import resolve

    res = resolve("resnet34", overrides=["stages.strides=[4,2,2,2]"])
    assert res.spec is not None
    report = archcompiler.analyze(res.spec)
    found = [d for d in report.diagnostics if d.code == "ARC302"]
    assert [d.node for d in found] == ["layer1.0"]
    assert "from 56x56 to 14x14" in found[0].message and "stem is exempt" in found[0].message
    assert found[0].span is not None and found[0].span.file == "<--set 1>"
    # The first stage halving the stem's map without doubling its 64 channels breaks it too.
    res = resolve("resnet34", overrides=["stages.strides=[2,2,2,2]"])
    assert res.spec is not None
    msgs = [d.message for d in archcompiler.analyze(res.spec).diagnostics if d.code == "ARC302"]
    assert any("width goes 64 (the stem) -> 64, not 128" in m for m in msgs)


def test_bias_before_batch_norm_is_a_note_with_the_redundant_count() -> None:
    """ResNet-34 with conv biases: 8,512 redundant params (one per channel of its 36 convs that
    feed a BN); a note, so the spec stays valid; ConvNeXt's biases feed a LayerNorm or GELU."""
    from archcompiler.language.load import resolve

    res = resolve("resnet34", overrides=["conv_bias=true"])
    assert res.spec is not None
    report = archcompiler.analyze(res.spec)
    notes = [d for d in report.diagnostics if d.code == "ARC308"]
    assert len(notes) == 1 and notes[0].severity is Severity.NOTE and report.ok
    assert "36 convs" in notes[0].message and "8,512 parameters" in notes[0].message
    assert 8_512 == sum(n.attrs.out_channels for n in report.graph.nodes
                        if n.op == "conv2d" and getattr(n.attrs, "bias", False))
    assert "ARC308" not in codes(archcompiler.analyze("convnext_tiny"))


def test_collapsed_map_hint_names_swapped_strides_and_depths_first() -> None:
    """The study note's ResNet-50 (block counts in the stride position): the hint names the swap
    before the larger input."""
    from archcompiler.language.load import resolve

    res = resolve("resnet50", overrides=["stages.strides=[3,4,6,3]", "stages.depths=[1,2,2,2]"])
    assert res.spec is not None
    hint = next(d.hint for d in archcompiler.analyze(res.spec).diagnostics if d.code == "ARC301")
    assert hint is not None and hint.startswith("the strides [3, 4, 6, 3] look like block counts")
    assert hint.index("swapped") < hint.index("864x864")

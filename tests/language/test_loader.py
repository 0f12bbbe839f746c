"""The located YAML loader: positions, YAML 1.2 scalars, the yes/no/on/off rule, bounds, carets."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import archcompiler
from archcompiler.core.diagnostics import Diagnostic, Span, error, format_one, format_text
from archcompiler.language.yamlload import MAX_ALIASES, MAX_DEPTH, LNode, parse_yaml, to_plain
from tests.conftest import TINY as VALID
from tests.conftest import write_spec


def parse(text: str) -> LNode:
    root, diags = parse_yaml(text, "t.yaml")
    assert root is not None and not diags, diags
    return root


def scalars(text: str) -> dict[str, object]:
    value = to_plain(parse(text))
    assert isinstance(value, dict)
    return value


def diagnose(text: str, tmp_path: Path, name: str = "spec.yaml") -> list[Diagnostic]:
    """Resolve and analyze a spec text; return every diagnostic."""
    res = archcompiler.resolve(write_spec(tmp_path, text, name))
    diags = list(res.diagnostics)
    if res.spec is not None:
        diags += archcompiler.analysis.analyze_resolved(res.spec).diagnostics
    return diags


def codes(diags: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.col) for d in diags if d.span is not None]


# Located values


def test_values_and_keys_are_located() -> None:
    root = parse(VALID)
    stages = root.get("stages")
    assert stages is not None
    assert stages.key_span == Span("t.yaml", 6, 1)
    assert stages.span == Span("t.yaml", 7, 3)  # a block mapping starts at its first key
    depths = stages.get("depths")
    assert depths is not None
    assert depths.key_span == Span("t.yaml", 8, 3)
    assert depths.span == Span("t.yaml", 8, 11)
    assert isinstance(depths.value, list)
    assert [(n.value, n.span.col) for n in depths.value] == [(1, 12), (1, 15), (1, 18)]
    conv = root.value["stem"].value["conv"]  # type: ignore[index]
    kernel = conv.get("kernel")
    assert (kernel.value, kernel.span.line, kernel.span.col) == (3, 5, 36)
    assert (kernel.key_span.line, kernel.key_span.col) == (5, 28)


def test_quoted_and_block_scalars_are_located() -> None:
    root = parse('a: "quoted"\nb: |\n  block\n  text\nc:\n  - \'x\'\n')
    assert root.value["a"].span == Span("t.yaml", 1, 4)  # type: ignore[index]
    assert root.value["b"].value == "block\ntext\n"  # type: ignore[index]
    assert root.value["b"].span.line == 2  # type: ignore[index]
    assert root.value["c"].value[0].span == Span("t.yaml", 6, 5)  # type: ignore[index]


def test_to_plain_strips_locations() -> None:
    assert scalars("a: {b: [1, {c: d}]}\n") == {"a": {"b": [1, {"c": "d"}]}}


def test_get_on_non_mapping_is_none() -> None:
    root = parse("a: [1]\n")
    assert root.get("missing") is None
    assert root.value["a"].get("x") is None  # type: ignore[index]


@pytest.mark.parametrize(("text", "code", "line", "col"), [
    ("spec_version: 1\nname: t\nstages:\n  block: {type: basic}\n  depths: [1, 1, 0]\n"
     "  widths: [16, 32, 64]\n", "ARC104", 5, 18),
    ("spec_version: 1\nname: t\nstages:\n  block: {type: bottleneck, groups: 0}\n"
     "  depths: [1]\n  widths: [16]\n", "ARC104", 4, 37),
    ("spec_version: 1\nname: t\nstages:\n  block: {type: basic}\n  per_stage:\n"
     "    - {depth: 1, width: 16}\n    - {depth: 1, width: -32, stride: 2}\n", "ARC104", 7, 25),
    ("spec_version: 1\nname: t\nstages:\n  block: {type: basic}\n  per_stage:\n"
     "    - {depth: 1, width: 16, strid: 2}\n", "ARC101", 6, 29),
    ("spec_version: 1\nname: t\nstages:\n  block: {type: basic, expansion: 4}\n"
     "  depths: [1]\n  widths: [16]\n", "ARC101", 4, 24),
    ("spec_version: 1\nname: t\nstages:\n  block: {}\n  depths: [1]\n  widths: [16]\n",
     "ARC105", 4, 10),
])
def test_nested_errors_point_at_the_value(text: str, code: str, line: int, col: int,
                                          tmp_path: Path) -> None:
    assert (code, line, col) in codes(diagnose(text, tmp_path))


# YAML 1.2 scalar rules


@pytest.mark.parametrize(("text", "value"), [
    ("1", 1), ("-7", -7), ("+3", 3), ("0", 0), ("-0", 0),
    ("1.5", 1.5), (".5", 0.5), ("1e3", 1000.0), ("2.", 2.0), ("-1.5E-2", -0.015),
    ("true", True), ("True", True), ("FALSE", False),
    ("null", None), ("~", None), ("", None), ("Null", None),
    (".inf", math.inf), ("-.Inf", -math.inf), ("+.INF", math.inf), (".iNf", ".iNf"),
    ("inf", "inf"), ("nan", "nan"), (".nAn", ".nAn"),
    # YAML 1.1 forms that YAML 1.2 (and this loader) read as strings
    ("0x1F", "0x1F"), ("0o17", "0o17"), ("1_000", "1_000"), ("1:20", "1:20"),
    ("2001-12-14", "2001-12-14"), ("tRUE", "tRUE"), ("=", "="),
    # quoting always gives a string
    ("'12'", "12"), ('"true"', "true"), ("'yes'", "yes"), ('"null"', "null"), ("'012'", "012"),
])
def test_yaml12_scalars(text: str, value: object) -> None:
    got = scalars(f"v: {text}\n")["v"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN"])
def test_nan_is_a_float(text: str) -> None:
    got = scalars(f"v: {text}\n")["v"]
    assert isinstance(got, float) and math.isnan(got)


@pytest.mark.parametrize("text", ["012", "00", "-012", "+07", "0999"])
def test_leading_zero_is_flagged(text: str) -> None:
    _root, diags = parse_yaml(f"v: {text}\n", "t.yaml")
    assert [(d.code, d.span.line, d.span.col) for d in diags if d.span] == [("ARC010", 1, 4)]
    assert "octal" in diags[0].message


def test_overlong_integer_is_a_range_error() -> None:
    _root, diags = parse_yaml("v: " + "1" * 5000 + "\n", "t.yaml")
    assert [d.code for d in diags] == ["ARC104"]


def test_tags_are_never_honoured() -> None:
    root, diags = parse_yaml("a: !!int '3'\nb: !!python/none x\n", "t.yaml")
    assert [(d.code, d.span.line) for d in diags if d.span] == [("ARC007", 1), ("ARC007", 2)]
    assert root is not None
    assert to_plain(root) == {"a": "3", "b": "x"}  # the tag was not applied


# yes / no / on / off


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "NO", "On", "OFF", "y", "n"])
def test_yaml11_words_are_flagged_in_plain_fields(word: str, tmp_path: Path) -> None:
    diags = diagnose(VALID.replace("name: tiny", f"name: {word}"), tmp_path)
    assert codes(diags) == [("ARC010", 2, 7)]
    assert f'"{word}"' in (diags[0].hint or "")


@pytest.mark.parametrize(("line", "where"), [
    ("zero_init_residual: on\n", (11, 21)),
    ("zero_init_residual: yes\n", (11, 21)),
    ("head: {classes: no}\n", (11, 17)),
    ("activation: off\n", (11, 13)),
    ("rules: {double_on_halve: no}\n", (11, 26)),
    ("rules: {double_on_halve: Off}\n", (11, 26)),
    ("description: yes\n", (11, 14)),
])
def test_yaml11_words_are_errors_outside_their_choices(line: str, where: tuple[int, int],
                                                        tmp_path: Path) -> None:
    diags = diagnose(VALID.replace("head: {classes: 10}\n", "") + line, tmp_path)
    assert ("ARC010", *where) in codes(diags)


def test_off_is_allowed_where_it_is_a_listed_choice(tmp_path: Path) -> None:
    text = VALID + "rules: {double_on_halve: off, name_matches_depth: off, exact_downsampling: off}\n"
    spec = archcompiler.load_spec(write_spec(tmp_path, text))
    assert spec.rules["double_on_halve"] == "off"
    assert spec.rules["name_matches_depth"] == "off"


def test_quoted_yaml11_words_are_plain_strings(tmp_path: Path) -> None:
    spec = archcompiler.load_spec(write_spec(tmp_path, VALID.replace("name: tiny", 'name: "yes"')
                                             + 'description: "on and off"\n'))
    assert spec.name == "yes"
    # quoted 'off' where it is not a choice is an ordinary enum error, not a YAML 1.1 warning
    diags = diagnose(VALID.replace("shortcut: A", "shortcut: 'off'"), tmp_path)
    assert [c for c, _, _ in codes(diags)] == ["ARC105"]


def test_true_and_false_are_booleans(tmp_path: Path) -> None:
    spec = archcompiler.load_spec(write_spec(tmp_path, VALID + "zero_init_residual: true\n"))
    assert spec.zero_init_residual is True


# Aliases and bounds


def test_aliases_within_the_bound_are_fine(tmp_path: Path) -> None:
    text = VALID.replace("input: {channels: 3, height: 32, width: 32}",
                         "input: {channels: 3, height: &side 32, width: *side}")
    spec = archcompiler.load_spec(write_spec(tmp_path, text))
    assert spec.input_shape == (3, 32, 32)


def test_alias_count_bound() -> None:
    ok = "a: &a 1\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n"
    assert len(to_plain(parse(ok))["b"]) == MAX_ALIASES  # type: ignore[arg-type]
    over = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    root, diags = parse_yaml(over, "t.yaml")
    assert root is None and [d.code for d in diags] == ["ARC008"]


def test_aliased_mapping_keeps_the_alias_location() -> None:
    root = parse("a: &m {k: 1}\nb: *m\n")
    assert root.value["b"].span == Span("t.yaml", 2, 4)  # type: ignore[index]
    assert to_plain(root) == {"a": {"k": 1}, "b": {"k": 1}}


def test_depth_bound() -> None:
    # The root mapping is one level, so MAX_DEPTH - 1 nested lists still fit.
    inside = MAX_DEPTH - 1
    parse("x: " + "[" * inside + "]" * inside + "\n")
    root, diags = parse_yaml("x: " + "[" * (inside + 1) + "]" * (inside + 1) + "\n", "t.yaml")
    assert root is None and [d.code for d in diags] == ["ARC009"]


def test_duplicate_keys_name_the_first_line() -> None:
    _root, diags = parse_yaml("a: 1\nb: 2\na: 3\n", "t.yaml")
    assert [(d.code, d.span.line, d.span.col) for d in diags if d.span] == [("ARC004", 3, 1)]
    assert "line 1" in diags[0].message


def test_bom_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert archcompiler.load_spec(path).name == "tiny"


# Caret formatting


def test_format_one_shape() -> None:
    source = "spec_version: 1\nname: tiny\nhead: {classes: 0}\n"
    diag = error("ARC104", "head.classes must be > 0", Span("f.yaml", 3, 17), hint="use 10")
    out = format_one(diag, {"f.yaml": source})
    lines = out.splitlines()
    assert lines[0] == "f.yaml:3:17: error[ARC104]: head.classes must be > 0"
    assert lines[1] == "    3 | head: {classes: 0}"
    assert lines[2].startswith("      | ")
    assert lines[2].index("^") == lines[1].index("0}")
    assert lines[2].rstrip().endswith("^") and set(lines[2]) == {" ", "|", "^"}
    assert lines[3] == "  = hint: use 10"
    assert len(lines) == 4
    assert "\033" not in out


def test_format_one_without_source_or_hint() -> None:
    diag = error("ARC012", "no spec named 'x'", None)
    assert format_one(diag, {}) == "error[ARC012]: no spec named 'x'"
    diag = error("ARC104", "bad", Span("gone.yaml", 3, 1))
    assert format_one(diag, {}) == "gone.yaml:3:1: error[ARC104]: bad"


def test_format_one_color() -> None:
    diag = error("ARC104", "bad", Span("f.yaml", 1, 1))
    assert "\033[31;1merror\033[0m[ARC104]" in format_one(diag, {"f.yaml": "x: 1\n"}, color=True)


def test_caret_under_tab_indented_text() -> None:
    source = "a:\n\tname: x\n"  # shown with the tab expanded to four spaces
    diag = error("ARC001", "tab", Span("f.yaml", 2, 2))
    lines = format_one(diag, {"f.yaml": source}).splitlines()
    assert "\t" not in lines[1]
    assert lines[1][lines[2].index("^")] == "n"


def test_tab_separators_are_fine_and_columns_count_them_once(tmp_path: Path) -> None:
    text = VALID.replace("name: tiny", "name:\t\t\"bad name\"")
    diags = diagnose(text, tmp_path)
    assert codes(diags) == [("ARC104", 2, 8)]
    out = format_text(diags, {str(tmp_path / "spec.yaml"): text})
    lines = out.splitlines()
    assert lines[1][lines[2].index("^")] == '"'


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    diags = diagnose(VALID.replace("  block:", "\tblock:"), tmp_path)
    assert [(c, ln) for c, ln, _ in codes(diags)] == [("ARC001", 7)]


def test_spec_error_message_has_the_caret(tmp_path: Path) -> None:
    path = write_spec(tmp_path, VALID.replace("classes: 10", "classes: 0"))
    with pytest.raises(archcompiler.SpecError) as info:
        archcompiler.load_spec(path)
    text = str(info.value)
    assert f"{path}:11:17: error[ARC104]" in text
    assert "   11 | head: {classes: 0}" in text
    assert "^" in text
    assert [d.code for d in info.value.diagnostics] == ["ARC104"]


@pytest.mark.parametrize(("widths", "want"), [
    ('"abc"', [("ARC103", 9, 11)]),
    ("8", [("ARC103", 9, 11)]),
    ('[16, "x", 64]', [("ARC103", 9, 16)]),
    ("{base: 16, rul: double}", [("ARC101", 9, 22)]),
    ("{base: 0}", [("ARC104", 9, 18)]),
    ("[16, 0, 64]", [("ARC104", 9, 16)]),
])
def test_union_fields_report_the_branch_that_fits(widths: str, want: list[tuple[str, int, int]],
                                                  tmp_path: Path) -> None:
    # widths is a width rule or a list: an error inside one form must not also say "wrong form".
    diags = diagnose(VALID.replace("widths: [16, 32, 64]", f"widths: {widths}"), tmp_path)
    assert codes(diags) == want
    if widths in ('"abc"', "8"):
        assert "a mapping or a list" in diags[0].message

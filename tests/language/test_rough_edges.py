"""Rough edges: inherited values as notes, the public names, and rule messages that say why."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest

import archcompiler
from archcompiler.core.diagnostics import Diagnostic, Severity, Span, format_one, format_text
from tests.conftest import write_spec

BASE = """\
spec_version: 1
name: base
input: {channels: 3, height: 32, width: 32}
stem:
  conv: {out_channels: 16, kernel: 3, stride: 1}
stages:
  block: {type: basic}
  depths: [1, 1, 1, 1]
  widths: {base: 16, rule: double}
  strides: [1, 2, 2, 2]
"""


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    """base.yaml <- mid.yaml <- (the user's spec, written by each test)."""
    write_spec(tmp_path, BASE, "base.yaml")
    write_spec(tmp_path, "extends: ./base.yaml\nname: mid\nhead: {classes: 10}\n", "mid.yaml")
    return tmp_path


def only_error(ref: str | Path, **kw: object) -> tuple[Diagnostic, dict[str, str]]:
    res = archcompiler.resolve(ref, **kw)  # type: ignore[arg-type]
    errs = [d for d in res.diagnostics if d.severity is Severity.ERROR]
    assert res.spec is None and len(errs) == 1, format_text(res.diagnostics, res.sources)
    return errs[0], res.sources


# An error in an inherited value: the user's line first, the inherited one as a note


def test_inherited_strides_become_a_note(chain: Path) -> None:
    child = write_spec(chain, "extends: ./mid.yaml\nname: c\nstages: {depths: [3, 4, 6]}\n",
                       "child.yaml")
    d, sources = only_error(child)
    assert d.code == "ARC110" and d.message == "stages.strides has 4 entries but depths has 3"
    assert d.span is not None and (Path(d.span.file).name, d.span.line, d.span.col) == \
        ("child.yaml", 3, 18)
    ((text, span),) = d.notes
    assert text == "stages.strides inherited from"
    assert (Path(span.file).name, span.line, span.col) == ("base.yaml", 10, 12)
    lines = format_one(d, sources).splitlines()
    assert lines[1:3] == ["    3 | stages: {depths: [3, 4, 6]}", "      |                  ^"]
    assert lines[3] == f"  = note: stages.strides inherited from {span}"
    assert lines[4:6] == ["   10 |   strides: [1, 2, 2, 2]", "      |            ^"]
    assert lines[6] == "  = hint: give one stride per stage"
    note = d.to_dict()["notes"]
    assert note == [{"message": "stages.strides inherited from", "file": span.file,
                     "line": 10, "col": 12}]


def test_inherited_widths_list_becomes_a_note(chain: Path) -> None:
    mid = "extends: ./base.yaml\nname: mid\nstages: {widths: [16, 32, 64, 128]}\n"
    write_spec(chain, mid, "mid.yaml")
    child = write_spec(chain, "extends: ./mid.yaml\nname: c\nstages: {depths: [1, 1], "
                       "strides: [1, 2]}\n", "child.yaml")
    d, _ = only_error(child)
    assert d.code == "ARC110" and "widths has 4" in d.message
    assert d.span is not None and Path(d.span.file).name == "child.yaml"
    assert [(t, Path(s.file).name, s.line) for t, s in d.notes] == \
        [("stages.widths inherited from", "mid.yaml", 3)]


def test_per_stage_over_inherited_depths(chain: Path) -> None:
    child = write_spec(chain, "extends: ./mid.yaml\nname: c\nstages:\n  per_stage: "
                       "[{depth: 1, width: 8}]\n", "child.yaml")
    d, _ = only_error(child)
    assert d.code == "ARC111"
    assert d.span is not None and Path(d.span.file).name == "child.yaml"
    assert {t for t, _ in d.notes} == {"stages.depths inherited from"}


def test_an_override_is_the_users_own_line(chain: Path) -> None:
    d, _ = only_error(chain / "mid.yaml", overrides=["stages.depths=[1, 2]"])
    assert (d.code, str(d.span)) == ("ARC110", "<--set 1>:1:15")
    assert [Path(s.file).name for _, s in d.notes] == ["base.yaml"]


def test_an_error_all_in_a_base_keeps_its_place(chain: Path) -> None:
    write_spec(chain, BASE.replace("strides: [1, 2, 2, 2]", "strides: [1, 2, 2]"), "base.yaml")
    d, _ = only_error(chain / "mid.yaml")
    assert d.span is not None and (Path(d.span.file).name, d.span.line) == ("base.yaml", 10)
    assert d.notes == ()


def test_a_single_file_has_no_notes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, BASE.replace("depths: [1, 1, 1, 1]", "depths: [1, 1]"))
    d, _ = only_error(spec)
    assert (d.code, d.span.line if d.span else 0, d.notes) == ("ARC110", 10, ())


def test_notes_without_source_text() -> None:
    d = Diagnostic("ARC110", Severity.ERROR, "m", Span("a.yaml", 1, 1), "h",
                   notes=(("x inherited from", Span("b.yaml", 2, 3)),))
    assert format_one(d, {}) == ("a.yaml:1:1: error[ARC110]: m\n"
                                 "  = note: x inherited from b.yaml:2:3\n  = hint: h")


# Public names: what they say they are, and no submodule shadowing a function


def test_validate_is_a_function() -> None:
    assert inspect.isfunction(archcompiler.validate)
    assert importlib.util.find_spec("archcompiler.validate") is None
    assert archcompiler.validate("resnet18") == []


@pytest.mark.parametrize("name", archcompiler.__all__)
def test_every_public_name_is_what_it_says(name: str) -> None:
    obj = getattr(archcompiler, name)
    assert not inspect.ismodule(obj), f"archcompiler.{name} is a module"
    if name.islower():
        assert callable(obj) and not inspect.isclass(obj), f"archcompiler.{name} is not a function"
    elif name[0].isupper() and not name.isupper():
        assert inspect.isclass(obj), f"archcompiler.{name} is not a class"
    # Importing a submodule of that name would replace the attribute with the module.
    assert importlib.util.find_spec(f"archcompiler.{name}") is None


def test_no_public_attribute_is_a_module_named_like_an_api_function() -> None:
    from archcompiler import api

    modules = {n for n in dir(archcompiler)
               if not n.startswith("_") and inspect.ismodule(getattr(archcompiler, n))}
    assert modules.isdisjoint(archcompiler.__all__)
    assert modules.isdisjoint(api.__all__)


# ARC304 says what the window arithmetic shows


def test_arc304_where_no_pixel_is_dropped() -> None:
    # layer5's first conv: a 3x3 window, stride 2 and padding 1 over a 7x7 map.
    report = archcompiler.analyze("resnet18", overrides=["stages.depths=[1, 1, 1, 1, 1]",
                                                         "stages.strides=[1, 2, 2, 2, 2]",
                                                         "stages.widths={base: 64}"])
    (d,) = [d for d in report.diagnostics if d.code == "ARC304"]
    assert d.message == ("layer5.0.conv1 applies stride 2 to a 7x7 map, which it does not divide: "
                         "the output is 4x4 (7/2 = 3.5); every pixel is still read, with the same "
                         "padding on both borders")
    assert "dropped" not in d.message


def test_arc304_where_pixels_are_never_read() -> None:
    report = archcompiler.analyze("resnet18", 226, overrides=["stem.pool.kernel=2",
                                                              "stem.pool.padding=0"])
    (d,) = [d for d in report.diagnostics if d.code == "ARC304"]
    assert d.message.endswith("113x113 map, which it does not divide: its windows never read "
                              "the last row and the last column of the map")


def test_arc304_where_the_padding_is_read_unevenly() -> None:
    report = archcompiler.analyze("resnet18", overrides=["stem.conv.stride=3"])
    d = next(d for d in report.diagnostics if d.code == "ARC304")
    assert d.message.endswith("(224/3 = 74.67); every pixel is still read, but the windows reach "
                              "3 padding rows and columns into the top and left borders and 2 "
                              "into the bottom and right ones")


# ARC301 at an input too small for the net: blame the input, not the widths


def test_rule_i_at_a_tiny_input_blames_the_input() -> None:
    report = archcompiler.analyze("resnet50", (3, 16, 16))
    (d,) = [d for d in report.diagnostics if d.code == "ARC301"]
    assert "16x16 input is too small" in d.message and "1x1 map" in d.message
    assert d.hint is not None and "--input 3x32x32" in d.hint and "same_map_same_width" in d.hint
    assert not d.hint.startswith("use width")
    assert d.span == report.spec.input_span
    stride = next(d for d in report.diagnostics if d.code == "ARC304")
    assert "cannot shrink" in stride.message
    assert not [d for d in archcompiler.analyze("resnet50", 32).diagnostics if d.code == "ARC301"]


def test_rule_i_still_blames_widths_when_they_are_the_cause() -> None:
    report = archcompiler.analyze("resnet18", overrides=["stages.strides=[1, 1, 2, 2]",
                                                         "stages.widths=[64, 128, 256, 512]"])
    (d,) = [d for d in report.diagnostics if d.code == "ARC301"]
    assert d.hint is not None and d.hint.startswith("use width")

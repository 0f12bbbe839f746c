"""Specs from Python without files: YAML text and mappings, located like files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import archcompiler
from archcompiler.core.diagnostics import Diagnostic, format_text
from archcompiler.language.load import Resolution, resolve
from archcompiler.language.sources import is_yaml_text
from tests.conftest import TINY, write_spec

VARIANT = "extends: resnet50\nname: resnet59\nstages: {depths: [3, 4, 9, 3]}\n"


def only_error(res: Resolution) -> Diagnostic:
    errs = [d for d in res.diagnostics if d.severity.value == "error"]
    assert res.spec is None and len(errs) == 1, format_text(res.diagnostics, res.sources)
    return errs[0]


def tiny_mapping() -> dict[str, object]:
    import yaml

    data = yaml.safe_load(TINY)
    assert isinstance(data, dict)
    return data


def test_yaml_text_extends_a_builtin() -> None:
    report = archcompiler.analyze(VARIANT)
    assert (report.spec.name, report.params) == ("resnet59", 28_908_584)
    assert report.spec.name_span.file == "<string>"


def test_yaml_text_errors_show_the_line() -> None:
    res = resolve(VARIANT.replace("depths", "depth"))
    d = only_error(res)
    assert (d.code, str(d.span), d.hint) == ("ARC101", "<string>:3:10", "did you mean 'depths'?")
    assert "    3 | stages: {depth: [3, 4, 9, 3]}" in format_text(res.diagnostics, res.sources)


def test_flow_text_on_one_line() -> None:
    assert archcompiler.load_spec("{extends: resnet18, name: r18}").name == "r18"


def test_syntax_error_in_text() -> None:
    d = only_error(resolve("name: [1,\nstages: x\n"))
    assert d.code == "ARC001" and d.span is not None and d.span.file == "<string>"


def test_empty_text() -> None:
    assert only_error(resolve("\n")).code == "ARC006"


def test_a_whole_spec_as_a_mapping() -> None:
    spec = archcompiler.load_spec(tiny_mapping())
    assert (spec.name, len(spec.blocks), spec.name_span.file) == ("tiny", 3, "<mapping>")


def test_mapping_errors_show_the_line() -> None:
    data = tiny_mapping()
    data["head"] = {"classes": 0}
    res = resolve(data)
    d = only_error(res)
    assert d.code == "ARC104" and d.span is not None and d.span.file == "<mapping>"
    assert "head: {classes: 0}" in format_text(res.diagnostics, res.sources)


def test_a_mapping_extends_a_builtin() -> None:
    spec = archcompiler.load_spec({"extends": "resnet50", "name": "r", "head": {"classes": 5}})
    assert (spec.classes, len(spec.blocks)) == (5, 16)


def test_a_mapping_with_objects_is_refused() -> None:
    d = only_error(resolve({"extends": "resnet50", "name": {1, 2}}))
    assert (d.code, str(d.span)) == ("ARC103", "<mapping>:1:1")


def test_a_mapping_with_a_non_string_key() -> None:
    d = only_error(resolve({"extends": "resnet50", 3: "x"}))
    assert d.code == "ARC011"


def test_mapping_and_overrides_together() -> None:
    spec = archcompiler.load_spec(tiny_mapping(), overrides=["head.classes=100"])
    assert spec.classes == 100


def test_relative_extends_from_text_uses_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_spec(tmp_path, TINY, "base.yaml")
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(tmp_path)
    assert archcompiler.load_spec("extends: base.yaml\nname: t2\n").name == "t2"
    monkeypatch.chdir(sub)
    d = only_error(resolve("extends: ../base.yaml\nname: t2\n"))
    assert (d.code, str(d.span)) == ("ARC154", "<string>:1:10")
    assert resolve("extends: ../base.yaml\nname: t2\n", allow_outside=True).spec is not None
    assert resolve({"extends": "../base.yaml", "name": "t3"}, allow_outside=True).spec is not None


def test_paths_and_names_still_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_spec(tmp_path, TINY, "tiny.yaml")
    assert archcompiler.load_spec(str(path)).name == "tiny"
    assert archcompiler.load_spec(path).name == "tiny"
    assert archcompiler.load_spec("resnet18").name == "resnet18"
    odd = write_spec(tmp_path, TINY, "a: b.yaml")  # an existing file wins over the text rule
    monkeypatch.chdir(tmp_path)
    assert archcompiler.load_spec(odd.name).name == "tiny"
    assert only_error(resolve("resnet5O")).code == "ARC012"


@pytest.mark.parametrize(("ref", "text"), [
    ("resnet50", False), ("specs/resnet50.yaml", False), ("../a b/c.yaml", False),
    ("C:/x.yaml", False), ("name: x", True), ("a\nb", True), ("{name: x}", True),
])
def test_the_text_rule(ref: str, text: bool) -> None:
    assert is_yaml_text(ref) is text


def test_every_entry_point_takes_text_and_mappings() -> None:
    assert archcompiler.analyze(tiny_mapping()).output_shape == (10,)
    assert "layer3" in archcompiler.to_dot(VARIANT, detail="stage")
    assert archcompiler.validate(textwrap.dedent(TINY)) == []


# The parsed-file cache: keyed by content, so an edited file is seen at once


def test_an_edited_file_is_reread_even_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    import os

    base = write_spec(tmp_path, TINY, "base.yaml")
    child = write_spec(tmp_path, "extends: ./base.yaml\nname: child\n", "child.yaml")
    assert archcompiler.load_spec(child).classes == 10
    stat = base.stat()
    base.write_text(TINY.replace("classes: 10", "classes: 20"), encoding="utf-8")
    os.utime(base, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert base.stat().st_size == stat.st_size
    assert archcompiler.load_spec(child).classes == 20


def test_unchanged_files_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from archcompiler.language import variants

    variants.clear_cache()
    calls: list[str] = []
    real = variants.parse_yaml

    def counting(text: str, file: str) -> object:
        calls.append(file)
        return real(text, file)

    monkeypatch.setattr(variants, "parse_yaml", counting)
    for depth in (1, 2, 3):
        archcompiler.analyze("resnet50", overrides={"stages.depths": [depth] * 4})
    assert len(calls) == 3  # resnet50, resnet34, resnet18: once each
    variants.clear_cache()
    archcompiler.load_spec("resnet50")
    assert len(calls) == 6


def test_cached_trees_are_not_changed_by_overrides() -> None:
    before = archcompiler.load_spec("resnet50")
    archcompiler.load_spec("resnet50", overrides=["stages.block.expansion=2", "stem.pool=null"])
    assert archcompiler.load_spec("resnet50") == before

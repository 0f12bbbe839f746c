"""Variants: merge rules, provenance into base files, and the limits on what `extends` may name."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import yaml

import archcompiler
from archcompiler.core.diagnostics import Diagnostic
from archcompiler.language.variants import MAX_CHAIN, merge
from archcompiler.language.yamlload import LNode, parse_yaml, to_plain
from archcompiler.language.zoo import builtin_names
from tests.conftest import TINY as BASE_TINY
from tests.conftest import VARIANTS, write_spec

TINY = BASE_TINY + "rules: {name_matches_depth: off}\n"


def tree(text: str, file: str = "t.yaml") -> LNode:
    root, diags = parse_yaml(text, file)
    assert root is not None and not diags
    return root


def merged(base: str, child: str) -> object:
    return to_plain(merge(tree(base, "base.yaml"), tree(child, "child.yaml")))


def diags_of(ref: str | Path, allow_outside: bool = False) -> list[Diagnostic]:
    res = archcompiler.resolve(ref, allow_outside=allow_outside)
    out = list(res.diagnostics)
    if res.spec is not None:
        out += archcompiler.analysis.analyze_resolved(res.spec).diagnostics
    return out


def errors(ref: str | Path, allow_outside: bool = False) -> list[tuple[str, str, int]]:
    """(code, file name, line) of every error."""
    return [(d.code, Path(d.span.file).name if d.span else "", d.span.line if d.span else 0)
            for d in diags_of(ref, allow_outside) if d.severity.value == "error"]


# The merge rules, on trees


def test_mappings_merge_deeply() -> None:
    assert merged("a: {b: {c: 1, d: 2}, e: 3}\n", "a: {b: {c: 10}}\n") == \
        {"a": {"b": {"c": 10, "d": 2}, "e": 3}}


def test_lists_replace() -> None:
    assert merged("a: [1, 2, 3, 4]\n", "a: [9]\n") == {"a": [9]}
    assert merged("a: [{x: 1, y: 2}]\n", "a: [{x: 5}]\n") == {"a": [{"x": 5}]}


def test_kinds_replace_each_other() -> None:
    assert merged("w: {base: 64, rule: double}\n", "w: [1, 2]\n") == {"w": [1, 2]}
    assert merged("w: [1, 2]\n", "w: {base: 64}\n") == {"w": {"base": 64}}
    assert merged("w: {a: 1}\n", "w: 3\n") == {"w": 3}


def test_null_deletes_the_key() -> None:
    assert merged("a: {b: 1, c: 2}\nd: 4\n", "a: {b: null}\nd: ~\n") == {"a": {"c": 2}}
    assert merged("a: 1\n", "z: null\n") == {"a": 1}


def test_new_type_replaces_the_mapping() -> None:
    base = "block: {type: bottleneck, groups: 32}\n"
    assert merged(base, "block: {type: basic}\n") == {"block": {"type": "basic"}}
    assert merged(base, "block: {type: bottleneck, expansion: 2}\n") == \
        {"block": {"type": "bottleneck", "groups": 32, "expansion": 2}}
    assert merged(base, "block: {expansion: 2}\n") == \
        {"block": {"type": "bottleneck", "groups": 32, "expansion": 2}}


def test_merge_keeps_each_side_located() -> None:
    out = merge(tree("a: {b: 1, c: 2}\n", "base.yaml"), tree("a: {b: 5}\n", "child.yaml"))
    a = out.get("a")
    assert a is not None
    assert a.value["b"].span.file == "child.yaml"  # type: ignore[index]
    assert a.value["c"].span.file == "base.yaml"  # type: ignore[index]


def test_merge_does_not_mutate_its_inputs() -> None:
    base, child = tree("a: {b: 1}\n"), tree("a: {c: 2}\n")
    merge(base, child)
    assert to_plain(base) == {"a": {"b": 1}}
    assert to_plain(child) == {"a": {"c": 2}}


# The merge rules, end to end


def test_merge_rules_end_to_end() -> None:
    spec = archcompiler.load_spec(VARIANTS / "child_merge.yaml")
    base = archcompiler.load_spec(VARIANTS / "base.yaml")
    assert spec.name == "child"
    assert (spec.stem.out_channels, spec.stem.kernel, spec.stem.stride) == (32, 3, 2)
    assert spec.stem.padding == 1  # the default for the new kernel, not the base's
    assert spec.stem.pool_kind is None and base.stem.pool_kind == "max"
    assert [s.depth for s in spec.stages] == [1, 1]
    assert [s.stride for s in spec.stages] == [1, 2]
    assert [s.width for s in spec.stages] == [32, 64]  # the base's width rule, over new strides
    assert spec.classes == 100 and spec.dropout == 0.0 and base.dropout == 0.2
    assert spec.description == base.description
    assert spec.input_shape == (3, 64, 64)


def test_new_block_type_end_to_end() -> None:
    spec = archcompiler.load_spec(VARIANTS / "child_new_block_type.yaml")
    assert {b.kind for b in spec.blocks} == {"basic"}
    assert not any(hasattr(b.config, "groups") for b in spec.blocks)  # basic has no groups


def test_same_block_type_merges_end_to_end() -> None:
    spec = archcompiler.load_spec(VARIANTS / "child_same_block_type.yaml")
    assert {(b.kind, b.config.groups, b.config.downsample_at) for b in spec.blocks} == {
        ("bottleneck", 32, "1x1")}


def test_null_on_a_required_field_is_reported(tmp_path: Path) -> None:
    write_spec(tmp_path, TINY, "base.yaml")
    child = write_spec(tmp_path, "extends: ./base.yaml\nname: c\nstages: null\n", "child.yaml")
    assert ("ARC102", "child.yaml", 1) in errors(child)


def test_null_in_a_plain_spec_means_the_default(tmp_path: Path) -> None:
    path = write_spec(tmp_path, TINY.replace("head: {classes: 10}", "head: {classes: null}"), "s.yaml")
    assert archcompiler.load_spec(path).classes == 1000


def test_zoo_variants_merge() -> None:
    v1 = archcompiler.load_spec("resnet101_v1")
    assert {b.config.downsample_at for b in v1.blocks} == {"1x1"}
    assert v1.rules["stride_within_kernel"] == "off"
    assert archcompiler.analyze("resnet101_v1").params == 44_549_160


# A variant in three lines


def test_three_line_variant_from_a_builtin(tmp_path: Path) -> None:
    text = "extends: resnet50\nname: resnet101x\nstages: {depths: [3, 4, 23, 3]}\n"
    assert text == (VARIANTS / "resnet101x.yaml").read_text(encoding="utf-8")
    report = archcompiler.analyze(write_spec(tmp_path, text, "resnet101x.yaml"))
    assert report.params == 44_549_160
    assert report.macs == archcompiler.analyze("resnet101").macs == 7_801_405_440
    assert report.ok and report.diagnostics == []
    assert report.spec.name == "resnet101x"
    assert report.spec.description == archcompiler.load_spec("resnet50").description
    assert archcompiler.analyze(VARIANTS / "resnet101x.yaml").params == 44_549_160


# Provenance


def test_inherited_error_points_into_the_base() -> None:
    report = archcompiler.analyze(VARIANTS / "bad_widths_child.yaml")
    rule_ii = [d for d in report.diagnostics if d.code == "ARC302"]
    assert rule_ii
    for d in rule_ii:
        assert d.span is not None
        assert Path(d.span.file).name == "bad_widths_base.yaml"
        assert d.span.line == 9
    assert report.spec.files[0].endswith("bad_widths_child.yaml")
    assert any(f.endswith("bad_widths_base.yaml") for f in report.spec.files)


def test_each_value_remembers_its_file() -> None:
    spec = archcompiler.load_spec(VARIANTS / "bad_widths_child.yaml")
    stage = spec.stages[1]
    assert Path(stage.depth_span.file).name == "bad_widths_child.yaml"  # set by the child
    assert Path(stage.width_span.file).name == "bad_widths_base.yaml"  # inherited
    assert Path(stage.stride_span.file).name == "bad_widths_base.yaml"
    assert Path(spec.name_span.file).name == "bad_widths_child.yaml"


def test_inherited_error_shows_the_base_line(capsys: pytest.CaptureFixture[str]) -> None:
    from archcompiler.cli import main

    assert main(["validate", str(VARIANTS / "bad_widths_child.yaml")]) == 1
    err = capsys.readouterr().err
    assert "bad_widths_base.yaml:9:16: error[ARC302]" in err
    assert "    9 |   widths: [64, 64, 256, 512]" in err


def test_schema_error_in_a_base_points_into_the_base(tmp_path: Path) -> None:
    write_spec(tmp_path, TINY.replace("classes: 10", "classes: -1"), "base.yaml")
    child = write_spec(tmp_path, "extends: ./base.yaml\nname: c\n", "child.yaml")
    assert errors(child) == [("ARC104", "base.yaml", 11)]


# The resolved spec


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnext50_32x4d", "resnet110"])
def test_one_entry_per_block(name: str) -> None:
    spec = archcompiler.load_spec(name)
    assert len(spec.blocks) == sum(s.depth for s in spec.stages)
    assert [b.name for b in spec.blocks] == \
        [f"layer{s.index + 1}.{j}" for s in spec.stages for j in range(s.depth)]
    for prev, cur in zip(spec.blocks, spec.blocks[1:]):
        assert cur.in_channels == prev.out_channels


def test_resnet152_depths() -> None:
    spec = archcompiler.load_spec("resnet152")
    assert [s.depth for s in spec.stages] == [3, 8, 36, 3]
    assert len(spec.blocks) == 50


def test_resolved_spec_is_frozen() -> None:
    spec = archcompiler.load_spec(VARIANTS / "child_merge.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.blocks[0].stride = 4  # type: ignore[misc]
    assert isinstance(spec.blocks, tuple)


def test_load_spec_passes_a_resolved_spec_through() -> None:
    spec = archcompiler.load_spec("resnet18")
    assert archcompiler.load_spec(spec) is spec


# Cycles and chains


def test_self_extend(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "extends: ./me.yaml\nname: me\n", "me.yaml")
    assert errors(path) == [("ARC151", "me.yaml", 1)]


def test_two_file_cycle(tmp_path: Path) -> None:
    a = write_spec(tmp_path, "extends: ./b.yaml\nname: a\n", "a.yaml")
    write_spec(tmp_path, "name: b\nextends: a.yaml\n", "b.yaml")
    assert errors(a) == [("ARC151", "b.yaml", 2)]


def test_three_file_cycle_through_a_subfolder(tmp_path: Path) -> None:
    a = write_spec(tmp_path, "extends: ./sub/b.yaml\nname: a\n", "a.yaml")
    (tmp_path / "sub").mkdir()
    write_spec(tmp_path, "extends: ./c.yaml\nname: b\n", "sub/b.yaml")
    write_spec(tmp_path, "extends: ../a.yaml\nname: c\n", "sub/c.yaml")
    assert errors(a) == [("ARC151", "c.yaml", 1)]


def _chain(folder: Path, files: int) -> Path:
    """Write a chain of `files` files, the last one a full spec; return the first."""
    for i in range(files - 1):
        write_spec(folder, f"extends: ./f{i + 1}.yaml\nname: f{i}\n", f"f{i}.yaml")
    write_spec(folder, TINY, f"f{files - 1}.yaml")
    return folder / "f0.yaml"


def test_chain_at_the_bound_is_fine(tmp_path: Path) -> None:
    spec = archcompiler.load_spec(_chain(tmp_path, MAX_CHAIN))
    assert spec.name == "f0"


def test_chain_over_the_bound(tmp_path: Path) -> None:
    assert errors(_chain(tmp_path, MAX_CHAIN + 1)) == \
        [("ARC152", f"f{MAX_CHAIN - 1}.yaml", 1)]


def test_long_chain_of_builtins_is_within_the_bound() -> None:
    # resnet152_v1 -> resnet152 -> resnet50 -> resnet34 -> ...: every zoo chain fits.
    zoo = Path(archcompiler.__file__).resolve().parent.parent / "archcompiler" / "specs"
    parents = {p.stem: yaml.safe_load(p.read_text()).get("extends") for p in zoo.glob("*.yaml")}

    def length(name: str) -> int:
        parent = parents[name]
        return 1 if parent is None else 1 + length(str(parent))

    lengths = {name: length(name) for name in builtin_names()}
    assert lengths["resnet152_v1"] == 5  # resnet152_v1, resnet152, resnet50, resnet34, resnet18
    assert max(lengths.values()) <= MAX_CHAIN
    for name in builtin_names():
        assert archcompiler.load_spec(name).name == name


# What `extends` may name


@pytest.mark.parametrize("url", ["https://example.com/r.yaml", "http://example.com/r.yaml",
                                 "file:///etc/passwd", "ftp://host/r.yaml", "http:r.yaml",
                                 "s3://bucket/r.yaml"])
def test_urls_are_refused(url: str, tmp_path: Path) -> None:
    path = write_spec(tmp_path, f"extends: '{url}'\nname: s\n", "s.yaml")
    assert errors(path) == [("ARC153", "s.yaml", 1)]
    assert errors(path, allow_outside=True) == [("ARC153", "s.yaml", 1)]


def test_outside_the_folder_is_refused_unless_allowed(tmp_path: Path) -> None:
    write_spec(tmp_path, TINY, "base.yaml")
    (tmp_path / "proj").mkdir()
    child = write_spec(tmp_path, "extends: ../base.yaml\nname: child\n", "proj/child.yaml")
    assert errors(child) == [("ARC154", "child.yaml", 1)]
    with pytest.raises(archcompiler.SpecError):
        archcompiler.load_spec(child)
    assert archcompiler.load_spec(child, allow_outside=True).name == "child"
    assert archcompiler.analyze(child, allow_outside=True).params > 0


def test_absolute_path_outside_is_refused(tmp_path: Path) -> None:
    base = write_spec(tmp_path, TINY, "base.yaml")
    (tmp_path / "proj").mkdir()
    child = write_spec(tmp_path, f"extends: '{base}'\nname: child\n", "proj/child.yaml")
    assert errors(child) == [("ARC154", "child.yaml", 1)]
    assert archcompiler.load_spec(child, allow_outside=True).name == "child"


def test_absolute_path_inside_is_fine(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    base = write_spec(tmp_path, TINY, "proj/base.yaml")
    child = write_spec(tmp_path, f"extends: '{base}'\nname: child\n", "proj/child.yaml")
    assert archcompiler.load_spec(child).name == "child"


def test_out_and_back_in_is_fine(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    write_spec(tmp_path, TINY, "proj/base.yaml")
    child = write_spec(tmp_path, "extends: ../proj/base.yaml\nname: child\n", "proj/child.yaml")
    assert archcompiler.load_spec(child).name == "child"


def test_the_folder_is_the_top_specs(tmp_path: Path) -> None:
    # A middle link in a subfolder may reach back up to the top spec's folder, not beyond it.
    assert archcompiler.load_spec(VARIANTS / "nested_child.yaml").classes == 7
    write_spec(tmp_path, TINY, "base.yaml")
    (tmp_path / "proj" / "sub").mkdir(parents=True)
    write_spec(tmp_path, "extends: ../../base.yaml\nname: mid\n", "proj/sub/mid.yaml")
    child = write_spec(tmp_path, "extends: ./sub/mid.yaml\nname: child\n", "proj/child.yaml")
    assert errors(child) == [("ARC154", "mid.yaml", 1)]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    base = write_spec(tmp_path, TINY, "base.yaml")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "link.yaml").symlink_to(base)
    child = write_spec(tmp_path, "extends: ./link.yaml\nname: child\n", "proj/child.yaml")
    assert errors(child) == [("ARC154", "child.yaml", 1)]


def test_missing_base_file(tmp_path: Path) -> None:
    child = write_spec(tmp_path, "name: c\nextends: ./nowhere.yaml\n", "child.yaml")
    assert errors(child) == [("ARC155", "child.yaml", 2)]


def test_a_base_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    child = write_spec(tmp_path, "extends: ./dir.yaml\nname: c\n", "child.yaml")
    assert [c for c, _, _ in errors(child)] == ["ARC155"]


def test_unknown_builtin_suggests_a_name(tmp_path: Path) -> None:
    child = write_spec(tmp_path, "extends: resnet_50\nname: c\n", "child.yaml")
    diags = diags_of(child)
    assert [d.code for d in diags] == ["ARC150"]
    assert diags[0].hint == "did you mean 'resnet50'?"


def test_builtin_name_with_an_extension_is_a_path(tmp_path: Path) -> None:
    child = write_spec(tmp_path, "extends: resnet50.yaml\nname: c\n", "child.yaml")
    assert [c for c, _, _ in errors(child)] == ["ARC155"]


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    for value in ("[resnet50]", "{a: 1}", "50", "''"):
        child = write_spec(tmp_path, f"extends: {value}\nname: c\n", "child.yaml")
        assert [c for c, _, _ in errors(child)] == ["ARC103"], value


def test_an_error_in_a_base_stops_the_chain(tmp_path: Path) -> None:
    write_spec(tmp_path, "spec_version: 1\nname: [b\n", "base.yaml")
    child = write_spec(tmp_path, "extends: ./base.yaml\nname: c\n", "child.yaml")
    assert [(c, f) for c, f, _ in errors(child)] == [("ARC001", "base.yaml")]


# Built-ins


@pytest.mark.parametrize("name", builtin_names())
def test_builtins_load_by_name(name: str) -> None:
    spec = archcompiler.load_spec(name)
    assert spec.name == name
    assert all(Path(f).is_file() for f in spec.files)


def test_unknown_builtin_at_the_top() -> None:
    res = archcompiler.resolve("resnet5")
    assert res.spec is None and res.not_found
    assert [d.code for d in res.diagnostics] == ["ARC012"]
    with pytest.raises(archcompiler.SpecError):
        archcompiler.load_spec("resnet5")


def test_builtin_names_are_not_paths() -> None:
    from archcompiler.language.zoo import builtin_path, looks_like_name

    assert builtin_path("../specs/resnet50") is None
    assert builtin_path("resnet50.yaml") is None
    assert builtin_path("/etc/passwd") is None
    assert not looks_like_name("./resnet50")
    assert looks_like_name("resnet50")


def test_extends_null_means_no_base(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "extends: null\n" + TINY, "s.yaml")
    assert archcompiler.load_spec(path).name == "tiny"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_as_base_is_refused_quickly(tmp_path: Path) -> None:
    # Reading /dev/zero would never end; the loader refuses anything but a regular file.
    child = write_spec(tmp_path, "extends: /dev/zero\nname: c\n", "child.yaml")
    assert errors(child, allow_outside=True) == [("ARC155", "child.yaml", 1)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_as_base_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    child = write_spec(tmp_path, "extends: ./pipe.yaml\nname: c\n", "child.yaml")
    assert errors(child) == [("ARC155", "child.yaml", 1)]


def test_an_oversized_base_is_refused(tmp_path: Path) -> None:
    write_spec(tmp_path, TINY + "#" * (3 << 20) + "\n", "base.yaml")
    child = write_spec(tmp_path, "extends: ./base.yaml\nname: c\n", "child.yaml")
    assert errors(child) == [("ARC003", "base.yaml", 1)]

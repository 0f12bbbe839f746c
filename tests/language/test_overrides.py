"""Overrides: `KEY=VALUE` strings (the CLI's --set) and mappings, merged as one more layer."""

from __future__ import annotations

from pathlib import Path

import pytest

import archcompiler
from archcompiler.core.diagnostics import Diagnostic, format_text
from archcompiler.language.load import Resolution, resolve
from tests.conftest import write_spec


def resolved(ref: str = "resnet50", **kw: object) -> Resolution:
    res = resolve(ref, **kw)  # type: ignore[arg-type]
    return res


def only_error(res: Resolution) -> Diagnostic:
    errs = [d for d in res.diagnostics if d.severity.value == "error"]
    assert res.spec is None and len(errs) == 1, format_text(res.diagnostics, res.sources)
    return errs[0]


def shown(res: Resolution) -> str:
    return format_text(res.diagnostics, res.sources)


# Values land where the dotted path says, with the merge rules of `extends`


def test_scalars_lists_and_mappings() -> None:
    res = resolved(overrides=["head.classes=10", "stages.depths=[2, 2, 2, 2]"])
    assert res.spec is not None and not res.diagnostics
    assert res.spec.classes == 10
    assert [s.depth for s in res.spec.stages] == [2, 2, 2, 2]


def test_a_new_block_type_replaces_the_mapping() -> None:
    spec = archcompiler.load_spec("resnet50", overrides=["stages.block={type: basic}"])
    assert {b.config.type for b in spec.blocks} == {"basic"}
    assert spec.stages[-1].out_channels == 512


def test_mappings_merge_deeply() -> None:
    spec = archcompiler.load_spec("resnet50", overrides=["stages.block={groups: 32}",
                                                         "stages.block.width_per_group=4"])
    config = spec.blocks[0].config
    assert (config.type, config.groups, config.width_per_group, config.expansion) == \
        ("bottleneck", 32, 4, 4)


def test_null_and_empty_reset_to_the_default() -> None:
    for text in ("stem.pool=null", "stem.pool="):
        spec = archcompiler.load_spec("resnet50", overrides=[text])
        assert spec.stem.pool_kind is None


def test_a_list_entry_by_index() -> None:
    spec = archcompiler.load_spec("resnet50", overrides=["stages.depths.2=9"])
    assert [s.depth for s in spec.stages] == [3, 4, 9, 3]


def test_later_overrides_win() -> None:
    spec = archcompiler.load_spec("resnet18", overrides=["head.classes=10", "head.classes=7"])
    assert spec.classes == 7


def test_one_string_is_one_override() -> None:
    assert archcompiler.load_spec("resnet18", overrides="head.classes=3").classes == 3


def test_a_new_section_is_created() -> None:
    spec = archcompiler.load_spec("resnet20", overrides=["stem.pool.kind=avg"])
    assert (spec.stem.pool_kind, spec.stem.pool_kernel) == ("avg", 3)


def test_the_mapping_form() -> None:
    spec = archcompiler.load_spec("resnet50", overrides={"head.classes": 10,
                                                         "stages.depths": (1, 1, 1, 1),
                                                         "stages.block": {"type": "basic"}})
    assert (spec.classes, len(spec.blocks), spec.blocks[0].config.type) == (10, 4, "basic")


def test_overrides_do_not_leak_into_the_next_load() -> None:
    archcompiler.load_spec("resnet50", overrides=["stages.depths=[1, 1, 1, 1]"])
    assert len(archcompiler.load_spec("resnet50").blocks) == 16


# Every bad override is a diagnostic at the override, with a caret and a hint


def test_a_misspelt_key_points_at_its_segment() -> None:
    res = resolved(overrides=["head.clases=10"])
    d = only_error(res)
    assert (d.code, str(d.span), d.hint) == ("ARC101", "<--set 1>:1:6", "did you mean 'classes'?")
    assert shown(res).splitlines()[1:3] == ["    1 | head.clases=10", "      |      ^"]


def test_a_misspelt_top_key() -> None:
    d = only_error(resolved(overrides=["stages.depths=[2,2,2,2]", "heads.classes=10"]))
    assert (d.code, str(d.span), d.hint) == ("ARC101", "<--set 2>:1:1", "did you mean 'head'?")


def test_a_wrong_value_has_a_caret_under_the_value() -> None:
    res = resolved(overrides=["head.classes=ten"])
    d = only_error(res)
    assert (d.code, str(d.span)) == ("ARC103", "<--set 1>:1:14")
    assert shown(res).startswith("<--set 1>:1:14: error[ARC103]")
    assert shown(res).splitlines()[2] == "      |              ^"
    assert d.to_dict()["file"] == "<--set 1>"


@pytest.mark.parametrize(("text", "col"), [
    ("head.classes", 1), ("=3", 1), ("  =3", 1), ("head..classes=3", 6), ("head.cl-asses=3", 6),
    ("head.classes=[1,", 17), ("head.classes={a: 1", 19), ("extends=resnet18", 1),
    ("stages.depths=[1, 2]]", 21),
])
def test_malformed_overrides(text: str, col: int) -> None:
    d = only_error(resolved(overrides=[text]))
    assert d.code == "ARC013" and d.span is not None and d.hint
    assert (d.span.file, d.span.line, d.span.col) == ("<--set 1>", 1, col)


def test_yaml_hazards_in_a_value() -> None:
    assert only_error(resolved(overrides=["head.classes=!!int 3"])).code == "ARC007"
    assert only_error(resolved(overrides=["zero_init_residual=yes"])).code == "ARC010"
    assert only_error(resolved(overrides=["head.classes=010"])).code == "ARC010"
    assert only_error(resolved(overrides=["head.classes=1.5"])).code == "ARC103"


def test_an_index_past_the_end() -> None:
    d = only_error(resolved(overrides=["stages.depths.7=1"]))
    assert (d.code, str(d.span)) == ("ARC104", "<--set 1>:1:15")


def test_a_rule_finding_points_at_the_override() -> None:
    report = archcompiler.analyze("resnet50", overrides=["stages.widths=[64, 64, 256, 512]"])
    spans = [str(d.span) for d in report.diagnostics if d.code == "ARC302"]
    assert spans == ["<--set 1>:1:20", "<--set 1>:1:24"]


def test_an_inherited_error_still_points_into_its_file(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "extends: resnet18\nname: r\nstages: {strides: [1, 2, 2]}\n")
    d = only_error(resolved(str(spec), overrides=["head.classes=5"]))
    assert (d.code, d.span.line if d.span else 0) == ("ARC110", 3)


def test_the_mapping_form_is_located_by_entry() -> None:
    res = resolved(overrides={"head.classes": 10, "stages.depths": "deep"})
    d = only_error(res)
    assert (d.code, str(d.span)) == ("ARC103", "<overrides>:2:15")
    assert '    2 | stages.depths="deep"' in shown(res)
    d = only_error(resolved(overrides={"head.clases": 10}))
    assert (d.code, str(d.span), d.hint) == ("ARC101", "<overrides>:1:6", "did you mean 'classes'?")


def test_the_mapping_form_locates_values_inside_lists_and_mappings() -> None:
    report = archcompiler.analyze("resnet50", overrides={"stages.widths": [64, 64, 256, 512]})
    spans = [str(d.span) for d in report.diagnostics if d.code == "ARC302"]
    assert spans == ["<overrides>:1:20", "<overrides>:1:24"]
    res = resolved(overrides={"stages.block": {"type": "bottleneck", "expanson": 2}})
    d = only_error(res)
    assert (d.code, str(d.span), d.hint) == ("ARC101", "<overrides>:1:37",
                                             "did you mean 'expansion'?")
    assert shown(res).splitlines()[1] == \
        '    1 | stages.block={"type": "bottleneck", "expanson": 2}'
    assert only_error(resolved(overrides={"stages.block": {1: 2}})).code == "ARC011"


def test_the_mapping_form_refuses_objects_and_bad_keys() -> None:
    d = only_error(resolved(overrides={"head.classes": object()}))
    assert (d.code, str(d.span)) == ("ARC103", "<overrides>:1:1")
    d = only_error(resolved(overrides={"head.classes": 3, "a=b": 1}))
    assert (d.code, str(d.span)) == ("ARC013", "<overrides>:2:1")


def test_the_mapping_form_keeps_strings_strings() -> None:
    assert only_error(resolved(overrides={"head.classes": "10"})).code == "ARC103"
    spec = archcompiler.load_spec("resnet18", overrides={"description": "yes\nno: 3"})
    assert spec.description == "yes\nno: 3"


def test_spec_error_carries_the_override_source() -> None:
    with pytest.raises(archcompiler.SpecError) as caught:
        archcompiler.analyze("resnet50", overrides=["head.classes=0"])
    assert "    1 | head.classes=0" in str(caught.value)
    assert caught.value.sources["<--set 1>"] == "head.classes=0"


# The API


def test_every_entry_point_takes_overrides() -> None:
    ov = ["head.classes=10"]
    assert archcompiler.analyze("resnet18", overrides=ov).output_shape == (10,)
    assert "10" in archcompiler.to_dot("resnet18", overrides=ov, detail="stage")
    assert archcompiler.validate("resnet18", overrides=["head.classes=0"])[0].code == "ARC104"


def test_overrides_need_a_source() -> None:
    spec = archcompiler.load_spec("resnet18")
    with pytest.raises(ValueError, match="spec source"):
        archcompiler.load_spec(spec, overrides=["head.classes=1"])
    with pytest.raises(ValueError, match="spec source"):
        archcompiler.analyze(archcompiler.analyze(spec), overrides=["head.classes=1"])


def test_validate_returns_every_diagnostic() -> None:
    assert archcompiler.validate("resnet50") == []
    (d,) = archcompiler.validate("resnet5O")
    assert d.code == "ARC012"
    codes = {d.code for d in archcompiler.validate("resnet50", 16)}
    assert "ARC301" in codes


def test_build_and_render_take_overrides(tmp_path: Path) -> None:
    out = archcompiler.render("resnet18", tmp_path / "r.dot", detail="stage",
                              overrides={"head.classes": 7})
    assert "fc 512→7<" in out.read_text(encoding="utf-8")
    pytest.importorskip("torch")
    model = archcompiler.build_module("resnet18", overrides=["head.classes=10",
                                                             "stages.depths=[1, 1, 1, 1]"])
    assert model.fc.out_features == 10  # type: ignore[union-attr]
    assert len(model.layer1) == 1  # type: ignore[arg-type]

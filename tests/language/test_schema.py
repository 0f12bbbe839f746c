"""The spec schema: the zoo validates, the committed JSON Schema is current and agrees with pydantic,
every field is documented, and the models are strict and frozen."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

import archcompiler
from archcompiler.language.schema import json_schema, schema_model
from archcompiler.language.variants import LoadContext, drop_nulls, load_chain
from archcompiler.language.yamlload import parse_yaml, to_plain
from archcompiler.language.zoo import builtin_names, builtin_path
from tests.conftest import ROOT, TINY

# The models with the built-in block configs in the block slot: what the JSON Schema describes
# (the CLI checks the same in two passes: the spec, then each block against its own type).
Spec = schema_model()

SCHEMA_FILE = ROOT / "archcompiler" / "schema" / "archcompiler.schema.json"
MODELINE = "# yaml-language-server: $schema="
NAMES = builtin_names()


def plain(text: str) -> Any:
    root, diags = parse_yaml(text, "t.yaml")
    assert root is not None and not diags, diags
    return to_plain(root)


def committed_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = committed_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_zoo_is_not_empty() -> None:
    assert len(NAMES) >= 18
    assert {"resnet18", "resnet50", "resnet152", "resnet20", "resnet1202",
            "resnext50_32x4d", "wide_resnet50_2"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_zoo_spec_validates(name: str) -> None:
    spec = archcompiler.load_spec(name)
    assert spec.name == name
    assert spec.description


@pytest.mark.parametrize("name", NAMES)
def test_zoo_spec_has_the_modeline(name: str) -> None:
    path = builtin_path(name)
    assert path is not None
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), f"{path} must start with `{MODELINE}...`"
    target = (ROOT / "archcompiler" / "specs" / first[len(MODELINE):].strip()).resolve()
    assert target == SCHEMA_FILE.resolve()


@pytest.mark.parametrize("name", NAMES)
def test_zoo_spec_matches_the_json_schema(name: str, validator: Draft202012Validator) -> None:
    path = builtin_path(name)
    assert path is not None
    data = plain(path.read_text(encoding="utf-8"))
    if "extends" not in data and "blocks" not in data:
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == []
    # A variant is checked after merging onto its bases: that is the spec it stands for.
    ctx = LoadContext(root_dir=path.parent)
    tree = load_chain(path, str(path), ctx)
    assert tree is not None and not ctx.diags
    merged = to_plain(drop_nulls(tree))
    # A block slot naming a type the spec declares under `blocks:` is checked against that
    # declaration when the spec loads; the published schema knows only the built-in types.
    declared = set(merged.get("blocks") or ())
    assert [e.message for e in validator.iter_errors(merged)
            if not (isinstance(e.instance, dict) and e.instance.get("type") in declared)] == []


def test_committed_schema_is_current() -> None:
    want = json.dumps(json_schema(), indent=2) + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == want, \
        "schema/archcompiler.schema.json is stale: run `archc schema -o schema/archcompiler.schema.json`"


def test_schema_identity() -> None:
    schema = committed_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    # A spec without `extends` is complete (the `else` branch); one with it is an overlay.
    assert set(schema["$defs"]["Spec"]["required"]) == {"spec_version", "name", "stages"}
    assert schema["else"] == {"$ref": "#/$defs/Spec"}
    assert schema["additionalProperties"] is False


GOOD = TINY.replace("head: {classes: 10}", "head: {classes: 10, dropout: 0.5}")

# Bad specs that both validators must refuse (each differs from GOOD in one place).
BOTH_REFUSE = {
    "unknown_top_key": GOOD + "nmae: x\n",
    "unknown_nested_key": GOOD.replace("channels: 3", "chanels: 3"),
    "unknown_block_type": GOOD.replace("type: basic", "type: bottlenek"),
    "block_option_of_other_type": GOOD.replace("type: basic", "type: basic, groups: 32"),
    "missing_block_type": GOOD.replace("{type: basic}", "{}"),
    "shortcut_D": GOOD.replace("shortcut: A", "shortcut: D"),
    "string_for_int": GOOD.replace("classes: 10", 'classes: "10"'),
    "bool_for_int": GOOD.replace("classes: 10", "classes: true"),
    "negative": GOOD.replace("depths: [1, 1, 1]", "depths: [1, -1, 1]"),
    "zero": GOOD.replace("classes: 10", "classes: 0"),
    "too_large": GOOD.replace("classes: 10", "classes: 10000000"),
    "list_for_mapping": GOOD.replace("input: {channels: 3, height: 32, width: 32}", "input: [3]"),
    "mapping_for_list": GOOD.replace("depths: [1, 1, 1]", "depths: {a: 1}"),
    "missing_stages": "spec_version: 1\nname: tiny\n",
    "missing_name": GOOD.replace("name: tiny\n", ""),
    "spec_version_2": GOOD.replace("spec_version: 1", "spec_version: 2"),
    "name_pattern": GOOD.replace("name: tiny", 'name: "a b"'),
    "dropout_one": GOOD.replace("dropout: 0.5", "dropout: 1.0"),
    "dropout_negative_infinity": GOOD.replace("dropout: 0.5", "dropout: -.inf"),
    "empty_depths": GOOD.replace("depths: [1, 1, 1]", "depths: []"),
    "bad_rule_level": GOOD + "rules: {double_on_halve: fatal}\n",
    "unknown_rule": GOOD + "rules: {double_on_halv: warn}\n",
    "activation": GOOD + "activation: tanh\n",
    "width_rule": GOOD.replace("widths: [16, 32, 64]", "widths: {base: 16, rule: triple}"),
}


def test_good_spec_passes_both(validator: Draft202012Validator) -> None:
    data = plain(GOOD)
    Spec.model_validate(data)
    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize("case", sorted(BOTH_REFUSE))
def test_pydantic_and_json_schema_agree_on_bad_specs(case: str,
                                                     validator: Draft202012Validator) -> None:
    data = plain(BOTH_REFUSE[case])
    with pytest.raises(ValidationError):
        Spec.model_validate(data)
    assert list(validator.iter_errors(data)), f"the JSON Schema accepts {case}"


@pytest.mark.parametrize("case", [
    # JSON Schema counts 2.0 as an integer and cannot say "not NaN"; pydantic refuses both, and
    # pydantic is what `archc validate` runs.
    GOOD.replace("classes: 10", "classes: 10.0"),
    GOOD.replace("dropout: 0.5", "dropout: .nan"),
    GOOD.replace("channels: 3", "channels: .nan"),
])
def test_pydantic_refuses_what_json_schema_cannot_express(case: str) -> None:
    with pytest.raises(ValidationError):
        Spec.model_validate(plain(case))


# Every field documented


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo = [root]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for f in model.model_fields.values():
            todo.extend(_inner_models(f.annotation))
    return seen


def _inner_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _inner_models(arg)]


MODELS = _models(Spec)


def test_models_are_found() -> None:
    names = {m.__name__ for m in MODELS}
    assert {"Spec", "Stages", "StageEntry", "BasicBlock", "BottleneckBlock", "Rules", "Head",
            "Stem", "StemConv", "StemPool", "InputSpec", "WidthRule"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_has_a_description(model: type[BaseModel]) -> None:
    assert (model.__doc__ or "").strip(), f"{model.__name__} needs a docstring"
    missing = [name for name, f in model.model_fields.items() if not (f.description or "").strip()]
    assert missing == [], f"{model.__name__} fields without description: {missing}"


def test_every_json_schema_property_has_a_description() -> None:
    schema = committed_schema()
    objects = [("Spec", schema), *schema.get("$defs", {}).items()]
    missing = [f"{owner}.{name}" for owner, obj in objects
               for name, prop in obj.get("properties", {}).items() if not prop.get("description")]
    assert missing == []


# Strictness


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_models_are_strict_and_frozen(model: type[BaseModel]) -> None:
    config = model.model_config
    assert config.get("extra") == "forbid"
    assert config.get("frozen") is True
    assert config.get("strict") is True
    assert config.get("allow_inf_nan") is False


def test_validated_spec_is_frozen() -> None:
    spec = Spec.model_validate(plain(GOOD))
    with pytest.raises(ValidationError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        spec.head.classes = 3  # type: ignore[misc]


@pytest.mark.parametrize(("field", "value"), [
    ("classes", "10"), ("classes", 10.0), ("classes", True), ("dropout", float("nan")),
    ("dropout", float("inf")), ("dropout", "0.1"), ("pool", "max"), ("extra", 1),
])
def test_head_refuses_coercion(field: str, value: object) -> None:
    data = plain(GOOD)
    data["head"][field] = value
    with pytest.raises(ValidationError):
        Spec.model_validate(data)


def test_resolved_spec_is_frozen() -> None:
    import dataclasses

    spec = archcompiler.load_spec("resnet18")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    assert isinstance(spec.stages, tuple)
    assert isinstance(spec.stages[0].blocks, tuple)

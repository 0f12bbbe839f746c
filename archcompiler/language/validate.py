"""Schema validation of a located tree, mapping every pydantic error back to file:line:col."""

from __future__ import annotations

import functools
import typing
from collections.abc import Collection, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from ..blocks import BLOCKS, BlockConfig
from ..blocks.scope import GLOBAL_SCOPE, BlockScope
from ..core.diagnostics import Diagnostic, Span, did_you_mean, error
from ..core.outputs import cut
from .schema import BlockRef, Spec, spec_model
from .yamlload import LNode, to_plain, yaml11_error

_TYPE_ERRORS = {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing",
                "string_type", "bool_type", "bool_parsing", "dict_type", "list_type",
                "model_type", "model_attributes_type", "literal_error", "none_required",
                "is_instance_of"}
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal",
                 "too_short", "too_long", "string_pattern_mismatch", "string_too_long", "multiple_of",
                 "string_too_short"}
_KIND_WORDS = {"int_type": "an integer", "float_type": "a number", "string_type": "a string",
               "bool_type": "true or false", "dict_type": "a mapping", "model_type": "a mapping",
               "list_type": "a list", "none_required": "null",
               "model_attributes_type": "a mapping"}


def _block_tags() -> list[str]:
    """The block type tags the schema accepts: the registered block types."""
    return sorted(BLOCKS.names())


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Collect the pydantic models inside an annotation (through Optional, Union, list, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _fields_at(loc: Sequence[str | int], root: type[BaseModel]) -> list[str]:
    """Return the field names allowed in the mapping at `loc` of `root` (for did-you-mean)."""
    models: list[type[BaseModel]] = [root]
    for seg in loc:
        if isinstance(seg, int):
            continue
        nxt = [m for model in models if seg in model.model_fields
               for m in _models_in(model.model_fields[seg].annotation)]
        if nxt:
            models = nxt
        else:
            # A discriminator tag or union branch name: pick the model with that tag, if any.
            tagged = [m for m in models if _tag_of(m) == seg]
            models = tagged or models
    return sorted({name for m in models for name in m.model_fields})


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return str(args[0]) if args else None


def locate(root: LNode, loc: Sequence[str | int]) -> tuple[LNode, list[str | int]]:
    """Walk `loc` through the tree, skipping segments that are not keys; return node and path."""
    node, path = root, []
    for seg in loc:
        if isinstance(node.value, dict) and isinstance(seg, str) and seg in node.value:
            node = node.value[seg]
        elif isinstance(node.value, list) and isinstance(seg, int) and 0 <= seg < len(node.value):
            node = node.value[seg]
        else:
            continue
        path.append(seg)
    return node, path


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else seg)
    return out or "spec"


def _describe(value: object) -> str:
    if isinstance(value, str):
        return f"the string {cut(repr(value), 80)}"  # a 900 KB name is not echoed whole
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"{type(value).__name__} {cut(repr(value), 80)}"


def _type_hint(value: object, want: str) -> str:
    if want == "an integer" and isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return f"write {value.strip()} without quotes"
    if want == "an integer" and isinstance(value, float) and value.is_integer():
        return f"write {int(value)}, without the decimal point"
    if want == "a mapping" and isinstance(value, str) and value in _block_tags():
        return f"write {{type: {value}}}"
    return f"write {want} here"


def _one(err: Any, root: LNode, model: type[BaseModel], at: Sequence[str | int] = ()
         ) -> Diagnostic:
    kind, loc, value = err["type"], err["loc"], err.get("input")
    node, path = locate(root, loc)
    field = _dotted([*at, *path])
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _fields_at(loc[:-1], model)
        hint = did_you_mean(key, allowed) or f"allowed keys here: {', '.join(allowed)}"
        span = node.key_span or node.span
        parent = _dotted([*at, *path[:-1]])
        return error("ARC101", f"unknown key '{key}' in {parent}", span, hint=hint)
    if kind == "missing" and loc[-1] == "type" and model is spec_model():
        tags = _block_tags()
        return error("ARC105", f"{_dotted([*at, *path])} needs a 'type' key (one of "
                     f"{', '.join(tags)})", node.span,
                     hint="add " + " or ".join(f"`type: {t}`" for t in tags))
    if kind == "missing":
        name = str(loc[-1])
        return error("ARC102", f"{field} is missing the required key '{name}'", node.span,
                     hint=f"add `{name}:` here")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        ctx = err.get("ctx") or {}
        tags = _block_tags()
        tag_node = node.get("type") or node
        if kind == "union_tag_not_found":
            return error("ARC105", f"{field} needs a 'type' key (one of {', '.join(tags)})",
                         node.span, hint="add " + " or ".join(f"`type: {t}`" for t in tags))
        tag = str(ctx.get("tag"))
        hint = did_you_mean(tag, tags) or f"choose one of: {', '.join(tags)}"
        return error("ARC105", f"unknown block type '{tag}'", tag_node.span, hint=hint)
    if kind == "literal_error":
        expected = [t.strip(" '") for t in
                    str((err.get("ctx") or {}).get("expected", "")).replace(" or ", ",").split(",")]
        expected = [e for e in expected if e]
        hint = (did_you_mean(str(value), expected) if isinstance(value, str) else None) \
            or f"choose one of: {', '.join(expected)}"
        return error("ARC105", f"{field}: {_describe(value)} is not an allowed value", node.span,
                     hint=hint)
    if kind == "finite_number":
        return error("ARC106", f"{field} must be a finite number, not {value}", node.span,
                     hint="NaN and infinity are not allowed")
    if kind in _RANGE_ERRORS:
        return error("ARC104", f"{field}: {err['msg'][0].lower()}{err['msg'][1:]}, got "
                     f"{_describe(value)}", node.span, hint="change the value to fit the limit")
    if kind in _TYPE_ERRORS:
        want = _KIND_WORDS.get(kind, "another type")
        return error("ARC103", f"{field} must be {want}, not {_describe(value)}", node.span,
                     hint=_type_hint(value, want))
    return error("ARC100", f"{field}: {err['msg']}", node.span, hint="see `archc schema`")


def _merge_same_span(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Union branches report one error each at the same place; merge them into one message."""
    merged: dict[tuple[Span | None, str], Diagnostic] = {}
    for d in diags:
        key = (d.span, d.code)
        if key in merged and d.code == "ARC103":
            prev = merged[key]
            want = d.message.split(" must be ", 1)[1].split(", not ")[0]
            head, tail = prev.message.split(", not ", 1)
            merged[key] = error(d.code, f"{head} or {want}, not {tail}", d.span,
                                hint="see `archc schema` for the accepted forms")
        elif key not in merged:
            merged[key] = d
    return list(merged.values())


_KIND_ERRORS = {"model_type", "dict_type", "list_type", "model_attributes_type"}


# Mapping branches of one union told apart by their `rule` value, as (branch, its rule): a
# width mapping reports the errors of the branch its `rule` names, not of both.
_RULE_BRANCHES = (("RegNetRule", "regnet"), ("WidthRule", None))


def _drop_other_rules(errs: list[Any], root: LNode) -> list[Any]:
    """Drop the errors of the width-rule branch that the mapping's `rule` does not name."""
    def wrong(err: Any) -> bool:
        for i, seg in enumerate(err["loc"]):
            for branch, rule in _RULE_BRANCHES:
                if seg == branch:
                    node = locate(root, err["loc"][:i])[0]
                    named = node.get("rule") if isinstance(node.value, dict) else None
                    is_regnet = named is not None and named.value == "regnet"
                    return is_regnet != (rule == "regnet")
        return False
    return [e for e in errs if not wrong(e)]


def _drop_branch_mismatches(errs: list[Any], root: LNode) -> list[Any]:
    """A union reports one error per branch. When one branch got inside the value (so the value
    has that branch's kind), the other branches' 'wrong kind' errors are noise: drop them."""
    errs = _drop_other_rules(errs, root)
    paths = [tuple(locate(root, e["loc"])[1]) for e in errs]
    return [e for e, p in zip(errs, paths)
            if e["type"] not in _KIND_ERRORS
            or not any(len(q) > len(p) and q[:len(p)] == p for q in paths)]


def _literals_at(path: Sequence[str | int]) -> frozenset[object]:  # in the spec model
    """Return the Literal choices of the field at `path` (empty when it is not a Literal)."""
    return _literals_of(spec_model(), tuple(seg for seg in path if isinstance(seg, str)))


@functools.lru_cache(maxsize=256)  # a sweep asks the same few fields again and again
def _literals_of(model: type[BaseModel], path: tuple[str, ...]) -> frozenset[object]:
    models: list[type[BaseModel]] = [model]
    annotations: list[Any] = []
    for seg in path:
        annotations = [m.model_fields[seg].annotation for m in models if seg in m.model_fields]
        models = [sub for a in annotations for sub in _models_in(a)]
    found: set[object] = set()
    todo = list(annotations)
    while todo:
        ann = todo.pop()
        if typing.get_origin(ann) is typing.Literal:
            found.update(typing.get_args(ann))
        else:
            todo.extend(typing.get_args(ann))
    return frozenset(found)


def _yaml11_words(node: LNode, path: list[str | int]) -> list[Diagnostic]:
    """Flag plain yes/no/on/off unless the field lists that exact word as a choice."""
    if not node.has_yaml11_words:
        return []
    if isinstance(node.value, dict):
        return [d for k, v in node.value.items() for d in _yaml11_words(v, [*path, k])]
    if isinstance(node.value, list):
        return [d for i, v in enumerate(node.value) for d in _yaml11_words(v, [*path, i])]
    if node.yaml11_bool and node.value not in _literals_at(path):
        return [yaml11_error(node)]
    return []


def errors_of(exc: ValidationError, root: LNode, model: type[BaseModel],
            at: Sequence[str | int] = (), skip: Collection[Span | None] = ()) -> list[Diagnostic]:
    """The diagnostics of a pydantic error, located in `root` (the node validated)."""
    errs = _drop_branch_mismatches(exc.errors(), root)
    diags = [d for d in (_one(err, root, model, at) for err in errs) if d.span not in skip]
    return _merge_same_span(diags)


def _looks_like_code(tag: str) -> bool:
    """A tag that names a Python module or object rather than a block type."""
    return any(c in tag for c in ".:/\\") or tag.startswith("__")


def check_block(ref: BlockRef, root: LNode, path: Sequence[str | int], scope: BlockScope
                ) -> tuple[BlockConfig | None, list[Diagnostic]]:
    """Check one block mapping against the config model of the type its tag names."""
    node = locate(root, path)[0]
    tag_node = node.get("type") or node
    tag = ref.type
    if tag not in scope:
        if _looks_like_code(tag):
            return None, [error(
                "ARC107", f"'{tag}' names code: a spec is data and never imports Python",
                tag_node.span, hint="load the module that registers the block with `archc "
                "--plugin MODULE` (or ARCHC_PLUGINS), then write its tag here")]
        hint = did_you_mean(tag, scope.names()) or f"choose one of: {', '.join(scope.names())}"
        return None, [error("ARC105", f"unknown block type '{tag}'", tag_node.span, hint=hint)]
    model = scope.get(tag).config
    try:
        return model.model_validate(ref.model_dump()), []
    except ValidationError as exc:
        return None, errors_of(exc, node, model, path)


def _block_paths(spec: Spec[BlockRef]) -> list[tuple[str | int, ...]]:
    """Where the spec holds block mappings."""
    st = spec.stages
    paths: list[tuple[str | int, ...]] = [("stages", "block")]
    if st.downsample is not None:
        paths.append(("stages", "downsample"))
    for i, entry in enumerate(st.per_stage or ()):
        if entry.block is not None:
            paths.append(("stages", "per_stage", i, "block"))
    return paths


def _at(spec: Spec[BlockRef], path: tuple[str | int, ...]) -> BlockRef:
    obj: Any = spec
    for seg in path:
        obj = obj[seg] if isinstance(seg, int) else getattr(obj, seg)
    assert isinstance(obj, BlockRef)
    return obj


def _with_configs(spec: Spec[BlockRef], configs: dict[tuple[str | int, ...], BlockConfig]
                  ) -> Spec[BlockRef]:
    """The spec with each checked block config in place of its BlockRef."""
    st = spec.stages
    update: dict[str, Any] = {"block": configs[("stages", "block")]}
    if ("stages", "downsample") in configs:
        update["downsample"] = configs[("stages", "downsample")]
    if st.per_stage is not None:
        update["per_stage"] = [e.model_copy(update={"block": configs[("stages", "per_stage", i,
                                                                        "block")]})
                               if e.block is not None else e for i, e in enumerate(st.per_stage)]
    return spec.model_copy(update={"stages": st.model_copy(update=update)})


def validate_tree(root: LNode, scope: BlockScope = GLOBAL_SCOPE
                  ) -> tuple[Spec[BlockRef] | None, list[Diagnostic]]:
    """Validate a located tree against the Spec model, then each block mapping against its
    type's config model; return the spec (blocks as their configs) or diagnostics."""
    words = _yaml11_words(root, [])
    model = spec_model()
    try:
        spec = model.model_validate(to_plain(root))
    except ValidationError as exc:
        return None, words + errors_of(exc, root, model, skip={d.span for d in words})
    assert isinstance(spec, Spec)
    diags: list[Diagnostic] = list(words)
    configs: dict[tuple[str | int, ...], BlockConfig] = {}
    for path in _block_paths(spec):
        config, more = check_block(_at(spec, path), root, path, scope)
        diags += more
        if config is not None:
            configs[path] = config
    if diags:
        return None, diags
    return _with_configs(spec, configs), []

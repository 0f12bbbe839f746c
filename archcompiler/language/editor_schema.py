"""The published JSON Schema: a complete spec, or a partial overlay when it `extends` a base.

Editors check each file on its own, before any merge, so the schema has to say what the
compiler accepts file by file. A spec without `extends` is complete: the pydantic schema, as
it is. A spec with `extends` is an overlay: no field is required at any depth (the base gives
it), and a block mapping need not repeat `type` (it merges into the base's block). Lists
replace instead of merging, so list items stay complete. Any field that has a default may be
null, since null resets a field to its default.
"""

from __future__ import annotations

import copy
from typing import Any

_DEFS = "#/$defs/"
OVERLAY = "Overlay"  # suffix of the relaxed copy of each definition


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    """Let a property with a default also be null, keeping its docs on the outside."""
    branches = prop.get("anyOf", [])
    if prop.get("type") == "null" or any(b.get("type") == "null" for b in branches):
        return prop
    docs: dict[str, Any] = {k: prop[k] for k in ("title", "description", "default") if k in prop}
    inner = {k: v for k, v in prop.items() if k not in docs}
    if "anyOf" in inner and len(inner) == 1:
        return {**docs, "anyOf": [*branches, {"type": "null"}]}
    return {**docs, "anyOf": [inner, {"type": "null"}]}


def _with_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    """An object schema whose optional properties also accept null."""
    required = set(obj.get("required", ()))
    props = obj.get("properties")
    if not isinstance(props, dict):
        return obj
    out = dict(obj)
    out["properties"] = {name: prop if name in required else _nullable(prop)
                         for name, prop in props.items()}
    return out


def _relax(node: Any, wanted: set[str]) -> Any:
    """The overlay form of a schema node: nothing required, unions without a forced tag.

    References along properties point at the relaxed copies (collected in `wanted`); list
    items keep pointing at the complete definitions, since a list is replaced whole.
    """
    if isinstance(node, list):
        return [_relax(n, wanted) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("required", "discriminator"):
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(_DEFS):
            wanted.add(value[len(_DEFS):])
            out[key] = value + OVERLAY
        elif key in ("items", "prefixItems"):
            out[key] = value
        elif key == "oneOf":  # without tags several block types fit `{expansion: 2}`: any one will do
            out["anyOf"] = _relax(value, wanted)
        elif key == "properties":
            out[key] = {name: _relax(prop, wanted) for name, prop in value.items()}
        else:
            out[key] = _relax(value, wanted)
    return out


DECLARED = "DeclaredBlock"


def _declared(node: Any, tags: set[str]) -> Any:
    """Each block slot (a union tagged by `type`) also takes a type the spec declares under
    `blocks:`: any tag but a built-in one, whose fields the loader checks against the
    declaration."""
    if isinstance(node, list):
        return [_declared(n, tags) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _declared(v, tags) for k, v in node.items()}
    disc = node.get("discriminator")
    if isinstance(disc, dict) and disc.get("propertyName") == "type":
        tags.update(disc.get("mapping", {}))
        docs = {k: out.pop(k) for k in ("title", "description", "default") if k in out}
        return {**docs, "anyOf": [out, {"$ref": _DEFS + DECLARED}]}
    return out


def _declared_def(tags: set[str]) -> dict[str, Any]:
    return {
        "title": DECLARED, "type": "object", "required": ["type"],
        "description": "A block type the spec declares under `blocks:` (a block file or an "
                       "inline declaration); its fields are checked against the declaration "
                       "when the spec loads.",
        "properties": {"type": {"type": "string", "not": {"enum": sorted(tags)},
                                "description": "A tag declared under `blocks:`."}},
        "additionalProperties": True,
    }


def _builtin_only(tags: set[str]) -> dict[str, Any]:
    """A file that neither declares blocks nor extends a base (which may declare them) names
    built-in block types only, so a misspelt tag is still caught in the editor."""
    builtin = {"properties": {"type": {"enum": sorted(tags)}}}
    stages = {"properties": {"block": builtin, "downsample": builtin,
                             "per_stage": {"items": {"properties": {"block": builtin}}}}}
    return {
        "if": {"not": {"anyOf": [
            {"required": ["blocks"], "properties": {"blocks": {"type": "object"}}},
            {"required": ["extends"], "properties": {"extends": {"type": "string"}}}]}},
        "then": {"properties": {"stages": stages}},
    }


def overlay_schema(complete: dict[str, Any]) -> dict[str, Any]:
    """Turn pydantic's schema of a complete spec into the published complete-or-overlay schema."""
    tags: set[str] = set()
    complete = _declared(copy.deepcopy(complete), tags)
    if tags:
        complete.setdefault("$defs", {})[DECLARED] = _declared_def(tags)
    defs: dict[str, Any] = {name: _with_nulls(d) for name, d in complete.pop("$defs", {}).items()}
    spec = _with_nulls(complete)
    defs["Spec"] = spec
    wanted: set[str] = set()
    top = _relax(spec, wanted)
    done: set[str] = set()
    while wanted - done:
        name = min(wanted - done)
        done.add(name)
        defs[name + OVERLAY] = _relax(defs[name], wanted)
    top = {k: v for k, v in top.items() if k != "title"}
    if tags:
        top["allOf"] = [_builtin_only(tags)]
    return {
        "title": spec.get("title", "Spec"),
        **top,
        # `extends: null` means no base, so only a string makes the file an overlay.
        "if": {"required": ["extends"], "properties": {"extends": {"type": "string"}}},
        "else": {"$ref": _DEFS + "Spec"},
        "$defs": dict(sorted(defs.items())),
    }

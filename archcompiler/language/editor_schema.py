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


def overlay_schema(complete: dict[str, Any]) -> dict[str, Any]:
    """Turn pydantic's schema of a complete spec into the published complete-or-overlay schema."""
    complete = copy.deepcopy(complete)
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
    return {
        "title": spec.get("title", "Spec"),
        **top,
        # `extends: null` means no base, so only a string makes the file an overlay.
        "if": {"required": ["extends"], "properties": {"extends": {"type": "string"}}},
        "else": {"$ref": _DEFS + "Spec"},
        "$defs": dict(sorted(defs.items())),
    }

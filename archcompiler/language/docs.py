"""The field reference of docs/spec-language.md, generated from the schema's descriptions."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .schema import schema_model

BEGIN, END = "<!-- fields:begin -->", "<!-- fields:end -->"


def _type_name(ann: Any) -> str:
    origin = typing.get_origin(ann)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(ann))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(ann)[0])
    if origin is list:
        return f"list of {_type_name(typing.get_args(ann)[0])}"
    if origin in (typing.Union, getattr(types, "UnionType", None)):
        return " or ".join(_type_name(a) for a in typing.get_args(ann) if a is not type(None))
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann.__name__
    return getattr(ann, "__name__", str(ann))


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]]) -> None:
    if model.__name__ in seen:
        return
    seen[model.__name__] = model
    for field in model.model_fields.values():
        todo = [field.annotation]
        while todo:
            ann = todo.pop()
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                _models(ann, seen)
            todo.extend(typing.get_args(ann))


def field_reference() -> str:
    """Return a Markdown table per model: field, type, default and description."""
    seen: dict[str, type[BaseModel]] = {}
    _models(schema_model(), seen)
    out = [BEGIN]
    for name, model in seen.items():
        out += ["", f"### {name}", "", (model.__doc__ or "").strip(), "",
                "| field | type | default | description |", "|---|---|---|---|"]
        for key, field in model.model_fields.items():
            if field.default is PydanticUndefined and field.default_factory is None:
                default = "required"
            elif field.default_factory is not None:
                default = "see below"
            else:
                default = f"`{field.default}`" if field.default not in ("", None) else "none"
            out.append(f"| `{key}` | {_type_name(field.annotation)} | {default} | "
                       f"{field.description} |")
    out += ["", END]
    return "\n".join(out)

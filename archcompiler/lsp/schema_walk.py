"""Walking the spec language's pydantic models along a key path, for completion and hover.

The models in `language.schema` (and `language.blockfile` for block files) are the one
description of the language: field names, descriptions, enums and defaults all come from them.
A block slot holds a `BlockRef`; the walk swaps in the config model of the block type its
`type` tag names, in the document's scope (built-ins, plugins and declared blocks).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..language.schema import BlockRef

KeyPath = Sequence[str | int]
BlockModel = Callable[[KeyPath], "type[BaseModel] | None"]


def _unwrap(ann: Any) -> list[Any]:
    """The alternatives of an annotation, through Annotated, Optional and unions."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(ann)[0])
    if origin is typing.Union or type(ann).__name__ == "UnionType":
        return [alt for arg in typing.get_args(ann) for alt in _unwrap(arg)]
    return [ann]


def _step(ann: Any, seg: str | int) -> list[Any]:
    """The annotations one segment below `ann`: a field, a dict's value or a list's item."""
    out: list[Any] = []
    for alt in _unwrap(ann):
        origin = typing.get_origin(alt)
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            if isinstance(seg, str) and seg in alt.model_fields:
                out.append(alt.model_fields[seg].annotation)
        elif origin is dict and isinstance(seg, str):
            out.append(typing.get_args(alt)[1])
        elif origin is list and isinstance(seg, int):
            out.append(typing.get_args(alt)[0])
    return out


def models_at(root: type[BaseModel], path: KeyPath, block_model: BlockModel
              ) -> list[type[BaseModel]]:
    """The models of the mapping at `path` (a block slot as its block type's config)."""
    anns: list[Any] = [root]
    for i, seg in enumerate(path):
        nxt = [a for ann in anns for a in _step(_swap(ann, path[:i], block_model), seg)]
        if not nxt and isinstance(seg, int):
            continue  # a list index the text walk guessed: stay at the list's items
        anns = nxt
    found: list[type[BaseModel]] = []
    for ann in anns:
        for alt in _unwrap(_swap(ann, path, block_model)):
            if isinstance(alt, type) and issubclass(alt, BaseModel) and alt not in found:
                found.append(alt)
    return found


def _swap(ann: Any, path: KeyPath, block_model: BlockModel) -> Any:
    """A `BlockRef` slot as the config model of the block at `path`, when its tag is known."""
    if any(alt is BlockRef for alt in _unwrap(ann)):
        model = block_model(path)
        return model if model is not None else BlockRef
    return ann


def field_at(root: type[BaseModel], path: KeyPath, block_model: BlockModel
             ) -> FieldInfo | None:
    """The field a key path ends at (None for a dict entry, a list item or an unknown key)."""
    if not path or not isinstance(path[-1], str):
        return None
    for model in models_at(root, path[:-1], block_model):
        if path[-1] in model.model_fields:
            return model.model_fields[path[-1]]
    return None


def choices(ann: Any) -> list[str]:
    """The values a field allows when they are few: a Literal's, or true and false."""
    out: list[str] = []
    for alt in _unwrap(ann):
        if typing.get_origin(alt) is typing.Literal:
            out += [str(a).lower() if isinstance(a, bool) else str(a) for a in typing.get_args(alt)]
        elif alt is bool:
            out += ["true", "false"]
    return list(dict.fromkeys(out))


def describe_type(ann: Any) -> str:
    """A short name of a field's type for people: `int`, `list[int]`, `'max' | 'avg'`."""
    names = []
    for alt in _unwrap(ann):
        if typing.get_origin(alt) is typing.Literal:
            names.append(" | ".join(repr(a) for a in typing.get_args(alt)))
        elif isinstance(alt, type):
            names.append("mapping" if issubclass(alt, BaseModel) else alt.__name__)
        elif typing.get_origin(alt) in (list, dict):
            names.append(typing.get_origin(alt).__name__)
    return " or ".join(dict.fromkeys(n for n in names if n != "NoneType")) or "value"

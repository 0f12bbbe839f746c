"""`changed`: a frozen record copied with fields changed, as dataclasses.replace copies it."""

from __future__ import annotations

import dataclasses

import pytest

import archcompiler
from archcompiler.core.frozen import changed


def test_a_changed_record_equals_what_replace_gives() -> None:
    report = archcompiler.analyze("resnet50")
    record, block = report.graph.blocks[5], report.spec.blocks[5]
    for original, fields in ((record, {"name": "x.1", "index": 1, "input": "a", "output": "b",
                                       "nodes": ("x.1.conv1",)}),
                             (block, {"name": "x.7", "index": 7, "drop_path": 0.25})):
        copy = changed(original, **fields)
        assert copy == dataclasses.replace(original, **fields)
        assert hash(copy) == hash(dataclasses.replace(original, **fields))
        assert type(copy) is type(original) and copy != original
        with pytest.raises(dataclasses.FrozenInstanceError):
            copy.name = "y"  # type: ignore[misc]


def test_an_unknown_field_is_refused() -> None:
    record = archcompiler.analyze("resnet18").graph.blocks[0]
    with pytest.raises(TypeError, match="no field 'nmae'"):
        changed(record, nmae="x")

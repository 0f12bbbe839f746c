"""Completion: keys, enum values, block types, built-in spec names and block fields.

Completion runs on half-typed text that often does not parse, so the place of the cursor is
read from the text itself: the keys of the enclosing block-style lines (by indentation) and of
the flow mappings open on the cursor's line. What may be written there comes from the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp
from pydantic import BaseModel

from ..blocks import BLOCKS
from ..language.blockfile import BlockSpec
from ..language.schema import spec_model
from ..language.validate import locate
from ..language.zoo import builtin_names
from .analysis import Analysis, scope_from_text
from .schema_walk import KeyPath, choices, describe_type, field_at, models_at

_KEY_LINE = re.compile(r"^(\s*)((?:-\s+)*)([A-Za-z_][\w.-]*)\s*:(?:\s|$)")
_LEAD = re.compile(r"^(\s*)((?:-\s+)*)")
_TYPE = re.compile(r"(?:^|[{,\s])type\s*:\s*([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Place:
    """Where the cursor is: the mapping's key path, and the key whose value it is typing."""

    path: tuple[str | int, ...]
    key: str | None  # None: typing a key
    prefix: str
    flow_start: int | None  # column of the innermost open `{` on the line, if any


def _parents(lines: list[str], line: int, indent: int) -> list[str | int]:
    """The keys (and list items) of the block-style lines that enclose `indent` on `line`."""
    out: list[str | int] = []
    for text in reversed(lines[:line]):
        if indent == 0:
            break
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        lead = _LEAD.match(text)
        assert lead is not None
        dash, key_at = len(lead.group(1)), len(lead.group(1)) + len(lead.group(2))
        m = _KEY_LINE.match(text)
        if lead.group(2) and key_at <= indent:  # a list item holding, or being, our mapping
            if key_at < indent and m:
                out.append(m.group(3))
            out.append(0)
            indent = dash
        elif m and key_at < indent:
            out.append(m.group(3))
            indent = key_at
    return list(reversed(out))


def place_at(lines: list[str], line: int, col: int) -> Place:
    """Read the cursor's place from the text around it (which need not parse)."""
    cur = lines[line][:col] if line < len(lines) else ""
    lead = _LEAD.match(cur)
    assert lead is not None
    indent = len(lead.group(1)) + len(lead.group(2))
    base = _parents(lines, line, len(lead.group(1)) if lead.group(2) else indent)
    if lead.group(2):
        base.append(0)
    rest = cur[lead.end():]
    m = re.match(r"([A-Za-z_][\w.-]*)\s*:\s?", rest)
    if m is None and not rest.startswith(("{", "[")):
        return Place(tuple(base), None, rest.strip(), None)
    # A flow collection right after `- ` is the list item itself: it adds no key of its own.
    line_key, after = (m.group(1), rest[m.end():]) if m else (None, rest)
    ext: list[str | int | None] = []
    frames: list[list[object]] = []  # [bracket, key, in_value, column]
    token = ""
    i, offset = 0, len(cur) - len(after)
    while i < len(after):
        ch = after[i]
        if ch in "\"'":
            close = after.find(ch, i + 1)
            token += after[i:] if close < 0 else after[i:close + 1]
            i = len(after) if close < 0 else close + 1
            continue
        if ch in "{[":
            top = frames[-1] if frames else None
            ext.append(line_key if top is None else (str(top[1]) if top[0] == "{" else 0))
            frames.append([ch, None, False, offset + i])
            token = ""
        elif ch in "}]" and frames:
            frames.pop()
            ext.pop()
            token = ""
        elif ch == ":" and frames and frames[-1][0] == "{":
            frames[-1][1], frames[-1][2], token = token.strip(), True, ""
        elif ch == "," and frames:
            if frames[-1][0] == "{":
                frames[-1][1], frames[-1][2] = None, False
            token = ""
        else:
            token += ch
        i += 1
    if not frames:
        return Place(tuple(base), line_key, after.strip(), None)
    path = [*base, *(seg for seg in ext if seg is not None)]
    top = frames[-1]
    if top[0] == "[":
        return Place(tuple(path[:-1]), str(path[-1]) if path else None, token.strip(), None)
    start = int(top[3])  # type: ignore[call-overload]
    return Place(tuple(path), str(top[1]) if top[2] else None, token.strip(), start)


def _type_tag(lines: list[str], line: int, place: Place, analysis: Analysis | None
              ) -> str | None:
    """The `type` of the block mapping the cursor is in: from the text, else the last tree."""
    text = lines[line] if line < len(lines) else ""
    if place.flow_start is not None:
        m = _TYPE.search(text[place.flow_start:])
        if m:
            return m.group(1)
    else:  # block style: a sibling line `type: X` at the cursor's indentation, below or above
        indent = len(text) - len(text.lstrip())
        for side in (lines[line + 1:], list(reversed(lines[:line]))):
            for near in side:
                depth = len(near) - len(near.lstrip())
                if near.strip() and depth < indent:
                    break
                m = re.match(r"^\s*type\s*:\s*([A-Za-z_]\w*)", near)
                if m and depth == indent:
                    return m.group(1)
    res = analysis.resolution if analysis is not None else None
    if res is not None and res.tree is not None:
        node, found = locate(res.tree, place.path)
        if len(found) == len(place.path) and (tag := node.get("type")) is not None:
            return str(tag.value)
    return None


def block_types(analysis: Analysis | None, text: str) -> list[str]:
    """Every block type in scope: built-in and plugin (the registry), and declared ones."""
    names = list(BLOCKS.names())
    if analysis is not None and analysis.scope is not None:
        names += analysis.scope.names()
    block = re.search(r"^blocks\s*:\s*\{([^}]*)\}", text, re.MULTILINE)
    if block:  # declared in the text being typed, before it parses
        names += re.findall(r"([A-Za-z_]\w*)\s*:", block.group(1))
    return sorted(dict.fromkeys(names))


def _block_model(analysis: Analysis | None, tag: str | None, text: str, path: str
                 ) -> type[BaseModel] | None:
    """The config model of block type `tag`: in the last analysis's scope, the registry, or
    declared in the text being typed (which need not parse)."""
    if tag is None:
        return None
    scope = analysis.scope if analysis is not None else None
    if scope is not None and tag in scope:
        return scope.get(tag).config
    if tag in BLOCKS:
        return BLOCKS.get(tag).config
    found = scope_from_text(text, path, {})
    return found.get(tag).config if tag in found.local else None


def _item(label: str, kind: lsp.CompletionItemKind, detail: str | None = None,
          doc: str | None = None, insert: str | None = None) -> lsp.CompletionItem:
    return lsp.CompletionItem(label=label, kind=kind, detail=detail, insert_text=insert,
                              documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, doc)
                              if doc else None)


def complete(lines: list[str], line: int, col: int, analysis: Analysis | None, path: str,
             block_file: bool) -> list[lsp.CompletionItem]:
    """The completion items at 0-based (`line`, `col`) of a spec or block file."""
    place = place_at(lines, line, col)
    root: type[BaseModel] = BlockSpec if block_file else spec_model()
    tag = _type_tag(lines, line, place, analysis)

    def block_model(at: KeyPath) -> type[BaseModel] | None:
        return _block_model(analysis, tag, text, path) if tuple(at) == place.path else None

    text = "\n".join(lines)
    if place.key is None:
        items = []
        for model in models_at(root, place.path, block_model):
            for name, info in model.model_fields.items():
                items.append(_item(name, lsp.CompletionItemKind.Property,
                                   describe_type(info.annotation), info.description,
                                   f"{name}: "))
        return list({i.label: i for i in items}.values())
    if not block_file and place.key == "extends" and not place.path:
        folder = Path(path).parent
        files = sorted(p.name for p in folder.glob("*.y*ml") if p.name != Path(path).name) \
            if folder.is_dir() else []
        return [_item(n, lsp.CompletionItemKind.Module, "built-in spec") for n in builtin_names()] \
            + [_item(f, lsp.CompletionItemKind.File, "spec file") for f in files]
    if place.key == "type" and not block_file:
        return [_item(n, lsp.CompletionItemKind.Class, "block type",
                      (BLOCKS.get(n).config.__doc__ if n in BLOCKS else None))
                for n in block_types(analysis, text)]
    found = field_at(root, (*place.path, place.key), block_model)
    if found is None:
        return []
    return [_item(v, lsp.CompletionItemKind.EnumMember, describe_type(found.annotation),
                  found.description) for v in choices(found.annotation)]

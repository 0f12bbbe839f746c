"""Sources without files: specs given as YAML text or a Python mapping, and overrides.

An override is one more `extends` layer on top of a spec, written as `KEY=VALUE` (the CLI's
`--set`; KEY a dotted path, VALUE YAML), as a mapping `{"head.classes": 10}`, or as the keywords
of a Python call (`create_model(num_classes=10)`, `KeywordOverrides`). Each is located in a
source of its own (`<--set 1>`, `<overrides>`, `<create_model>`) whose text is kept, so a
diagnostic about an overridden value shows the override with a caret, as it would a line of a
file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from json.encoder import encode_basestring
from typing import Union

import yaml

from ..core.diagnostics import Diagnostic, Span, error
from ..core.outputs import cut
from .variants import merge
from .yamlload import MAX_DEPTH, LNode, parse_value


@dataclass(frozen=True)
class KeywordOverrides:
    """Overrides given as keyword arguments of a Python call, e.g. `create_model(num_classes=0)`.

    Each keyword sets a dotted key (`num_classes` sets `head.classes`) and is located in the
    call's own text, the source `<call>`, so a diagnostic points at the keyword, not at a line
    of the library. `rest` (the call's `overrides=`) is applied first, the keywords over it.
    """

    call: str  # one of KEYWORD_CALLS
    keywords: tuple[tuple[str, str, object], ...]  # (keyword, the dotted key it sets, value)
    rest: Overrides | None = None


Overrides = Union[Mapping[str, object], Sequence[str], KeywordOverrides]

OVERRIDE_CODE = "ARC013"  # a malformed override: no '=', a bad key, or a value that is not YAML
TEXT_SOURCE = "<string>"
MAPPING_SOURCE = "<mapping>"
MAPPING_OVERRIDES = "<overrides>"
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
# The calls whose keywords are overrides; their sources are `<create_model>`, ...
KEYWORD_CALLS = ("build_module", "create_model", "timm.create_model")
_SET_HINT = "write KEY=VALUE with a dotted KEY and a YAML VALUE, e.g. head.classes=10"


@dataclass(frozen=True)
class SpecText:
    """A whole spec held in memory under a display name, such as the CLI's `<stdin>`.

    Bytes are checked as a file's are (the size bound, UTF-8, a BOM), then parsed. Relative
    `extends` and block-file paths in it resolve against the working directory, which also
    bounds them unless `allow_outside` is given: in-memory text is a file in the current folder.
    """

    data: bytes | str
    name: str = TEXT_SOURCE

    def __post_init__(self) -> None:
        # A name in angle brackets is what marks a source as no file (core/outputs.input_paths).
        if not (self.name.startswith("<") and self.name.endswith(">")):
            raise ValueError(f"a SpecText's name is written in angle brackets, like <stdin>; "
                             f"got {self.name!r}")

    def __str__(self) -> str:
        return self.name


def is_yaml_text(ref: str) -> bool:
    """Tell YAML text from a path or name: text holds a line break, or `: ` or starts with `{`.

    Paths and built-in names never need either, so every existing way to name a spec keeps
    working; an existing file whose name holds `: ` is still read as a file by the caller.
    """
    return "\n" in ref or ": " in ref or ref.lstrip().startswith("{")


def is_override_source(name: str) -> bool:
    """True for the sources that hold overrides (`<--set N>`, `<overrides>`, `<create_model>`)."""
    return name.startswith("<--set ") or name == MAPPING_OVERRIDES or \
        name[1:-1] in KEYWORD_CALLS


@dataclass(frozen=True)
class Override:
    """One parsed override: the path it sets, where each segment was written, and the value."""

    path: tuple[str, ...]
    spans: tuple[Span, ...]
    value: LNode


class PlainError(TypeError):
    """Python data that cannot be a spec; `code` is the diagnostic code to report it with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def bad_text(text: str) -> tuple[int, int, str] | None:
    """Line, column and a description of the first character UTF-8 cannot encode, or None."""
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError as exc:
        before = text[:exc.start]
        line = before.count("\n") + 1
        col = exc.start - (before.rfind("\n") + 1) + 1
        char = ord(text[exc.start])
        what = (f"the undecodable byte 0x{char - 0xDC00:02x}" if 0xDC80 <= char <= 0xDCFF
                else f"the lone surrogate U+{char:04X}")
        return line, col, what


def _plain(value: object, where: str, depth: int = 0, path: tuple[int, ...] = ()) -> object:
    """Check that a Python value is plain spec data; tuples become lists.

    Raises PlainError for anything YAML could not hold: other types, keys that are not strings,
    text that is not UTF-8, nesting past MAX_DEPTH and a container that holds itself.
    """
    if depth > MAX_DEPTH:
        raise PlainError("ARC009", f"{where}: nesting deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):  # a str subclass (an enum member): its plain text
        text = str.__str__(value)
        found = bad_text(text)
        if found is not None:
            raise PlainError("ARC002", f"{where}: the text {cut(text, 40)!r} is not UTF-8: it "
                             f"holds {found[2]}")
        return text
    if value is None or type(value) in (bool, int, float):
        return value
    if isinstance(value, (int, float)):  # an IntEnum or a float subclass: the plain number
        return int(value) if isinstance(value, int) else float(value)
    if isinstance(value, (list, tuple, Mapping)):
        if id(value) in path:
            raise PlainError("ARC009", f"{where}: a {type(value).__name__} that contains itself")
        inner = (*path, id(value))
        if isinstance(value, Mapping):
            out: dict[str, object] = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise PlainError("ARC011", f"{where}: mapping keys must be strings, not "
                                     f"{cut(repr(k), 40)} ({type(k).__name__})")
                key = _plain(k, where, depth + 1, inner)
                assert isinstance(key, str)
                out[key] = _plain(v, f"{where}.{cut(key, 40)}", depth + 1, inner)
            return out
        return [_plain(v, where, depth + 1, inner) for v in value]
    raise PlainError("ARC103", f"{where}: a value of type {type(value).__name__} cannot appear "
                     "in a spec; use mappings, lists, strings, numbers, booleans and None")


def mapping_text(spec: Mapping[str, object]) -> tuple[str | None, list[Diagnostic]]:
    """Write a whole spec given as a mapping as YAML text, so it is located line by line."""
    try:
        data = _plain(spec, "spec")
    except PlainError as exc:
        return None, [error(exc.code, str(exc), Span(MAPPING_SOURCE, 1, 1),
                            hint="pass the spec as plain data, as yaml.safe_load would return it")]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None,
                          width=100), []


def _scalar(value: object) -> str:
    """YAML text for a plain scalar; strings are JSON-quoted (valid YAML), so they stay strings."""
    if isinstance(value, str):  # as json.dumps(value, ensure_ascii=False), without its encoder
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _located(value: object, file: str, line: int, col: int, diags: list[Diagnostic],
             key_span: Span | None = None) -> tuple[str, LNode]:
    """Write plain data as one line of YAML flow text, and locate each value in that text.

    Python values are taken as they are, never re-read as YAML text: `"10"` stays a string.
    `key_span` is where the value's key is written, when it is a mapping's value.
    """
    span = Span(file, line, col)
    if isinstance(value, list):
        parts, items, at = [], [], col + 1
        for item in value:
            text, node = _located(item, file, line, at, diags)
            parts.append(text)
            items.append(node)
            at += len(text) + 2
        return "[" + ", ".join(parts) + "]", LNode(items, span, key_span)
    if isinstance(value, dict):
        parts, children, at = [], {}, col + 1
        for key, item in value.items():
            key_text = _scalar(key)
            here = Span(file, line, at)
            text, node = _located(item, file, line, at + len(key_text) + 2, diags, here)
            if isinstance(key, str):
                children[key] = node
            else:
                diags.append(error("ARC011", f"mapping keys must be strings, not {key!r}",
                                   here, hint="use a plain word as the key"))
            parts.append(f"{key_text}: {text}")
            at += len(key_text) + len(text) + 4
        return "{" + ", ".join(parts) + "}", LNode(children, span, key_span)
    return _scalar(value), LNode(value, span, key_span)  # type: ignore[arg-type]


def _key_path(key: str, file: str, line: int, diags: list[Diagnostic]
              ) -> tuple[tuple[str, ...], tuple[Span, ...]] | None:
    """Split a dotted override key into its segments, each located; None if it is malformed."""
    where = Span(file, line, 1)
    stripped = key.strip()
    col = len(key) - len(key.lstrip()) + 1
    if not stripped:
        diags.append(error(OVERRIDE_CODE, "override has an empty key", where, hint=_SET_HINT))
        return None
    if stripped == "extends":
        diags.append(error(OVERRIDE_CODE, "an override cannot change `extends`", Span(file, line, col),
                           hint="write a spec file that extends the base you want"))
        return None
    segments, spans = [], []
    for seg in stripped.split("."):
        if not _SEGMENT.fullmatch(seg):
            what = f"'{seg}' is not a field name or list index" if seg else "a field name is empty"
            diags.append(error(OVERRIDE_CODE, f"in the override key '{stripped}', {what}",
                               Span(file, line, col), hint=_SET_HINT))
            return None
        segments.append(seg)
        spans.append(Span(file, line, col))
        col += len(seg) + 1
    return tuple(segments), tuple(spans)


def _parse_one(entry: str, file: str, diags: list[Diagnostic]) -> Override | None:
    """Parse one `KEY=VALUE` string, the source `file` (`<--set N>`)."""
    key, eq, value = entry.partition("=")
    if not eq:
        diags.append(error(OVERRIDE_CODE, f"override '{entry}' has no '='", Span(file, 1, 1),
                           hint=_SET_HINT))
        return None
    path = _key_path(key, file, 1, diags)
    if path is None:
        return None
    # Blank out everything before the value, so the parsed value keeps its own column.
    start = len(key) + 1
    text = " " * start + value
    node, parsed = parse_value(text, file, Span(file, 1, start + 1))
    last = text.split("\n")
    for d in parsed:
        if d.span is not None and d.span.line > len(last):  # at the end of the text: show its end
            d = replace(d, span=Span(file, len(last), len(last[-1]) + 1))
        if d.code == "ARC001":  # a syntax error in an override is a malformed override
            d = error(OVERRIDE_CODE, f"the value of {key.strip()} is not YAML: "
                      f"{d.message.removeprefix('YAML syntax error: ')}", d.span,
                      hint="quote a string, or write a list as [1, 2] and a mapping as {k: v}")
        diags.append(d)
    if node is None:
        return None
    return Override(*path, node)


def _parse_mapping(overrides: Mapping[str, object], sources: dict[str, str],
                   diags: list[Diagnostic]) -> list[Override]:
    """Parse the mapping form, one entry a line of the source `<overrides>`."""
    lines, parsed = [], []
    for i, (key, value) in enumerate(overrides.items()):
        where = Span(MAPPING_OVERRIDES, i + 1, 1)
        if not isinstance(key, str) or "\n" in key or "=" in key:
            diags.append(error(OVERRIDE_CODE, f"override key {key!r} is not a dotted path", where,
                               hint=_SET_HINT))
            lines.append("?=")
            continue
        if bad_text(key) is not None:
            diags.append(error(OVERRIDE_CODE, f"override key {cut(key, 40)!r} is not UTF-8 text",
                               where, hint=_SET_HINT))
            lines.append("?=")
            continue
        try:
            text, node = _located(_plain(value, key), MAPPING_OVERRIDES, i + 1, len(key) + 2, diags)
        except PlainError as exc:
            diags.append(error(exc.code, str(exc), where, hint="override with plain data"))
            lines.append(f"{key}=")
            continue
        lines.append(f"{key}={text}")
        path = _key_path(key, MAPPING_OVERRIDES, i + 1, diags)
        if path is not None:
            parsed.append(Override(*path, node))
    sources[MAPPING_OVERRIDES] = "\n".join(lines)
    return parsed


def _parse_keywords(given: KeywordOverrides, sources: dict[str, str],
                    diags: list[Diagnostic]) -> list[Override]:
    """Parse the keyword form: the call written out as one line, `create_model(num_classes=0)`,
    each override's key located at its keyword and its value where the line writes it."""
    if given.call not in KEYWORD_CALLS:
        raise ValueError(f"keyword overrides come from {', '.join(KEYWORD_CALLS)}, "
                         f"not {given.call!r}")
    file = f"<{given.call}>"
    parsed: list[Override] = []
    text = given.call + "("
    for i, (keyword, key, value) in enumerate(given.keywords):
        text += ", " if i else ""
        at = len(text) + 1  # the keyword's column
        text += keyword + "="
        try:
            value_text, node = _located(_plain(value, keyword), file, 1, len(text) + 1, diags)
        except PlainError as exc:
            diags.append(error(exc.code, str(exc), Span(file, 1, at),
                               hint="pass plain data: numbers, strings, lists, mappings"))
            text += "..."
            continue
        text += value_text
        segments = tuple(key.split("."))
        if key == "extends" or not all(_SEGMENT.fullmatch(seg) for seg in segments):
            diags.append(error(OVERRIDE_CODE, f"the keyword {cut(keyword, 40)} names no spec "
                               "field", Span(file, 1, at),
                               hint="a field keyword is a dotted key with __ for each dot, e.g. "
                                    "stages__depths=[3, 4, 6, 3]"))
            continue
        # A keyword that spells its key (stages__depths) locates each segment in it; one that
        # stands for a key (num_classes for head.classes) locates every segment at itself.
        spelled = keyword.split("__") == list(segments)
        cols = [at + sum(len(seg) + 2 for seg in segments[:k]) for k in range(len(segments))]
        parsed.append(Override(segments, tuple(Span(file, 1, c if spelled else at) for c in cols),
                               node))
    sources[file] = text + ")"
    return parsed


def parse_overrides(overrides: Overrides, sources: dict[str, str]
                    ) -> tuple[list[Override], list[Diagnostic]]:
    """Parse overrides (KEY=VALUE strings, a mapping, or a call's keywords), registering their
    text in `sources`."""
    diags: list[Diagnostic] = []
    if isinstance(overrides, KeywordOverrides):
        first: list[Override] = []
        if overrides.rest is not None:
            first, diags = parse_overrides(overrides.rest, sources)
        return first + _parse_keywords(overrides, sources, diags), diags
    if isinstance(overrides, Mapping):
        return _parse_mapping(overrides, sources, diags), diags
    parsed: list[Override | None] = []
    entries = [overrides] if isinstance(overrides, str) else list(overrides)
    for i, entry in enumerate(entries):
        file = f"<--set {i + 1}>"
        if not isinstance(entry, str):
            raise TypeError(f"overrides are 'KEY=VALUE' strings, not {type(entry).__name__}")
        found = bad_text(entry)
        if found is not None:  # refused before any text is kept, printed or parsed
            sources[file] = entry.encode("utf-8", "backslashreplace").decode("utf-8")
            diags.append(error(OVERRIDE_CODE, f"override {i + 1} is not UTF-8 text: it holds "
                               f"{found[2]}", Span(file, found[0], found[1]),
                               hint="write the override as UTF-8 text"))
            parsed.append(None)
            continue
        sources[file] = entry
        parsed.append(_parse_one(entry, file, diags))
    return [p for p in parsed if p is not None], diags


def _set(node: LNode | None, ov: Override, depth: int, diags: list[Diagnostic]) -> LNode:
    """Return `node` with the value of `ov` set below it at `ov.path[depth:]`."""
    if depth == len(ov.path):
        if node is None or ov.value.value is None:
            return ov.value
        return merge(node, ov.value)
    seg, span = ov.path[depth], ov.spans[depth]
    if node is not None and isinstance(node.value, list) and seg.isdigit():
        items = list(node.value)
        index = int(seg)
        if index >= len(items):
            diags.append(error("ARC104", f"{'.'.join(ov.path[:depth])} has {len(items)} entries, "
                               f"so there is no index {index}", span,
                               hint=f"use an index below {len(items)}, or set the whole list"))
            return node
        items[index] = _set(items[index], ov, depth + 1, diags)
        return LNode(items, node.span, node.key_span)
    here = node is not None and isinstance(node.value, dict)
    children = dict(node.value) if here else {}  # type: ignore[arg-type, union-attr]
    child = _set(children.get(seg), ov, depth + 1, diags)
    children[seg] = LNode(child.value, child.span, span, child.yaml11_bool)
    if here:
        assert node is not None
        return LNode(children, node.span, node.key_span)
    return LNode(children, span, node.key_span if node is not None else None)


def apply_overrides(tree: LNode, overrides: Sequence[Override]) -> tuple[LNode, list[Diagnostic]]:
    """Merge each override over the tree in order, as one more `extends` layer each."""
    diags: list[Diagnostic] = []
    for ov in overrides:
        tree = _set(tree, ov, 0, diags)
    return tree, diags

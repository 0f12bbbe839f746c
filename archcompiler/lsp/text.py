"""Positions in YAML text: token extents, the node under the cursor, and code-unit columns.

The compiler locates a value by its first character (1-based line and column, in characters);
an editor wants a range, in UTF-16 code units unless it negotiated otherwise. These helpers
bridge the two without parsing again: a token ends where YAML's flow syntax says it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..language.yamlload import LNode

Path_ = tuple[str | int, ...]
_STOP = ",]}#"


def _quoted_end(line: str, col: int) -> int:
    """The end (exclusive) of a quoted scalar starting at `col`, or the line's end."""
    quote = line[col]
    i = col + 1
    while i < len(line):
        if quote == '"' and line[i] == "\\":
            i += 2
            continue
        if line[i] == quote:
            if quote == "'" and i + 1 < len(line) and line[i + 1] == "'":  # '' escapes a quote
                i += 2
                continue
            return i + 1
        i += 1
    return len(line)


def _bracket_end(line: str, col: int) -> int:
    """The end (exclusive) of a flow collection on this line, or the line's trimmed end."""
    depth, i = 0, col
    while i < len(line):
        ch = line[i]
        if ch in "\"'":
            i = _quoted_end(line, i)
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(line.rstrip())


def token_end(line: str, col: int) -> int:
    """Where the YAML token starting at 0-based `col` of `line` ends (exclusive)."""
    if col >= len(line):
        return col
    if line[col] in "\"'":
        return _quoted_end(line, col)
    if line[col] in "[{":
        return _bracket_end(line, col)
    i = col
    while i < len(line):
        ch = line[i]
        if ch in _STOP and not (ch == "#" and i > col and not line[i - 1].isspace()):
            break
        if ch == ":" and (i + 1 == len(line) or line[i + 1] in " \t,]}"):
            break
        i += 1
    end = len(line[col:i].rstrip()) + col
    return max(end, col + 1) if col < len(line) else col


@dataclass(frozen=True)
class Hit:
    """What the cursor is on: a key or a value, at a path of the document's own tree."""

    path: Path_
    node: LNode
    on_key: bool
    start: int  # 0-based column of the token
    end: int


def node_at(root: LNode, lines: list[str], line: int, col: int) -> Hit | None:
    """The key or scalar under 0-based (`line`, `col`), found by walking the located tree."""
    stack: list[tuple[Path_, LNode]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node.value, dict):
            for key, child in node.value.items():
                ks = child.key_span
                if ks is not None and ks.line - 1 == line and ks.line <= len(lines):
                    start = ks.col - 1
                    if start <= col < token_end(lines[line], start):
                        return Hit((*path, key), child, True, start, token_end(lines[line], start))
                stack.append(((*path, key), child))
        elif isinstance(node.value, list):
            stack.extend(((*path, i), child) for i, child in enumerate(node.value))
        elif node.span.line - 1 == line and node.span.line <= len(lines):
            start = node.span.col - 1
            end = token_end(lines[line], start)
            if start <= col < max(end, start + 1):
                return Hit(path, node, False, start, end)
    return None


def to_units(line: str, col: int, utf16: bool) -> int:
    """A character column as the client counts it (UTF-16 code units, or characters)."""
    if not utf16:
        return col
    return col + sum(1 for ch in line[:col] if ord(ch) > 0xFFFF)


def from_units(line: str, units: int, utf16: bool) -> int:
    """A client column (UTF-16 code units, or characters) as a character column."""
    if not utf16:
        return min(units, len(line))
    seen = 0
    for i, ch in enumerate(line):
        if seen >= units:
            return i
        seen += 2 if ord(ch) > 0xFFFF else 1
    return len(line)

"""Safe located YAML loading: every value keeps its file, line and column.

We compose the tree ourselves from PyYAML's event stream instead of calling a constructor, so
no tag is ever honoured, no object is ever built from the text, and every hostile construct
(alias bombs, deep nesting, duplicate keys, YAML 1.1 booleans) becomes a diagnostic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union, cast

import yaml

from ..core.diagnostics import Diagnostic, Span, error

# Bounds that keep a hostile file cheap: all far above what a real spec needs.
MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_ALIASES = 64
MAX_NODES = 20_000  # ~100x a large spec; composing this many takes ~0.2 s
MAX_DIGITS = 30  # longer integer literals are out of every range (and int() refuses > 4300)

Scalar = Union[str, int, float, bool, None]
LValue = Union[dict[str, "LNode"], list["LNode"], Scalar]


@dataclass(frozen=True)
class LNode:
    """A located YAML value: mappings hold LNodes by key, sequences hold LNodes."""

    value: LValue
    span: Span
    key_span: Span | None = None
    yaml11_bool: bool = False  # a plain yes/no/on/off: checked against the field it lands in

    def get(self, key: str) -> LNode | None:
        """Return the child under `key` when this is a mapping, else None."""
        return self.value.get(key) if isinstance(self.value, dict) else None

    # Facts about the subtree, worked out once a node and kept in its __dict__ (not fields: they
    # take no part in equality, hashing or repr): trees are never changed, and a sweep's trees
    # share most nodes (cached parses and merges), so a walk can skip what it knows. No lock:
    # two threads that both work one out write the same answer.

    @property
    def has_nulls(self) -> bool:
        """Whether some mapping below (this one included) holds a null value."""
        found: bool | None = self.__dict__.get("_has_nulls")
        if found is None:
            value = self.value
            found = (any(v.value is None or v.has_nulls for v in value.values())
                     if isinstance(value, dict) else
                     any(v.has_nulls for v in value) if isinstance(value, list) else False)
            self.__dict__["_has_nulls"] = found
        return found

    @property
    def has_yaml11_words(self) -> bool:
        """Whether this value or one below is a plain yes/no/on/off (see `yaml11_bool`)."""
        found: bool | None = self.__dict__.get("_has_yaml11_words")
        if found is None:
            value = self.value
            found = (any(v.has_yaml11_words for v in value.values())
                     if isinstance(value, dict) else
                     any(v.has_yaml11_words for v in value) if isinstance(value, list)
                     else self.yaml11_bool)
            self.__dict__["_has_yaml11_words"] = found
        return found


def to_plain(node: LNode) -> object:
    """Strip locations, giving the plain Python value pydantic validates."""
    if isinstance(node.value, dict):
        return {k: to_plain(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [to_plain(v) for v in node.value]
    return node.value


_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
# YAML 1.2 core schema: these exact spellings only (".iNf" is a string).
_SPECIAL_FLOAT = {sign + word: float(sign + "inf") for sign in ("", "+", "-")
                  for word in (".inf", ".Inf", ".INF")}
_SPECIAL_FLOAT.update({word: float("nan") for word in (".nan", ".NaN", ".NAN")})
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
# YAML 1.1 reads these as booleans; 1.2 reads them as strings. Either reading surprises someone.
_YAML11_BOOL = {w for b in ("yes", "no", "on", "off", "y", "n")
                for w in (b, b.capitalize(), b.upper())}


def _resolve_plain(text: str, span: Span, diags: list[Diagnostic]) -> Scalar:
    """Resolve an untagged plain scalar with YAML 1.2 core rules, flagging 1.1 surprises."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        if len(text.lstrip("+-")) > MAX_DIGITS:
            diags.append(error(
                "ARC104", f"a {len(text.lstrip('+-'))}-digit integer is out of range", span,
                hint="every count in a spec fits in a few digits"))
            return text
        return int(text)
    if _LEADING_ZERO.match(text):
        diags.append(error(
            "ARC010", f"'{text}' is octal in YAML 1.1 but decimal in YAML 1.2",
            span, hint="drop the leading zero, or quote the value for a string"))
        return text
    if _FLOAT.match(text):
        return float(text)
    if text in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[text]
    return text


def yaml11_error(node: LNode) -> Diagnostic:
    """The diagnostic for a plain yes/no/on/off that lands where it is not a listed choice."""
    text = node.value
    return error("ARC010", f"'{text}' is a boolean in YAML 1.1 but a string in YAML 1.2",
                 node.span, hint=f"write true or false for a flag, or quote it (\"{text}\") "
                 "for a string")


def _pos(text: str, index: int) -> tuple[int, int]:
    """Return the 1-based line and column of a character offset."""
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def decode_source(data: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """Check size and encoding of raw bytes, returning the text or diagnostics."""
    if len(data) > MAX_BYTES:
        return None, [error("ARC003", f"file is over the {MAX_BYTES} byte limit",
                            Span(file, 1, 1), hint="a spec is a few dozen lines; split or trim it")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [error("ARC002", f"the file is not UTF-8 (byte 0x{data[exc.start]:02x})",
                            Span(file, line, col), hint="save the file as UTF-8")]
    return text, []


class _Abort(Exception):
    """Stops composition after a diagnostic that makes the rest meaningless or costly."""


class _Composer:
    """Builds LNodes from events with an explicit stack, so depth costs no Python recursion."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diags: list[Diagnostic] = []
        self.anchors: dict[str, tuple[LNode, int]] = {}
        self.aliases = 0
        self.nodes = 0
        # Frames: [kind, container, span, anchor, size, pending_key, seen_keys]
        self.stack: list[list[object]] = []
        self.root: LNode | None = None
        self.documents = 0

    def span(self, event: yaml.Event) -> Span:
        mark = event.start_mark
        return Span(self.file, mark.line + 1, mark.column + 1) if mark else Span(self.file, 1, 1)

    def fail(self, code: str, msg: str, span: Span, hint: str) -> None:
        self.diags.append(error(code, msg, span, hint=hint))
        raise _Abort

    def count(self, n: int, span: Span) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            self.fail("ARC008", f"the document expands to over {MAX_NODES} values", span,
                      "remove aliases that repeat large parts of the file")

    def check_tag(self, event: yaml.Event, span: Span) -> None:
        tag = getattr(event, "tag", None)
        if tag is not None:
            short = tag.replace("tag:yaml.org,2002:", "!!")
            self.diags.append(error(
                "ARC007", f"YAML tags are not allowed (found '{short}')", span,
                hint="remove the tag; specs hold only plain mappings, lists, numbers and strings"))

    def emit(self, node: LNode, size: int, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = (node, size)
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        frame[4] = int(frame[4]) + size  # type: ignore[call-overload]
        if frame[0] == "seq":
            frame[1].append(node)  # type: ignore[attr-defined]
            return
        pending = frame[5]
        if pending is None:
            self.set_key(frame, node)
            return
        key, key_span = cast("tuple[str | None, Span]", pending)
        frame[5] = None
        if key is not None:
            frame[1][key] = LNode(node.value, node.span, key_span,  # type: ignore[index]
                                  node.yaml11_bool)

    def set_key(self, frame: list[object], node: LNode) -> None:
        if not isinstance(node.value, str):
            shown = "a mapping or list" if isinstance(node.value, (dict, list)) else repr(node.value)
            self.diags.append(error("ARC011", f"mapping keys must be strings, not {shown}",
                                    node.span, hint="use a plain word as the key"))
            frame[5] = (None, node.span)
            return
        seen: dict[str, Span] = frame[6]  # type: ignore[assignment]
        if node.value in seen:
            first = seen[node.value]
            self.diags.append(error(
                "ARC004", f"duplicate key '{node.value}' (first defined at line {first.line})",
                node.span, hint="keep one of the two entries"))
            frame[5] = (None, node.span)
            return
        seen[node.value] = node.span
        frame[5] = (node.value, node.span)

    def feed(self, event: yaml.Event) -> None:
        span = self.span(event)
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.fail("ARC005", "the file holds more than one YAML document", span,
                          "remove the '---' separator; one file holds one spec")
        elif isinstance(event, yaml.ScalarEvent):
            self.check_tag(event, span)
            self.count(1, span)
            plain = event.tag is None and event.implicit[0]
            value = _resolve_plain(event.value, span, self.diags) if plain else event.value
            self.emit(LNode(value, span, None, plain and value in _YAML11_BOOL), 1, event.anchor)
        elif isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                self.fail("ARC008", f"more than {MAX_ALIASES} aliases", span,
                          "write the values out; specs share values with 'extends' instead")
            if event.anchor not in self.anchors:
                self.fail("ARC008", f"alias '*{event.anchor}' refers to no complete anchor", span,
                          "define the anchor before using it, and not inside itself")
            node, size = self.anchors[str(event.anchor)]
            self.count(size, span)
            self.emit(LNode(node.value, span, None, node.yaml11_bool), size, None)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self.check_tag(event, span)
            self.count(1, span)
            if len(self.stack) >= MAX_DEPTH:
                self.fail("ARC009", f"nesting is deeper than {MAX_DEPTH} levels", span,
                          "flatten the structure; a spec needs only a few levels")
            is_map = isinstance(event, yaml.MappingStartEvent)
            container: object = {} if is_map else []
            self.stack.append(["map" if is_map else "seq", container, span, event.anchor, 1,
                               None, {}])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = self.stack.pop()
            node = LNode(frame[1], frame[2])  # type: ignore[arg-type]
            self.emit(node, int(frame[4]), frame[3])  # type: ignore[call-overload, arg-type]


def _compose(text: str, file: str) -> tuple[LNode | None, list[Diagnostic], bool]:
    """Compose one document into an LNode; return the root, diagnostics, and whether it parsed."""
    composer = _Composer(file)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):
            composer.feed(event)
    except _Abort:
        return None, composer.diags, False
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if "nesting depth" in problem:  # libyaml's own bound (1000), met before ours in flow style
            composer.diags.append(error("ARC009", f"nesting is deeper than {MAX_DEPTH} levels",
                                        span, hint="flatten the structure; a spec needs only a "
                                        "few levels"))
            return None, composer.diags, False
        composer.diags.append(error("ARC001", f"YAML syntax error: {problem}", span,
                                    hint="check indentation, colons and brackets on this line"))
        return None, composer.diags, False
    except yaml.YAMLError as exc:
        index = getattr(exc, "position", 0) or 0
        line, col = _pos(text, index)
        composer.diags.append(error("ARC001", f"unreadable YAML: {exc}".splitlines()[0],
                                    Span(file, line, col),
                                    hint="remove control characters from the file"))
        return None, composer.diags, False
    return composer.root, composer.diags, True


def parse_yaml(text: str, file: str) -> tuple[LNode | None, list[Diagnostic]]:
    """Parse YAML text into an LNode tree whose top level is a mapping, or return diagnostics."""
    root, diags, parsed = _compose(text, file)
    if not parsed:
        return None, diags
    if root is None:
        diags.append(error("ARC006", "the file is empty", Span(file, 1, 1),
                           hint="start from a built-in spec: `archc list`"))
        return None, diags
    if not isinstance(root.value, dict):
        diags.append(error("ARC006", "the top level must be a mapping of fields", root.span,
                           hint="write `name: ...`, `stages: ...` and so on"))
        return None, diags
    return root, diags


# A bare number after blanks (`--set stages.widths.w0=32`, as `archc sample` writes each draw):
# libyaml would give one plain scalar at the first non-blank column, so it is resolved here as
# the composer resolves one, without starting a parser (a sample parses five a model).
_BARE_NUMBER = re.compile(r" *([-+]?[0-9][0-9.eE+-]{0,40})")


def parse_value(text: str, file: str, empty: Span) -> tuple[LNode | None, list[Diagnostic]]:
    """Parse one YAML value of any kind (an override's); empty text is null located at `empty`."""
    bare = _BARE_NUMBER.fullmatch(text)
    if bare is not None:
        span = Span(file, 1, bare.start(1) + 1)
        found: list[Diagnostic] = []
        value = _resolve_plain(bare.group(1), span, found)
        return LNode(value, span, None, value in _YAML11_BOOL), found
    root, diags, parsed = _compose(text, file)
    if not parsed:
        return None, diags
    return (root if root is not None else LNode(None, empty)), diags

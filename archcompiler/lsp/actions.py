"""Quick fixes for the hints that are mechanical: the edit the hint spells out, and no other.

Each fix replaces the one token the diagnostic points at: a misspelt key or value by the
"did you mean" choice, a stage width by the width rule (ii) asks for, a quoted or decimal
number by the plain integer, an octal-looking number by its decimal digits, a spec name by
the depth it counts. Hints that need judgement ("check depths, or rename") get no fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lsprotocol import types as lsp

from .text import from_units, to_units, token_end

_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?")
_WIDTH = re.compile(r"^use (width|out_channels) (\d+)(?: \(x\d+ = (\d+) channels\))?")
_UNQUOTE = re.compile(r"^write (-?\d+)(?: without quotes|, without the decimal point)")
_DEPTH = re.compile(r"the name says (\d+) layers but the spec has (\d+)")
_INT = re.compile(r"-?\d+")


def _did_you_mean(hint: str, token: str, before: str, message: str) -> tuple[str, str] | None:
    m = _DID_YOU_MEAN.search(hint)
    if m is None:
        return None
    new = m.group(1)
    if token[:1] in "\"'":
        new = token[0] + new + token[0]
    return new, f"Replace with '{m.group(1)}'"


def _width(hint: str, token: str, before: str, message: str) -> tuple[str, str] | None:
    m = _WIDTH.match(hint)
    if m is None or not _INT.fullmatch(token):
        return None
    field, value, channels = m.groups()
    # The width in channels when the cursor's key is out_channels, in planes otherwise.
    new = channels if before.rstrip().endswith("out_channels:") and channels else value
    if field == "out_channels" and not before.rstrip().endswith("out_channels:"):
        return None  # the hint wants out_channels where a width stands: not one token's edit
    return new, f"Use {'out_channels' if before.rstrip().endswith('out_channels:') else 'width'} "\
        f"{new} (rule ii)"


def _plain_int(hint: str, token: str, before: str, message: str) -> tuple[str, str] | None:
    m = _UNQUOTE.match(hint)
    return (m.group(1), f"Write {m.group(1)}") if m else None


def _octal(hint: str, token: str, before: str, message: str) -> tuple[str, str] | None:
    if not hint.startswith("drop the leading zero") or not _INT.fullmatch(token):
        return None
    return str(int(token)), f"Write {int(token)}"


def _depth(hint: str, token: str, before: str, message: str) -> tuple[str, str] | None:
    m = _DEPTH.search(message)
    if m is None:
        return None
    said, counted = m.groups()
    raw = token.strip("\"'")
    new = re.sub(rf"(resnet|plain){said}(?!\d)", rf"\g<1>{counted}", raw, count=1)
    if new == raw:
        return None
    return token.replace(raw, new), f"Rename to {new}"


Fixer = Callable[[str, str, str, str], "tuple[str, str] | None"]
FIXES: dict[str, list[Fixer]] = {
    "ARC012": [_did_you_mean], "ARC101": [_did_you_mean], "ARC105": [_did_you_mean],
    "ARC150": [_did_you_mean], "ARC103": [_plain_int], "ARC010": [_octal],
    "ARC301": [_width], "ARC302": [_width], "ARC306": [_depth],
}


def fixes(uri: str, lines: list[str], diagnostics: list[lsp.Diagnostic], utf16: bool = True
          ) -> list[lsp.CodeAction]:
    """The quick fixes for the archc diagnostics a client sends back with its request."""
    out = []
    for diag in diagnostics:
        data = diag.data if isinstance(diag.data, dict) else {}
        hint, code = data.get("hint"), diag.code
        if diag.source != "archc" or not isinstance(code, str) or not data.get("here"):
            continue
        line = diag.range.start.line
        if not 0 <= line < len(lines):
            continue
        text = lines[line]
        start = from_units(text, diag.range.start.character, utf16)
        end = token_end(text, start)
        token, before = text[start:end], text[:start]
        for fixer in FIXES.get(code, []):
            found = fixer(hint if isinstance(hint, str) else "", token, before,
                          diag.message)
            if found is None:
                continue
            new, title = found
            rng = lsp.Range(diag.range.start, lsp.Position(line, to_units(text, end, utf16)))
            edit = lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(rng, new)]})
            out.append(lsp.CodeAction(title=title, kind=lsp.CodeActionKind.QuickFix,
                                      diagnostics=[diag], edit=edit, is_preferred=True))
    return out


"""Diagnostics as values: a stable code, a severity, a message, a hint and a source span."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from .outputs import to_json as strict_json


class Severity(str, Enum):
    """How bad a diagnostic is; `off` is a rule setting and never appears on a diagnostic."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Span:
    """A position in a source file: 1-based line and column of the start of a value."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a spec; the CLI and API only format these."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    hint: str | None = None
    node: str | None = None
    # Related places, as rustc's notes: e.g. ("stages.strides inherited from", span in a base).
    notes: tuple[tuple[str, Span], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready mapping of this diagnostic."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "node": self.node,
            "file": self.span.file if self.span else None,
            "line": self.span.line if self.span else None,
            "col": self.span.col if self.span else None,
            "notes": [{"message": text, "file": span.file, "line": span.line, "col": span.col}
                      for text, span in self.notes],
        }


def error(code: str, message: str, span: Span | None, hint: str | None = None,
          node: str | None = None, notes: tuple[tuple[str, Span], ...] = ()) -> Diagnostic:
    """Build an error diagnostic."""
    return Diagnostic(code, Severity.ERROR, message, span, hint, node, notes)


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    """Return True when any diagnostic is an error."""
    return any(d.severity is Severity.ERROR for d in diags)


@dataclass
class SpecError(Exception):
    """Raised by the Python API when a spec has errors; carries every diagnostic."""

    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return format_text(self.diagnostics, self.sources, color=False)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return a 'did you mean' phrase for the closest choice, or None."""
    import difflib  # only on a misspelling: keeps difflib out of every start-up

    options = list(choices)
    same_letters = [c for c in options if c.lower() == word.lower()]
    matches = same_letters or difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def _source_line(sources: Mapping[str, str], span: Span) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    lines = text.splitlines()
    if 1 <= span.line <= len(lines):
        return lines[span.line - 1]
    return None


_MAX_SHOWN = 120  # characters of a source line shown above a caret


def _excerpt(sources: Mapping[str, str], span: Span) -> list[str]:
    """The source line of a span and a caret under its column (nothing if the text is unknown)."""
    line = _source_line(sources, span)
    if line is None:
        return []
    gutter = f"{span.line:>5} | "
    # Tabs would misplace the caret, so expand them on both lines alike.
    shown = line.expandtabs(4)
    prefix = line[: span.col - 1].expandtabs(4)
    if len(shown) > _MAX_SHOWN:  # a minified or hostile line: show a window on the column
        start = max(0, len(prefix) - _MAX_SHOWN // 2)
        cut = "..." if start else ""
        tail = "..." if start + _MAX_SHOWN < len(shown) else ""
        shown = cut + shown[start:start + _MAX_SHOWN] + tail
        prefix = cut + prefix[start:]
    return [gutter + shown, " " * (len(gutter) - 2) + "| " + " " * len(prefix) + "^"]


def format_one(diag: Diagnostic, sources: Mapping[str, str], color: bool = False) -> str:
    """Render one diagnostic as `FILE:LINE:COL: sev[CODE]: msg`, the line, a caret, notes, a hint."""
    sev = diag.severity.value
    if color:
        tint = {"error": "\033[31;1m", "warning": "\033[33;1m", "note": "\033[36;1m"}[sev]
        sev = f"{tint}{sev}\033[0m"
    where = f"{diag.span}: " if diag.span else ""
    out = [f"{where}{sev}[{diag.code}]: {diag.message}"]
    if diag.span is not None:
        out += _excerpt(sources, diag.span)
    for text, span in diag.notes:
        out.append(f"  = note: {text} {span}")
        out += _excerpt(sources, span)
    if diag.hint:
        out.append(f"  = hint: {diag.hint}")
    return "\n".join(out)


def sort_key(diag: Diagnostic) -> tuple[str, int, int, str]:
    """Order diagnostics by file, line, column, then code."""
    if diag.span is None:
        return ("", 0, 0, diag.code)
    return (diag.span.file, diag.span.line, diag.span.col, diag.code)


def format_text(diags: Sequence[Diagnostic], sources: Mapping[str, str],
                color: bool = False) -> str:
    """Render diagnostics for a terminal, one block per diagnostic."""
    return "\n".join(format_one(d, sources, color) for d in diags)


def format_json(diags: Sequence[Diagnostic]) -> str:
    """Render diagnostics as a JSON array."""

    return strict_json([d.to_dict() for d in diags])


class DiagnosticError(Exception):
    """One diagnostic raised from deep inside a stage (a block's lowering): the caller that
    can report it catches it and adds the diagnostic to its list."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic

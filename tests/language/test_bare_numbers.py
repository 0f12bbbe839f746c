"""A bare number in an override is resolved without libyaml: it must come out as the parser's."""

from __future__ import annotations

import random

import pytest

from archcompiler.core.diagnostics import Span
from archcompiler.language import yamlload
from archcompiler.language.yamlload import parse_value

# Texts the fast path takes, and near misses it must leave to the parser.
CASES = ["32", "0", "-7", "+3", "2.26", "15.5", "1e3", "1.5e-3", "-0.0", "007", "08", "1-2",
         "1.2.3", "3.", "1_000", "1e", "12345678901234567890123", "0x1F", "1 ", "1\n", "1 # c",
         "1:", "[1]", "1e+3", "+", "-", ".5", "9" * 41, "99" * 30]


def _by_parser(text: str) -> tuple[object, list[object]]:
    """What the composer (libyaml) makes of `text`, as parse_value gives it."""
    root, diags, parsed = yamlload._compose(text, "<--set 1>")
    return ((root.value, root.span, root.key_span, root.yaml11_bool) if parsed and root
            else None), [(d.code, d.message, d.span) for d in diags]


def _fast(text: str) -> tuple[object, list[object]]:
    node, diags = parse_value(text, "<--set 1>", Span("<--set 1>", 1, 1))
    return ((node.value, node.span, node.key_span, node.yaml11_bool) if node else None), \
        [(d.code, d.message, d.span) for d in diags]


@pytest.mark.parametrize("blanks", [0, 1, 17])
@pytest.mark.parametrize("value", CASES)
def test_a_bare_number_parses_as_libyaml_parses_it(value: str, blanks: int) -> None:
    text = " " * blanks + value
    assert _fast(text) == _by_parser(text)
    fast, slow = _fast(text)[0], _by_parser(text)[0]
    if isinstance(fast, tuple) and isinstance(slow, tuple):  # 1 == 1.0: the types must match too
        assert type(fast[0]) is type(slow[0])


def test_random_numbers_parse_as_libyaml_parses_them() -> None:
    rng = random.Random(17)
    alphabet = "0123456789.eE+-"
    for _ in range(3000):
        text = " " * rng.randint(0, 30) + "".join(
            rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert _fast(text) == _by_parser(text), text


def test_the_fast_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sample's values never start a parser (the point of the fast path)."""
    calls: list[str] = []
    real = yamlload._compose

    def counted(text: str, file: str) -> tuple[object, ...]:
        calls.append(text)
        return real(text, file)

    monkeypatch.setattr(yamlload, "_compose", counted)
    at = Span("<--set 1>", 1, 1)
    parse_value("   32", "<--set 1>", at)
    parse_value("   2.26", "<--set 1>", at)
    assert calls == []
    parse_value("   [1, 2]", "<--set 1>", at)
    assert calls == ["   [1, 2]"]

"""The expression language of block files (archcompiler.core.expr): values, errors, bounds, fuzz."""

from __future__ import annotations

import dataclasses
import math
import pickle
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from archcompiler.core import expr as expr_module
from archcompiler.core.expr import MAX_VALUE, Expr, ExprError, evaluate, parse_expr

FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=400,
                suppress_health_check=[HealthCheck.too_slow])
CODES = {"ARC160", "ARC161", "ARC162", "ARC163"}
BLOCK = ["in", "out", "width", "stride", "expansion"]


def error(source: str | int, env: dict[str, int] | None = None, allowed: list[str] | None = None
          ) -> ExprError:
    """The ExprError that parsing (and, given `env`, evaluating) `source` raises."""
    with pytest.raises(ExprError) as info:
        e = parse_expr(source, allowed)
        if env is not None:
            e.evaluate(env)
    return info.value


# Precedence and associativity, each row chosen so that a wrong grouping gives another value.
@pytest.mark.parametrize(("source", "value"), [
    ("1 - 2 - 3", -4),  # left associative, not 1 - (2 - 3) = 2
    ("100 // 10 // 3", 3),  # not 100 // (10 // 3) = 33
    ("2 + 3 * 4", 14),  # * before +
    ("2 * 3 + 4", 10),
    ("10 - 6 // 2", 7),  # // before -
    ("3 * 7 // 2", 10),  # same level, left to right: not 3 * (7 // 2) = 9
    ("7 // 2 * 3", 9),  # not 7 // 6 = 1
    ("-7 // 2", -4),  # unary minus binds tighter than //, and // floors
    ("-(7 // 2)", -3),
    ("7 // -2", -4),
    ("-7 // -2", 3),
    ("- 2 * - 3", 6),
    ("--5", 5),
    ("2 - -3", 5),
    ("(1 + 2) * 3", 9),
    ("10 - (2 - 3)", 11),
    ("((((7))))", 7),
    (" \t1\n+\r2 ", 3),  # whitespace anywhere between tokens
    ("0007", 7),
    ("in * expansion", 256),
    ("(width * width_per_group) // 64 * groups", 128),
    ("max(8, make_divisible(out // 16, 8))", 16),
])
def test_precedence_and_associativity(source: str, value: int) -> None:
    env = {"in": 64, "expansion": 4, "width": 64, "width_per_group": 4, "groups": 32, "out": 256}
    assert parse_expr(source).evaluate(env) == value
    assert evaluate(source, env) == value


@pytest.mark.parametrize(("source", "value"), [
    ("min(3, 1, 2)", 1), ("max(3, 1, 2)", 3), ("min(-1, 1)", -1), ("max(-1, -5)", -1),
    ("max(min(4, 9), 2 * 3)", 6),
    ("make_divisible(10, 8)", 16),  # 8 is below 90% of 10: one divisor more
    ("make_divisible(12, 8)", 16),  # half up
    ("make_divisible(11, 8)", 16),  # 8 < 9.9: bumped
    ("make_divisible(4, 8)", 8),  # at least the divisor
    ("make_divisible(0, 8)", 8),
    ("make_divisible(100, 8)", 104),
    ("make_divisible(36, 8)", 40),
    ("make_divisible(21, 9)", 27),  # 18 < 18.9: bumped
    ("round_to(10, 8)", 8),  # no 90% step
    ("round_to(12, 8)", 16), ("round_to(11, 8)", 8), ("round_to(0, 8)", 8), ("round_to(4, 3)", 3),
    ("round_to(5, 3)", 6), ("round_to(7, 1)", 7),
    ("ceil_div(7, 2)", 4), ("ceil_div(6, 3)", 2), ("ceil_div(-7, 2)", -3), ("ceil_div(7, -2)", -3),
    ("ceil_div(0, 5)", 0), ("ceil_div(1, 64)", 1),
])
def test_functions(source: str, value: int) -> None:
    assert evaluate(source, {}) == value


def test_make_divisible_round_limit_boundary() -> None:
    # (20 + 4) // 9 * 9 = 18 and 10 * 18 == 9 * 20: not strictly below 90%, so no bump (timm agrees).
    assert evaluate("make_divisible(20, 9)", {}) == 18 == timm_make_divisible(20, 9)
    assert evaluate("make_divisible(21, 9)", {}) == 27 == timm_make_divisible(21, 9)


def timm_make_divisible(v: int, divisor: int, min_value: int | None = None,
                        round_limit: float = 0.9) -> int:
    """timm.layers.helpers.make_divisible, verbatim (torchvision's _make_divisible is the same)."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


def test_make_divisible_equals_timm_float_formula() -> None:
    e = parse_expr("make_divisible(v, d)")
    differ = [(v, d) for v in range(5001) for d in range(1, 65)
              if e.evaluate({"v": v, "d": d}) != timm_make_divisible(v, d)]
    assert differ == []  # none differs (checked up to v = 200,000 when written)


def test_round_to_is_nearest_multiple_half_up() -> None:
    e = parse_expr("round_to(v, d)")
    for v in range(300):
        for d in range(1, 20):
            nearest = max(d, math.floor(Fraction(v, d) + Fraction(1, 2)) * d)
            assert e.evaluate({"v": v, "d": d}) == nearest, (v, d)


# Syntax errors (ARC160), each at the exact offset where the problem starts.
@pytest.mark.parametrize(("source", "offset", "words"), [
    ("", 0, "empty expression"),
    ("   ", 0, "empty expression"),
    ("1 +", 3, "the expression ends"),
    ("1 + * 2", 4, "found '*'"),
    ("(1 + 2", 6, "missing ')' to close the '(' at offset 0"),
    ("1 + 2)", 5, "')' without a matching '('"),
    ("2 3", 2, "unexpected '3' after a complete expression"),
    ("a / b", 2, "unexpected character '/'"),
    ("2 ** 3", 2, "unexpected '**'"),
    ("1.5", 1, "unexpected character '.'"),
    ("x.y", 1, "unexpected character '.'"),
    ("3x", 0, "a name cannot start with a digit"),
    ("+1", 0, "found '+'"),
    ("a < b", 2, "unexpected character '<'"),
    ("'a'", 0, "unexpected character"),
    ("a \xb9", 2, "unexpected character"),  # superscript one is not a digit here
    ("\u0663", 0, "unexpected character"),  # nor is an Arabic-Indic three
    ("a\xa0+ b", 1, "unexpected character"),  # a no-break space is not whitespace here
    ("max(1)", 0, "max() takes at least 2 arguments, got 1"),
    ("x + max()", 4, "max() takes at least 2 arguments, got 0"),
    ("make_divisible(1, 2, 3)", 0, "make_divisible() takes exactly 2 arguments, got 3"),
    ("ceil_div(1)", 0, "exactly 2"),
    ("max(1, 2,)", 9, "found ')'"),
    ("max(1 2)", 6, "expected ',' or ')' in the call to max()"),
    ("min + 1", 0, "'min' is a function, not a value"),
    ("(", 1, "the expression ends"),
    (")", 0, "found ')'"),
    ("1 , 2", 2, "unexpected ','"),
])
def test_syntax_errors(source: str, offset: int, words: str) -> None:
    e = error(source)
    assert (e.code, e.offset) == ("ARC160", offset)
    assert words in e.message and e.hint


def test_error_hints_say_how_to_fix() -> None:
    assert "//" in error("a / b").hint
    assert "power" in error("2 ** 3").hint
    assert "unary '+'" in error("+1").hint
    assert error("min + 1").hint == "call it, e.g. min(a, b)"


def test_yaml_values_that_are_not_int_or_str() -> None:
    for value in (True, False, 1.5, None, [1]):
        e = error(value)  # type: ignore[arg-type]
        assert (e.code, e.offset) == ("ARC160", 0)
    assert "boolean" in error(True).message
    assert "float" in error(1.5).message  # type: ignore[arg-type]


def test_int_source_is_a_constant() -> None:
    assert parse_expr(64).evaluate({}) == 64
    assert parse_expr(-3).evaluate({}) == -3
    assert parse_expr(64) == parse_expr("64") and parse_expr(64).names() == frozenset()
    assert evaluate(8, {}) == 8


# Unknown names (ARC161).
def test_unknown_name_at_parse_time_with_did_you_mean() -> None:
    e = error("in * widht", allowed=BLOCK)
    assert (e.code, e.offset) == ("ARC161", 5)
    assert e.message == "unknown name 'widht' in expression"
    assert e.hint == "did you mean 'width'? known: in, out, width, stride, expansion"


def test_unknown_name_hint_without_a_close_match() -> None:
    # A set has no order of its own: the names are listed sorted, whatever the hash seed.
    names = {"stride", "out", "in", "width", "groups", "mid", "expansion", "ratio", "k", "b"}
    e = error("a + zz", allowed=names)  # type: ignore[arg-type]
    assert e.hint == "known: b, expansion, groups, in, k, mid, out, ratio, stride, width"
    assert error("q", allowed=[]).hint == "no names are defined here"


def test_first_unknown_name_is_reported() -> None:
    e = error("a * (b + c)", allowed=["a"])
    assert (e.code, e.offset, e.message) == ("ARC161", 5, "unknown name 'b' in expression")


def test_names_are_checked_only_when_allowed_is_given() -> None:
    assert parse_expr("nobody + 1").names() == frozenset({"nobody"})
    assert parse_expr("x * y", allowed=("x", "y")).evaluate({"x": 2, "y": 3}) == 6


def test_unknown_name_at_evaluation() -> None:
    e = error("x + yy", env={"x": 1, "y": 2})
    assert (e.code, e.offset, e.message) == ("ARC161", 4, "unknown name 'yy' in expression")
    assert e.hint == "did you mean 'y'? known: x, y"


def test_unknown_function() -> None:
    e = error("1 + foo(1, 2)")
    assert (e.code, e.offset, e.message) == ("ARC161", 4, "unknown function 'foo' in expression")
    assert e.hint == "known functions: min, max, make_divisible, round_to, ceil_div"
    assert error("mx(1, 2)").hint.startswith("did you mean 'max'? ")
    assert error("width(2)", allowed=["width"]).code == "ARC161"  # a name is not a function


# Division by zero (ARC162).
@pytest.mark.parametrize(("source", "offset", "words"), [
    ("10 // 0", 3, "division by zero in '//'"),
    ("a // (b - b)", 2, "division by zero"),
    ("1 + 6 // a // (a - a)", 11, "division by zero"),  # the second //
    ("make_divisible(8, 0)", 18, "division by zero in make_divisible()"),  # the argument
    ("round_to(8, b - b)", 12, "division by zero in round_to()"),
    ("ceil_div(7, 0)", 12, "division by zero in ceil_div()"),
    ("round_to(8, -8)", 12, "round_to() needs a positive divisor, got -8"),
    ("make_divisible(8, -b)", 18, "needs a positive divisor"),
])
def test_division_by_zero(source: str, offset: int, words: str) -> None:
    e = error(source, env={"a": 3, "b": 2})
    assert (e.code, e.offset) == ("ARC162", offset)
    assert words in e.message and e.hint


# Bounds (ARC163).
def test_length_bound() -> None:
    assert evaluate("a" * 256, {"a" * 256: 1}) == 1
    e = error("1 + " * 64 + "1")
    assert (e.code, e.offset, e.message) == ("ARC163", 256, "expression is longer than 256 characters")


def test_token_bound() -> None:
    assert evaluate("-" + "1+" * 63 + "1", {}) == 62  # 128 tokens
    e = error("1+" * 64 + "1")  # 129 tokens
    assert (e.code, e.offset, e.message) == ("ARC163", 128, "expression has more than 128 tokens")


@pytest.mark.parametrize(("ok", "bad", "offset"), [
    ("(" * 32 + "1" + ")" * 32, "(" * 33 + "1" + ")" * 33, 32),
    ("-" * 32 + "1", "-" * 33 + "1", 32),
    ("max(" + "-" * 31 + "1, 1)", "max(" + "-" * 32 + "1, 1)", 35),  # a call is a level too
    ("(" * 16 + "-" * 16 + "1" + ")" * 16, "(" * 16 + "-" * 17 + "1" + ")" * 16, 32),
])
def test_depth_bound(ok: str, bad: str, offset: int) -> None:
    assert abs(evaluate(ok, {})) == 1
    e = error(bad)
    assert (e.code, e.offset) == ("ARC163", offset)
    assert e.message == "expression nested more than 32 levels deep"


def test_depth_counts_nesting_not_siblings() -> None:
    assert evaluate(" + ".join(["((1))"] * 17), {}) == 17  # 34 levels in all, 2 at a time
    assert evaluate(" + ".join(["max(-(1), 1)"] * 11), {}) == 11  # 3 levels each


def test_digit_bound() -> None:
    assert evaluate("999999999999", {}) == 999_999_999_999
    assert (error("1000000000000").code, error("1000000000000").offset) == ("ARC163", 0)
    assert error("x + 0000000000001").offset == 4
    assert error(10**12).code == "ARC163"  # an int from YAML obeys the same bound


@pytest.mark.parametrize(("source", "env", "offset"), [
    ("999999999999 * 999999999999", {}, 13),
    ("x * x * x", {"x": 2**24}, 6),  # x * x = 2**48 is fine, the second * is not
    ("x + 1", {"x": MAX_VALUE}, 2),
    ("x - 1", {"x": -MAX_VALUE}, 2),
    ("1 + x", {"x": MAX_VALUE + 1}, 4),  # a value read from env is bounded too
    ("x", {"x": -(10**5000)}, 0),  # far beyond what str() of an int may print
    ("round_to(x, 1000)", {"x": MAX_VALUE - 1}, 0),  # a function's result
    ("make_divisible(x, 1000)", {"x": MAX_VALUE - 1}, 0),
])
def test_value_bound(source: str, env: dict[str, int], offset: int) -> None:
    e = error(source, env=env)
    assert (e.code, e.offset) == ("ARC163", offset)
    assert e.message.startswith("value too large")


def test_values_at_the_bound_are_fine() -> None:
    assert evaluate("x", {"x": MAX_VALUE}) == MAX_VALUE == 2**48
    assert evaluate("-x", {"x": MAX_VALUE}) == -MAX_VALUE
    assert evaluate("x * x", {"x": 2**24}) == 2**48
    assert evaluate("x // -1", {"x": -MAX_VALUE}) == MAX_VALUE


def test_huge_int_sources_are_refused() -> None:
    for value in (MAX_VALUE + 1, -(10**5000), 10**5000):
        e = error(value)
        assert (e.code, e.offset) == ("ARC163", 0)


@pytest.mark.parametrize("source", [
    "(" * 10_000, "-" * 10_000, "max(" * 10_000, "1+" * 5000, "9" * 10_000, "a" * 10_000,
    "(" * 200, "-" * 255 + "1", "max(" * 60 + "1", "(-" * 100 + "1",
])
def test_hostile_input_only_raises_expr_error(source: str) -> None:
    assert error(source).code == "ARC163"


# The Expr object and the API.
def test_expr_is_immutable_hashable_and_equal_by_source() -> None:
    a, b = parse_expr("in * expansion"), Expr("in * expansion")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != parse_expr("in*expansion")
    assert a.names() == frozenset({"in", "expansion"}) and a.source == "in * expansion"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.source = "1"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(a)).evaluate({"in": 2, "expansion": 3}) == 6
    assert parse_expr("min(a, 2) + max(b, a)").names() == frozenset({"a", "b"})


def test_evaluate_does_not_tokenize_again(monkeypatch: pytest.MonkeyPatch) -> None:
    e = parse_expr("max(8, make_divisible(out // 16, 8)) + 1")

    def refuse(source: str) -> Any:
        raise AssertionError("tokenized again")

    monkeypatch.setattr(expr_module, "_tokenize", refuse)
    assert [e.evaluate({"out": out}) for out in (64, 256, 1024)] == [9, 17, 65]


def test_non_int_env_values_are_a_programming_error() -> None:
    e = parse_expr("x + 1")
    for value in (True, 2.0, "3", None):
        with pytest.raises(TypeError, match="'x' must be int"):
            e.evaluate({"x": value})  # type: ignore[dict-item]
    assert e.evaluate({"x": 2, "unused": "anything"}) == 3  # type: ignore[dict-item]


def test_expr_error_fields_text_and_pickle() -> None:
    e = error("in * widht", allowed=BLOCK)
    assert isinstance(e, Exception)
    assert str(e) == ("ARC161: unknown name 'widht' in expression (at offset 5); "
                      "did you mean 'width'? known: in, out, width, stride, expansion")
    again = pickle.loads(pickle.dumps(e))
    assert (again.code, again.message, again.hint, again.offset) == (e.code, e.message, e.hint, 5)


def test_module_runs_no_code() -> None:
    text = Path(expr_module.__file__).read_text(encoding="utf-8")
    for pattern in (r"\beval\s*\(", r"\bexec\s*\(", r"\bcompile\s*\(", r"\bliteral_eval\b",
                    r"^\s*import\s+ast\b", r"^\s*from\s+ast\b", r"\b__import__\b"):
        assert not re.search(pattern, text, re.MULTILINE), pattern


# Fuzz: arbitrary text, token soup and well-formed expressions against a reference.
def check(source: str, env: dict[str, int]) -> None:
    """Parse and evaluate; only ExprError may come out, and it must be well formed."""
    try:
        value = parse_expr(source).evaluate(env)
    except ExprError as e:
        assert e.code in CODES and e.message and e.hint
        assert 0 <= e.offset <= len(source)
    else:
        assert type(value) is int and abs(value) <= MAX_VALUE


ENV = {"x": 3, "y": -2, "z": 0, "big": 2**40}
SOUP = ["0", "1", "12", "999999999999", "x", "y", "z", "big", "q", "min", "max", "make_divisible",
        "round_to", "ceil_div", "(", ")", ",", "+", "-", "*", "//", "/", "**", ".", " ", "\n"]


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("0123456789+-*/(),. _xyzmaminq\t\n'<")) | st.characters(),
               max_size=300))
def test_fuzz_text_raises_only_expr_error(source: str) -> None:
    check(source, ENV)


@FUZZ
@given(st.lists(st.sampled_from(SOUP), max_size=160), st.sampled_from(["", " "]))
def test_fuzz_token_soup_raises_only_expr_error(tokens: list[str], sep: str) -> None:
    check(sep.join(tokens), ENV)


class RefDivisionError(Exception):
    """The reference's division by zero or non-positive divisor."""


def ref_divisor(d: int) -> int:
    if d <= 0:
        raise RefDivisionError
    return d


def ref_make_divisible(v: int, d: int) -> int:
    d = ref_divisor(d)
    new = max(d, math.floor(Fraction(v) + Fraction(d, 2)) // d * d)
    return new + d if new < Fraction(9, 10) * v else new


REF_FUNCS = {
    "min": min, "max": max, "make_divisible": ref_make_divisible,
    "round_to": lambda v, d: max(d, math.floor(Fraction(v, ref_divisor(d)) + Fraction(1, 2)) * d),
    "ceil_div": lambda a, b: math.ceil(Fraction(a, b)),
}
WS = st.sampled_from(["", " ", "  ", "\t", "\n", "\r\n"])
# (text, leaves, nesting, tokens). Leaves are at most 9 in size and at most 14 in number, so
# every intermediate value is below 10**14 < 2**48: the bound cannot be reached.
LEAF = st.one_of(st.integers(0, 9).map(str), st.sampled_from(["x", "y", "z"])).map(
    lambda s: (s, 1, 0, 1))
Node = tuple[str, int, int, int]


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    binary = st.tuples(children, WS, st.sampled_from(["+", "-", "*", "//"]), WS, children).map(
        lambda t: (f"{t[0][0]}{t[1]}{t[2]}{t[3]}{t[4][0]}", t[0][1] + t[4][1],
                   max(t[0][2], t[4][2]), t[0][3] + t[4][3] + 1))
    paren = st.tuples(children, WS).map(
        lambda t: (f"({t[1]}{t[0][0]})", t[0][1], t[0][2] + 1, t[0][3] + 2))
    unary = st.tuples(children, WS).map(
        lambda t: (f"-{t[1]}{t[0][0]}", t[0][1], t[0][2] + 1, t[0][3] + 1))
    call = st.tuples(st.sampled_from(sorted(REF_FUNCS)), st.lists(children, min_size=2, max_size=3)
                     ).filter(lambda t: len(t[1]) == 2 or t[0] in ("min", "max")).map(
        lambda t: (f"{t[0]}({', '.join(c[0] for c in t[1])})", sum(c[1] for c in t[1]),
                   max(c[2] for c in t[1]) + 1, sum(c[3] + 1 for c in t[1]) + 2))
    return st.one_of(binary, paren, unary, call)


WELL_FORMED = st.recursive(LEAF, _extend, max_leaves=14)


@FUZZ
@given(WELL_FORMED)
def test_fuzz_well_formed_against_python(node: Node) -> None:
    text, leaves, depth, tokens = node
    assume(leaves <= 14 and depth <= 32)
    # The reference: Python's own parser, precedence and // over the same text (tests only),
    # with the functions written out from their definitions in exact fractions.
    env = {"x": 3, "y": -2, "z": 0}
    try:
        expected: int | str = reference(text, env)
    except RefDivisionError:
        expected = "ARC162"
    if len(text) > 256 or tokens > 128:
        expected = "ARC163"
    try:
        got: int | str = parse_expr(text).evaluate(env)
    except ExprError as e:
        got = e.code
    assert got == expected, text


def reference(text: str, env: dict[str, int]) -> int:
    """Python's value of `text`, a well-formed expression of this language (tests only)."""
    namespace: dict[str, Any] = {"__builtins__": {}, **REF_FUNCS, **env}
    try:
        value = eval(re.sub(r"\s+", " ", text), namespace)  # the tests' reference, never the package's
    except ZeroDivisionError as e:
        raise RefDivisionError from e
    assert type(value) is int
    return value

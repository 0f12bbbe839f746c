"""The expression language of block files: small integer arithmetic over named values.

A block file computes channel counts, strides and groups from the values its block is given,
e.g. `out: in * expansion`, `groups: mid` or `out: max(8, make_divisible(out // 16, 8))`.

Grammar (space, tab, CR and LF may stand between any two tokens)::

    expr    := product (('+' | '-') product)*          left associative
    product := unary (('*' | '//') unary)*             left associative, binds tighter
    unary   := '-' unary | atom
    atom    := INT | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
    INT     := [0-9]+          NAME := [A-Za-z_][A-Za-z0-9_]*

Values are Python ints; `//` floors as in Python. The functions are a closed set:
`min(a, b, ...)` and `max(a, b, ...)` (2 or more arguments); `make_divisible(v, d)`, timm's and
torchvision's rounding of a width to a multiple of d, half up, at least d, plus d more when that
falls below 90% of v, in exact integers (equal to timm's float formula for every v in
-3,000..200,000 and d in 1..64: none differs); `round_to(v, d)`, the same without the 90% step;
and `ceil_div(a, b)`. A function name is not a value, so a variable may not be called `min`.
No floats, strings, comparisons or attributes, and no code is run: the text is tokenized and
parsed here, once, into postfix code that `Expr.evaluate` runs on a stack, without recursion.

Block files are untrusted, so every input is bounded (the MAX_* constants): at most 256
characters, 128 tokens, 32 levels of nesting (each '(', call and unary minus is a level) and
12 digits per number; every value, from a literal, a name or any intermediate result, must stay
within +-2**48, so no product can allocate a huge integer. Any bad input raises `ExprError`:

- ARC160 syntax error, or a YAML value that is neither an int nor a string;
- ARC161 unknown name or function, with did-you-mean and the known names in the hint;
- ARC162 division by zero, or a divisor of make_divisible/round_to that is not positive;
- ARC163 a bound exceeded: too long, too many tokens, too deep, too many digits, too large.

`offset` is the 0-based character offset into the text where the problem starts: the bad token,
the offending name, the `//` that divides by zero, the argument that is zero, the operator whose
result is too large. A name whose `env` value is not an int (bool included) is a programming
error: TypeError.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

MAX_SOURCE = 256  # characters of one expression
MAX_TOKENS = 128  # tokens of one expression
MAX_DEPTH = 32  # nesting of parentheses, calls and unary minus
MAX_DIGITS = 12  # digits of one integer literal
MAX_VALUE = 2**48  # bound on |x| of every value, including intermediate ones

SYNTAX, UNKNOWN, DIVISION, BOUNDS = "ARC160", "ARC161", "ARC162", "ARC163"
_SPACE = frozenset(" \t\r\n")
_DIGITS = frozenset("0123456789")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | _DIGITS
_OPS = frozenset("+-*(),")
_ARITY = {"min": 2, "max": 2, "make_divisible": 2, "round_to": 2, "ceil_div": 2}
_VARIADIC = frozenset({"min", "max"})
_TOKEN_HINTS = {"+": "there is no unary '+'; drop it",
                "**": "there is no power operator; multiply instead"}
_CHAR_HINTS = {"/": "use '//' for integer division", ".": "expressions are integers only: no "
               "decimals and no attributes", "%": "there is no '%'; use a - a // b * b"}

# Postfix code: (op, arg, offset). Ops: "c" constant, "n" name, "neg", "+", "-", "*", "//",
# and "call" with arg (function, argument count, offsets of the arguments).
_Instr = tuple[str, Any, int]


class ExprError(Exception):
    """A located error in an expression: `code`, plain-words `message` and `hint`, `offset`."""

    def __init__(self, code: str, message: str, hint: str, offset: int) -> None:
        super().__init__(code, message, hint, offset)
        self.code, self.message, self.hint, self.offset = code, message, hint, offset

    def __str__(self) -> str:
        return f"{self.code}: {self.message} (at offset {self.offset}); {self.hint}"


def _known_hint(name: str, known: Collection[str], what: str = "") -> str:
    """`did you mean 'x'? known: a, b` for an unknown name among `known`, in a stable order."""
    names = sorted(known) if isinstance(known, (set, frozenset)) else list(dict.fromkeys(known))
    close = difflib.get_close_matches(name, names, n=1)
    listing = f"known{what}: {', '.join(names)}" if names else "no names are defined here"
    return f"did you mean {close[0]!r}? {listing}" if close else listing


def _check(value: int, offset: int) -> int:
    """`value` if within +-MAX_VALUE, else ExprError ARC163 at `offset`."""
    if -MAX_VALUE <= value <= MAX_VALUE:
        return value
    raise ExprError(BOUNDS, f"value too large: beyond +-2**48 ({MAX_VALUE})",
                    "channel counts, strides and groups are far smaller; check the expression "
                    "and the values it reads", offset)


def _tokenize(source: str) -> list[tuple[str, int]]:
    """(text, offset) of each token, then ("", len(source)) to mark the end."""
    tokens: list[tuple[str, int]] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in _SPACE:
            i += 1
            continue
        if len(tokens) == MAX_TOKENS:
            raise ExprError(BOUNDS, f"expression has more than {MAX_TOKENS} tokens",
                            "split it up or simplify it", i)
        start = i
        if ch in _DIGITS:
            while i < n and source[i] in _DIGITS:
                i += 1
            if i - start > MAX_DIGITS:
                raise ExprError(BOUNDS, f"number has more than {MAX_DIGITS} digits",
                                "use a smaller number", start)
            if i < n and source[i] in _NAME_START:
                raise ExprError(SYNTAX, f"a name cannot start with a digit: {source[start:i + 1]!r}",
                                "put an operator between the number and the name, e.g. 2 * x", start)
        elif ch in _NAME_START:
            while i < n and source[i] in _NAME_CHARS:
                i += 1
        elif source.startswith(("//", "**"), i):
            i += 2
        elif ch in _OPS:
            i += 1
        else:
            raise ExprError(SYNTAX, f"unexpected character {ch!r} in expression",
                            _CHAR_HINTS.get(ch, "use integers, names, + - * //, parentheses and "
                                            "min, max, make_divisible, round_to, ceil_div"), i)
        tokens.append((source[start:i], start))
    tokens.append(("", n))
    return tokens


class _Parser:
    """Recursive descent over the tokens, depth-bounded by MAX_DEPTH, emitting postfix code."""

    def __init__(self, tokens: list[tuple[str, int]]) -> None:
        self.tokens, self.pos, self.depth = tokens, 0, 0
        self.code: list[_Instr] = []

    def peek(self) -> str:
        return self.tokens[self.pos][0]

    def take(self) -> tuple[str, int]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def enter(self, offset: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(BOUNDS, f"expression nested more than {MAX_DEPTH} levels deep",
                            "remove parentheses or unary minus signs, or simplify", offset)

    def parse(self) -> tuple[_Instr, ...]:
        self.sum()
        text, offset = self.take()
        if text:
            if text == ")":
                raise ExprError(SYNTAX, "')' without a matching '('", "remove it, or add the '('",
                                offset)
            raise ExprError(SYNTAX, f"unexpected {text!r} after a complete expression",
                            _TOKEN_HINTS.get(text, "join values with an operator: + - * //"), offset)
        return tuple(self.code)

    def sum(self, level: int = 0) -> None:
        """A sum (level 0) of products (level 1) of unary terms, both left associative."""
        operand = self.unary if level else lambda: self.sum(1)
        operand()
        while self.peek() in (("+", "-"), ("*", "//"))[level]:
            op, offset = self.take()
            operand()
            self.code.append((op, None, offset))

    def unary(self) -> None:
        if self.peek() != "-":
            self.atom()
            return
        _, offset = self.take()
        self.enter(offset)
        self.unary()
        self.depth -= 1
        self.code.append(("neg", None, offset))

    def atom(self) -> None:
        text, offset = self.take()
        if text[:1] in _DIGITS:
            self.code.append(("c", int(text), offset))
        elif text[:1] in _NAME_START:
            if self.peek() == "(":
                self.call(text, offset)
            elif text in _ARITY:
                raise ExprError(SYNTAX, f"{text!r} is a function, not a value",
                                f"call it, e.g. {text}(a, b)", offset)
            else:
                self.code.append(("n", text, offset))
        elif text == "(":
            self.enter(offset)
            self.sum()
            self.expect(")", f"missing ')' to close the '(' at offset {offset}")
            self.depth -= 1
        else:
            found = {"": "the expression ends", "**": "found '**'"}.get(text, f"found {text!r}")
            hint = _TOKEN_HINTS.get(text, "write a number, a name or '(' here")
            raise ExprError(SYNTAX, f"expected a value, but {found}", hint, offset)

    def expect(self, closer: str, message: str) -> None:
        text, offset = self.take()
        if text != closer:
            found = f"found {text!r}" if text else "the expression ends"
            raise ExprError(SYNTAX, f"{message}, but {found}",
                            f"add {closer!r} or join values with an operator", offset)

    def call(self, name: str, offset: int) -> None:
        if name not in _ARITY:
            raise ExprError(UNKNOWN, f"unknown function {name!r} in expression",
                            _known_hint(name, list(_ARITY), " functions"), offset)
        self.enter(self.take()[1])
        starts: list[int] = []
        while self.peek() != ")" or starts:  # no arguments, or one more after each ','
            starts.append(self.tokens[self.pos][1])
            self.sum()
            if self.peek() != ",":
                break
            self.take()
        self.expect(")", f"expected ',' or ')' in the call to {name}()")
        self.depth -= 1
        arity = _ARITY[name]
        if len(starts) != arity and (len(starts) < arity or name not in _VARIADIC):
            need = f"at least {arity}" if name in _VARIADIC else f"exactly {arity}"
            raise ExprError(SYNTAX, f"{name}() takes {need} arguments, got {len(starts)}",
                            f"e.g. {name}(a, b)", offset)
        self.code.append(("call", (name, len(starts), tuple(starts)), offset))


def _divisor(d: int, name: str, offset: int, positive: bool) -> int:
    """`d` if usable as a divisor, else ExprError ARC162 at `offset`."""
    if d == 0:
        raise ExprError(DIVISION, f"division by zero in {name}",
                        "make sure the divisor cannot be 0", offset)
    if positive and d < 0:
        raise ExprError(DIVISION, f"{name} needs a positive divisor, got {d}",
                        "use a divisor of 1 or more", offset)
    return d


def _make_divisible(v: int, d: int) -> int:
    """timm's make_divisible(v, d, round_limit=0.9), exactly, in integers."""
    new = max(d, (v + d // 2) // d * d)
    return new + d if 10 * new < 9 * v else new


_FUNCS: dict[str, Callable[[int, int], int]] = {
    "make_divisible": _make_divisible,
    "round_to": lambda v, d: max(d, (v + d // 2) // d * d),
    "ceil_div": lambda a, b: -(-a // b),
}


@dataclass(frozen=True)
class Expr:
    """A parsed expression: immutable, hashable, equal when its source text is equal."""

    source: str
    _code: tuple[_Instr, ...] = field(init=False, repr=False, compare=False)
    _names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.source, str):
            raise TypeError(f"Expr source must be str, got {type(self.source).__name__}")
        if len(self.source) > MAX_SOURCE:
            raise ExprError(BOUNDS, f"expression is longer than {MAX_SOURCE} characters",
                            "shorten it, or split it into several values", MAX_SOURCE)
        if not self.source.strip(" \t\r\n"):
            raise ExprError(SYNTAX, "empty expression", "write a number, a name or a formula", 0)
        code = _Parser(_tokenize(self.source)).parse()
        object.__setattr__(self, "_code", code)
        object.__setattr__(self, "_names", frozenset(str(a) for op, a, _ in code if op == "n"))

    def names(self) -> frozenset[str]:
        """The variable names this expression reads."""
        return self._names

    def evaluate(self, env: Mapping[str, int]) -> int:
        """The value of this expression with `env` giving each name's int value."""
        stack: list[int] = []
        push, pop = stack.append, stack.pop
        for op, arg, offset in self._code:
            if op == "c":
                push(arg)
            elif op == "n":
                name: str = arg
                if name not in env:
                    raise ExprError(UNKNOWN, f"unknown name {name!r} in expression",
                                    _known_hint(name, env.keys()), offset)
                value = env[name]
                if type(value) is not int:
                    raise TypeError(f"value of {name!r} must be int, got {type(value).__name__}")
                push(_check(value, offset))
            elif op == "neg":
                push(-pop())
            elif op == "call":
                fname, count, starts = arg
                args = stack[-count:]
                del stack[-count:]
                if fname in _VARIADIC:
                    push(min(args) if fname == "min" else max(args))
                    continue
                _divisor(args[1], f"{fname}()", starts[1], fname != "ceil_div")
                push(_check(_FUNCS[fname](args[0], args[1]), offset))
            else:
                b, a = pop(), pop()
                if op == "+":
                    push(_check(a + b, offset))
                elif op == "-":
                    push(_check(a - b, offset))
                elif op == "*":
                    push(_check(a * b, offset))
                else:
                    push(a // _divisor(b, "'//'", offset, False))
        return stack[0]


_parse_cached = lru_cache(maxsize=1024)(Expr)


def parse_expr(source: str | int, allowed: Collection[str] | None = None) -> Expr:
    """Parse an expression (or an int from YAML); with `allowed`, refuse names outside it."""
    if isinstance(source, bool) or not isinstance(source, (int, str)):
        kind = "a boolean" if isinstance(source, bool) else f"a {type(source).__name__}"
        raise ExprError(SYNTAX, f"expected an integer or an expression, got {kind}",
                        "write an integer such as 64 or a formula such as in * 4", 0)
    expr = Expr(str(_check(source, 0)) if isinstance(source, int) else source)
    if allowed is not None:
        for op, name, offset in expr._code:
            if op == "n" and name not in allowed:
                raise ExprError(UNKNOWN, f"unknown name {name!r} in expression",
                                _known_hint(str(name), allowed), offset)
    return expr


def evaluate(source: str | int, env: Mapping[str, int]) -> int:
    """Parse and evaluate in one step; parses of the same text are cached."""
    if type(source) is str:
        return _parse_cached(source).evaluate(env)
    return parse_expr(source).evaluate(env)

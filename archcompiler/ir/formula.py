"""Worked formulas as data: an op's shape and cost formulas are built here and evaluated here.

An op record builds a `Formula` from its own attributes (`window_formula`, `Conv2d.params_formula`
...), and its `infer`, `params` and `macs` return that formula's value, so the arithmetic that
`archc explain` shows, numbers filled in, is the arithmetic the analysis did: there is no second
copy of a formula to drift. Division is floor division, as torch's window rule is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Expr", "Formula", "num", "product"]

# Operator -> (precedence, shown as). '/' is floor division: every division here is integral.
_OPS = {"+": (1, "+"), "-": (1, "−"), "*": (2, "·"), "/": (2, "/")}


@dataclass(frozen=True)
class Expr:
    """A number with a name (`op` empty) or a binary operation on two expressions."""

    op: str = ""
    left: Expr | None = None
    right: Expr | None = None
    value: int = 0  # a leaf's number; an operation's is computed by `evaluate`
    name: str = ""  # what a leaf is: 'input height', 'padding', 'kernel'...

    def __add__(self, other: Expr) -> Expr:
        return Expr("+", self, other)

    def __sub__(self, other: Expr) -> Expr:
        return Expr("-", self, other)

    def __mul__(self, other: Expr) -> Expr:
        return Expr("*", self, other)

    def __floordiv__(self, other: Expr) -> Expr:
        return Expr("/", self, other)

    def evaluate(self) -> int:
        """The expression's value (integer arithmetic, floor division)."""
        if not self.op:
            return self.value
        assert self.left is not None and self.right is not None
        a, b = self.left.evaluate(), self.right.evaluate()
        if self.op == "+":
            return a + b
        if self.op == "-":
            return a - b
        if self.op == "*":
            return a * b
        return a // b

    def text(self, ascii_only: bool = False) -> str:
        """The expression with its numbers, e.g. '(224 + 2·3 − 7) / 2 + 1'."""
        if not self.op:
            return str(self.value)
        assert self.left is not None and self.right is not None
        prec, shown = _OPS[self.op]
        if ascii_only:
            shown = {"·": "*", "−": "-"}.get(shown, shown)
        left = self.left.text(ascii_only)
        right = self.right.text(ascii_only)
        if self.left.op and _OPS[self.left.op][0] < prec:
            left = f"({left})"
        # The right side keeps its brackets at equal precedence too, a − (b + c) and a / (b · c)
        # for the value, a + (s − 1) for the reader.
        if self.right.op and (_OPS[self.right.op][0] < prec or
                              (_OPS[self.right.op][0] == prec and
                               (self.op in "-/" or self.right.op != self.op))):
            right = f"({right})"
        sep = "" if shown == "·" else " "
        return f"{left}{sep}{shown}{sep}{right}"

    def terms(self) -> list[tuple[str, int]]:
        """The named numbers of the expression, left to right (unnamed constants left out)."""
        if not self.op:
            return [(self.name, self.value)] if self.name else []
        assert self.left is not None and self.right is not None
        return self.left.terms() + self.right.terms()


def num(value: int, name: str = "") -> Expr:
    """A number in a formula; `name` says what it is ('padding'), empty for a constant."""
    return Expr(value=value, name=name)


def product(*factors: Expr) -> Expr:
    """The product of one or more factors, left to right."""
    out = factors[0]
    for factor in factors[1:]:
        out = out * factor
    return out


@dataclass(frozen=True)
class Formula:
    """One worked quantity of an op: 'height', 'width', 'params' or 'macs', its expression and
    its value (the value the analysis uses, since the op's methods return it)."""

    quantity: str
    expr: Expr

    @property
    def result(self) -> int:
        """The formula's value."""
        return self.expr.evaluate()

    def text(self, ascii_only: bool = False) -> str:
        """'(224 + 2·3 − 7) / 2 + 1 = 112', with thousands separators on the result."""
        return f"{self.expr.text(ascii_only)} = {self.result:,}"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the quantity, the expression (both spellings), its named terms, the result."""
        return {"quantity": self.quantity, "expression": self.expr.text(),
                "python": self.expr.text(ascii_only=True).replace("/", "//"),
                "terms": [{"name": n, "value": v} for n, v in self.expr.terms()],
                "result": self.result}

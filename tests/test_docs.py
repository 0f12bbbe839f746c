"""The docs stay in step with the code: every diagnostic code and every rule is documented."""

from __future__ import annotations

import re

from archcompiler.analysis.rules import RULES

from .conftest import ROOT


def test_every_diagnostic_code_is_documented() -> None:
    used = {m for p in (ROOT / "archcompiler").rglob("*.py")
            for m in re.findall(r'"(ARC\d{3})"', p.read_text(encoding="utf-8"))}
    documented = set(re.findall(r"\| (ARC\d{3}) \|", (ROOT / "docs/diagnostics.md").read_text()))
    assert used - documented == set(), "add these codes to docs/diagnostics.md"


def test_every_rule_is_documented_with_its_key() -> None:
    text = (ROOT / "docs/diagnostics.md").read_text(encoding="utf-8")
    for key in RULES.names():
        assert f"| {RULES.get(key).code} | {key} |" in text


def test_field_reference_is_current() -> None:
    from archcompiler.language.docs import BEGIN, END, field_reference

    text = (ROOT / "docs/spec-language.md").read_text(encoding="utf-8")
    current = text[text.index(BEGIN): text.index(END) + len(END)]
    assert current == field_reference(), "regenerate the field reference in docs/spec-language.md"

"""The rules catalogue (docs/rules.md) cannot go stale: every code has an example that triggers it.

Each example runs through the real CLI, in this process, and must print exactly its code, at the
line the catalogue pins in the example file. The committed docs/rules.md must equal
what scripts/gen_rules.py writes now, and every code the package uses, or docs/diagnostics.md lists,
must have an entry in archcompiler/core/codes.py and an example in tests/support/rule_catalogue.py.
"""

from __future__ import annotations

import re

import pytest

from archcompiler.analysis.rules import RULES
from archcompiler.core.codes import CODES, group
from archcompiler.language.schema import Rules
from tests.conftest import ROOT
from tests.support import rule_catalogue as gen

REGISTRY = "archcompiler/core/codes.py"
ADD_EXAMPLE = ("add an example to EXAMPLES in tests/support/rule_catalogue.py (and its spec as "
               f"docs/rules/<code>.yaml), then run `{gen.REGENERATE}`")


def _used_codes() -> dict[str, list[str]]:
    """Every `"ARCnnn"` literal in the package, with the files that use it (the registry aside)."""
    used: dict[str, list[str]] = {}
    for path in sorted((ROOT / "archcompiler").rglob("*.py")):
        if path == ROOT / REGISTRY:
            continue
        for code in set(re.findall(r"""["'](ARC\d{3})["']""", path.read_text(encoding="utf-8"))):
            used.setdefault(code, []).append(str(path.relative_to(ROOT)))
    return used


def _documented_codes() -> set[str]:
    return set(re.findall(r"\| (ARC\d{3}) \|", (ROOT / "docs/diagnostics.md").read_text("utf-8")))


def test_every_code_in_use_is_registered() -> None:
    missing = {c: files for c, files in _used_codes().items() if c not in CODES}
    assert not missing, f"register these codes in {REGISTRY} (title, why, fix): {missing}"


def test_every_registered_code_is_used_or_reserved() -> None:
    used = _used_codes()
    idle = [c for c in CODES.names() if c not in used and not CODES.get(c).reserved]
    assert not idle, f"nothing uses {idle}: remove them from {REGISTRY}, or mark them reserved"
    stale = [c for c in CODES.names() if c in used and CODES.get(c).reserved]
    assert not stale, f"{stale} are in use now: drop `reserved=True` in {REGISTRY}"


def test_every_documented_code_is_registered() -> None:
    missing = sorted(_documented_codes() - set(CODES.names()))
    assert not missing, f"docs/diagnostics.md lists {missing}: register them in {REGISTRY}"


def test_every_code_has_an_example() -> None:
    # A reserved code cannot be triggered yet: it needs an entry, and an example once it is used.
    wanted = set(_used_codes()) | {c for c in set(CODES.names()) | _documented_codes()
                                   if c not in CODES or not CODES.get(c).reserved}
    missing = sorted(wanted - set(gen.EXAMPLES))
    assert not missing, f"no example for {missing}: {ADD_EXAMPLE}"
    unknown = sorted(set(gen.EXAMPLES) - set(CODES.names()))
    assert not unknown, f"examples for unregistered codes {unknown}: register them in {REGISTRY}"


def test_example_files_and_entries_match() -> None:
    files = {p.stem for p in (ROOT / gen.EXAMPLE_DIR).glob("*.yaml")}
    wanted = {c for c, ex in gen.EXAMPLES.items() if ex.has_file}
    assert wanted - files == set(), f"write these example specs in {gen.EXAMPLE_DIR}/"
    assert files - wanted == set(), f"{gen.EXAMPLE_DIR}/ holds files no example runs"
    for code, example in gen.EXAMPLES.items():
        assert (example.line is None) == (example.target(code) is None), code


def test_design_rules_take_their_severity_from_the_schema() -> None:
    rule_codes = {RULES.get(k).code: k for k in RULES.names()}
    assert {c for c in CODES.names() if CODES.get(c).severity is None} == set(rule_codes)
    for code, key in rule_codes.items():
        assert key in Rules.model_fields, f"{code}'s key {key} is not a field of Rules"
        assert f"rules: {{{key}: error|warn|note|off}}" in gen.severity_text(CODES.get(code))
    assert {group(c) for c in CODES.names()} <= {"Loading", "Schema", "Variants", "Shapes",
                                                   "Design rules", "Resource bounds", "Weights"}


@pytest.mark.parametrize("code", sorted(gen.EXAMPLES))
def test_example_produces_exactly_its_code_at_its_line(code: str) -> None:
    example = gen.EXAMPLES[code]
    if example.torch:
        pytest.importorskip("torch")
    run = gen.run_example(code)
    for step in run.steps[:-1]:
        assert step.rc == 0, f"the step `archc {' '.join(step.args)}` failed:\n{step.output}"
    found = gen.found(run.output)
    assert "Traceback" not in run.output and "internal error" not in run.output, run.output
    assert {f.code for f in found} == {code, *example.also}, run.output
    target = example.target(code)
    assert any(f.code == code and f.file == target and f.line == example.line for f in found), \
        f"expected {target}:{example.line}: {code}\n{run.output}"
    errors = any(f.severity == "error" for f in found)
    assert (run.rc != 0) == errors, f"exit code {run.rc}\n{run.output}"


@pytest.mark.parametrize("code", sorted(c for c, ex in gen.EXAMPLES.items() if ex.fixed))
def test_fixed_example_is_clean(code: str) -> None:
    run = gen.run_fixed(code)
    assert run.rc == 0, run.output
    assert code not in {f.code for f in gen.found(run.output)}, run.output


def test_rules_md_is_current() -> None:
    if any(ex.torch for ex in gen.EXAMPLES.values()):
        pytest.importorskip("torch")  # the weights examples build modules
    text = gen.render()
    assert str(ROOT) not in text and "/tmp" not in text, "docs/rules.md shows an absolute path"
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == text, f"docs/rules.md is stale: regenerate it with `{gen.REGENERATE}`"

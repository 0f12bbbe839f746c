"""The docs stay in step with the code: every diagnostic code and every rule is documented."""

from __future__ import annotations

import re

from archcompiler.analysis.rules import RULES
from tests.conftest import ROOT


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


# Figures: benchmarks/results.json is the one source; pages quote it between markers.

def _results() -> object:
    """benchmarks/results.py as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("results", ROOT / "benchmarks" / "results.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
# A time, a throughput, or a speed ratio ("19.5x faster"), as prose quotes a measured figure.
# A decade ("the 2020s", a paper's title) is no duration.
FIGURE = re.compile(r"(?<![\w.,])(?!\d{4}s\b)(\d[\d,]*(?:\.\d+)?) ?(s|ms|us|min|minutes|h|hours|img/s)(?!\w)"
                    r"|(?<![\w.,])(\d[\d,]*(?:\.\d+)?)x(?= faster| slower)")


def _prose(text: str) -> str:
    """The page without fenced code blocks (tool output, not quoted figures)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def test_every_figure_in_results_has_its_provenance() -> None:
    results = _results()
    figures = results.load()  # type: ignore[attr-defined]
    assert len(figures) > 50
    for fid, fig in figures.items():
        for key in ("value", "unit", "decimals", "what", "date", "machine", "command"):
            assert fig.get(key) not in (None, ""), f"{fid} lacks {key}"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fig["date"]), fid


def test_pages_quote_figures_as_the_results_file_holds_them() -> None:
    results = _results()
    figures = results.load()  # type: ignore[attr-defined]
    used = set()
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        rendered = results.render_page(text, figures, page)  # type: ignore[attr-defined]
        assert rendered == text, (f"{page} quotes figures that benchmarks/results.json does not "
                                  "hold as written; run python scripts/regen_docs.py")
        used |= {m.group(1) for m in results.MARKER.finditer(text)}  # type: ignore[attr-defined]
    # Every figure the benchmark page promises is on it.
    bench = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    missing = [f for f in figures if f not in bench and f not in used]
    assert not missing, f"figures in benchmarks/results.json that no page quotes: {missing}"


def test_no_page_quotes_a_figure_the_results_file_does_not_hold() -> None:
    results = _results()
    figures = results.load()  # type: ignore[attr-defined]
    held = {results.render(f) for f in figures.values()}  # type: ignore[attr-defined]
    held |= {h.replace(" min", " minutes") for h in held}
    stray = []
    for page in PAGES:
        text = _prose(results.MARKER.sub("", (ROOT / page).read_text(encoding="utf-8")))  # type: ignore[attr-defined]
        for m in FIGURE.finditer(text):
            quoted = f"{m.group(1)} {m.group(2)}" if m.group(1) else f"{m.group(3)}x"
            if quoted not in held:
                stray.append(f"{page}: {quoted!r} in ...{text[max(0, m.start() - 40):m.end()]}")
    assert not stray, ("figures quoted without a marker that benchmarks/results.json does not "
                       "hold:\n" + "\n".join(stray))

"""The interactive page in a real headless browser: expanding, hover cards, diagnostics links,
no network, and no script from a spec ever running."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import archcompiler
from archcompiler import cli
from archcompiler.analysis.report import Report
from archcompiler.backends.render import page_data, page_html
from archcompiler.language.load import resolve
from archcompiler.report.summary import fmt_shape
from tests.conftest import write_spec
from tests.support.browser import browser_fixture, open_page, wait_js

# slow: a real headless browser
pytestmark = [pytest.mark.skipif(shutil.which("dot") is None, reason="needs graphviz `dot`"),
              pytest.mark.slow]
HOSTILE = Path(__file__).resolve().parents[3] / "tests" / "data" / "hostile_pages"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_fixture()


@pytest.fixture(scope="module")
def r18_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    out = tmp_path_factory.mktemp("page") / "r18.html"
    assert cli.main(["render", "resnet18", "-o", str(out)]) == 0
    return out, archcompiler.analyze("resnet18")


def _card_id(page: Any, level: str, name: str) -> str:
    return str(page.evaluate(
        "([lv, n]) => Object.entries(archc.data.levels[lv].cards).find(([, c]) => c.name === n)[0]",
        [level, name]))


def test_collapsed_stage_expands_and_shows_its_blocks(browser: Any, r18_page: tuple[Path, Report]
                                                      ) -> None:
    requests: list[str] = []
    errors: list[str] = []
    page = open_page(browser, r18_page[0].as_uri(), requests, errors)
    assert page.evaluate("archc.level") == "net"
    assert page.locator("svg text", has_text="layer2.0").count() == 0  # collapsed: no blocks
    page.click(f"#{_card_id(page, 'net', 'layer2.stage')}")
    wait_js(page, "archc.level === 'stage'")
    block = page.locator(f"#{_card_id(page, 'stage', 'layer2.0')}")
    assert block.is_visible()
    box, view = block.bounding_box(), page.locator("#view").bounding_box()
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"]
    # One more click opens the block at layer detail.
    block.click()
    wait_js(page, "archc.level === 'block'")
    assert not errors
    # The page makes no request beyond its own file.
    assert [u for u in requests if not u.startswith("file:")] == []
    page.close()


def test_hover_card_equals_the_analysis(browser: Any, r18_page: tuple[Path, Report]) -> None:
    path, report = r18_page
    page = open_page(browser, path.as_uri())
    page.evaluate("archc.show('layer')")
    wait_js(page, "archc.level === 'layer'")
    name = "layer2.0.conv1"
    ident = _card_id(page, "layer", name)
    page.locator(f"#{ident}").scroll_into_view_if_needed()
    page.evaluate(f"document.getElementById('{ident}').dispatchEvent("
                  "new MouseEvent('mouseover', {bubbles: true}))")
    text = page.locator("#card").inner_text()
    node = report.graph.by_name()[name]
    assert fmt_shape(report.shape(name)) in text
    assert fmt_shape(report.shape(node.inputs[0])) in text
    assert f"{report.nodes[name].params:,}" in text and f"{report.nodes[name].macs:,}" in text
    assert Report.where(node.span) in text  # resnet18.yaml:<line>
    page.close()


def test_each_diagnostic_link_selects_its_nodes(browser: Any, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "spec_version: 1\nextends: resnet18\nname: r18bad\n"
                      "stages: {widths: [64, 64, 256, 512]}\n"
                      "rules: {double_on_halve: warn, name_matches_depth: off}\n", "r18bad.yaml")
    out = tmp_path / "bad.html"
    cli.main(["render", str(spec), "-o", str(out)])
    page = open_page(browser, out.as_uri())
    links = page.locator("#diagnostics button")
    assert links.count() >= 1
    for i in range(links.count()):
        links.nth(i).click()
        page.wait_for_timeout(50)
        level = page.evaluate("archc.level")
        want = page.evaluate(f"archc.data.levels['{level}'].targets[{i}]")
        assert want, "each diagnostic points somewhere"
        got = page.evaluate("[...document.querySelectorAll('#view .selected')].map(n => n.id)")
        assert sorted(got) == sorted(want)
        # The selected nodes are the ones drawn in red.
        assert all(page.evaluate(f"document.getElementById('{i_}').querySelector('[stroke=\"red\"]')"
                                 " !== null") for i_ in want)
    page.close()


def _hostile_pages(tmp: Path) -> list[Path]:
    """Every hostile spec as a page: a good one drawn, a broken one as the live error banner."""
    pages = []
    for spec in sorted(HOSTILE.glob("*.yaml")):
        res = resolve(spec)
        out = tmp / f"{spec.stem}.html"
        if res.spec is not None:
            report = archcompiler.analyze(res.spec)
            out.write_text(page_html(page_data(report, shutil.which("dot") or "dot")))
        else:
            good = page_data(archcompiler.analyze("resnet20"), shutil.which("dot") or "dot")
            out.write_text(page_html(good, errors=res.diagnostics))
        pages.append(out)
    return pages


def test_no_hostile_text_runs_a_script(browser: Any, tmp_path: Path) -> None:
    pages = _hostile_pages(tmp_path)
    assert len(pages) >= 3
    for path in pages:
        dialogs: list[str] = []
        page = browser.new_page()
        page.on("dialog", lambda d, seen=dialogs: (seen.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        wait_js(page, "window.archc && window.archc.ready")
        for level in ("stage", "block", "layer"):
            page.evaluate(f"archc.show('{level}')")
        page.wait_for_timeout(100)
        assert page.evaluate("window.__pwned") is None, path.name
        assert not dialogs
        # The text is shown as text.
        body = page.locator("body").inner_text()
        assert "__pwned" in body, path.name
        assert page.locator("body script").count() == 2  # the page's data and its own script
        assert page.locator("img, iframe, a[href]").count() == 0
        page.close()


def test_every_node_and_edge_has_a_card(browser: Any, r18_page: tuple[Path, Report]) -> None:
    page = open_page(browser, r18_page[0].as_uri())
    for level in ("net", "stage", "block", "layer"):
        page.evaluate(f"archc.show('{level}')")
        wait_js(page, f"archc.level === '{level}'")
        missing = page.evaluate(
            "() => [...document.querySelectorAll('#view g.node, #view g.edge')]"
            ".filter(g => !archc.data.levels[archc.level].cards[g.id]).map(g => g.id)")
        assert missing == [], level
        # Every edge's card names the tensor it carries and its shape.
        bare = page.evaluate(
            "() => Object.values(archc.data.levels[archc.level].cards)"
            ".filter(c => c.edge && !(c.tensor && c.out)).map(c => c.name)")
        assert bare == [], level
    page.close()


def test_search_finds_the_run_that_holds_a_layer(browser: Any, r18_page: tuple[Path, Report]
                                                 ) -> None:
    page = open_page(browser, r18_page[0].as_uri())
    page.evaluate("archc.show('block')")
    wait_js(page, "archc.level === 'block'")
    page.fill("#search", "layer3.1.conv2")
    found = page.evaluate("archc.found")
    names = [page.evaluate(f"archc.data.levels.block.cards['{i}'].name") for i in found]
    assert "layer3.1" in names
    assert page.locator("#view .found").count() == len(found)
    page.close()


def test_card_names_the_file_each_value_came_from(browser: Any, tmp_path: Path) -> None:
    """An overridden width names the child spec; inherited values name the base file."""
    spec = write_spec(tmp_path, "spec_version: 1\nextends: resnet18\nname: child\n"
                      "stages: {widths: [64, 128, 256, 384]}\n", "child.yaml")
    out = tmp_path / "child.html"
    cli.main(["render", str(spec), "-o", str(out)])  # ARC302 (384 is not 2x 256): drawn anyway
    assert out.exists()
    report = archcompiler.analyze(spec)
    page = open_page(browser, out.as_uri())
    page.evaluate("archc.show('layer')")
    wait_js(page, "archc.level === 'layer'")
    ident = _card_id(page, "layer", "layer4.0.conv1")
    page.evaluate(f"document.getElementById('{ident}').dispatchEvent("
                  "new MouseEvent('mouseover', {bubbles: true}))")
    text = page.locator("#card").inner_text()
    assert re.search(r"width 384: \S*child\.yaml:4\n", text)
    node = report.graph.by_name()["layer4.0.conv1"]
    assert Report.where(node.span) in text and "resnet18.yaml" in Report.where(node.span)
    assert f"{report.nodes['layer4.0.conv1'].params:,}" in text
    page.close()


def test_pan_and_zoom(browser: Any, r18_page: tuple[Path, Report]) -> None:
    page = open_page(browser, r18_page[0].as_uri())
    box = page.locator("#view").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    vb = lambda: [float(v) for v in page.evaluate(  # noqa: E731
        "document.querySelector('#view svg').getAttribute('viewBox')").split()]
    before = vb()
    page.mouse.move(x, y)
    page.mouse.wheel(0, -400)  # zoom in: a smaller box
    page.wait_for_timeout(50)
    zoomed = vb()
    assert zoomed[2] < before[2] and zoomed[3] < before[3]
    page.mouse.down()
    page.mouse.move(x + 100, y + 60, steps=5)
    page.mouse.up()
    panned = vb()
    assert panned[0] < zoomed[0] and panned[1] < zoomed[1] and panned[2] == zoomed[2]
    assert page.evaluate("archc.level") == "net"  # a drag is no click: nothing expanded
    page.close()

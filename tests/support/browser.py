"""Chromium from Debian's package, driven by Playwright: the helpers the page tests share.

`scripts/setup.sh` installs both (`apt-get install chromium`, playwright in the dev extra); the
browser is the system one, never a download (`playwright install` is not used)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("ARCHC_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def browser_fixture() -> Iterator[Any]:
    """One headless Chromium for a test module; skip with the reason when it is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright "
                                   "(scripts/setup.sh installs the dev extra)")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip("no /usr/bin/chromium: apt-get install chromium (scripts/setup.sh does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_page(browser: Any, url: str, requests: list[str] | None = None,
              errors: list[str] | None = None) -> Any:
    """A new page at `url`, once its script says it is ready; requests and errors recorded."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    if errors is not None:
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    wait_js(page, "window.archc && window.archc.ready")
    return page


def wait_js(page: Any, expr: str, timeout: float = 10.0) -> None:
    """Poll `expr` in the page until true. (Playwright's wait_for_function evaluates a string,
    which the page's Content-Security-Policy rightly refuses.)"""
    end = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(f"() => Boolean({expr})"):
                return
        except Exception as exc:  # a reload in flight (the live page) destroys the context
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {expr}")
        time.sleep(0.02)

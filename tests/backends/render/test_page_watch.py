"""`archc render SPEC -o x.html --watch` end to end: edit the spec and the open page shows the new
diagram; break it and the page shows the error above the last good diagram."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import browser_fixture, open_page, wait_js

# slow: a real headless browser and a watcher
pytestmark = [pytest.mark.skipif(shutil.which("dot") is None, reason="needs graphviz `dot`"),
              pytest.mark.slow]
pytest.importorskip("watchfiles", reason="pip install watchfiles (the dev extra has it)")

SPEC = "spec_version: 1\nextends: resnet20\nname: watched\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_fixture()


def _serve(spec: Path, out: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "archcompiler", "render", str(spec), "-o",
                             str(out), "--watch", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ})
    assert proc.stdout is not None
    end = time.monotonic() + 30
    while time.monotonic() < end:
        line = proc.stdout.readline()
        m = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise AssertionError("the watch server did not start")


def test_watch_follows_edits_and_keeps_the_last_good_diagram(browser: Any, tmp_path: Path
                                                             ) -> None:
    spec = tmp_path / "watched.yaml"
    spec.write_text(SPEC)
    proc, url = _serve(spec, tmp_path / "watched.html")
    try:
        # Another name for 127.0.0.1 (DNS rebinding) gets nothing.
        req = urllib.request.Request(url + "version", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=5)
        assert refused.value.code == 403
        page = open_page(browser, url)
        first = page.evaluate("archc.data.summary")
        assert "272,474 params" in first or "params" in first
        # Edit: wider stages. The page reloads by itself and shows the new diagram.
        spec.write_text(SPEC + "stages: {widths: [32, 64, 128]}\n")
        wait_js(page, f"window.archc && archc.ready && archc.data.summary !== {first!r}",
                timeout=20)
        second = page.evaluate("archc.data.summary")
        assert (tmp_path / "watched.html").exists()
        # Break it: the error shows above the last good diagram.
        spec.write_text(SPEC + "stages: {widths: [32, 64, 128]}\nactivation: nope\n")
        wait_js(page, "window.archc && archc.ready && archc.data.errors.length > 0", timeout=20)
        assert "ARC105" in page.locator("#errors").inner_text()
        assert page.evaluate("archc.data.summary") == second
        assert page.locator("#view svg").count() == 1
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

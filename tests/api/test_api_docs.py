"""docs/api.md's Python blocks run as written (all but those that need timm, which
tests/backends/pytorch/test_timm_interop.py covers in the comparison venv), one namespace for the page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

pytest.importorskip("torch")


def test_the_api_page_runs() -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    runnable = [b for b in blocks if "import timm" not in b]
    assert len(runnable) >= 5 and len(blocks) > len(runnable)
    namespace: dict[str, object] = {}
    for block in runnable:
        exec(compile(block, "docs/api.md", "exec"), namespace)

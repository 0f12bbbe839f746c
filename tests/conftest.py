"""Shared test paths, the one spec writer, the one tiny spec, and the golden-file helper."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
GOLDEN = DATA / "golden"
BAD = DATA / "bad"
VARIANTS = DATA / "variants"

# A complete, tiny CIFAR-style spec without `extends`, shared by the loader and variant tests.
TINY = """\
spec_version: 1
name: tiny
input: {channels: 3, height: 32, width: 32}
stem:
  conv: {out_channels: 16, kernel: 3, stride: 1}
stages:
  block: {type: basic}
  depths: [1, 1, 1]
  widths: [16, 32, 64]
  shortcut: A
head: {classes: 10}
"""


def write_spec(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    """Write dedented YAML text to `folder/name` and return the path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def assert_golden(path: Path, text: str) -> None:
    """Compare `text` with a golden file; `ARCHC_REGEN_GOLDEN=1` rewrites the file instead."""
    if os.environ.get("ARCHC_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with ARCHC_REGEN_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), \
        f"{path.name} changed; if intended, rerun with ARCHC_REGEN_GOLDEN=1 and review the diff"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """The tiny spec, written to a temporary folder."""
    return write_spec(tmp_path, TINY, "tiny.yaml")

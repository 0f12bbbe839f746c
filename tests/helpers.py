"""Shared helpers for tests: write small specs to temporary files."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_spec(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    """Write dedented YAML text to `folder/name` and return the path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


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


def assert_golden(path: Path, text: str) -> None:
    """Compare `text` with a golden file; `ARCHC_REGEN_GOLDEN=1` rewrites the file instead."""
    import os

    if os.environ.get("ARCHC_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with ARCHC_REGEN_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), \
        f"{path.name} changed; if intended, rerun with ARCHC_REGEN_GOLDEN=1 and review the diff"

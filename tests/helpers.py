"""Shared helpers for tests: write small specs to temporary files."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_spec(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    """Write dedented YAML text to `folder/name` and return the path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path

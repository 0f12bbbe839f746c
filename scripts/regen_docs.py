"""Regenerate the generated parts of the docs: the JSON Schema and the field reference."""

from __future__ import annotations

import json
from pathlib import Path

from archcompiler.language.docs import BEGIN, END, field_reference
from archcompiler.language.schema import json_schema

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Rewrite schema/archcompiler.schema.json and the field table of docs/spec-language.md."""
    (ROOT / "schema" / "archcompiler.schema.json").write_text(
        json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    doc = ROOT / "docs" / "spec-language.md"
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    doc.write_text(text[:start] + field_reference() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()

"""Regenerate the generated parts of the docs: the JSON Schema, the field reference, and every
figure quoted between <!--fig ID--> markers, from benchmarks/results.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from archcompiler.language.docs import BEGIN, END, field_reference
from archcompiler.language.schema import json_schema

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from results import load, render_page  # noqa: E402

PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


def main() -> None:
    """Rewrite schema/archcompiler.schema.json and the field table of docs/spec-language.md."""
    (ROOT / "archcompiler" / "schema" / "archcompiler.schema.json").write_text(
        json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    doc = ROOT / "docs" / "spec-language.md"
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    doc.write_text(text[:start] + field_reference() + text[end:], encoding="utf-8")
    figures = load()
    for page in PAGES:
        path = ROOT / page
        text = path.read_text(encoding="utf-8")
        new = render_page(text, figures, page)
        if new != text:
            path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()

"""The loader's caches (parsed files, merged chains, block declarations) are keyed by what
was read, so every edit between two loads is seen at once, and a cached result is never
changed by the loads that reuse it."""

from __future__ import annotations

import os
from pathlib import Path

import archcompiler
from archcompiler.language.load import resolve
from tests.conftest import TINY, write_spec

BLOCK = """\
block: mine
fields:
  k: {type: int, default: 3, min: 1, max: 7}
ops:
  - {name: conv1, op: conv, out: width, kernel: k}
  - {name: bn1, op: norm, last: true}
residual: never
"""


def _same_stat_rewrite(path: Path, old: str, new: str) -> None:
    """Rewrite `path` with `old` replaced by `new` (as long), keeping its size and mtime."""
    info = path.stat()
    text = path.read_text(encoding="utf-8")
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_an_edit_in_the_middle_of_a_chain_is_seen(tmp_path: Path) -> None:
    write_spec(tmp_path, TINY, "base.yaml")
    mid = write_spec(tmp_path, "extends: ./base.yaml\nname: mid\nhead: {classes: 11}\n", "mid.yaml")
    top = write_spec(tmp_path, "extends: ./mid.yaml\nname: top\n", "top.yaml")
    for _ in range(2):  # the second load merges the chain from the cache
        assert archcompiler.load_spec(top).classes == 11
    _same_stat_rewrite(mid, "classes: 11", "classes: 12")
    assert archcompiler.load_spec(top).classes == 12
    res = resolve(top)
    assert res.spec is not None and res.spec.field_spans["head.classes"].file.endswith("mid.yaml")


def test_overrides_leave_the_cached_chain_as_it_was(tmp_path: Path) -> None:
    write_spec(tmp_path, TINY, "base.yaml")
    top = write_spec(tmp_path, "extends: ./base.yaml\nname: top\n", "top.yaml")
    before = resolve(top).tree
    assert archcompiler.load_spec(top, overrides={"head": {"classes": 3}, "stem.conv": None})
    assert resolve(top).tree == before


def test_an_edited_block_file_is_seen_with_its_new_spans(tmp_path: Path) -> None:
    block = write_spec(tmp_path, BLOCK, "mine.yaml")
    spec = write_spec(tmp_path, TINY.replace("{type: basic}", "{type: mine}").replace(
        "shortcut: A", "shortcut: B") + "blocks: {mine: mine.yaml}\n", "spec.yaml")
    for _ in range(2):
        assert archcompiler.load_spec(spec).blocks[0].config.k == 3  # type: ignore[attr-defined]
    _same_stat_rewrite(block, "default: 3", "default: 5")
    assert archcompiler.load_spec(spec).blocks[0].config.k == 5  # type: ignore[attr-defined]
    # An error is reported where the file now writes it, a line lower after a line is added.
    bad = BLOCK.replace("default: 3", "default: 9")  # over its max
    for text, line in (("# a comment\n" + bad, 4), (bad, 3)):
        block.write_text(text, encoding="utf-8")
        errs = [d for d in resolve(spec).diagnostics if d.code == "ARC104"]
        assert [(Path(d.span.file).name, d.span.line) for d in errs if d.span] == \
            [("mine.yaml", line)]


def test_drop_nulls_shares_what_holds_no_null_and_drops_the_rest() -> None:
    from archcompiler.language.variants import drop_nulls
    from archcompiler.language.yamlload import parse_yaml, to_plain

    tree, _ = parse_yaml("a: {b: 1, c: null}\nd: {e: [1, null, {f: null}]}\ng: {h: 2}\n", "t.yaml")
    assert tree is not None
    again, _ = parse_yaml("a: {b: 1, c: null}\nd: {e: [1, null, {f: null}]}\ng: {h: 2}\n", "t.yaml")
    dropped = drop_nulls(tree)
    assert to_plain(dropped) == {"a": {"b": 1}, "d": {"e": [1, None, {}]}, "g": {"h": 2}}
    assert dropped.get("g") is tree.get("g")  # no null below: the same node
    assert drop_nulls(dropped) is dropped
    # The facts worked out on a node take no part in its equality or text.
    assert tree == again and repr(tree) == repr(again) and hash(tree.span) == hash(again.span)

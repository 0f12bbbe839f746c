"""`inside`, the folder bound of `extends` and block files: its shortcut (an lstat a name below
the folder) must answer as following every link does, whatever the links are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archcompiler.language.variants import inside


def reference(path: Path, folder: Path) -> bool:
    """The bound as written before the shortcut: resolve both, then compare."""
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, RuntimeError, OSError):
        return False


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_inside_agrees_with_following_every_link(tmp_path: Path) -> None:
    proj, out = tmp_path / "proj", tmp_path / "out"
    (proj / "sub").mkdir(parents=True)
    out.mkdir()
    (proj / "a.yaml").write_text("x: 1\n")
    (proj / "sub" / "b.yaml").write_text("x: 1\n")
    (out / "c.yaml").write_text("x: 1\n")
    (proj / "to_out.yaml").symlink_to(out / "c.yaml")
    (proj / "to_a.yaml").symlink_to(proj / "a.yaml")
    (proj / "out_dir").symlink_to(out)
    (proj / "sub_dir").symlink_to(proj / "sub")
    (proj / "loop").symlink_to(proj / "loop")
    (tmp_path / "proj_link").symlink_to(proj)
    names = ["a.yaml", "sub/b.yaml", "to_out.yaml", "to_a.yaml", "out_dir/c.yaml",
             "sub_dir/b.yaml", "loop", "loop/x.yaml", "missing.yaml", "missing/x.yaml",
             "../out/c.yaml", "sub/../a.yaml", "sub/../../out/c.yaml", "a.yaml/x", "."]
    folders = [proj, tmp_path / "proj_link", proj / "sub", out]
    for folder in folders:
        for name in names:
            for path in (folder / name, proj / name):
                assert inside(path, folder) == reference(path, folder), (path, folder)
    assert inside(proj / "a.yaml", proj) and not inside(proj / "to_out.yaml", proj)
    assert not inside(proj / "out_dir" / "c.yaml", proj)
    assert not inside(proj / "loop" / "x.yaml", proj)


def test_a_file_changed_into_a_link_is_seen(tmp_path: Path) -> None:
    """No answer is kept: a file replaced by a link out of the folder is refused at once."""
    proj, out = tmp_path / "proj", tmp_path / "out"
    proj.mkdir()
    out.mkdir()
    (out / "c.yaml").write_text("x: 1\n")
    block = proj / "block.yaml"
    block.write_text("x: 1\n")
    assert inside(block, proj)
    if not hasattr(os, "symlink"):
        return
    block.unlink()
    block.symlink_to(out / "c.yaml")
    assert not inside(block, proj)

"""docs/tutorial.md and docs/blocks.md are executed: every file they show is written, every
command is run, every Python block is executed, and every output shown must be what the code
prints now."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # runs every command of the tutorial in a new process

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
FILE_LINE = re.compile(r"^# file: (\S+)\n")


def blocks(text: str) -> list[tuple[str, str]]:
    """The fenced blocks of the tutorial, as (language, body)."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def commands(body: str) -> list[tuple[str, list[str]]]:
    """A console block's `$ command` lines, each with the output lines shown under it."""
    out: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def matches(shown: list[str], got: list[str]) -> bool:
    """Shown output equals what ran; a line `...` stands for any number of lines, and `...`
    within a line for any text (a loss that depends on random weights)."""
    pattern = "\n".join(".*?" if s == "..." else re.escape(s).replace(r"\.\.\.", ".*?")
                        for s in shown)
    return re.fullmatch(pattern, "\n".join(got), re.S) is not None


def run(command: str, cwd: Path) -> list[str]:
    """Run one `archc ...` command as a user would: a new process, stderr after stdout."""
    argv = shlex.split(command)
    assert argv[0] == "archc", f"the tutorial may only run archc: {command}"
    # Unbuffered, with stderr into the same pipe: the lines come in the order a terminal shows.
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "archcompiler", *argv[1:]], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=300)
    return [line.rstrip() for line in proc.stdout.strip("\n").splitlines()]


@pytest.mark.parametrize(("page", "least"),
                         [("tutorial.md", 8), ("blocks.md", 4), ("paper.md", 12)])
def test_the_page_runs_as_written(page: str, least: int, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from archcompiler.blocks import BLOCKS, unregister_block

    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    found = blocks(text)
    assert found, f"{page} has no code blocks"
    before = set(BLOCKS.names())
    try:
        _run_page(page, found, least, tmp_path, monkeypatch)
    finally:  # a page's Python may register a block type: it must not outlive the test
        for tag in set(BLOCKS.names()) - before:
            unregister_block(tag)


def _run_page(page: str, found: list[tuple[str, str]], least: int, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ran = 0
    namespace: dict[str, object] = {"__name__": "tutorial"}  # one session per page, in order
    for lang, body in found:
        name = FILE_LINE.match(body)
        if lang in ("yaml", "python") and name:  # a file the page shows: written, not run
            (tmp_path / name.group(1)).write_text(body, encoding="utf-8")
        elif lang == "console":
            for command, shown in commands(body):
                got = run(command, tmp_path)
                assert matches([s.rstrip() for s in shown], got), \
                    f"$ {command}\n--- {page} shows:\n" + "\n".join(shown) + \
                    "\n--- it prints:\n" + "\n".join(got)
                ran += 1
        elif lang == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                # dont_inherit: this file's `from __future__ import annotations` must not turn
                # the page's annotations into strings, as a reader's script would not.
                exec(compile(body, f"docs/{page}", "exec", dont_inherit=True), namespace)
            shown = [line[2:] for line in body.splitlines() if line.startswith("# ") and
                     not line.startswith("# file:")]
            if shown and shown[0] == "prints:":
                got = out.getvalue().strip("\n").splitlines()
                assert matches(shown[1:], got), "\n".join(got)
            ran += 1
    assert ran >= least

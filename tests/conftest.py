"""Shared test paths, the one spec writer, the one tiny spec, the golden-file helper, and the one
way tests run the command line (`cli`, `run_cli`)."""

from __future__ import annotations

import io
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

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


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run a module's tests on one torch thread, and give the rest of the session its threads back.

    The torch modules that use it run many small ops, where a second OpenMP thread gains little
    and, on a shared 2-core machine, barrier waits make deep nets 20x slower (resnet1202: 0.5 s
    -> 12 s); their bitwise references were also taken with one thread. Setting it at import
    made the whole session single-threaded.
    """
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class CliResult(NamedTuple):
    """What one `archc` run gave: its exit code, stdout and stderr (unpacks as a tuple)."""

    rc: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> CliResult:
    """Run `archc ARGV` in this process, as the console script would; return what it printed."""
    from archcompiler.cli import main  # here, not at import: conftest loads before every test

    capsys.readouterr()  # only what this run prints
    rc = main(list(argv))
    captured = capsys.readouterr()
    return CliResult(rc, captured.out, captured.err)


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`cli(*argv, stdin=None, env=None)`: run `archc` in this process with the given standard
    input (text or bytes) and environment variables; returns a CliResult."""
    def invoke(*argv: str, stdin: str | bytes | None = None,
               env: Mapping[str, str | None] | None = None) -> CliResult:
        for key, value in (env or {}).items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        if stdin is not None:
            data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        return run_cli(capsys, *argv)
    return invoke

"""Shared test paths, the one spec writer, the one tiny spec, the golden-file helper, the torch
thread fixture, and the one way tests run the command line: the `cli` fixture (or `run_cli`)."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple, Protocol

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


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """A FORCE_COLOR in the developer's environment would colour every captured diagnostic."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)


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
    """What one `archc` run gave: its exit code, stdout and stderr (it unpacks as a tuple)."""

    rc: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> CliResult:
    """Run `archc ARGV` in this process, for helpers that have capsys but not the fixture."""
    from archcompiler.cli import main  # here, not at import: conftest loads before every test

    capsys.readouterr()  # what earlier code printed is not this run's
    rc = main(list(argv))
    captured = capsys.readouterr()
    return CliResult(rc, captured.out, captured.err)


class Cli(Protocol):
    """The `cli` fixture's signature."""

    def __call__(self, *argv: str, stdin: str | bytes | None = None,
                 env: Mapping[str, str | None] | None = None) -> CliResult: ...


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run `archc ARGV...` in-process: `cli("summary", "resnet18", "--json").out`.

    `stdin` (text or bytes) is what the command reads from standard input; `env` sets variables
    for the run (None removes one). Both are undone after the run.
    """
    def run(*argv: str, stdin: str | bytes | None = None,
            env: Mapping[str, str | None] | None = None) -> CliResult:
        with monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                if value is None:
                    patch.delenv(key, raising=False)
                else:
                    patch.setenv(key, value)
            if stdin is not None:
                data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
                patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
            return run_cli(capsys, *argv)

    return run


def on_a_terminal(argv: list[str], env: Mapping[str, str], which: str) -> str:
    """Run `archc ARGV` with its stdout or stderr (`which`) on a pseudo-terminal; return what it
    wrote there (a terminal writes line ends as \\r\\n; they are given back as \\n)."""
    import pty

    leader, follower = pty.openpty()
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, which: follower}
    try:
        proc = subprocess.Popen([sys.executable, "-m", "archcompiler", *argv], cwd=ROOT,
                                env=dict(env), stdin=subprocess.DEVNULL, **streams)
        os.close(follower)
        chunks = []
        while select.select([leader], [], [], 60)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal (EIO)
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")

"""Standard input joins the hostile corpus: `archc CMD -` refuses what `archc CMD FILE` refuses.

Every file of tests/data/bad, piped to `archc validate -`, gives the diagnostics the file gives
(named <stdin>), and input that no file in the corpus holds is tried too: empty, binary
garbage, invalid UTF-8, input at and past the size bound, an endless stream, and random bytes
under every command that reads a spec.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcompiler.language.yamlload import MAX_BYTES
from tests.conftest import BAD, TINY, Cli
from tests.corpus.test_corpus import CORPUS, EXPECTED, _located

# The spec on stdin is not the file, so a chain that comes back to the file closes one step later.
CYCLES = {"extends_cycle_a", "extends_cycle_b", "extends_self"}


@pytest.fixture
def in_bad(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tests/data/bad, so the corpus's relative `extends` find what they find from there."""
    monkeypatch.chdir(BAD)


@pytest.mark.usefixtures("in_bad")
@pytest.mark.parametrize("stem", CORPUS)
def test_stdin_is_refused_as_the_file_is(stem: str, cli: Cli) -> None:
    data = (BAD / f"{stem}.yaml").read_bytes()
    by_file = cli("validate", f"{stem}.yaml")
    by_stdin = cli("validate", "-", stdin=data)
    assert by_stdin.rc == by_file.rc == 1
    code = EXPECTED[stem][0]
    found = _located(by_stdin.err)
    assert any(c == code for _, _, _, c in found), by_stdin.err
    assert "Traceback" not in by_stdin.err
    if stem in CYCLES:
        return
    assert found == [("<stdin>" if f == f"{stem}.yaml" else f, ln, col, c)
                     for f, ln, col, c in _located(by_file.err)]
    assert by_stdin.out == by_file.out.replace(f"{BAD.name}/{stem}.yaml", "<stdin>") \
        .replace(f"{stem}.yaml", "<stdin>")


@pytest.mark.parametrize(("data", "code", "where"), [
    (b"", "ARC006", "<stdin>:1:1"),  # empty
    (b"   \n# only a comment\n", "ARC006", "<stdin>:1:1"),
    (b"\x00\x01\x02\xff\xfe\x80garbage", "ARC002", "<stdin>:1:4"),  # binary: 0xff is not UTF-8
    (b"name: ok\ndescription: caf\xe9\n", "ARC002", "<stdin>:2:17"),  # Latin-1, not UTF-8
    (b"\xef\xbb\xbf" + b"\xc3\x28", "ARC002", "<stdin>:1:1"),  # a BOM, then a broken sequence
    (b"name: a\x00b\n", "ARC001", "<stdin>:1:8"),  # a NUL inside the text
    (b"[" * 100_000, "ARC009", "<stdin>:1:"),  # nesting far past the bound
    (b"a: &a [" + b"*a, " * 1000 + b"]\n", "ARC00", "<stdin>:1:"),
])
def test_hostile_stdin_is_located(cli: Cli, data: bytes, code: str, where: str) -> None:
    res = cli("validate", "-", stdin=data)
    assert res.rc == 1, res.err
    assert f"{where}" in res.err and f"error[{code}" in res.err, res.err[:2000]
    assert "Traceback" not in res.err and "internal error" not in res.err


def test_stdin_at_the_size_bound_is_read_and_past_it_refused(cli: Cli) -> None:
    text = TINY + "#" * (MAX_BYTES - len(TINY) - 1) + "\n"
    assert len(text.encode()) == MAX_BYTES
    res = cli("validate", "-", stdin=text)
    assert res.rc == 0, res.err[:500]
    res = cli("validate", "-", stdin=text + "#")
    assert res.rc == 1
    assert res.err.startswith(f"<stdin>:1:1: error[ARC003]: file is over the {MAX_BYTES} byte")


class Endless(io.RawIOBase):
    """A stream that never ends (`yes | archc validate -`), counting what is taken from it."""

    taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if Endless.taken > 4 * MAX_BYTES:  # an unbounded read would never stop: fail it instead
            raise OSError("read far past the bound")
        buffer[:] = b"#" * len(buffer)
        Endless.taken += len(buffer)
        return len(buffer)


def test_an_endless_stdin_is_read_only_to_the_bound(cli: Cli,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.TextIOWrapper(io.BufferedReader(Endless()), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stream)
    res = cli("summary", "-")
    assert res.rc == 1 and "error[ARC003]" in res.err
    assert Endless.taken <= MAX_BYTES + 2 * io.DEFAULT_BUFFER_SIZE


COMMANDS = [["validate", "-"], ["summary", "-", "--json"], ["explain", "-"],
            ["diff", "resnet20", "-"], ["table", "-"], ["render", "-", "-o", "out.dot"],
            ["sweep", "-", "--grid", "head.classes=2,3"],
            ["sample", "-", "--dist", "head.classes=uniform(2,9)", "--count", "2"]]
PIECES = [TINY.encode(), b"extends: resnet20\n", b"name: x\n", b"extends: ./tiny.yaml\n",
          b"extends: ../../../etc/passwd\n", b"blocks: {b: ../b.yaml}\n", b"\xff", b"\x00",
          b"&a [*a]\n", b"!!python/object/apply:os.system [ls]\n", b"\r\n", b"\xef\xbb\xbf"]
STDIN = st.one_of(st.binary(max_size=300),
                  st.lists(st.sampled_from(PIECES), max_size=6).map(b"".join),
                  st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a base spec, inside a folder that must stay as it is."""
    box = tmp_path / "box"
    box.mkdir()
    (box / "tiny.yaml").write_text(TINY, encoding="utf-8")
    monkeypatch.chdir(box)
    return box


def test_random_stdin_under_every_command(cli: Cli, sandbox: Path) -> None:
    @settings(max_examples=150, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(argv=st.sampled_from(COMMANDS), data=STDIN)
    def case(argv: list[str], data: bytes) -> None:
        res = cli(*argv, stdin=data)
        assert res.rc in (0, 1, 2), (argv, data, res.err[-2000:])
        assert "Traceback" not in res.err and "internal error" not in res.err, (argv, data)
        assert sorted(p.name for p in sandbox.parent.iterdir()) == ["box"]
        assert not (sandbox / "archc_pwned_marker").exists()

    case()

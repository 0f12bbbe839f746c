"""Every `archc` command under random argv: bytes included, random output paths, hostile names.

Each case runs `archc` in-process in a sandbox folder (its working directory) that holds a small
spec chain, a spec whose `name` tries to climb out, weights and a folder. Arguments are drawn
from each command's options with values that are good, wrong, random text or random bytes (as
Python hands undecodable argv bytes over: lone surrogates). The invariants:

- the exit code is 0, 1, 2, 4 or 5: never 3 (an internal error), never a traceback;
- no file appears outside the sandbox (its parent folder is watched);
- every variant file a sweep writes parses as YAML;
- the run's inputs are never replaced.

The default run draws a few hundred cases; `ARCHC_FUZZ_LONG=1` (or `-m slow` on the long test)
draws 20,000.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcompiler.cli import main
from tests.conftest import TINY, write_spec

LONG = os.environ.get("ARCHC_FUZZ_LONG") == "1"
N_SHORT = 300
N_LONG = 20_000
STATS: Counter[str] = Counter()

# Random argv bytes, as Python decodes them (undecodable bytes become lone surrogates).
RAW = st.binary(max_size=24).map(lambda b: b.decode("utf-8", "surrogateescape"))
TEXT = st.text(max_size=24)
JUNK = st.one_of(RAW, TEXT, st.sampled_from(["", "-", "--", "=", "x=", "=y", "\n", "0", "-1",
                                             "1e400", "nan", "[", "{a: b}", "\x00"]))

SPECS = ["net.yaml", "tiny.yaml", "resnet20", "./net.yaml", "extends: resnet20\nname: inline\n"]
BAD_SPECS = ["evil.yaml", "missing.yaml", "sub", "w.pth", "/proc/self/mem", "/dev/zero"]
# Wrong places to write: a folder, a missing folder, the inputs, /proc, the cwd's parent's name.
BAD_OUTPUTS = ["sub", "no/such/x.pt", "tiny.yaml", "net.yaml", "w.pth", ".", "..",
               "/proc/x.pt", "/proc/x.dot", "out", "sub/v/x.dot", "out.txt"]
BUILD_OUTPUTS = ["out.pt", "out.pth", "sub/x.pt", "a/../b.pt", "out.pt2"]
RENDER_OUTPUTS = ["out.svg", "out.dot", "sub/x.dot", "a/../b.dot", "out.png"]
WRITE_FOLDERS = ["v", "sub/v", "sub", "."]
SETS = ["head.classes=3", "head.classes=0", "name=../../x", "name=/tmp/evil", "stages.depths=[1,1,1]",
        "head.dropout=.nan", "description=a\nb", "extends=x", "nope=1", "head=", "name=ok_name"]
GRIDS = ["head.classes=2,3", "head.dropout=0.1,.nan,.inf", "stages.depths=[1,1,1],[2,1,1]",
         "name=a,../b", "head.classes=", "head.classes=[1,", "nope=1,2"]


def _one(options: list[tuple[str, st.SearchStrategy[str]]]) -> st.SearchStrategy[list[str]]:
    """Some of `options`, each with a drawn value (an empty flag name: a positional)."""
    return st.lists(st.sampled_from(range(len(options))), max_size=5).flatmap(
        lambda picks: st.tuples(*(options[i][1] for i in picks)).map(
            lambda values: [x for i, v in zip(picks, values)
                            for x in ((options[i][0], v) if options[i][0] else (v,))]))


def _either(good: list[str], bad: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Mostly a good value (so cases get past argparse and do work), sometimes a bad one or junk."""
    def pick(roll: int) -> st.SearchStrategy[str]:
        if roll < 8:
            return st.sampled_from(good)
        return st.sampled_from(list(bad)) if roll < 10 and bad else JUNK

    return st.integers(0, 10).flatmap(pick)


SPEC = _either(SPECS, BAD_SPECS)
BUILD_OUT = _either(BUILD_OUTPUTS, BAD_OUTPUTS)
RENDER_OUT = _either(RENDER_OUTPUTS, BAD_OUTPUTS)
WRITE_OUT = _either(WRITE_FOLDERS, BAD_OUTPUTS)
COMMON = [("--set", _either(SETS[:1], SETS[1:])),
          ("--input", _either(["3x32x32", "1x64x64"], ["32x32x3", "1x8x8"])),
          ("--allow-outside", st.just("--debug")), ("--max-blocks", _either(["10"], ["1"])),
          ("--max-params", _either(["1G"], ["1K"])), ("--max-extends", _either(["50"], ["1"]))]


COMMANDS: dict[str, st.SearchStrategy[list[str]]] = {
    "validate": st.tuples(SPEC, _one([*COMMON, ("--format", _either(["text", "json"]))])).map(
        lambda t: ["validate", t[0], *t[1]]),
    "summary": st.tuples(SPEC, _one([*COMMON, ("--depth", _either(["stage", "layer"])),
                                     ("--json", st.just("--allow-outside"))])).map(
        lambda t: ["summary", t[0], *t[1]]),
    "explain": st.tuples(SPEC, _either(["conv1", "layer1", "layer1.0", "fc"], ["nope", "-x"]),
                         _one([*COMMON, ("--json", st.just("--allow-outside"))])).map(
        lambda t: ["explain", t[0], t[1], *t[2]]),
    "build": st.tuples(SPEC, BUILD_OUT, _one([*COMMON, ("--format", _either(["state_dict", "exported"])),
                                        ("--weights", _either(["w.pth", "tiny.yaml", "sub",
                                                               "missing.pth"])),
                                        ("--seed", _either(["0", "-1", "99999999999999999999"])),
                                        ("--check", st.just("--allow-outside"))])).map(
        lambda t: ["build", t[0], "-o", t[1], *t[2]]),
    "render": st.tuples(SPEC, RENDER_OUT, _one([*COMMON, ("--detail", _either(["stage", "layer"])),
                                         ("--max-drawn", _either(["5", "100"])),
                                         ("--dot-timeout", _either(["0.001", "30", "-1"])),
                                         ("--rankdir", _either(["LR"]))])).map(
        lambda t: ["render", t[0], "-o", t[1], *t[2]]),
    "render_many": st.tuples(SPEC, SPEC, RENDER_OUT, _one([*COMMON])).map(
        lambda t: ["render", t[0], t[1], "-o", t[2], *t[3]]),
    "compare": st.tuples(_either(["nope.py:X", "tiny.yaml:X", "sub:X"]), SPEC).map(
        lambda t: ["compare", t[0], t[1]]),
    "table": st.tuples(SPEC, SPEC, _one([*COMMON, ("--format", _either(["markdown", "latex"]))])
                       ).map(lambda t: ["table", t[0], t[1], *t[2]]),
    "diff": st.tuples(SPEC, SPEC, _one([*COMMON, ("--set-a", _either(SETS)),
                                        ("--set-b", _either(SETS)),
                                        ("--json", st.just("--allow-outside"))])).map(
        lambda t: ["diff", t[0], t[1], *t[2]]),
    "sweep": st.tuples(SPEC, _either(GRIDS[:3], GRIDS[3:]), _one([("--grid", _either(GRIDS[:3], GRIDS[3:])),
                                   ("--grid", _either(GRIDS[:3], GRIDS[3:])),
                                   ("--set", _either(SETS[:1], SETS[1:])), ("--write", WRITE_OUT),
                                   ("--plot", _either(["p.png", "sub/p.svg", "no/p.png",
                                                       "tiny.yaml"])),
                                   ("--max-work", _either(["1", "100000"])),
                                   ("--json", st.just("--valid-only")),
                                   ("--max-params", _either(["1K"])),
                                   ("--maximize", _either(["depth", "stage2", "width"],
                                                          ["stage0", "Depth ", "", "x" * 200])),
                                   ("--minimize", _either(["params", "macs"], ["stage99"])),
                                   ("--pareto", _either(["depth:max,params", "macs,params"],
                                                        ["depth", "depth,depth", "a:b,c",
                                                         "depth:up,params", ","])),
                                   ("--jobs", _either(["1", "2"], ["0", "-3", "999"]))])).map(
        lambda t: ["sweep", t[0], "--grid", t[1], *t[2]]),
    "sample": st.tuples(SPEC, _either(["stages.depths.0=uniform(1,3)", "head.classes=pow2(2,8)",
                                       "stages.widths.base=loguniform(8,32,8)"],
                                      ["k", "stages.depths.0=normal(1,2)", "x=uniform(2,1)",
                                       "head.classes=pow2(3,8)", "y=loguniform(0,1)",
                                       "z=uniform(1,1e999)", "stages.nope=uniform(1,2)",
                                       "head.classes=uniform(1,2,0)", "=uniform(1,2)"]),
                        _one([("--count", _either(["1", "3"], ["0", "-1", "999999999"])),
                              ("--seed", _either(["0", "7"], ["-5"])),
                              ("--space", _either(["regnetx"], ["nope"])),
                              ("--max-draws", _either(["5"], ["0"])),
                              ("--min-macs", _either(["1K"], ["-1", "x"])),
                              ("--jobs", _either(["1"], ["0"])),
                              ("--write", WRITE_OUT),
                              ("--plot", _either(["e.png"], ["tiny.yaml", "no/e.png"])),
                              ("--json", st.just("--valid-only"))])).map(
        lambda t: ["sample", t[0], "--dist", t[1], "--max-draws", "6", *t[2]]),
    "list": st.sampled_from([["list"], ["list", "--json"]]),
    "schema": st.one_of(st.just(["schema"]), _either(["s.json", "sub/s.json"], BAD_OUTPUTS).map(
        lambda o: ["schema", "-o", o])),
    "completion": _either(["bash", "zsh"]).map(lambda s: ["completion", s]),
}

_COMMAND = st.sampled_from(sorted(COMMANDS)).flatmap(lambda c: COMMANDS[c])
ARGV = st.integers(0, 9).flatmap(lambda roll: _COMMAND if roll < 8 else st.one_of(
    st.lists(JUNK, max_size=6),  # no command at all, or a junk one
    st.sampled_from(sorted(COMMANDS)).flatmap(
        lambda c: st.lists(JUNK, max_size=4).map(lambda rest: [c, *rest]))))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """outer/sandbox: the working directory of every case; outer must stay as it is."""
    outer = tmp_path_factory.mktemp("fuzz_cli_outer")
    box = outer / "sandbox"
    box.mkdir()
    write_spec(box, TINY, "tiny.yaml")
    write_spec(box, "extends: ./tiny.yaml\nname: net\n", "net.yaml")
    write_spec(box, "extends: ./tiny.yaml\nname: ../../escaped\n", "evil.yaml")
    (box / "sub").mkdir()
    torch = pytest.importorskip("torch")
    import archcompiler

    torch.save(archcompiler.build_module(str(box / "tiny.yaml"), seed=0).state_dict(),
               box / "w.pth")
    return box


def _check_case(argv: list[str], box: Path, capsys: pytest.CaptureFixture[str],
                inputs: dict[str, bytes]) -> None:
    outer = box.parent
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help and --version 0
        rc = exc.code if isinstance(exc.code, int) else 2
    out = capsys.readouterr()
    STATS[f"{argv[0] if argv else '-'}:{rc}"] += 1
    assert rc in (0, 1, 2, 4, 5), (argv, rc, out.err[-2000:])
    assert "Traceback" not in out.err and "internal error" not in out.err, (argv, out.err[-2000:])
    outside = sorted(p.name for p in outer.iterdir() if p.name != "sandbox")
    assert not outside, (argv, outside)
    if argv and argv[0] in ("sweep", "sample") and rc == 0 and "--write" in argv:
        for written in box.rglob("*-*.yaml"):  # every variant file a sweep wrote parses
            data = yaml.safe_load(written.read_text(encoding="utf-8"))
            assert isinstance(data, dict) and "extends" in data, (argv, written)
    for name, data in inputs.items():  # put back what a legitimate -o replaced, for the next case
        path = box / name
        if not path.is_file() or path.read_bytes() != data:
            if path.is_dir():
                continue
            path.write_bytes(data)


def _run(n: int) -> None:
    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(argv=ARGV)
    def case(argv: list[str]) -> None:
        _check_case(argv, _STATE["box"], _STATE["capsys"], _STATE["inputs"])

    case()


_STATE: dict[str, object] = {}


@pytest.fixture
def fuzz_env(sandbox: Path, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(sandbox)
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    _STATE.update(box=sandbox, capsys=capsys, inputs={
        n: (sandbox / n).read_bytes() for n in ("tiny.yaml", "net.yaml", "evil.yaml", "w.pth")})


@pytest.mark.slow
@pytest.mark.usefixtures("fuzz_env")
def test_every_command_under_random_argv() -> None:
    _run(N_SHORT)
    commands = {k.split(":")[0] for k in STATS}
    assert set(COMMANDS) <= commands, STATS


@pytest.mark.slow
@pytest.mark.usefixtures("fuzz_env")
def test_every_command_under_random_argv_long(request: pytest.FixtureRequest) -> None:
    if not LONG and "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("long mode: ARCHC_FUZZ_LONG=1, or -m slow")
    _run(N_LONG)
    assert sum(STATS.values()) >= N_LONG

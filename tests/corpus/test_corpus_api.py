"""The hostile corpus, API section, and the input text rules of the command line.

The Python API turns every malformed input into a `SpecError` with a coded diagnostic: recursive
and 5,000-deep containers, keys that are not strings (or are str subclasses), lone surrogates,
objects YAML cannot hold. The command line treats its arguments as bytes until they are proven
UTF-8 text, and a deep extends chain, Ctrl-C at start-up and a costly sweep each end cleanly.
"""

from __future__ import annotations

import enum
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import archcompiler
from archcompiler import SpecError
from archcompiler.cli import main
from tests.conftest import ROOT, TINY, write_spec


class Key(str, enum.Enum):
    """A str subclass as a key, as enum.StrEnum makes them."""

    NAME = "name"


def _recursive_dict() -> dict[str, object]:
    spec: dict[str, object] = {"extends": "resnet20"}
    spec["stages"] = spec
    return spec


def _recursive_list() -> dict[str, object]:
    items: list[object] = []
    items.append(items)
    return {"extends": "resnet20", "stages": {"depths": items}}


def _deep(n: int, make_list: bool = False) -> dict[str, object]:
    inner: object = 1
    for _ in range(n):
        inner = [inner] if make_list else {"a": inner}
    return {"extends": "resnet20", "head": inner}


# name -> (the spec, the code its first diagnostic must have); None: it is valid.
SPECS: dict[str, tuple[object, str | None]] = {
    "recursive_dict": (_recursive_dict(), "ARC009"),
    "recursive_list": (_recursive_list(), "ARC009"),
    "deep_5000_dicts": (_deep(5000), "ARC009"),
    "deep_5000_lists": (_deep(5000, make_list=True), "ARC009"),
    "int_key": ({"extends": "resnet20", 1: "x"}, "ARC011"),
    "tuple_key": ({"extends": "resnet20", (1, 2): "x"}, "ARC011"),
    "none_key": ({"extends": "resnet20", None: "x"}, "ARC011"),
    "str_enum_key": ({"extends": "resnet20", Key.NAME: "renamed"}, None),
    "str_enum_value": ({"extends": "resnet20", "name": Key.NAME}, None),
    "lone_surrogate_value": ({"extends": "resnet20", "name": "a\udcff"}, "ARC002"),
    "lone_surrogate_key": ({"extends": "resnet20", "n\ud800": 1}, "ARC002"),
    "bytes_value": ({"extends": "resnet20", "name": b"x"}, "ARC103"),
    "set_value": ({"extends": "resnet20", "stages": {"depths": {1, 2}}}, "ARC103"),
    "object_value": ({"extends": "resnet20", "name": object()}, "ARC103"),
    "text_with_surrogate": ("extends: resnet20\nname: a\udcffb\n", "ARC002"),
    "text_with_nul": ("extends: resnet20\nname: a\x00b\n", "ARC001"),
}

OVERRIDES: dict[str, tuple[object, str]] = {
    "set_with_surrogate": (["name=a\udcff"], "ARC013"),
    "mapping_with_surrogate_value": ({"name": "a\udcff"}, "ARC002"),
    "mapping_with_surrogate_key": ({"na\udcffme": 1}, "ARC013"),
    "mapping_recursive_value": ({"stages": _recursive_dict()}, "ARC009"),
    "mapping_deep_value": ({"head": _deep(5000)}, "ARC009"),
    "mapping_int_key": ({1: 2}, "ARC013"),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_api_malformed_spec(name: str) -> None:
    spec, code = SPECS[name]
    if code is None:
        archcompiler.analyze(spec)  # type: ignore[arg-type]
        return
    with pytest.raises(SpecError) as info:
        archcompiler.analyze(spec)  # type: ignore[arg-type]
    assert info.value.diagnostics[0].code == code
    assert len(str(info.value)) < 5_000  # printable, and short
    assert archcompiler.validate(spec)  # type: ignore[arg-type]  # diagnostics, no raise


@pytest.mark.parametrize("name", sorted(OVERRIDES))
def test_api_malformed_overrides(name: str) -> None:
    overrides, code = OVERRIDES[name]
    with pytest.raises(SpecError) as info:
        archcompiler.analyze("resnet20", overrides=overrides)  # type: ignore[arg-type]
    assert code in {d.code for d in info.value.diagnostics}
    str(info.value).encode("utf-8")  # the message itself is UTF-8 text


@pytest.mark.slow
def test_a_2000_file_extends_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(tmp_path, TINY, "f0.yaml")
    for i in range(1, 2000):
        (tmp_path / f"f{i}.yaml").write_text(f"extends: ./f{i - 1}.yaml\nname: f{i}\n",
                                             encoding="utf-8")
    top = str(tmp_path / "f1999.yaml")
    assert archcompiler.analyze(top, limits=archcompiler.Limits(max_extends=5000)).spec.name \
        == "f1999"
    rc = main(["validate", top, "--max-extends", "5000"])
    assert rc == 0, capsys.readouterr().err
    rc = main(["validate", top, "--max-extends", "1000"])
    assert rc == 1 and "error[ARC152]" in capsys.readouterr().err


def _archc(args: list[bytes], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run `archc` in a fresh process with raw argv bytes."""
    launcher = [sys.executable, "-c", "import sys, archc_launch; sys.exit(archc_launch.main())"]
    return subprocess.run([*(a.encode() for a in launcher), *args], cwd=cwd, capture_output=True,
                          timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})


ARGV_BYTES = {
    "set": [b"validate", b"resnet20", b"--set", b"name=caf\xe9"],
    "grid": [b"sweep", b"resnet20", b"--grid", b"head.classes=1\xff,2"],
    "diff_set_b": [b"diff", b"resnet20", b"resnet20", b"--set-b", b"head.classes=\xfe"],
    "yaml_text": [b"validate", b"extends: resnet20\nname: \xe9t\xe9\n"],
    "output": [b"build", b"resnet20", b"-o", b"out\xff.pt"],
}


@pytest.mark.parametrize("case", sorted(ARGV_BYTES))
def test_argv_bytes_that_are_not_utf8(case: str, tmp_path: Path) -> None:
    proc = _archc(ARGV_BYTES[case], tmp_path)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, err
    assert "is not UTF-8 text: byte 0x" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.slow
def test_ctrl_c_during_start_up_exits_130_quietly(tmp_path: Path) -> None:
    """SIGINT at several moments of start-up (imports, parsing): exit 130, never a traceback.

    A signal that lands in the interpreter's own start-up (its `site` import, before any code of
    archcompiler runs) is Python's to report, and is not counted.
    """
    launcher = [sys.executable, "-c", "import sys, archc_launch; sys.exit(archc_launch.main())",
                "validate", "resnet20"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    interrupted = 0
    for delay in (0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0):
        proc = subprocess.Popen(launcher, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        text = err.decode("utf-8", "replace")
        if "init_import_site" in text:  # still inside Python's own start-up
            continue
        assert "Traceback" not in text, (delay, text)
        # Interrupted (130), or done before the signal came (0), or done and in the
        # interpreter's own shutdown, where SIGINT's default action ends it silently (-SIGINT).
        assert proc.returncode in (130, 0) or (proc.returncode == -signal.SIGINT and not text), \
            (delay, proc.returncode, text)
        interrupted += proc.returncode == 130
    assert interrupted >= 1


@pytest.mark.slow
def test_sweep_cost_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = write_spec(tmp_path, """
        extends: resnet20
        name: big
        stages: {depths: [1666, 1666, 1666]}
    """, "big.yaml")
    values = ",".join(str(n) for n in range(2, 1002))
    start = time.perf_counter()
    rc = main(["sweep", str(big), "--grid", f"head.classes={values}", "--grid",
               "head.dropout=0.0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"])
    err = capsys.readouterr().err
    assert rc == 2 and "--max-work" in err and "4,998 blocks" in err
    assert time.perf_counter() - start < 30
    # The flag raises the bound (here, just enough for a small grid of the big net).
    rc = main(["sweep", str(big), "--grid", "head.classes=2,3", "--max-work", "10000"])
    assert rc == 0, capsys.readouterr().err


def test_codes_the_corpus_uses_are_registered() -> None:
    from archcompiler.core.codes import CODES

    used = {c for _, c in SPECS.values() if c} | {c for _, c in OVERRIDES.values()}
    assert used <= set(CODES)

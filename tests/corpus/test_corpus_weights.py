"""The hostile corpus, weights section: every file `--weights` may be handed, made at test time.

Each case is a file (a zip bomb, a one-byte file, /etc/passwd, sparse, meta and quantized
tensors, malicious pickles, wrong dtypes, prefixed keys, ...) and the exit code and code that
`archc build resnet20 --weights FILE` must give: 2 with ARC501 for a file that cannot be read as
weights, 1 with ARC502 for weights that do not fit, 0 for what torch's own strict load accepts.
Never exit 3, never a traceback, never a file written.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archcompiler  # noqa: E402
from archcompiler.backends.pytorch.weights import read_state_dict  # noqa: E402
from archcompiler.cli import main  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

BOMB_BYTES = 1 << 30  # the inflated size of the zip bomb's one storage record
MARKER = "archc_weights_pwned"


class _Payload:
    """A pickle that would run a shell command if it were ever unpickled unsafely."""

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch {MARKER}",))


def _state() -> dict[str, torch.Tensor]:
    return dict(archcompiler.build_module("resnet20", seed=3).state_dict())


def _save(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def zip_bomb(path: Path, inflated: int = BOMB_BYTES) -> Path:
    """A real torch archive of resnet20 whose first storage record is `inflated` zero bytes,
    deflated (about 1 MB on disk for 1 GiB)."""
    good = zipfile.ZipFile(io.BytesIO(_save(_state())))
    with zipfile.ZipFile(path, "w") as out:
        for info in good.infolist():
            if info.filename.endswith("/data/0"):
                target = zipfile.ZipInfo(info.filename)
                target.compress_type = zipfile.ZIP_DEFLATED
                with out.open(target, "w", force_zip64=True) as f:
                    chunk = bytes(1 << 22)
                    for _ in range(inflated // len(chunk)):
                        f.write(chunk)
            else:
                out.writestr(info, good.read(info.filename))
    return path


def _pickle_bomb(path: Path) -> Path:
    """A torch archive whose data.pkl record claims 2 GiB (its header lies; nothing is inflated)."""
    raw = bytearray(_save({"w": torch.zeros(2)}))
    z = zipfile.ZipFile(io.BytesIO(bytes(raw)))
    info = next(i for i in z.infolist() if i.filename.endswith("data.pkl"))
    # Patch the central directory entry's uncompressed size (offset 24 in the entry).
    cd_sig = b"PK\x01\x02"
    at = raw.find(cd_sig)
    while at != -1:
        name_len = int.from_bytes(raw[at + 28:at + 30], "little")
        name = bytes(raw[at + 46:at + 46 + name_len]).decode()
        if name == info.filename:
            raw[at + 24:at + 28] = (2**31).to_bytes(4, "little")
            break
        at = raw.find(cd_sig, at + 4)
    path.write_bytes(bytes(raw))
    return path


def _legacy(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _bytes(data: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        path.write_bytes(data() if callable(data) else data)
        return path
    return make


def _state_with(change: Callable[[dict[str, torch.Tensor]], object]) -> Callable[[Path], Path]:
    return _bytes(lambda: _save(change(_state())))


def _retyped(dtype: torch.dtype) -> Callable[[dict[str, torch.Tensor]], object]:
    return lambda s: {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in s.items()}


def _prefixed(prefix: str) -> Callable[[dict[str, torch.Tensor]], object]:
    return lambda s: {prefix + k: v for k, v in s.items()}


def _passwd() -> bytes:
    etc = Path("/etc/passwd")
    return etc.read_bytes() if etc.is_file() else b"root:x:0:0:root:/root:/bin/bash\n"


# name -> (how to make it, exit code, diagnostic code that must be printed)
CASES: dict[str, tuple[Callable[[Path], Path], int, str]] = {
    "zip_bomb": (zip_bomb, 2, "ARC501"),
    "pickle_record_bomb": (_pickle_bomb, 2, "ARC501"),
    "one_byte": (_bytes(b"\x00"), 2, "ARC501"),
    "empty": (_bytes(b""), 2, "ARC501"),
    "etc_passwd": (_bytes(_passwd), 2, "ARC501"),
    "random_bytes": (_bytes(bytes(range(256)) * 16), 2, "ARC501"),
    "truncated_zip": (_bytes(lambda: _save(_state())[:5000]), 2, "ARC501"),
    "sparse_tensor": (_state_with(lambda s: {**s, "fc.weight": s["fc.weight"].to_sparse()}), 2,
                      "ARC501"),
    "meta_tensor": (_state_with(lambda s: {**s, "fc.weight": s["fc.weight"].to("meta")}), 2,
                    "ARC501"),
    "quantized_tensor": (_state_with(lambda s: {**s, "fc.bias": torch.quantize_per_tensor(
        s["fc.bias"], 0.1, 0, torch.qint8)}), 2, "ARC501"),
    "malicious_pickle": (_state_with(lambda s: {**s, "evil": _Payload()}), 2, "ARC501"),
    "plain_pickle": (_bytes(lambda: pickle.dumps({"fc.weight": [1.0]})), 2, "ARC501"),
    "a_list": (_bytes(lambda: _save([torch.zeros(1)])), 2, "ARC501"),
    "one_tensor": (_bytes(lambda: _save(torch.zeros(3))), 2, "ARC501"),
    "empty_dict": (_bytes(lambda: _save({})), 2, "ARC501"),
    "int_keys": (_bytes(lambda: _save({1: torch.zeros(1)})), 2, "ARC501"),
    "non_tensor_values": (_bytes(lambda: _save({"fc.weight": 1.0})), 2, "ARC501"),
    "a_folder": (_folder, 2, "ARC501"),
    "a_fifo": (_fifo, 2, "ARC501"),
    "int64_weights": (_state_with(_retyped(torch.int64)), 1, "ARC502"),
    "complex64_weights": (_state_with(_retyped(torch.complex64)), 1, "ARC502"),
    "bool_weights": (_state_with(_retyped(torch.bool)), 1, "ARC502"),
    "backbone_prefix": (_state_with(_prefixed("backbone.")), 1, "ARC502"),
    "module_prefix": (_state_with(_prefixed("module.")), 1, "ARC502"),
    "extra_keys_20000": (_state_with(lambda s: {**s, **{f"junk.{i}.weight": torch.zeros(1)
                                                        for i in range(20_000)}}), 1, "ARC502"),
    # What torch's strict load accepts: old checkpoints lack num_batches_tracked; fp16 and fp64
    # weights convert; the legacy (pre-zip) format still loads.
    "no_num_batches_tracked": (_state_with(lambda s: {k: v for k, v in s.items()
                                                      if "num_batches_tracked" not in k}), 0, ""),
    "float16_weights": (_state_with(_retyped(torch.float16)), 0, ""),
    "float64_weights": (_state_with(_retyped(torch.float64)), 0, ""),
    "legacy_format": (_bytes(lambda: _legacy(_state())), 0, ""),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every case, made once in a temporary folder."""
    folder = tmp_path_factory.mktemp("weights_corpus")
    return {name: make(folder / f"{name}.pth") for name, (make, _, _) in CASES.items()}


def test_the_weights_corpus_is_large() -> None:
    assert len(CASES) >= 20
    assert sum(code == 2 for _, code, _ in CASES.values()) >= 15


@pytest.mark.parametrize("name", sorted(CASES))
def test_weights_case(name: str, corpus: dict[str, Path], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _, want, code = CASES[name]
    out = tmp_path / "out.pt"
    start = time.perf_counter()
    rc = main(["build", "resnet20", "-o", str(out), "--weights", str(corpus[name])])
    elapsed = time.perf_counter() - start
    captured = capsys.readouterr()
    assert rc == want, captured.err
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    assert not (tmp_path / MARKER).exists()
    if code:
        assert f"error[{code}]" in captured.err
        assert not out.exists()  # nothing written for a refused file
        assert len(captured.err) < 10_000  # 20,000 wrong keys are counted, not listed
    else:
        assert out.exists()
    assert elapsed < 20, f"{name} took {elapsed:.1f} s"


def test_torch_reason_is_kept(corpus: dict[str, Path], capsys: pytest.CaptureFixture[str],
                              tmp_path: Path) -> None:
    main(["build", "resnet20", "-o", str(tmp_path / "o.pt"), "--weights",
          str(corpus["malicious_pickle"])])
    err = capsys.readouterr().err
    assert "GLOBAL" in err and "system" in err  # torch's own words: which global it refused


def test_prefix_is_said_in_one_line(corpus: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                    tmp_path: Path) -> None:
    main(["build", "resnet20", "-o", str(tmp_path / "o.pt"), "--weights",
          str(corpus["backbone_prefix"])])
    err = capsys.readouterr().err
    assert err.count("error[ARC502]") == 2  # the summary, and the one line about the prefix
    assert "starts with 'backbone.'" in err and "removeprefix('backbone.')" in err


def test_dtype_diagnostic_is_located(corpus: dict[str, Path],
                                     capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    main(["build", "resnet20", "-o", str(tmp_path / "o.pt"), "--weights",
          str(corpus["int64_weights"])])
    err = capsys.readouterr().err
    assert "wrong dtype for conv1.weight: the file has torch.int64 (integer)" in err
    assert "resnet20.yaml:" in err  # the spec line that made the layer


def test_max_memory_bounds_what_a_file_may_inflate_to(corpus: dict[str, Path]) -> None:
    from archcompiler.backends.pytorch.archive import storage_bound

    bound = storage_bound(1 << 30, 10**9, 100_000, "the max_memory bound")
    with pytest.raises(archcompiler.SpecError, match="max_memory"):
        read_state_dict(corpus["float64_weights"], bound)


@pytest.mark.slow
def test_zip_bomb_is_refused_fast_and_small(corpus: dict[str, Path]) -> None:
    """Read in a fresh process: under 1 s, and the allocation it would have made never happens."""
    code = ("import resource, sys, time\n"
            "from archcompiler.backends.pytorch.archive import storage_bound\n"
            "from archcompiler.backends.pytorch.weights import WeightsError, read_state_dict\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "t = time.perf_counter()\n"
            "try:\n"
            "    read_state_dict(sys.argv[1], storage_bound(1 << 20, 10**9, None, ''))\n"
            "except WeightsError:\n"
            "    pass\n"
            "else:\n"
            "    raise SystemExit('not refused')\n"
            "dt = time.perf_counter() - t\n"
            "grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
            "print(dt, grew * 1024)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(corpus["zip_bomb"])],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    seconds, grew = (float(v) for v in proc.stdout.split())
    assert seconds < 1.0
    assert grew < 300e6


def test_bomb_under_its_bound_reads_through_the_api(tmp_path: Path) -> None:
    """A small deflated record under the bound is read as usual (the check refuses sizes only)."""
    path = zip_bomb(tmp_path / "small.pth", inflated=1 << 22)
    with pytest.raises(archcompiler.SpecError):  # the record is larger than its tensor says
        archcompiler.build_module("resnet20", weights=path)


def test_legacy_file_over_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "legacy.pth"
    path.write_bytes(_legacy({"w": torch.zeros(1000)}))
    from archcompiler.backends.pytorch.archive import Bound
    with pytest.raises(archcompiler.SpecError, match="over"):
        read_state_dict(path, Bound(100, "a test bound"))


def test_archc_refuses_the_zip_bomb_before_importing_torch(corpus: dict[str, Path],
                                                          tmp_path: Path) -> None:
    """The whole `archc build --weights bomb` process: exit 2, ARC501, peak RSS < 300 MB."""
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run([sys.executable, '-c', 'import sys, archc_launch; "
            "sys.exit(archc_launch.main())', 'build', 'resnet20', '-o', sys.argv[2], "
            "'--weights', sys.argv[1]], capture_output=True, text=True)\n"
            "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
            "print(p.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(corpus["zip_bomb"]),
                           str(tmp_path / "o.pt")], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    first, *rest = proc.stdout.splitlines()
    rc, peak = (int(v) for v in first.split())
    assert rc == 2 and "error[ARC501]" in "\n".join(rest), proc.stdout
    assert peak < 300e6
    assert not (tmp_path / "o.pt").exists()

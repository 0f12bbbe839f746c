"""Resource bounds: a spec that would not fit is refused from the analysis, before allocation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import archcompiler
from archcompiler import Limits, SpecError
from archcompiler.analysis.bounds import build_bytes, build_diagnostics
from archcompiler.cli import main
from archcompiler.core import limits as limits_module
from archcompiler.core.limits import parse_size
from tests.conftest import ROOT, write_spec

HUGE = "extends: resnet50\nname: huge\nstages: {widths: [4096, 8192, 16384, 32768]}\n"


def test_the_96_billion_parameter_spec_is_refused_by_build_but_summarised(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, HUGE, "huge.yaml")
    out = tmp_path / "huge.pt"
    assert main(["build", str(spec), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "error[ARC401]: huge has 96,084,683,048 parameters" in err
    assert "huge.yaml:3:38" in err and "--max-params" in err
    assert "error[ARC402]" in err and "--max-memory" in err
    assert list(tmp_path.iterdir()) == [spec]  # nothing written, no temporary file
    assert main(["summary", str(spec), "--depth", "stage"]) == 0
    assert "total params  96,084,683,048" in capsys.readouterr().out


def test_the_refusal_never_imports_torch(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, HUGE, "huge.yaml")
    code = ("import sys; from archcompiler.cli import main; "
            f"rc = main(['build', {str(spec)!r}, '-o', {str(tmp_path / 'x.pt')!r}]); "
            "print('RC', rc, 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert "RC 1 False" in proc.stdout, proc.stderr


def test_the_api_refuses_before_allocating_and_meta_still_builds(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    report = archcompiler.analyze(write_spec(tmp_path, HUGE, "huge.yaml"))
    with pytest.raises(SpecError) as info:
        archcompiler.build_module(report)
    assert {d.code for d in info.value.diagnostics} == {"ARC401", "ARC402"}
    model = archcompiler.build_module(report, device="meta")  # allocates nothing
    assert sum(p.numel() for p in model.parameters()) == 96_084_683_048


def test_raising_the_bounds_lets_the_check_pass(tmp_path: Path) -> None:
    report = archcompiler.analyze(write_spec(tmp_path, HUGE, "huge.yaml"))
    assert not build_diagnostics(report, Limits(max_params=10**11, max_memory=10**12))


def test_the_memory_bound_follows_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    report = archcompiler.analyze("resnet50")
    need = build_bytes(report)
    assert need == 25_557_032 * 4 + sum(2 * 4 * c + 8 for c in
                                        [64] + [64, 64, 256] * 3 + [256] + [128, 128, 512] * 4
                                        + [512] + [256, 256, 1024] * 6 + [1024]
                                        + [512, 512, 2048] * 3 + [2048])
    monkeypatch.setattr(limits_module, "available_memory", lambda: need - 1)
    (diag,) = build_diagnostics(report, Limits())
    assert diag.code == "ARC402" and "memory this machine has available" in diag.message
    monkeypatch.setattr(limits_module, "available_memory", lambda: need)
    assert not build_diagnostics(report, Limits())


def test_the_largest_activation_is_bounded() -> None:
    report = archcompiler.analyze("resnet50", 1024)
    (diag,) = build_diagnostics(report, Limits(max_activation=10_000_000))
    assert diag.code == "ARC403" and diag.message.startswith("conv1 outputs 16,777,216 elements")


def test_graph_nodes_extends_chain_and_blocks_are_bounded(tmp_path: Path) -> None:
    report = archcompiler.analyze("resnet18", limits=Limits(max_nodes=50))
    assert [d.code for d in report.diagnostics] == ["ARC404"]
    base = write_spec(tmp_path, "extends: resnet18\nname: a\n", "a.yaml")
    child = write_spec(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    archcompiler.load_spec(child)
    with pytest.raises(SpecError) as info:
        archcompiler.load_spec(child, limits=Limits(max_extends=2))
    assert [d.code for d in info.value.diagnostics] == ["ARC152"]
    with pytest.raises(SpecError) as info:
        archcompiler.load_spec("resnet50", limits=Limits(max_blocks=10))
    assert [d.code for d in info.value.diagnostics] == ["ARC115"]
    assert base.exists()


def test_cli_bounds_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "resnet18", "--max-nodes", "50"]) == 1
    assert "ARC404" in capsys.readouterr().err
    assert main(["validate", "resnet50", "--max-blocks", "10"]) == 1
    with pytest.raises(SystemExit) as info:
        main(["build", "resnet18", "-o", str(tmp_path / "x.pt"), "--max-params", "lots"])
    assert info.value.code == 2
    assert "not a size" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "value"), [("30M", 30_000_000), ("4G", 4 * 10**9),
                                             ("1.5T", 1_500_000_000_000), ("2_000", 2000),
                                             ("64GB", 64 * 10**9), ("512", 512)])
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "G", "-3M", "1e30", "nan", "3X"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)

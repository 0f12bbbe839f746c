"""The examples run end to end: examples/degradation.py in its fast mode."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow  # trains the example

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def test_degradation_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The fast mode trains four nets, writes a PNG figure, a JSON of four finite curves, a table."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    degradation = load_example("degradation")
    out, js = tmp_path / "fig" / "degradation.png", tmp_path / "curves.json"

    # One thread: the suite may share the cores with other work, and two threads then stall.
    assert degradation.main(["--fast", "--threads", "1", "--out", str(out), "--json", str(js)]) == 0

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curves = json.loads(js.read_text(encoding="utf-8"))["curves"]
    assert sorted(curves) == ["plain20", "plain56", "resnet20", "resnet56"]
    for name, c in curves.items():
        assert c["residual"] == name.startswith("resnet")
        assert c["depth"] == int(name[-2:])
        assert len(c["batch_error"]) == 1  # one seed in the fast mode
        values = c["mean_smoothed_error"] + c["batch_error"][0] + c["final_train_error"]
        assert c["mean_smoothed_error"] and all(math.isfinite(v) and 0 <= v <= 1 for v in values)
    printed = capsys.readouterr().out
    for name in curves:
        assert name in printed

    redrawn = tmp_path / "redrawn.png"
    assert degradation.main(["--replot", str(js), "--out", str(redrawn)]) == 0
    assert redrawn.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.splitlines()[:5] == printed.splitlines()[:5]

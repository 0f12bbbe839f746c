"""`archc sample`: distributions, seeding, constraints, outputs and located errors."""

from __future__ import annotations

import gc
import json
import math
import random
from pathlib import Path

import pytest

import archcompiler
from archcompiler.explore.sample import SPACES, Dist, draw, parse_dist
from tests.conftest import run_cli

Capsys = pytest.CaptureFixture[str]
CIFAR = ["resnet20", "--dist", "stages.depths.0=uniform(1,9)",
         "--dist", "stages.widths.base=pow2(8,64)"]



def test_distributions_stay_on_their_grid() -> None:
    rng = random.Random(0)
    lw = parse_dist("k=loguniform(8,256,8)")
    draws = [lw.draw(rng) for _ in range(4000)]
    assert all(isinstance(v, int) and v % 8 == 0 and 8 <= v <= 256 for v in draws)
    # log-uniform: as many draws in [8, 45] as in [45, 256] (the geometric middle is 45.25)
    low = sum(v < 45.25 for v in draws) / len(draws)
    assert 0.44 < low < 0.56
    p2 = parse_dist("k=pow2(1,32)")
    assert {p2.draw(rng) for _ in range(500)} == {1, 2, 4, 8, 16, 32}
    wm = parse_dist("k=loguniform(1.5,3,0.001)")
    values = [wm.draw(rng) for _ in range(500)]
    assert all(1.5 <= v <= 3 and math.isclose(round(v, 3), v) for v in values)
    assert str(parse_dist("k=loguniform(8,256,0.1)").draw(rng)).count(".") == 1
    uni = Dist("k", "uniform", 12, 28)
    assert {uni.draw(rng) for _ in range(2000)} == set(range(12, 29))


@pytest.mark.parametrize("entry, fix", [
    ("k", "KEY=KIND"), ("k=normal(1,2)", "one of uniform"), ("k=uniform(2,1)", "above"),
    ("k=loguniform(0,4)", "above 0"), ("k=pow2(3,8)", "powers of two"),
    ("k=uniform(1,x)", "not a number"), ("k=uniform(1,2,5)", "at most HIGH - LOW"),
    ("k=uniform(1,1e300)", "out of range"), ("k=uniform(1)", "LOW,HIGH"),
    ("k=uniform(0.1,0.2,1)", "STEP")])
def test_bad_distributions_say_how(entry: str, fix: str) -> None:
    with pytest.raises(ValueError, match=fix):
        parse_dist(entry)


def test_a_sample_gives_the_collector_back_as_it_found_it(capsys: Capsys) -> None:
    """The sample tunes the garbage collector for its run, and restores it (in-process runs)."""
    before = gc.get_threshold()
    rc, _, _ = run_cli(capsys, "sample", *CIFAR, "--count", "3", "--seed", "3", "--json")
    assert rc == 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_same_seed_same_models_whatever_the_jobs(capsys: Capsys) -> None:
    rc, a, _ = run_cli(capsys, "sample", *CIFAR, "--count", "12", "--seed", "3", "--json")
    rc2, b, _ = run_cli(capsys, "sample", *CIFAR, "--count", "12", "--seed", "3", "--json",
                    "--jobs", "2")
    rc3, c, _ = run_cli(capsys, "sample", *CIFAR, "--count", "12", "--seed", "4", "--json")
    assert rc == rc2 == rc3 == 0
    assert json.loads(a) == json.loads(b) != json.loads(c)
    for r in json.loads(a):  # each row is what analyze says of its values
        ref = archcompiler.analyze("resnet20", overrides=r["overrides"])
        assert (r["params"], r["macs"], r["depth"]) == (ref.params, ref.macs,
                                                         ref.weighted_depth)
        assert "ARC306" not in r["warnings"]  # named for the counted depth


def test_constraints_and_outputs(capsys: Capsys, tmp_path: Path) -> None:
    rc, out, err = run_cli(capsys, "sample", *CIFAR, "--count", "8", "--min-params", "100K",
                       "--max-params", "400K", "--valid-only", "--csv",
                       "--write", str(tmp_path / "v"))
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("name,stages.depths.0,stages.widths.base,params")
    params = [int(line.split(",")[3]) for line in lines[1:]]
    assert len(params) == 8 and all(100_000 <= p <= 400_000 for p in params)
    files = sorted((tmp_path / "v").glob("*.yaml"))
    assert len(files) == 8
    for f in files:
        report = archcompiler.analyze(f, allow_outside=True)
        assert report.spec.name == f.stem and 100_000 <= report.params <= 400_000


def test_too_tight_constraints_exit_1(capsys: Capsys) -> None:
    rc, _, err = run_cli(capsys, "sample", *CIFAR, "--count", "3", "--max-params", "1K",
                     "--max-draws", "20")
    assert rc == 1 and "only 0 of 20 draws pass" in err and "--max-draws" in err


@pytest.mark.parametrize("argv, word", [
    (["--count", "0"], "--count"), (["--jobs", "0"], "--jobs"),
    (["--dist", "stages.depths.0=uniform(1"], "--dist"), ([], "needs a space"),
    (["--dist", "stages.nope=uniform(1,3)"], "does not have")])
def test_usage_errors(capsys: Capsys, argv: list[str], word: str) -> None:
    rc, _, err = run_cli(capsys, "sample", "resnet20", *(argv or []),
                     *([] if (argv and argv[0] == "--dist") or not argv
                       else ["--dist", "stages.depths.0=uniform(1,3)"]))
    assert rc == 2 and word in err and "Traceback" not in err


@pytest.mark.slow
def test_regnetx_400mf(capsys: Capsys, tmp_path: Path) -> None:
    """The RegNetX space as pycls draws it, under the 400MF constraint, with its EDF plot.
    Golden: RegNetX-400MF (Radosavovic et al. 2020, Table 4) is 5.2M params, 0.4 GF."""
    pytest.importorskip("matplotlib")
    assert len(SPACES["regnetx"]) == 5
    ref = archcompiler.analyze("regnetx_002", overrides={
        "stages.widths": {"rule": "regnet", "depth": 22, "w0": 24, "wa": 24.48, "wm": 2.54,
                          "group_width": 16}})
    assert round(ref.params / 1e6, 1) == 5.2 and 380e6 <= ref.macs <= 420e6
    plot = tmp_path / "edf.png"
    rc, out, err = run_cli(capsys, "sample", "regnetx_002", "--space", "regnetx", "--min-macs",
                       "380M", "--max-macs", "420M", "--count", "5", "--seed", "0", "--json",
                       "--plot", str(plot))
    assert rc == 0, err
    rows = json.loads(out)
    assert len(rows) == 5 and all(380e6 <= r["macs"] <= 420e6 for r in rows)
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_regnet_draws_keep_pycls_four_stages() -> None:
    """As pycls's check_regnet_constraints (NUM_STAGES [4, 4]): a draw of the regnet rule that
    makes another number of stages, or skips one, is drawn again; other spaces are untouched."""
    from archcompiler.explore.sample import regnet_kept
    from archcompiler.language.regnet import pycls_stages

    assert pycls_stages(36.44, 24, 2.49, 13) == (4, 4)  # RegNetX-200MF
    assert pycls_stages(24.48, 24, 2.54, 22) == (4, 4)  # RegNetX-400MF
    assert pycls_stages(256.0, 8, 1.5, 28)[0] > 4
    key = "stages.widths."
    assert not regnet_kept({key + "depth": 28, key + "w0": 8, key + "wa": 256.0, key + "wm": 1.5})
    assert regnet_kept({"stages.depths.0": 3}) and regnet_kept({key + "depth": 13})
    dists = [parse_dist(e) for e in SPACES["regnetx"]]
    rng = random.Random(0)
    for _ in range(200):
        v = draw(dists, rng)
        assert pycls_stages(float(v[key + "wa"]), int(v[key + "w0"]), float(v[key + "wm"]),
                            int(v[key + "depth"])) == (4, 4)

"""Tests written to kill the mutants that survived mutation testing (scripts/mutation.sh).

Each names its outside reference: a count from torchvision, timm or pycls, or a paper's table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import archcompiler
from archcompiler import SpecError
from archcompiler.core.diagnostics import Diagnostic, Span

from .conftest import write_spec

# torchvision's resnet18: 11,689,512 params and 1,814,073,344 MACs at 3x224x224 (torchvision's
# model card; tests/test_analysis.py pins both).
TV_RESNET18 = (11_689_512, 1_814_073_344)


def _diags(spec: dict[str, Any], code: str) -> list[Any]:
    return [d for d in archcompiler.validate(spec) if d.code == code]


def test_width_rule_with_a_strided_first_stage_is_torchvisions() -> None:
    # torchvision's ResNet._make_layer(BasicBlock, 64, 2, stride=2) for layer1 (the stem's
    # max-pool removed, so the maps after layer1 are resnet18's): the planes stay 64, 128, 256,
    # 512 (the width rule doubles only after the first stage) and layer1.0 gains the
    # conv1x1(64, 64) + BN downsample torchvision adds when stride != 1: +4,096 + 128 params and
    # 64 x 64 x 56 x 56 MACs. Kills `_stage_widths`' `i >= 0` (a doubled first stage).
    # (Rule (ii) of the paper would have layer1 double; torchvision does not, so it is off.)
    spec = {"extends": "resnet18", "name": "strided_first", "rules": {"double_on_halve": "off"},
            "stem": {"pool": None}, "stages": {"strides": [2, 2, 2, 2]}}
    report = archcompiler.analyze(spec)
    assert report.ok, report.diagnostics
    assert [s.width for s in report.spec.stages] == [64, 128, 256, 512]
    assert (report.params, report.macs) == (TV_RESNET18[0] + 64 * 64 + 2 * 64,
                                            TV_RESNET18[1] + 64 * 64 * 56 * 56)


def test_arc116_is_checked_at_a_width_multiplier_of_two() -> None:
    # timm's make_divisible(20 * 2.0, 8) = 40 is exact, but make_divisible(10 * 2.0, 8) = 24
    # (round half up): the doubling 10 -> 20 becomes 24 -> 40, so x2.0 breaks rule (ii) like any
    # other multiplier. Kills `scale_stages`' `width_multiplier != 2.0`.
    spec = {"extends": "resnet18", "name": "scaled", "stages": {
        "depths": [1, 1], "widths": [10, 20], "strides": [1, 2],
        "width_multiplier": 2.0, "width_divisor": 8}}
    (diag,) = _diags(spec, "ARC116")
    assert diag.message == ("width_multiplier 2 rounds layer1 to 24 and layer2 to 40 (multiples "
                            "of 8), which breaks the 10 -> 20 ratio of the widths (rule ii)")


def _errors(path: Path) -> list[Diagnostic]:
    with pytest.raises(SpecError) as exc:
        archcompiler.analyze(path)
    return list(exc.value.diagnostics)


def test_regnet_rule_over_the_width_bound_is_located(tmp_path: Path) -> None:
    # pycls's generate_regnet(wa=4096, w0=4096, wm=3, depth=30): the last block's width
    # 4096 + 4096 x 29 = 122,880 quantizes to 4096 x 3^3 = 110,592 channels, over the schema's
    # 65,536. The error points at the rule (line 3, col 11), in the user's file.
    path = write_spec(tmp_path, "extends: regnetx_002\nname: r\nstages:\n"
                                "  widths: {w0: 4096, wa: 4096.0, depth: 30, wm: 3.0}\n")
    (d,) = _errors(path)
    assert (d.code, d.message, d.hint) == (
        "ARC117", "the regnet rule makes a stage 110592 channels wide, over the limit of 65536",
        "use a smaller w0, wa or depth")
    assert d.span == Span(str(path), 4, 11)


def test_regnet_rule_with_depths_is_located(tmp_path: Path) -> None:
    # pycls's RegNet generates its depths (RegNetX-200MF: [1, 1, 4, 7]); a spec that also gives
    # depths is refused at the depths it gave.
    path = write_spec(tmp_path, "extends: regnetx_002\nname: r\nstages:\n  depths: [1, 2]\n")
    (d,) = _errors(path)
    assert (d.code, d.message, d.hint) == (
        "ARC111", "stages.depths does not go with the regnet rule, which generates the depths",
        "remove depths (or set `depths: null` over an inherited one)")
    assert d.span == Span(str(path), 4, 11)

"""The ops' params and MACs, computed in plain integers for speed, equal their worked formulas.

`archc explain` shows the formulas; analysis uses `params()` and `macs()`. A random sweep of
conv and norm records (bias, groups, kernels, strides, maps) holds the two equal.
"""

from __future__ import annotations

import random

from archcompiler.ir.ops import BatchNorm, Conv2d, GroupNorm, LayerNorm


def test_conv_params_and_macs_equal_their_formulas() -> None:
    rng = random.Random(17)
    for _ in range(3000):
        groups = rng.choice((1, 1, 2, 3, 4, 8, 32))
        conv = Conv2d(groups * rng.randint(1, 64), groups * rng.randint(1, 64),
                      rng.choice((1, 3, 5, 7)), rng.choice((1, 2, 4)), rng.randint(0, 3), groups,
                      rng.random() < 0.5)
        out = (conv.out_channels, rng.randint(1, 300), rng.randint(1, 300))
        assert conv.params() == conv.params_formula().evaluate()
        assert conv.macs(out) == conv.macs_formula(out).evaluate()


def test_norm_params_equal_their_formula() -> None:
    for channels in (1, 3, 64, 4096):
        for norm in (BatchNorm(channels), LayerNorm(channels), GroupNorm(channels, 1)):
            assert norm.params() == norm.params_formula().evaluate()

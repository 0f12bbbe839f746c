"""RegNet's width rule (Radosavovic et al. 2020): stage widths and depths from four numbers.

The rule is pycls's, step for step: `generate_regnet` (a linear width per block, quantized to a
power of `wm` and a multiple of `quantum`; equal widths form a stage) and then
`adjust_block_compatibility` (the group width clipped to the bottleneck width, the bottleneck
width rounded to a multiple of lcm(group width, b)). Both round half to even, as numpy does.
The result keeps every number the adjustment changed, so a summary can show them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.diagnostics import Diagnostic, Span, error

__all__ = [
    "RegNetParams",
    "RegNetStages",
    "adjust_block_compatibility",
    "generate_regnet",
    "pycls_stages",
    "regnet_stages",
    "rule_stages",
]


@dataclass(frozen=True)
class RegNetParams:
    """The parameters of one RegNet: pycls's DEPTH, W0, WA, WM, GROUP_W and BOT_MUL."""

    depth: int
    w0: int
    wa: float
    wm: float
    group_width: int
    bottleneck_ratio: float = 1.0
    quantum: int = 8


@dataclass(frozen=True)
class RegNetStages:
    """What the rule generates: one width, depth and group width per stage."""

    widths: tuple[int, ...]
    depths: tuple[int, ...]
    group_widths: tuple[int, ...]
    quantized: tuple[int, ...]  # the widths before the group-width adjustment

    def describe(self) -> str:
        """One line for people: the generated stages."""
        text = f"widths {list(self.widths)}, depths {list(self.depths)}"
        if self.quantized != self.widths:
            text += f" (quantized {list(self.quantized)}, adjusted to the group widths)"
        return text + f", group widths {list(self.group_widths)}"


def check_params(p: RegNetParams) -> str | None:
    """Why pycls would refuse these parameters, or None when they are valid."""
    if p.depth < 1:
        return "depth must be at least 1"
    if p.w0 <= 0 or p.w0 % p.quantum:
        return f"w0 must be a positive multiple of {p.quantum}"
    if p.wa < 0:
        return "wa must not be negative"
    if p.wm <= 1:
        return "wm must be above 1"
    if p.group_width < 1 or p.bottleneck_ratio <= 0:
        return "group_width and bottleneck_ratio must be positive"
    return None


def generate_regnet(wa: float, w0: int, wm: float, depth: int, quantum: int = 8
                    ) -> tuple[list[int], list[int]]:
    """pycls's `generate_regnet`: per-stage widths and depths (stages in increasing width)."""
    per_block = []
    log_wm = math.log(wm)  # the same value each block: computed once
    for j in range(depth):
        u = w0 + wa * j
        k = round(math.log(u / w0) / log_wm)
        per_block.append(round(w0 * wm ** k / quantum) * quantum)
    widths = sorted(set(per_block))
    return widths, [per_block.count(w) for w in widths]


def pycls_stages(wa: float, w0: int, wm: float, depth: int) -> tuple[int, int]:
    """pycls's (num_stages, max_stage) of `generate_regnet`: the stages made and one more than
    the largest width exponent; they differ when a width level is skipped."""
    top = max(round(math.log((w0 + wa * j) / w0) / math.log(wm)) for j in range(depth))
    return len(generate_regnet(wa, w0, wm, depth)[0]), top + 1


def adjust_block_compatibility(widths: list[int], ratios: list[float], groups: list[int]
                               ) -> tuple[list[int], list[int]]:
    """pycls's `adjust_block_compatibility`: widths and group widths that divide evenly."""
    inner = [int(max(1, w * b)) for w, b in zip(widths, ratios)]
    groups = [int(min(g, v)) for g, v in zip(groups, inner)]
    multiples = [math.lcm(g, int(b)) if b > 1 else g for g, b in zip(groups, ratios)]
    inner = [max(m, int(round(v / m) * m)) for v, m in zip(inner, multiples)]
    return [int(v / b) for v, b in zip(inner, ratios)], groups


def regnet_stages(p: RegNetParams) -> RegNetStages:
    """The stages of the RegNet `p` describes; raise ValueError for invalid parameters."""
    why = check_params(p)
    if why is not None:
        raise ValueError(why)
    widths, depths = generate_regnet(p.wa, p.w0, p.wm, p.depth, p.quantum)
    n = len(widths)
    adjusted, groups = adjust_block_compatibility(widths, [p.bottleneck_ratio] * n,
                                                  [p.group_width] * n)
    return RegNetStages(tuple(adjusted), tuple(depths), tuple(groups), tuple(widths))


def rule_stages(params: RegNetParams, strides: list[int] | None, span: Span,
                diags: list[Diagnostic], max_width: int = 65536
                ) -> tuple[RegNetStages, list[int]] | None:
    """The spec's regnet rule at `span`: its stages and their strides, or None (diagnosed)."""
    why = check_params(params)
    if why is not None:
        diags.append(error("ARC104", f"the regnet rule: {why}", span,
                           hint="pycls's RegNets use e.g. {depth: 13, w0: 24, wa: 36.44, "
                                "wm: 2.49, group_width: 8}"))
        return None
    stages = regnet_stages(params)
    if max(stages.widths) > max_width:
        diags.append(error("ARC117", f"the regnet rule makes a stage {max(stages.widths)} "
                           f"channels wide, over the limit of {max_width}", span,
                           hint="use a smaller w0, wa or depth"))
        return None
    n = len(stages.widths)
    if strides is None:
        return stages, [2] * n  # pycls: every stage halves the map
    if len(strides) != n:
        diags.append(error("ARC110", f"stages.strides has {len(strides)} entries but the "
                           f"regnet rule makes {n} stages ({stages.describe()})", span,
                           hint=f"give {n} strides, or leave strides out (all 2)"))
        return None
    return stages, list(strides)

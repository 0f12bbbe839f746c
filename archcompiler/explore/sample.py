"""Random sampling of a design space, as pycls's samplers do, and its complexity distribution.

A space is a distribution per spec field: `uniform(lo, hi[, step])`, `loguniform(lo, hi[, step])`
or `pow2(lo, hi)`. Values are quantised to the step (integers when the bounds and step are), and
one seeded generator draws every field in order, so the same seed gives the same models. The
RegNetX space of Radosavovic et al. (2020) is a preset over the regnet width rule's fields.

Where the rule's depth, w0, wa and wm are all drawn, a draw is redrawn until its stages are the
ones pycls's RegNet sweeps keep (`check_regnet_constraints` with its default NUM_STAGES [4, 4]:
four stages, none skipped). Without it three draws in four make a net of 1 to 9 stages, every
one stride 2, which no RegNet is (and which reached 180M params at 400 MF); checking it costs
microseconds, where analysing the draw costs milliseconds.
"""

from __future__ import annotations

import io
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.fileio import atomic_write_bytes
from ..language.regnet import pycls_stages

KINDS = ("uniform", "loguniform", "pow2")
_CALL = re.compile(r"\s*([a-z0-9_]+)\s*\((.*)\)\s*")
MAX_VALUE = 1e9  # bounds beyond any spec field's
REGNET_RULE = "stages.widths."  # the spec's regnet rule, whose stages a draw must keep to 4
REGNET_STAGES = 4  # pycls: SETUP.CONSTRAINTS.REGNET.NUM_STAGES = [4, 4] (ImageNet's stages)
MAX_REDRAWS = 10_000  # about 1 in 4 RegNetX draws is kept; a space that keeps none stops here

# pycls's RegNetX space (Radosavovic et al. 2020, Sec. 4): d, w0, wa, wm and the group width.
SPACES: dict[str, list[str]] = {
    "regnetx": ["stages.widths.depth=uniform(12,28)", "stages.widths.w0=loguniform(8,256,8)",
                "stages.widths.wa=loguniform(8,256,0.1)",
                "stages.widths.wm=loguniform(1.5,3,0.001)",
                "stages.widths.group_width=pow2(1,32)"],
}


@dataclass(frozen=True)
class Dist:
    """One field's distribution: kind, bounds and step (0: continuous)."""

    key: str
    kind: str
    low: float
    high: float
    step: float = 0.0

    @property
    def integral(self) -> bool:
        """Whether values are integers (integral bounds and step, or powers of two)."""
        return self.kind == "pow2" or all(float(v).is_integer() for v in
                                          (self.low, self.high, self.step or 1))

    def draw(self, rng: random.Random) -> int | float:
        """One value, quantised to the step and kept within the bounds."""
        if self.kind == "pow2":
            return int(2 ** rng.randint(int(math.log2(self.low)), int(math.log2(self.high))))
        if self.kind == "uniform":
            value = rng.uniform(self.low, self.high)
        else:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        step = self.step or (1 if self.integral else 0)
        if step:
            value = min(max(round(value / step) * step, math.ceil(self.low / step) * step),
                        math.floor(self.high / step) * step)
        if self.integral:
            return round(value)
        decimals = max(0, -math.floor(math.log10(step))) if step else 6
        return round(value, decimals)  # 0.1 steps print as 27.9, not 27.900000000000002


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise ValueError(f"{what} {text.strip()!r} is out of range (at most {MAX_VALUE:g})")
    return value


def parse_dist(entry: str) -> Dist:
    """`KEY=kind(lo,hi[,step])` as a Dist; ValueError naming the entry and the fix."""
    key, eq, rest = entry.partition("=")
    key = key.strip()
    example = "e.g. --dist stages.widths.w0=loguniform(8,256,8)"
    if not eq or not key:
        raise ValueError(f"--dist {entry!r}: write KEY=KIND(LOW,HIGH[,STEP]), {example}")
    m = _CALL.fullmatch(rest)
    if m is None or m[1] not in KINDS:
        raise ValueError(f"--dist {entry!r}: the distribution is one of uniform(LOW,HIGH[,STEP]), "
                         f"loguniform(LOW,HIGH[,STEP]) or pow2(LOW,HIGH), {example}")
    args = [a for a in m[2].split(",")]
    if len(args) not in (2, 3) or (m[1] == "pow2" and len(args) != 2):
        raise ValueError(f"--dist {entry!r}: {m[1]} takes LOW,HIGH"
                         + ("" if m[1] == "pow2" else "[,STEP]"))
    low, high = _number(args[0], "LOW"), _number(args[1], "HIGH")
    step = _number(args[2], "STEP") if len(args) == 3 else 0.0
    if not low <= high:
        raise ValueError(f"--dist {entry!r}: LOW {low:g} is above HIGH {high:g}")
    if step < 0 or (step and step > high - low and high > low):
        raise ValueError(f"--dist {entry!r}: STEP {step:g} must be positive and at most "
                         "HIGH - LOW")
    if m[1] in ("loguniform", "pow2") and low <= 0:
        raise ValueError(f"--dist {entry!r}: {m[1]} needs LOW above 0")
    if m[1] == "pow2" and not all(v.is_integer() and 2 ** int(math.log2(v)) == v
                                  for v in (low, high)):
        raise ValueError(f"--dist {entry!r}: pow2 bounds are powers of two, e.g. pow2(1,32)")
    if step and math.floor(high / step) < math.ceil(low / step):
        raise ValueError(f"--dist {entry!r}: no multiple of STEP {step:g} lies in "
                         f"[{low:g}, {high:g}]")
    return Dist(key, m[1], low, high, step)


def draw(dists: Sequence[Dist], rng: random.Random) -> dict[str, object]:
    """One model's values, every field drawn in order from the one generator; a draw of the
    regnet rule that pycls would refuse is drawn again (see `regnet_kept`)."""
    values: dict[str, object] = {}
    for _ in range(MAX_REDRAWS):
        values = {d.key: d.draw(rng) for d in dists}
        if regnet_kept(values):
            break
    return values


def regnet_kept(values: dict[str, object]) -> bool:
    """Whether drawn regnet-rule parameters make pycls's four stages, none skipped; True when
    the rule's depth, w0, wa and wm are not all drawn, or are invalid (analysis says why)."""
    try:
        d, w0, wa, wm = (_real(values[REGNET_RULE + k]) for k in ("depth", "w0", "wa", "wm"))
        stages, top = pycls_stages(wa, int(w0), wm, int(d))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError):
        return True
    return stages == top == REGNET_STAGES


def _real(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def plot_edf(macs: Sequence[int], params: Sequence[int], path: Path, title: str) -> None:
    """The complexity distribution: empirical CDFs of MACs and params, as in the RegNet paper."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    plain = FuncFormatter(lambda v, _: f"{v:.4g}")
    for ax, values, label in ((axes[0], [m / 1e6 for m in macs], "MACs (M)"),
                              (axes[1], [p / 1e6 for p in params], "parameters (M)")):
        xs = sorted(values)
        n = len(xs)
        ax.step(xs, [(i + 1) / n for i in range(n)], where="post", color="tab:blue")
        ax.set_xlabel(label)
        ax.set_ylabel("cumulative prob.")
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_formatter(plain)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lstrip(".").lower(),
                metadata={".svg": {"Date": None}, ".png": {"Software": None}}.get(
                    path.suffix.lower(), {}))
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())

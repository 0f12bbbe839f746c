"""Design rules of He et al. 2015 (section 3.3) as a registry of checks with stable codes.

Each rule reads the analysis report (never torch), and each finding points at the spec line
that caused it. A spec sets each rule to error, warn, note or off under `rules:`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from ..blocks.shortcut import shape_changes
from ..core.diagnostics import Diagnostic, Severity, Span
from ..core.registry import Registry
from ..ir.graph import Node, Role, StageRecord
from ..ir.ops import Conv2d, Op, Shape, strided_size
from .report import Report
from .table import macs_per_layer

Finding = tuple[str, Span | None, str, str | None]  # message, span, hint, node


@dataclass(frozen=True)
class Rule:
    """A design rule: its code, its spec key, what it checks, and the check itself."""

    code: str
    key: str
    summary: str
    check: Callable[[Report], Iterator[Finding]]


RULES: Registry[Rule] = Registry("rule")


def rule(code: str, key: str, summary: str) -> Callable[[Callable[[Report], Iterator[Finding]]],
                                                        Callable[[Report], Iterator[Finding]]]:
    """Register a check function as a rule."""
    def wrap(fn: Callable[[Report], Iterator[Finding]]) -> Callable[[Report],
                                                                        Iterator[Finding]]:
        RULES.register(key, Rule(code, key, summary, fn))
        return fn
    return wrap


def stage_maps(report: Report) -> list[tuple[int, int] | None]:
    """Output map (H, W) of each stage, or None where shape inference did not reach it."""
    out: list[tuple[int, int] | None] = []
    for stage in report.graph.stages:
        shape = report.shape(report.graph.stage_output(stage))
        out.append((shape[1], shape[2]) if shape is not None and len(shape) == 3 else None)
    return out


@rule("ARC301", "same_map_same_width", "layers with the same map size have the same width")
def _same_map_same_width(report: Report) -> Iterator[Finding]:
    # Filters are the blocks' output channels: with mixed block types a stage's `width` (planes)
    # is not comparable, but what each stage hands on is.
    stages = report.graph.stages
    seen: dict[tuple[int, int], tuple[int, int]] = {}
    for i, (stage, hw) in enumerate(zip(stages, stage_maps(report))):
        if hw is None:
            continue
        if hw in seen and seen[hw][1] != stage.out_channels:
            j, filters = seen[hw]
            if any(s.stride > 1 for s in stages[j + 1:i + 1]):
                yield _collapsed(report, stages[j], stage, hw, filters)
            else:
                yield (f"{stage.name} outputs {stage.out_channels} channels, but "
                       f"{stages[j].name} makes the same {hw[0]}x{hw[1]} map with {filters} (rule i)",
                       stage.width_span, f"use {_width_for(stage, filters)}, or downsample "
                       f"{stage.name} so the map halves", stage.blocks[0])
        seen.setdefault(hw, (i, stage.out_channels))


def _collapsed(report: Report, first: StageRecord, stage: StageRecord, hw: tuple[int, int],
               filters: int) -> Finding:
    """Rule (i) broken only because the input is too small for the strides to shrink the map."""
    spec = report.spec
    total = spec.stem.stride * spec.stem.pool_stride
    for s in report.graph.stages:
        total *= s.stride
    _, height, width = report.input_shape
    strides = [s.stride for s in report.graph.stages]
    depths = [s.depth for s in report.graph.stages]
    larger = (f"analyse at an input of at least {total}x{total}, the net's total stride (e.g. "
              f"--input {report.input_shape[0]}x{total}x{total}), or set `rules: "
              "{same_map_same_width: warn}` (or off) for inputs this small")
    # A stride above 2 is rare, and block counts in the strides' place are the usual cause
    # (a `make_layer(block, planes, stride, blocks)` called with the arguments swapped).
    swapped = max(strides) > 2 and max(depths) <= 2
    hint = (f"the strides {strides} look like block counts and the depths {depths} like "
            f"strides: check that they are not swapped; if they are meant, {larger}"
            if swapped else larger)
    return (f"{stage.name} outputs {stage.out_channels} channels and {first.name} {filters} on the "
            f"same {hw[0]}x{hw[1]} map (rule i), because the {height}x{width} input is too small: "
            f"the strides in between cannot shrink a {hw[0]}x{hw[1]} map", spec.input_span,
            hint, stage.blocks[0])


def _width_for(stage: StageRecord, out_channels: int) -> str:
    """Phrase the spec value that gives `out_channels` for this stage's block type."""
    expansion = stage.out_channels // stage.width
    if out_channels % expansion:
        return f"out_channels {out_channels}"
    return f"width {out_channels // expansion}" + (
        f" (x{expansion} = {out_channels} channels)" if expansion > 1 else "")


def stem_map(report: Report) -> tuple[int, tuple[int, int]] | None:
    """Channels and (H, W) of what enters the first stage (the stem's output), or None."""
    stages = report.graph.stages
    if not stages:
        return None
    first = stages[0].transition or stages[0].blocks[0]
    record = next(b for b in report.graph.blocks if b.name == first)
    shape = report.shape(record.input)
    if shape is None or len(shape) != 3:
        return None
    return shape[0], (shape[1], shape[2])


# Said in every ARC302 message at the first stage; the code's `why` (core/codes.py) gives the
# paper's reason at length.
STEM_EXEMPTION = ("the stem is exempt, as it turns the 3-channel image into the first width, but "
                  "every map change after it counts")


@rule("ARC302", "double_on_halve", "the width doubles exactly when the map halves")
def _double_on_halve(report: Report) -> Iterator[Finding]:
    stages, maps = report.graph.stages, stage_maps(report)
    stem = stem_map(report)
    for i in range(len(stages)):
        cur = stages[i]
        before: tuple[int, int] | None
        if i == 0:  # the first stage against the stem's output: every map change after the stem
            if stem is None:
                continue
            prev_channels, before = stem[0], stem[1]
        else:
            prev_channels, before = stages[i - 1].out_channels, maps[i - 1]
        after = maps[i]
        if before is None or after is None or before == after:
            continue
        exempt = f"; {STEM_EXEMPTION}" if i == 0 else ""
        halved = after == (strided_size(before[0], 2), strided_size(before[1], 2))
        if not halved:
            yield (f"{cur.name} shrinks the map from {before[0]}x{before[1]} to "
                   f"{after[0]}x{after[1]}; the design halves it at each downsampling (rule ii)"
                   f"{exempt}", cur.stride_span,
                   "use stride 2 on the first block of a stage, 1 elsewhere", cur.blocks[0])
        elif i == 0 and cur.width != 2 * prev_channels:
            # A bottleneck stage legitimately expands the stem's channels, so the first stage's
            # inner width (the planes) is what doubles the stem's.
            what = "width" if cur.width == cur.out_channels else "inner width"
            yield (f"{cur.name} halves the map but its {what} goes {prev_channels} (the stem) "
                   f"-> {cur.width}, not {2 * prev_channels} (rule ii){exempt}", cur.width_span,
                   f"use width {2 * prev_channels} to preserve the time complexity per layer",
                   cur.blocks[0])
        elif i > 0 and cur.out_channels != 2 * prev_channels:
            yield (f"{cur.name} halves the map but its output channels go {prev_channels} -> "
                   f"{cur.out_channels}, not {2 * prev_channels} (rule ii)", cur.width_span,
                   f"use {_width_for(cur, 2 * prev_channels)} to preserve the time "
                   "complexity per layer", cur.blocks[0])


@rule("ARC303", "shortcut_shapes", "shortcuts match the shapes they join")
def _shortcut_shapes(report: Report) -> Iterator[Finding]:
    for b in report.graph.blocks:
        if b.shortcut_option == "identity" and b.shortcut != "none" and shape_changes(
                b.stride, b.in_channels, b.out_channels):
            yield (f"{b.name} maps {b.in_channels} channels to {b.out_channels} with stride "
                   f"{b.stride}, but its shortcut is an identity", b.shortcut_span,
                   "use shortcut B (projection) or A (zero-pad) where shapes change", b.name)
        if b.shortcut_option == "A" and b.out_channels < b.in_channels:
            yield (f"{b.name} shrinks {b.in_channels} channels to {b.out_channels}; option A "
                   "can only pad channels", b.shortcut_span,
                   "use shortcut B or C for this stage", b.name)


@rule("ARC304", "exact_downsampling", "every stride divides the map it reduces")
def _exact_downsampling(report: Report) -> Iterator[Finding]:
    done: set[str] = set()
    for node in report.graph.windowed:
        stride = getattr(node.attrs, "stride", 1)
        key = node.block or node.name
        if stride == 1 or key in done:
            continue
        shape = report.shape(node.inputs[0])
        if shape is None or len(shape) != 3:
            continue
        out = report.shape(node.name)
        if (shape[1] % stride or shape[2] % stride) and out is not None and len(out) == 3:
            done.add(key)
            yield (f"{node.name} applies stride {stride} to a {shape[1]}x{shape[2]} map, which "
                   f"it does not divide: {_uneven(node, shape[1:], out[1:])}",
                   _stride_span(report, node),
                   "change the input size or the stride so the map divides", node.name)


def _borders(size: int, out: int, kernel: int, stride: int, padding: int) -> tuple[int, int]:
    """Past the far border, rows no window reads (>= 0) or padding rows the last one reads (< 0)."""
    last_read = (out - 1) * stride - padding + kernel - 1
    return max(0, size - 1 - last_read), max(0, last_read - (size - 1))


def _uneven(node: Node, size: Shape, out: Shape) -> str:
    """Say what an inexact stride does, from the window arithmetic: pixels lost, or a size off."""
    a = node.attrs
    k, s, p = getattr(a, "kernel", 1), getattr(a, "stride", 1), getattr(a, "padding", 0)
    (rows, pad_h), (cols, pad_w) = (_borders(n, o, k, s, p) for n, o in zip(size, out))
    if tuple(out) == tuple(size):
        return f"a {size[0]}x{size[1]} map cannot shrink, so the stride does nothing (the input " \
            "is too small for the net)"
    lost = [f"the last {word}" if n == 1 else f"the last {n} {word}s"
            for n, word in ((rows, "row"), (cols, "column")) if n]
    if lost:
        return f"its windows never read {' and '.join(lost)} of the map"
    ratios = ", ".join(dict.fromkeys(f"{n}/{s} = {n / s:.4g}" for n in size))
    sizes = f"the output is {out[0]}x{out[1]} ({ratios})"
    sides = [(pad_h, "rows", "top border", "bottom one"),
             (pad_w, "columns", "left border", "right one")]
    if size[0] == size[1]:  # a square map: say it once for both
        sides = [(pad_h, "rows and columns", "top and left borders", "bottom and right ones")]
    uneven = [f"{p} padding {what} into the {first} and {pad} into the {last}"
              for pad, what, first, last in sides if pad != p]
    if not uneven:
        return f"{sizes}; every pixel is still read, with the same padding on both borders"
    return f"{sizes}; every pixel is still read, but the windows reach {' and '.join(uneven)}"


def _stride_span(report: Report, node: Node) -> Span | None:
    """A strided conv inside a block owes its stride to the stage's `strides` entry."""
    return report.graph.stages[node.stage].stride_span if node.stage is not None else node.span


@rule("ARC305", "complexity_preserved", "MACs per layer stay within 2x across stages")
def _complexity(report: Report) -> Iterator[Finding]:
    per_layer = macs_per_layer(report)
    first = per_layer[0] if per_layer else None
    if not first:
        return
    for stage, macs in zip(report.graph.stages, per_layer):
        ratio = macs / first if macs is not None else 1.0
        if macs is not None and not 0.5 <= ratio <= 2.0:
            yield (f"{stage.name} costs {macs / 1e6:.1f}M MACs per conv layer, {ratio:.2f}x "
                   f"{report.graph.stages[0].name}'s; the design keeps this roughly constant",
                   stage.width_span, "double the width where the map halves, and only there",
                   stage.blocks[0])


@rule("ARC306", "name_matches_depth", "a name like resnet50 matches the counted layers")
def _name_depth(report: Report) -> Iterator[Finding]:
    match = re.search(r"(?:resnet|plain)(\d+)(?!\d)", report.spec.name)
    if not match:
        return
    depth = report.weighted_depth
    if depth != int(match.group(1)):
        yield (f"the name says {match.group(1)} layers but the spec has {depth} (stem conv, "
               "block convs and fc)", report.spec.name_span,
               "check depths (and that strides and depths are not swapped), or rename", None)


@rule("ARC307", "stride_within_kernel", "no main-path conv strides past its kernel")
def _stride_within_kernel(report: Report) -> Iterator[Finding]:
    for node in report.graph.windowed:
        a = node.attrs
        if isinstance(a, Conv2d) and node.role != Role.SHORTCUT and a.stride > a.kernel:
            yield (f"{node.name} has stride {a.stride} but kernel {a.kernel}, so some input "
                   "pixels are never read", _stride_span(report, node),
                   "put the stride on a conv whose kernel covers it, such as the block's 3x3, "
                   "or set this rule off"
                   if node.block else "use a stride no larger than the kernel",
                   node.name)


@rule("ARC308", "bias_before_norm", "no conv bias feeds a batch norm, which cancels it")
def _bias_before_norm(report: Report) -> Iterator[Finding]:
    biased = {node.name: (node, node.attrs.out_channels) for node in report.graph.windowed
              if isinstance(node.attrs, Conv2d) and node.attrs.bias}
    if not biased:  # the common case (no conv bias): no consumer map to build
        return
    consumers: dict[str, list[Node]] = {}
    for node in report.graph.nodes:
        for name in node.inputs:
            if name in biased:
                consumers.setdefault(name, []).append(node)
    redundant = [pair for name, pair in biased.items()
                 if [c.op for c in consumers.get(name, [])] == [Op.BATCH_NORM]]
    if not redundant:
        return
    count = sum(channels for _, channels in redundant)
    first = redundant[0][0]
    yield (f"{len(redundant)} conv{'s' * (len(redundant) != 1)} with a bias feed a batch norm "
           f"(the first: {first.name}), which subtracts each channel's mean and so cancels the "
           f"bias: {count:,} parameters do nothing",
           report.spec.span_of("conv_bias", first.span),
           "set `conv_bias: false` (the paper's nets have no conv bias before BN), or keep it to "
           "match weights that have one and set `rules: {bias_before_norm: off}`", first.name)


_SEVERITY = {"error": Severity.ERROR, "warn": Severity.WARNING, "note": Severity.NOTE}


def check_rules(report: Report, codes: Collection[str] | None = None) -> list[Diagnostic]:
    """Run every rule not switched off by the spec, at the severity the spec gives it; with
    `codes`, only the rules of those codes."""
    out: list[Diagnostic] = []
    for key in RULES.names():
        level = report.spec.rules.get(key, "error")
        if level == "off":
            continue
        r = RULES.get(key)
        if codes is not None and r.code not in codes:
            continue
        for message, span, hint, node in r.check(report):
            out.append(Diagnostic(r.code, _SEVERITY[level], message, span, hint, node))
    return out




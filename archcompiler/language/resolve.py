"""Resolution: a validated spec plus its located tree becomes one explicit entry per block."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from ..blocks import BlockConfig, BlockType, ResolvedBlock
from ..blocks.head import ResolvedHead
from ..blocks.scope import GLOBAL_SCOPE, BlockScope
from ..blocks.shortcut import shape_changes
from ..core.diagnostics import Diagnostic, DiagnosticError, Severity, Span, error
from ..core.frozen import changed
from ..core.limits import DEFAULT_LIMITS
from ..ir.ops import same_padding
from .regnet import RegNetParams, rule_stages
from .resolved import ResolvedSpec, ResolvedStage, ResolvedStem
from .scaling import scale_stages
from .schema import BlockRef, RegNetRule
from .schema import Spec as _Spec
from .sources import is_override_source
from .validate import locate
from .yamlload import LNode

# The validated spec; its block mappings are already their types' configs (validate.py's
# second pass), which `_config` checks.
Spec = _Spec[BlockRef]


def _config(ref: BlockRef | BlockConfig) -> BlockConfig:
    """A block slot's config, as the second validation pass left it."""
    assert isinstance(ref, BlockConfig), "validate_tree replaces every BlockRef by its config"
    return ref


@dataclass(frozen=True)
class StageEntry:
    """One stage in the explicit form, before block and shortcut defaults are applied."""

    depth: int
    width: int | None
    stride: int
    out_channels: int | None = None
    block: BlockConfig | None = None
    shortcut: str | None = None
    group_width: int | None = None  # a width rule's group width for the stage's blocks

MAX_BLOCKS = DEFAULT_LIMITS.max_blocks
MAX_WIDTH = 65536  # the schema's bound on a channel count


def _span(tree: LNode, *path: str | int) -> Span:
    """Return the span of the deepest existing node along `path` (defaults point at the parent)."""
    return locate(tree, path)[0].span


Notes = tuple[tuple[str, Span], ...]


def _placed(tree: LNode, own: Collection[str], subject: str, *related: str,
            at: Span | None = None) -> tuple[Span, Notes]:
    """Place a diagnostic about stages.`subject` that conflicts with other stages fields.

    As rustc does for inherited code: the primary location is the value the user wrote (in the
    file they passed, or an override), and each value inherited from a base becomes a note.
    """
    stages = tree.get("stages")
    spans = [(f"stages.{key}", node.span) for key in (subject, *related)
             if stages is not None and (node := stages.get(key)) is not None]
    old = at or _span(tree, "stages", subject)
    primary = old if old.file in own else next((sp for _, sp in spans if sp.file in own), old)
    notes = tuple((f"{name} inherited from", span) for name, span in spans
                  if span.file not in own and span.file != primary.file)
    return primary, notes


def _stage_widths(spec: Spec, tree: LNode, strides: Sequence[int], own: Collection[str],
                  diags: list[Diagnostic]) -> list[tuple[int, Span]] | None:
    stages = spec.stages
    n = len(strides)
    if stages.widths is None:
        span, notes = _placed(tree, own, "widths", "depths", at=_span(tree, "stages"))
        diags.append(error("ARC112", "stages.widths is required with stages.depths", span,
                           hint="add `widths: {base: 64, rule: double}`", notes=notes))
        return None
    if isinstance(stages.widths, list):
        if len(stages.widths) != n:
            span, notes = _placed(tree, own, "widths", "depths")
            diags.append(error(
                "ARC110", f"stages.widths has {len(stages.widths)} entries but depths has {n}",
                span, hint="give one width per stage", notes=notes))
            return None
        return [(w, _span(tree, "stages", "widths", i)) for i, w in enumerate(stages.widths)]
    assert not isinstance(stages.widths, RegNetRule), "the regnet rule goes through _regnet"
    width, out = stages.widths.base, []
    span = _span(tree, "stages", "widths")
    for i, stride in enumerate(strides):
        if i > 0 and stride > 1 and stages.widths.rule == "double":
            width *= 2
        if width > MAX_WIDTH:  # the bound an explicit width has in the schema
            diags.append(error("ARC117", f"the width rule doubles layer{i + 1} to {width}, over "
                               f"the limit of {MAX_WIDTH}", span,
                               hint="use a smaller base or fewer stride-2 stages"))
            return None
        out.append((width, span))
    return out


def _regnet(spec: Spec, tree: LNode, notes: list[tuple[str, Span]],
            diags: list[Diagnostic]) -> list[StageEntry] | None:
    """The stages RegNet's width rule generates; the note says what it made and from where."""
    rule = spec.stages.widths
    assert isinstance(rule, RegNetRule)
    span = _span(tree, "stages", "widths")
    if spec.stages.depths is not None:
        diags.append(error("ARC111", "stages.depths does not go with the regnet rule, which "
                           "generates the depths", _span(tree, "stages", "depths"),
                           hint="remove depths (or set `depths: null` over an inherited one)"))
        return None
    params = RegNetParams(rule.depth, rule.w0, rule.wa, rule.wm, rule.group_width,
                          rule.bottleneck_ratio)
    made = rule_stages(params, spec.stages.strides, span, diags, MAX_WIDTH)
    if made is None:
        return None
    generated, strides = made
    notes.append((f"the regnet rule generated {generated.describe()}", span))
    return [StageEntry(depth=d, width=w, stride=s, group_width=g) for d, w, s, g in
            zip(generated.depths, generated.widths, strides, generated.group_widths)]


def _entries(spec: Spec, tree: LNode, own: Collection[str], diags: list[Diagnostic],
             generated: list[tuple[str, Span]] | None = None) -> list[StageEntry] | None:
    """Turn either stage form into StageEntry values, reporting inconsistent lists."""
    stages = spec.stages
    here = _span(tree, "stages")
    if isinstance(stages.widths, RegNetRule) and stages.per_stage is None:
        return _regnet(spec, tree, generated if generated is not None else [], diags)
    if (stages.depths is None) == (stages.per_stage is None):
        both = stages.depths is not None
        span, notes = _placed(tree, own, "per_stage", "depths", at=here) if both else (here, ())
        diags.append(error("ARC111", "give exactly one of stages.depths and stages.per_stage", span,
                           hint="to switch an inherited spec to per_stage, also set `depths: null, "
                           "widths: null, strides: null`" if both else
                           "use depths+widths+strides, or a per_stage list", notes=notes))
        return None
    if stages.per_stage is not None:
        for key in ("widths", "strides"):
            if getattr(stages, key) is not None:
                span, notes = _placed(tree, own, key, "per_stage")
                diags.append(error("ARC111", f"stages.{key} does not go with per_stage", span,
                                   hint="set width and stride on each per_stage entry", notes=notes))
        return None if diags else [
            StageEntry(e.depth, e.width, e.stride, e.out_channels,
                       None if e.block is None else _config(e.block), e.shortcut)
            for e in stages.per_stage]
    depths = stages.depths or []
    strides = stages.strides or [1] + [2] * (len(depths) - 1)
    if len(strides) != len(depths):
        span, notes = _placed(tree, own, "strides", "depths")
        diags.append(error("ARC110", f"stages.strides has {len(strides)} entries but depths has "
                           f"{len(depths)}", span, hint="give one stride per stage", notes=notes))
        return None
    widths = _stage_widths(spec, tree, strides, own, diags)
    if widths is None:
        return None
    return [StageEntry(depth=d, width=w, stride=s) for d, (w, _), s in zip(depths, widths, strides)]


def _width_span(spec: Spec, tree: LNode, i: int) -> Span:
    if spec.stages.per_stage is not None:
        entry = locate(tree, ("stages", "per_stage", i))[0]
        key = "width" if entry.get("width") is not None else "out_channels"
        return _span(tree, "stages", "per_stage", i, key)
    if isinstance(spec.stages.widths, list):
        return _span(tree, "stages", "widths", i)
    return _span(tree, "stages", "widths")


def _field_span(spec: Spec, tree: LNode, i: int, key: str, compact: str) -> Span:
    if spec.stages.per_stage is not None:
        entry = locate(tree, ("stages", "per_stage", i))[0]
        if entry.get(key) is not None:
            return _span(tree, "stages", "per_stage", i, key)
        return entry.span if key in ("depth", "stride") else _span(tree, "stages", key)
    return _span(tree, "stages", compact, i) if compact in ("depths", "strides") \
        else _span(tree, "stages", compact)


def _stage_width(entry: StageEntry, block: BlockConfig, kind: BlockType[Any], span: Span,
                 diags: list[Diagnostic]) -> int | None:
    expansion = kind.expansion(block)
    if (entry.width is None) == (entry.out_channels is None):
        diags.append(error("ARC112", "give exactly one of width and out_channels", span,
                           hint="width is the block width; out_channels = width x expansion"))
        return None
    if entry.out_channels is None:
        return entry.width
    if entry.out_channels % expansion:
        diags.append(error("ARC113", f"out_channels {entry.out_channels} is not a multiple of the "
                           f"expansion {expansion}", span,
                           hint=f"use a multiple of {expansion}, or give width instead"))
        return None
    return entry.out_channels // expansion


def _drop_path(rate: float, schedule: str, index: int, total: int) -> float:
    """Block `index`'s drop-path rate: timm's linear ramp from 0, or the rate throughout."""
    ramp = schedule != "constant" and rate != 0.0
    return rate if not ramp else rate * index / (total - 1) if total > 1 else 0.0


def _names(naming: str, i: int) -> tuple[str, str, str]:
    """The stage, block-prefix and transition module names of stage `i` (0-based)."""
    if naming == "timm":
        return f"stages.{i}", f"stages.{i}.blocks.", f"stages.{i}.downsample"
    return f"layer{i + 1}", f"layer{i + 1}.", f"transition{i + 1}"


def leaf_spans(tree: LNode) -> dict[str, Span]:
    """Where each value of the merged tree was written, by dotted field name (lists whole).

    Every resolved value keeps the location of what produced it: `diff`, hovers and notes read
    these, and a value absent here took its default.
    """
    out: dict[str, Span] = {}
    todo: list[tuple[str, LNode]] = [("", tree)]
    while todo:
        path, node = todo.pop()
        if isinstance(node.value, dict):
            todo.extend((f"{path}.{k}" if path else k, v) for k, v in node.value.items())
        else:
            out[path] = node.span
    return out


def _rank(sources: Collection[str]) -> dict[str, int]:
    """How recent each source's layer is: overrides (in order) over the spec the user gave,
    over its base, over the base's base. A later layer's value replaced an earlier one's."""
    order = list(sources)
    return {name: (len(order) + i if is_override_source(name) else -i)
            for i, name in enumerate(order)}


def _padding(tree: LNode, where: tuple[str, ...], kernel: int, padding: int | None,
             rank: dict[str, int], diags: list[Diagnostic], spans: dict[str, Span]) -> int:
    """A padding that follows its kernel: derived (kernel // 2) unless written in the same or
    a later layer than the kernel. An inherited padding never survives a kernel change: the
    base's `padding: 3` was for its 7x7 kernel, and kept with a 3x3 it grows every map."""
    if padding is None:
        return same_padding(kernel)
    node = locate(tree, (*where, "padding"))[0]
    kernel_node = locate(tree, (*where, "kernel"))[0]
    pad_at, kernel_at = node.span, kernel_node.span
    if rank.get(pad_at.file, 0) < rank.get(kernel_at.file, 0):
        derived = same_padding(kernel)
        spans[".".join((*where, "padding"))] = kernel_at  # derived from the kernel
        if derived != padding:
            diags.append(Diagnostic(
                "ARC118", Severity.NOTE, f"{'.'.join(where)}.padding follows the kernel {kernel} "
                f"written here: {derived}, not the {padding} inherited for the base's kernel",
                kernel_at, hint=f"write `padding: {padding}` beside the kernel to keep it",
                notes=(("the padding inherited from", pad_at),)))
        return derived
    if padding > kernel // 2 and where[-1] == "conv":  # a pool's is an error already (ARC204)
        diags.append(Diagnostic(
            "ARC119", Severity.WARNING, f"{'.'.join(where)}.padding {padding} is over half the "
            f"kernel {kernel}: the map grows by {2 * (padding - kernel // 2)} px",
            pad_at, hint=f"use padding {kernel // 2} (kernel // 2), or leave it out"))
    return padding


def _stem(spec: Spec, tree: LNode, rank: dict[str, int], diags: list[Diagnostic],
          spans: dict[str, Span]) -> ResolvedStem:
    conv, pool = spec.stem.conv, spec.stem.pool
    return ResolvedStem(
        conv.out_channels, conv.kernel, conv.stride,
        _padding(tree, ("stem", "conv"), conv.kernel, conv.padding, rank, diags, spans),
        pool.kind if pool else None, pool.kernel if pool else 1, pool.stride if pool else 1,
        _padding(tree, ("stem", "pool"), pool.kernel, pool.padding, rank, diags, spans)
        if pool else 0,
        _span(tree, "stem", "conv"), _span(tree, "stem", "pool") if pool else None,
        tuple(conv.deep or ()), conv.norm, conv.norm if conv.act is None else conv.act)


def _head(spec: Spec, tree: LNode) -> ResolvedHead:
    hd = spec.head
    return ResolvedHead(hd.classes, _span(tree, "head"), hd.dropout, hd.norm,
                        hd.conv.out_channels if hd.conv is not None else None, hd.pooled_norm,
                        hd.pool, hd.max_pool, tuple(hd.hidden))


def resolve_spec(spec: Spec, tree: LNode, sources: dict[str, str],
                 max_blocks: int = MAX_BLOCKS, own: Collection[str] | None = None,
                 scope: BlockScope = GLOBAL_SCOPE
                 ) -> tuple[ResolvedSpec | None, list[Diagnostic]]:
    """Resolve defaults and expand every stage into explicit blocks, threading channels.

    `own` names the sources the user wrote (the spec they passed, and overrides); by default
    the first source read, the top of the `extends` chain.
    """
    diags: list[Diagnostic] = []
    generated: list[tuple[str, Span]] = []
    own = set(own) if own is not None else set(list(sources)[:1])
    entries = _entries(spec, tree, own, diags, generated)
    if entries is None:
        return None, diags
    st = spec.stages
    entries = scale_stages(entries, st.depth_multiplier, st.width_multiplier, st.width_divisor,
                           _span(tree, "stages", "width_multiplier"), diags)
    if diags:
        return None, diags
    total = sum(e.depth for e in entries)
    if total > max_blocks:
        # Bounds the cost of a hostile file: each block costs ~0.1 ms and ~50 KB to analyse.
        diags.append(error("ARC115", f"the stages hold {total} blocks, over the {max_blocks} limit",
                           _span(tree, "stages"), hint="use fewer blocks per stage, or raise "
                           "the bound (--max-blocks, limits=Limits(max_blocks=...))"))
        return None, diags
    notes: list[Diagnostic] = []  # warnings and notes that do not stop the resolution
    spans = leaf_spans(tree)
    stem = _stem(spec, tree, _rank(sources), notes, spans)
    in_channels = stem.out_channels
    stages: list[ResolvedStage] = []
    all_blocks: list[ResolvedBlock] = []
    transition = None if st.downsample is None else _config(st.downsample)
    for i, entry in enumerate(entries):
        block = entry.block or _config(spec.stages.block)
        if entry.group_width is not None and "group_width" in type(block).model_fields:
            block = block.model_copy(update={"group_width": entry.group_width})
        shortcut = entry.shortcut or spec.stages.shortcut
        kind = scope.get(block.type)
        width_span = _width_span(spec, tree, i)
        try:
            width = _stage_width(entry, block, kind, width_span, diags)
            if width is None:
                continue
            out_channels = width * kind.expansion(block)
            inner = kind.inner_channels(block, width)
        except DiagnosticError as exc:  # a block file's expression out of bounds, located
            if exc.diagnostic not in diags:  # once, though every stage of the block meets it
                diags.append(exc.diagnostic)
            continue
        block_span = _field_span(spec, tree, i, "block", "block")
        if inner < 1:
            diags.append(error(
                "ARC114", f"the {block.type} blocks of layer{i + 1} get {inner} inner channels "
                f"from width {width}", block_span, hint=kind.inner_hint))
            continue
        shortcut_span = _field_span(spec, tree, i, "shortcut", "shortcut")
        stage_name, prefix, transition_name = _names(st.naming, i)
        stride = entry.stride
        moved = None
        if transition is not None and shape_changes(stride, in_channels, out_channels):
            # The stage's downsampling layer takes the stride and the width change; its
            # blocks then keep the shape (ConvNeXt's separate downsampling layers).
            span = _span(tree, "stages", "downsample")
            moved = ResolvedBlock(
                name=transition_name, stage=i, index=-1, config=transition,
                in_channels=in_channels, width=width, out_channels=out_channels, stride=stride,
                shortcut="none", span=span, shortcut_span=span,
                block_type=scope.get(transition.type), role="transition")
            in_channels, stride = out_channels, 1
        blocks: list[ResolvedBlock] = []
        done = sum(1 for b in all_blocks if b.role == "block")
        for j in range(entry.depth):
            rate = _drop_path(st.drop_path, st.drop_path_schedule, done + j, total)
            if j >= 2:  # the same as the block before it, but for its name and place
                blocks.append(changed(blocks[-1], name=f"{prefix}{j}", index=j, drop_path=rate))
                continue
            blocks.append(ResolvedBlock(  # the first block takes the stride and the widening
                name=f"{prefix}{j}", stage=i, index=j, config=block,
                in_channels=in_channels, width=width, out_channels=out_channels,
                stride=stride if j == 0 else 1, shortcut=shortcut, span=block_span,
                shortcut_span=shortcut_span, shortcut_pool=st.shortcut_pool,
                drop_path=rate, block_type=kind))
            in_channels = out_channels
        all_blocks += ([moved] if moved is not None else []) + blocks
        stages.append(ResolvedStage(
            index=i, name=stage_name, kind=block.type, depth=entry.depth, width=width,
            out_channels=out_channels, stride=entry.stride, shortcut_option=shortcut,
            blocks=tuple(b.name for b in blocks),
            depth_span=_field_span(spec, tree, i, "depth", "depths"),
            width_span=width_span, stride_span=_field_span(spec, tree, i, "stride", "strides"),
            shortcut_span=shortcut_span,
            transition=moved.name if moved is not None else None))
    if diags:
        return None, diags
    rules = spec.rules.model_dump()
    resolved = ResolvedSpec(
        name=spec.name, description=spec.description,
        input_shape=(spec.input.channels, spec.input.height, spec.input.width), stem=stem,
        stages=tuple(stages), blocks=tuple(all_blocks), head=_head(spec, tree),
        activation=spec.activation, norm=spec.norm, module_class=spec.module_class,
        zero_init_residual=spec.zero_init_residual, conv_bias=spec.conv_bias, rules=rules,
        name_span=_span(tree, "name"), input_span=_span(tree, "input"),
        activation_span=_span(tree, "activation"),
        rule_spans={r: _span(tree, "rules", r) for r in rules}, sources=dict(sources),
        files=tuple(sources), notes=tuple(notes), field_spans=spans,
        generated=tuple(generated))
    return resolved, diags

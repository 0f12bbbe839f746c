"""`archc compare`: a user's own nn.Module against a spec, by structure rather than by name.

The module is traced on the meta device with forward hooks: every conv, norm and linear in the
order it runs, with the tensors it reads and writes. A conv that reads a tensor an earlier conv
already read is a shortcut (a projection reads the block's input again). The main-path convs
are then matched, in order, with the spec's, and the first that differs is reported in the
spec's words, with the likely cause. Where all agree, the weights map by that same pairing,
each norm following its conv.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ...analysis.report import Report
from ...ir.graph import Role
from ...ir.ops import Conv2d, Linear

__all__ = ["Comparison", "Traced", "compare", "map_state_dict", "trace"]

_WEIGHTED = (nn.Conv2d, nn.BatchNorm2d, nn.Linear)


@dataclass(frozen=True)
class Traced:
    """One weighted module as it ran: its name, kind, settings, and the tensors it touched."""

    name: str
    kind: str  # conv | norm | linear
    settings: tuple[int, ...]  # conv: in, out, kernel, stride, padding, groups; linear: in, out
    bias: bool
    reads: int  # id of the input tensor
    writes: int  # id of the output tensor
    out_shape: tuple[int, ...]
    shortcut: bool = False


def trace(model: nn.Module, input_shape: tuple[int, ...]) -> list[Traced]:
    """Run `model` once on a meta tensor and record its weighted modules in call order."""
    records: list[Traced] = []
    read_by_conv: set[int] = set()
    handles = []
    keep: list[torch.Tensor] = []  # keeps every tensor alive, so no id is reused in the pass

    def hook(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...], torch.Tensor], None]:
        def run(mod: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            x = args[0]
            keep.extend((x, out))
            settings: tuple[int, ...]
            if isinstance(mod, nn.Conv2d):
                settings = (mod.in_channels, mod.out_channels, int(mod.kernel_size[0]),
                            int(mod.stride[0]), int(mod.padding[0]) if isinstance(
                                mod.padding, tuple) else 0, mod.groups)
                kind, shortcut = "conv", id(x) in read_by_conv
                read_by_conv.add(id(x))
            elif isinstance(mod, nn.Linear):
                settings, kind, shortcut = (mod.in_features, mod.out_features), "linear", False
            else:
                settings, kind, shortcut = (int(getattr(mod, "num_features", 0)),), "norm", False
            records.append(Traced(name, kind, settings, getattr(mod, "bias", None) is not None,
                                  id(x), id(out), tuple(out.shape[1:]), shortcut))
        return run

    for name, mod in model.named_modules():
        if isinstance(mod, _WEIGHTED):
            handles.append(mod.register_forward_hook(hook(name)))
    model.eval()  # batch norm in training mode refuses a 1x1 map of one sample
    try:
        with torch.no_grad():
            model(torch.empty((1, *input_shape), device="meta"))
    finally:
        for h in handles:
            h.remove()
    return records


@dataclass
class Comparison:
    """The outcome: the first divergence (None when the structures agree) and the pairing."""

    spec: str
    divergence: str | None = None
    cause: str | None = None
    where: str | None = None  # the spec's stage or block where it diverges
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (user module, spec module)


def _spec_convs(report: Report, shortcut: bool
                ) -> list[tuple[str, Conv2d, str | None, int | None]]:
    out = []
    for node in report.graph.nodes:
        if isinstance(node.attrs, Conv2d) and (node.role == Role.SHORTCUT) == shortcut and \
                node.role != Role.BRANCH and node.module is not None:
            out.append((node.module, node.attrs, node.block, node.stage))
    return out


def _user_stages(convs: list[Traced], per_block: int) -> tuple[list[int], list[int]]:
    """The user's stages read off its main convs: (strides, depths), stem left out."""
    strides: list[int] = []
    depths: list[int] = []
    blocks = [convs[i:i + per_block] for i in range(1, len(convs), per_block)]
    prev_out = convs[0].settings[1] if convs else 0
    for block in blocks:
        stride = max(c.settings[3] for c in block)
        out = block[-1].settings[1]
        if not strides or stride > 1 or out != prev_out:
            strides.append(stride)
            depths.append(0)
        depths[-1] += 1
        prev_out = out
    return strides, depths


def compare(model: nn.Module, report: Report) -> Comparison:
    """Match the traced module to the spec: main convs in order, then shortcuts, then fcs."""
    traced = trace(model, report.input_shape)
    result = Comparison(report.spec.name)
    main = [t for t in traced if t.kind == "conv" and not t.shortcut]
    short = [t for t in traced if t.kind == "conv" and t.shortcut]
    spec_main, spec_short = _spec_convs(report, False), _spec_convs(report, True)
    stages = report.graph.stages
    per_block = max(1, sum(1 for n in report.graph.nodes if n.block == (
        report.graph.blocks[0].name if report.graph.blocks else None)
        and isinstance(n.attrs, Conv2d) and n.role == Role.MAIN))
    for i, (name, conv, block, stage) in enumerate(spec_main):
        if i >= len(main):
            result.divergence = (f"the module ends after {len(main)} main-path convs; the spec "
                                 f"has {len(spec_main)} ({name} is the first missing)")
            result.where = block or name
            break
        got = main[i]
        want = (conv.in_channels, conv.out_channels, conv.kernel, conv.stride, conv.padding,
                conv.groups)
        if got.settings != want:
            labels = ("in channels", "width", "kernel", "stride", "padding", "groups")
            diffs = [f"{lab} {w} in the spec, {g} in the module ({got.name})"
                     for lab, w, g in zip(labels, want, got.settings) if w != g]
            where = stages[stage].name if block and stage is not None else name
            result.divergence = f"{name}: " + "; ".join(diffs)
            result.where = where
            strides, depths = _user_stages(main, per_block)
            spec_strides = [s.stride for s in stages]
            spec_depths = [s.depth for s in stages]
            if strides and (strides == spec_depths[:len(strides)] or max(strides) > 2):
                result.cause = (f"stride and block count look swapped: the module's stages "
                                f"have strides {strides} and {depths} blocks, the spec's "
                                f"strides {spec_strides} and {spec_depths} blocks (a "
                                "make_layer(block, planes, stride, blocks) called with the "
                                "block counts in the stride position)")
            elif got.settings[3] != want[3]:
                result.cause = "the stride sits on another conv or stage than the spec's"
            elif got.settings[1] != want[1]:
                result.cause = "the widths differ (check the width list and the expansion)"
            return result
        result.pairs.append((got.name, name))
    else:
        if len(main) > len(spec_main):
            result.divergence = (f"the module has {len(main)} main-path convs; the spec "
                                 f"{len(spec_main)} (it goes on after {spec_main[-1][0]})")
    if result.divergence is not None:
        return result
    if len(short) != len(spec_short):
        result.divergence = (f"the module has {len(short)} projection shortcuts; the spec "
                             f"{len(spec_short)}")
        result.cause = "a different shortcut option (A pads, B projects where shapes change, " \
                       "C projects every block)"
        return result
    result.pairs += [(t.name, s[0]) for t, s in zip(short, spec_short)]
    _pair_norms_and_fcs(traced, report, result)
    return result


def _pair_norms_and_fcs(traced: list[Traced], report: Report, result: Comparison) -> None:
    """Each norm pairs with the norm after its paired conv; the fcs pair in order."""
    conv_of = {t.writes: t.name for t in traced if t.kind == "conv"}
    to_spec = dict(result.pairs)
    nodes = report.graph.nodes
    spec_norm_after: dict[str, str] = {}
    by_out = {n.name: n for n in nodes}
    for n in nodes:
        if n.op in ("batch_norm",) and n.module is not None:
            src = by_out[n.inputs[0]]
            if src.module is not None:
                spec_norm_after[src.module] = n.module
    for t in traced:
        if t.kind == "norm" and t.reads in conv_of:
            spec_conv = to_spec.get(conv_of[t.reads])
            if spec_conv is not None and spec_conv in spec_norm_after:
                result.pairs.append((t.name, spec_norm_after[spec_conv]))
    fcs = [t for t in traced if t.kind == "linear"]
    spec_fcs = [n.module for n in nodes if isinstance(n.attrs, Linear) and n.module]
    if len(fcs) != len(spec_fcs):
        result.divergence = f"the module has {len(fcs)} fc layers; the spec {len(spec_fcs)}"
        return
    result.pairs += [(t.name, s) for t, s in zip(fcs, spec_fcs)]


def map_state_dict(model: nn.Module, pairs: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
    """The module's weights and buffers under the spec's names, by the structural pairing."""
    own = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    for user, spec in pairs:
        prefix = user + "."
        for key, value in own.items():
            if key.startswith(prefix) and "." not in key[len(prefix):]:
                out[spec + "." + key[len(prefix):]] = value
    return out

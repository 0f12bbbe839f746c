"""timm's state_dict layouts, mapped to the module names a spec builds.

Where a zoo spec cannot take timm's module names (the stem, head and stage names are the
builder's), a layout here renames timm's keys, in order, by regular expression:

| timm family | timm key | archcompiler key |
|---|---|---|
| convnext | `stem.0.` / `stem.1.` | `conv1.` / `bn1.` |
| convnext | `stages.i.blocks.j.gamma` (a parameter) | `stages.i.blocks.j.gamma.gamma` (LayerScale) |
| convnext | `head.norm.` / `head.fc.` | `head_norm.` / `fc.` |
| regnet | `stem.conv.` / `stem.bn.` | `conv1.` / `bn1.` |
| regnet | `s{i}.b{j}.` (1-based) | `layer{i}.{j-1}.` |
| regnet | `.downsample.conv.` / `.downsample.bn.` | `.downsample.0.` / `.downsample.1.` |
| regnet | `head.fc.` | `fc.` |
| efficientnet (mobilenetv2) | `conv_stem.` / `blocks.i.j.` | `conv1.` / `stages.i.blocks.j.` |
| efficientnet (mobilenetv2) | `bn2.` / `classifier.` | `bn_head.` / `fc.` |
| resnetv2 (pre-activation) | `stem.conv.` / `head.fc.` | `conv1.` / `fc.` |
| resnetv2 (pre-activation) | `stages.i.blocks.j.` | `layer{i+1}.j.` |
| resnetv2 (pre-activation) | `.normK.` (in a block) / `.downsample.conv.` | `.bnK.` / `.downsample.0.` |
| torchvision vgg19 | `features.N.` (16 convs) | `conv1.`, `layer1.0.0.`, `transition2.1.`, ... |
| torchvision vgg19 | `classifier.0.` / `.3.` / `.6.` | the same |

timm's ConvNeXt computes its pointwise convs as `nn.Linear` on NHWC tensors: a (out, in)
weight becomes the (out, in, 1, 1) weight of the spec's 1x1 conv, the same numbers reshaped;
timm's resnetv2 classifier is a 1x1 conv, whose (out, in, 1, 1) weight becomes the (out, in)
weight of the spec's linear layer.
A file is mapped only when a layout turns its keys into exactly the module's keys; otherwise
it is left as it is, and the strict loader reports every key against the spec.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import torch

__all__ = ["LAYOUTS", "adapt_state_dict", "rename"]

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _rules(*pairs: tuple[str, str | Callable[[re.Match[str]], str]]) -> tuple[Rule, ...]:
    return tuple((re.compile(p), r) for p, r in pairs)


# torchvision's vgg19 numbers `features` through its convs, ReLUs and pools; the spec's names
# are the stem conv, each stage's transition conv (after the pool) and its blocks' convs.
_VGG19_CONVS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
_VGG19_NAMES = ("conv1", "layer1.0.0", "transition2.1", "layer2.0.0", "transition3.1",
                "layer3.0.0", "layer3.1.0", "layer3.2.0", "transition4.1", "layer4.0.0",
                "layer4.1.0", "layer4.2.0", "transition5.1", "layer5.0.0", "layer5.1.0",
                "layer5.2.0")

LAYOUTS: dict[str, tuple[Rule, ...]] = {
    "timm convnext": _rules(
        (r"^stem\.0\.", "conv1."), (r"^stem\.1\.", "bn1."),
        (r"^(stages\.\d+\.blocks\.\d+)\.gamma$", r"\1.gamma.gamma"),
        (r"^head\.norm\.", "head_norm."), (r"^head\.fc\.", "fc.")),
    "timm regnet": _rules(
        (r"^stem\.conv\.", "conv1."), (r"^stem\.bn\.", "bn1."),
        (r"^s(\d+)\.b(\d+)\.", lambda m: f"layer{m.group(1)}.{int(m.group(2)) - 1}."),
        (r"\.downsample\.conv\.", ".downsample.0."), (r"\.downsample\.bn\.", ".downsample.1."),
        (r"^head\.fc\.", "fc.")),
    "timm efficientnet": _rules(
        (r"^conv_stem\.", "conv1."), (r"^blocks\.(\d+)\.(\d+)\.", r"stages.\1.blocks.\2."),
        (r"^bn2\.", "bn_head."), (r"^classifier\.", "fc.")),
    # The pre-activation nets (preact_resnet18/34/50); the final `norm.` keeps its name.
    "timm resnetv2": _rules(
        (r"^stem\.conv\.", "conv1."), (r"^head\.fc\.", "fc."),
        (r"^stages\.(\d+)\.blocks\.(\d+)\.", lambda m: f"layer{int(m.group(1)) + 1}.{m.group(2)}."),
        (r"\.norm(\d)\.", r".bn\1."), (r"\.downsample\.conv\.", ".downsample.0.")),
    "torchvision vgg19": _rules(*((rf"^features\.{i}\.", f"{name}.")
                                  for i, name in zip(_VGG19_CONVS, _VGG19_NAMES))),
}


def rename(key: str, rules: tuple[Rule, ...]) -> str:
    """`key` with every rule of a layout applied in order."""
    for pattern, repl in rules:
        key = pattern.sub(repl, key)
    return key


def _fit(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A linear layer's (out, in) weight as the (out, in, 1, 1) weight of a 1x1 conv, and back."""
    if value.dim() == 2 and like.dim() == 4 and tuple(like.shape[2:]) == (1, 1) and \
            tuple(like.shape[:2]) == tuple(value.shape):
        return value.reshape(like.shape)
    if value.dim() == 4 and like.dim() == 2 and tuple(value.shape[2:]) == (1, 1) and \
            tuple(value.shape[:2]) == tuple(like.shape):
        return value.reshape(like.shape)
    return value


def adapt_state_dict(own: Mapping[str, torch.Tensor], state: dict[str, torch.Tensor]
                     ) -> dict[str, torch.Tensor]:
    """`state` renamed to the keys of `own` by the first layout that matches them exactly,
    with linear weights reshaped to 1x1 convs; `state` itself when it matches or none does."""
    if state.keys() == own.keys():
        return state
    for rules in LAYOUTS.values():
        renamed = {rename(k, rules): v for k, v in state.items()}
        if len(renamed) == len(state) and renamed.keys() == own.keys():
            return {k: _fit(v, own[k]) for k, v in renamed.items()}
    return state

"""Outside references for block arithmetic: torchvision's and timm's own constructors, counted.

Draws seeded random configurations (`draw_cases`, a pure function: no torch needed to draw, so
the default test run re-draws them and checks the table holds the same set), builds each one with
the library's own code, and records params, MACs (FlopCounterMode total // 2, batch 1), every
stage's and block's output shape and the state_dict key -> shape table in
tests/data/outside_reference.json. Each case also holds the archcompiler spec (a mapping for
`archcompiler.analyze`) that should describe the same network; tests/analysis/test_outside_reference.py
checks the analysis and the built module against the table.

Run it in the comparison venv (scripts/setup_ref.sh):

    .venv-ref/bin/python scripts/outside_reference.py            # rewrite the table
    .venv-ref/bin/python scripts/outside_reference.py --check    # compare with the table, live

Option A (zero-pad shortcut) and plain nets have no library: their reference is a small
hand-written module below (`OptionANet`), independent of archcompiler, after the CIFAR design of
He et al. 2015, section 4.2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

SEED = 23
TABLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "outside_reference.json"
COMMAND = "python scripts/outside_reference.py  (in .venv-ref, see scripts/setup_ref.sh)"
# How many cases each family draws.
COUNTS = {"tv_basic": 40, "tv_bottleneck": 70, "tv_standard": 8, "timm_d": 40, "timm_se": 40,
          "timm_preact": 30, "option_a": 50, "plain": 12, "timm_scaled": 30}
RULES_OFF = {k: "off" for k in ("same_map_same_width", "double_on_halve", "shortcut_shapes",
                                "exact_downsampling", "complexity_preserved",
                                "name_matches_depth", "stride_within_kernel")}

Case = dict[str, Any]


def _size(r: random.Random) -> list[int]:
    """An input H, W: odd and non-square as often as not."""
    h = r.choice([31, 33, 47, 64, 65, 97, 40, 57])
    w = h if r.random() < 0.4 else r.choice([33, 47, 50, 61, 97, 38])
    return [h, w]


def _width(r: random.Random, choices: list[int], wpg: int) -> int:
    """A stage width whose inner bottleneck width int(width x wpg / 64) is at least 1."""
    return r.choice([w for w in choices if w * wpg >= 64])


def _spec(name: str, size: list[int], stem: dict[str, Any], block: dict[str, Any],
          depths: list[int], widths: list[int], strides: list[int], shortcut: str,
          classes: int, **extra: Any) -> dict[str, Any]:
    """The archcompiler spec mapping of one case."""
    stages: dict[str, Any] = {"block": block, "depths": depths, "widths": widths,
                              "strides": strides, "shortcut": shortcut}
    stages.update(extra.pop("stages", {}))
    spec = {"spec_version": 1, "name": name,
            "input": {"channels": 3, "height": size[0], "width": size[1]},
            "stem": stem, "stages": stages, "activation": "relu",
            "head": {"pool": "avg", "classes": classes}, "rules": RULES_OFF}
    spec.update(extra)
    return spec


TV_STEM = {"conv": {"out_channels": 64, "kernel": 7, "stride": 2, "padding": 3},
           "pool": {"kind": "max", "kernel": 3, "stride": 2, "padding": 1}}


def _tv_stem(width: int) -> dict[str, Any]:
    """torchvision's 7x7 stem and max pool at another width."""
    return {"conv": {**TV_STEM["conv"], "out_channels": width}, "pool": TV_STEM["pool"]}


def _draw_tv(r: random.Random, i: int, kind: str) -> Case:
    """torchvision ResNet with its own BasicBlock/Bottleneck and _make_layer, at odd widths."""
    size = _size(r)
    depths = [r.randint(1, 2) for _ in range(4)]
    classes = r.choice([10, 17, 100])
    stem = r.choice([16, 24, 40, 64])
    if kind == "basic":
        widths = [r.choice([8, 12, 20, 40, 64]) for _ in range(4)]
        ctor = {"block": "BasicBlock", "layers": depths, "planes": widths, "stem": stem,
                "num_classes": classes, "groups": 1, "width_per_group": 64}
        block: dict[str, Any] = {"type": "basic"}
    else:
        groups = r.choice([1, 1, 2, 3, 4, 8])
        wpg = r.choice([4, 6, 10, 13, 24, 64, 96, 128])
        widths = [_width(r, [8, 20, 40, 56, 72, 100], wpg) for _ in range(4)]
        ctor = {"block": "Bottleneck", "layers": depths, "planes": widths, "stem": stem,
                "num_classes": classes, "groups": groups, "width_per_group": wpg}
        block = {"type": "bottleneck", "groups": groups, "width_per_group": wpg}
    cid = f"tv_{kind}_{i:03d}"
    return {"id": cid, "family": f"tv_{kind}", "input": size, "ctor": ctor,
            "reference": f"torchvision ResNet({ctor['block']}, {depths}, groups={ctor['groups']}, "
                         f"width_per_group={ctor['width_per_group']}) with planes {widths} and "
                         f"a {stem}-wide stem via ResNet._make_layer",
            "spec": _spec(cid, size, _tv_stem(stem), block, depths, widths, [1, 2, 2, 2], "B",
                          classes)}


def _draw_tv_standard(r: random.Random, i: int) -> Case:
    """torchvision's named constructors, unchanged, at odd input sizes."""
    name, extends, over = r.choice([
        ("resnet18", "resnet18", {}), ("resnet34", "resnet34", {}), ("resnet50", "resnet50", {}),
        ("resnext50_32x4d", "resnext50_32x4d", {}), ("wide_resnet50_2", "wide_resnet50_2", {}),
        ("resnet101", "resnet101", {})])
    size = _size(r)
    cid = f"tv_standard_{i:03d}"
    spec = {"extends": extends, "name": cid, "input": {"height": size[0], "width": size[1]},
            "rules": RULES_OFF, **over}
    return {"id": cid, "family": "tv_standard", "input": size, "ctor": {"name": name},
            "reference": f"torchvision.models.{name}()", "spec": spec}


def _timm_stem(width: int) -> dict[str, Any]:
    """timm's deep stem (stem_type='deep'): 3x3 convs width, width, then 2 x width; max pool."""
    return {"conv": {"out_channels": 2 * width, "kernel": 3, "stride": 2, "padding": 1,
                     "deep": [width, width]},
            "pool": TV_STEM["pool"]}


def _draw_timm(r: random.Random, i: int, kind: str) -> Case:
    """timm ResNet: ResNet-D (deep stem, avg_down) or SE bottlenecks with small channels."""
    size = _size(r)
    depths = [r.randint(1, 2) for _ in range(4)]
    classes = r.choice([10, 17, 100])
    groups = r.choice([1, 1, 2, 4])
    wpg = r.choice([4, 6, 10, 64, 128])
    cid = f"timm_{kind}_{i:03d}"
    if kind == "d":
        widths = [_width(r, [8, 20, 40, 56, 64], wpg) for _ in range(4)]
        stem_width = r.choice([16, 24, 32])
        ctor = {"layers": depths, "channels": widths, "num_classes": classes,
                "cardinality": groups, "base_width": wpg, "stem_width": stem_width,
                "stem_type": "deep", "avg_down": True}
        stem = _timm_stem(stem_width)
        block: dict[str, Any] = {"type": "bottleneck", "groups": groups, "width_per_group": wpg}
        extra: dict[str, Any] = {"stages": {"shortcut_pool": "avg"}}
        ref = (f"timm ResNet(Bottleneck, {depths}, channels={widths}, cardinality={groups}, "
               f"base_width={wpg}, stem_width={stem_width}, stem_type='deep', avg_down=True)")
    else:
        # Small channels: out / 16 below 4 rounds to 0, so timm's minimum of 8 decides.
        widths = [_width(r, [2, 4, 6, 8, 12, 16, 24, 40], wpg) for _ in range(4)]
        # timm's plain stem is 64 wide whatever stem_width says (it sizes only deep stems).
        ctor = {"layers": depths, "channels": widths, "num_classes": classes,
                "cardinality": groups, "base_width": wpg, "block_args": {"attn_layer": "se"}}
        stem = _tv_stem(64)
        block = {"type": "se_bottleneck", "groups": groups, "width_per_group": wpg,
                 "se_reduction": 16, "se_divisor": 8}
        extra = {}
        ref = (f"timm ResNet(Bottleneck, {depths}, channels={widths}, cardinality={groups}, "
               f"base_width={wpg}, block_args=dict(attn_layer='se'))")
    return {"id": cid, "family": f"timm_{kind}", "input": size, "ctor": ctor, "reference": ref,
            "spec": _spec(cid, size, stem, block, depths, widths, [1, 2, 2, 2], "B", classes,
                          **extra)}


def _draw_timm_preact(r: random.Random, i: int) -> Case:
    """timm ResNetV2 (pre-activation, BatchNorm, plain conv, as timm's resnetv2_50)."""
    size = _size(r)
    basic = r.random() < 0.4
    depths = [r.randint(1, 2) for _ in range(4)]
    classes = r.choice([10, 17, 100])
    # Multiples of 8, so timm's make_divisible leaves them as they are.
    widths = [8 * r.randint(1, 12) for _ in range(4)]
    stem = 8 * r.randint(2, 8)
    expansion = 1 if basic else 4
    if not basic and stem == 4 * widths[0]:
        # timm's PreActBottleneck projects the first block of every stage, even where the shape
        # stays; option B (and the resnetv2_50 layout, 64 -> 256) projects where it changes.
        stem += 8
    # bottle_ratio=1 for basic blocks, as timm's resnetv2_18 (its default of 0.25 would narrow
    # the basic block's first conv).
    ctor = {"layers": depths, "channels": [w * expansion for w in widths], "num_classes": classes,
            "stem_chs": stem, "basic": basic, "bottle_ratio": 1.0 if basic else 0.25}
    cid = f"timm_preact_{i:03d}"
    block = {"type": "preact_basic" if basic else "preact_bottleneck"}
    stem_spec = {"conv": {**_tv_stem(stem)["conv"], "norm": False}, "pool": TV_STEM["pool"]}
    spec = _spec(cid, size, stem_spec, block, depths, widths, [1, 2, 2, 2], "B", classes)
    spec["head"]["norm"] = True
    return {"id": cid, "family": "timm_preact", "input": size, "ctor": ctor,
            "reference": f"timm ResNetV2({depths}, channels={ctor['channels']}, stem_chs={stem}, "
                         f"basic={basic}, bottle_ratio={ctor['bottle_ratio']}, "
                         f"conv_layer=create_conv2d, norm_layer=BatchNormAct2d)",
            "spec": spec}


def _draw_option_a(r: random.Random, i: int, shortcut: str) -> Case:
    """The hand-written CIFAR net (below): option A zero-pad shortcuts, or none (plain)."""
    size = [r.choice([31, 32, 33, 35, 47, 97])] * 2
    if r.random() < 0.5:
        size[1] = r.choice([33, 47, 29])
    n_stages = r.choice([3, 3, 4])
    depths = [r.randint(1, 3) for _ in range(n_stages)]
    base = r.choice([4, 6, 10, 16])
    widths = [base]
    for _ in range(n_stages - 1):
        widths.append(widths[-1] * r.choice([1, 2, 2, 3]))  # never shrinks: option A pads
    strides = [1] + [r.choice([1, 2, 2, 3]) for _ in range(n_stages - 1)]
    stem = r.choice([base, max(1, base // 2)])  # option A cannot shrink the stem's channels
    classes = r.choice([10, 100])
    family = "option_a" if shortcut == "A" else "plain"
    cid = f"{family}_{i:03d}"
    ctor = {"depths": depths, "widths": widths, "strides": strides, "stem": stem,
            "num_classes": classes, "shortcut": shortcut}
    stem_spec = {"conv": {"out_channels": stem, "kernel": 3, "stride": 1, "padding": 1}}
    return {"id": cid, "family": family, "input": size, "ctor": ctor,
            "reference": f"hand-written option-{shortcut} CIFAR ResNet (scripts/outside_reference"
                         f".py OptionANet, depths {depths}, widths {widths}, strides {strides})",
            "spec": _spec(cid, size, stem_spec, {"type": "basic"}, depths, widths, strides,
                          shortcut, classes)}


def _make_divisible(v: float, divisor: int) -> int:
    """timm's make_divisible(v, divisor, round_limit=0), to pick cases; timm's own is measured."""
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


def _draw_timm_scaled(r: random.Random, i: int) -> Case:
    """timm ResNet whose stage widths are timm's make_divisible(width x m, divisor): the spec
    gives the base widths and width_multiplier, width_divisor and depth_multiplier."""
    while True:
        base = r.choice([16, 24, 32, 40, 48, 64])
        widths = [base * 2**k for k in range(4)]
        m = r.choice([0.25, 0.5, 0.75, 1.25, 1.5, 2.0, 0.3, 0.6])
        div = r.choice([1, 4, 8, 16])
        scaled = [_make_divisible(w * m, div) for w in widths]
        if all(s * widths[0] == w * scaled[0] for w, s in zip(widths, scaled)):
            break  # ratios kept (else archcompiler rightly refuses it, ARC116)
    depths = [r.randint(1, 2) for _ in range(4)]
    dm = r.choice([1.0, 1.0, 2.0, 3.0])
    block = r.choice(["BasicBlock", "Bottleneck"])
    size = _size(r)
    classes = r.choice([10, 17, 100])
    cid = f"timm_scaled_{i:03d}"
    ctor = {"block": block, "layers": [int(d * dm) for d in depths], "base_channels": widths,
            "width_multiplier": m, "divisor": div, "num_classes": classes}
    spec = _spec(cid, size, _tv_stem(64), {"type": "basic" if block == "BasicBlock" else
                                           "bottleneck"}, depths, widths, [1, 2, 2, 2], "B",
                 classes, stages={"width_multiplier": m, "width_divisor": div,
                                  "depth_multiplier": dm})
    return {"id": cid, "family": "timm_scaled", "input": size, "ctor": ctor, "spec": spec,
            "reference": f"timm ResNet({block}, {ctor['layers']}, channels=[make_divisible(w * "
                         f"{m}, {div}, round_limit=0) for w in {widths}])"}


def draw_cases(seed: int = SEED) -> list[Case]:
    """Every case, drawn from `seed`; pure Python, so tests can re-draw without torch."""
    r = random.Random(seed)
    cases: list[Case] = []
    for family, count in COUNTS.items():
        for i in range(count):
            if family == "tv_basic":
                cases.append(_draw_tv(r, i, "basic"))
            elif family == "tv_bottleneck":
                cases.append(_draw_tv(r, i, "bottleneck"))
            elif family == "tv_standard":
                cases.append(_draw_tv_standard(r, i))
            elif family in ("timm_d", "timm_se"):
                cases.append(_draw_timm(r, i, family[5:]))
            elif family == "timm_preact":
                cases.append(_draw_timm_preact(r, i))
            elif family == "timm_scaled":
                cases.append(_draw_timm_scaled(r, i))
            else:
                cases.append(_draw_option_a(r, i, "A" if family == "option_a" else "none"))
    return cases


def spec_digest(case: Case) -> str:
    """A short hash of a case's spec and constructor, to compare drawn cases with the table."""
    text = json.dumps({"spec": case["spec"], "ctor": case["ctor"], "input": case["input"]},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Everything below needs torch, torchvision and timm (the comparison venv).


def _option_a_net() -> Any:
    """The hand-written option-A / plain CIFAR ResNet class (independent of archcompiler)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Block(nn.Module):
        """Two 3x3 convs; option A: subsample by the stride, zero-pad the extra channels."""

        def __init__(self, cin: int, cout: int, stride: int, shortcut: str) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.cin, self.cout, self.stride, self.shortcut = cin, cout, stride, shortcut

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.shortcut == "A":
                s = x[:, :, ::self.stride, ::self.stride]
                out = out + F.pad(s, (0, 0, 0, 0, 0, self.cout - self.cin))
            return F.relu(out)

    class OptionANet(nn.Module):
        """conv3x3-BN-ReLU stem, stages of Blocks, global average pool, fc."""

        def __init__(self, depths: list[int], widths: list[int], strides: list[int], stem: int,
                     num_classes: int, shortcut: str) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, stem, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(stem)
            cin = stem
            for i, (d, w, s) in enumerate(zip(depths, widths, strides)):
                blocks = []
                for j in range(d):
                    blocks.append(Block(cin, w, s if j == 0 else 1, shortcut))
                    cin = w
                setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            self.n = len(depths)
            self.fc = nn.Linear(cin, num_classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.relu(self.bn1(self.conv1(x)))
            for i in range(self.n):
                x = getattr(self, f"layer{i + 1}")(x)
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    return OptionANet


def resnetv2_keys(key: str) -> str:
    """timm resnetv2 names -> archcompiler's (the mapping documented in docs/families.md)."""
    import re

    new = key.replace("stem.conv.", "conv1.").replace("head.fc.", "fc.")
    new = re.sub(r"^stages\.(\d+)\.blocks\.(\d+)\.",
                 lambda m: f"layer{int(m.group(1)) + 1}.{m.group(2)}.", new)
    new = re.sub(r"\.norm(\d)\.", r".bn\1.", new)
    return new.replace(".downsample.conv.", ".downsample.0.")


def build_reference(case: Case) -> tuple[Any, list[tuple[str, Any]]]:
    """Build the case's network with the library's own constructor; return it and its blocks."""
    import torch
    from torch import nn

    fam, c = case["family"], case["ctor"]
    if fam == "tv_standard":
        import torchvision.models as tvm
        model = getattr(tvm, c["name"])()
    elif fam.startswith("tv_"):
        from torchvision.models import resnet as tvr
        block = getattr(tvr, c["block"])
        model = tvr.ResNet(block, c["layers"], num_classes=c["num_classes"], groups=c["groups"],
                           width_per_group=c["width_per_group"])
        # Other stage widths through torchvision's own _make_layer and blocks.
        model.inplanes = c["stem"]
        model.conv1 = nn.Conv2d(3, c["stem"], 7, 2, 3, bias=False)
        model.bn1 = nn.BatchNorm2d(c["stem"])
        for i, (planes, n) in enumerate(zip(c["planes"], c["layers"])):
            setattr(model, f"layer{i + 1}",
                    model._make_layer(block, planes, n, stride=1 if i == 0 else 2))
        model.fc = nn.Linear(c["planes"][-1] * block.expansion, c["num_classes"])
    elif fam in ("timm_d", "timm_se"):
        from timm.models.resnet import Bottleneck, ResNet
        kw = {k: v for k, v in c.items() if k not in ("layers",)}
        kw["channels"] = tuple(kw["channels"])
        model = ResNet(Bottleneck, tuple(c["layers"]), **kw)
    elif fam == "timm_scaled":
        from timm.layers import make_divisible
        from timm.models import resnet as tr
        channels = tuple(make_divisible(w * c["width_multiplier"], c["divisor"], round_limit=0.0)
                         for w in c["base_channels"])
        model = tr.ResNet(getattr(tr, c["block"]), tuple(c["layers"]), channels=channels,
                          num_classes=c["num_classes"])
    elif fam == "timm_preact":
        from timm.layers import BatchNormAct2d, create_conv2d
        from timm.models.resnetv2 import ResNetV2
        model = ResNetV2(c["layers"], channels=tuple(c["channels"]),
                         num_classes=c["num_classes"], stem_chs=c["stem_chs"], basic=c["basic"],
                         bottle_ratio=c["bottle_ratio"], conv_layer=create_conv2d, norm_layer=BatchNormAct2d)
    else:
        model = _option_a_net()(c["depths"], c["widths"], c["strides"], c["stem"],
                                c["num_classes"], c["shortcut"])
    model.eval()
    if fam == "timm_preact":
        blocks = [(f"layer{i + 1}.{j}", b) for i, st in enumerate(model.stages)
                  for j, b in enumerate(st.blocks)]
    else:
        blocks = [(f"{name}.{j}", b) for name, layer in model.named_children()
                  if name.startswith("layer") for j, b in enumerate(layer)]
    del torch
    return model, blocks


def measure(case: Case) -> dict[str, Any]:
    """Params, MACs, block output shapes and the state_dict table of a case's reference."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model, blocks = build_reference(case)
    shapes: dict[str, list[int]] = {}
    hooks = [b.register_forward_hook(
        lambda _m, _i, out, name=name: shapes.__setitem__(name, list(out.shape[1:])))
        for name, b in blocks]
    x = torch.zeros(1, 3, *case["input"])
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    for h in hooks:
        h.remove()
    state = model.state_dict()
    if case["family"] == "timm_preact":
        state = {resnetv2_keys(k): v for k, v in state.items()}
        if state["fc.weight"].dim() == 4:  # a 1x1 conv head, where ours is a linear
            state["fc.weight"] = state["fc.weight"].flatten(1)
    return {"params": sum(p.numel() for p in model.parameters()),
            "macs": counter.get_total_flops() // 2,
            "blocks": shapes,
            "state_dict": {k: list(v.shape) for k, v in state.items()}}


def header() -> dict[str, Any]:
    """Provenance: library versions, the command, the seed."""
    import platform

    import timm
    import torch
    import torchvision
    return {"generated_by": "scripts/outside_reference.py", "command": COMMAND, "seed": SEED,
            "counts": COUNTS, "python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "timm": timm.__version__,
            "macs": "FlopCounterMode total // 2, batch 1",
            "state_dict": "key -> shape; timm resnetv2 keys mapped as docs/families.md says"}


def main(argv: list[str] | None = None) -> int:
    """Write the table, or with --check compare a fresh measurement with it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="compare with the table; write nothing")
    p.add_argument("--out", type=Path, default=TABLE)
    args = p.parse_args(argv)
    rows = []
    for case in draw_cases():
        row = {"id": case["id"], "family": case["family"], "digest": spec_digest(case),
               "reference": case["reference"], "input": case["input"], "spec": case["spec"],
               **measure(case)}
        rows.append(row)
        print(f"{row['id']}: {row['params']:,} params, {row['macs']:,} MACs", file=sys.stderr)
    table = {"header": header(), "cases": rows}
    if args.check:
        old = json.loads(args.out.read_text())
        same = old["cases"] == json.loads(json.dumps(rows))
        print("table agrees" if same else "table DISAGREES with a fresh measurement")
        return 0 if same else 1
    args.out.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {len(rows)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

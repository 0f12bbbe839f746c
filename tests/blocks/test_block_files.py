"""Blocks written in YAML: the two shipped examples against hand-written torch references, the
YAML forms of the basic and bottleneck blocks against the built-ins, and scoping.

The references below are written by hand from the papers (torchvision's MobileNetV2 and the
ConvNeXt paper's block), not from our graph: a wrong block formula in the block file or in the
interpreter changes params, MACs or outputs, and these tests fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archcompiler  # noqa: E402
from archcompiler.core.diagnostics import SpecError  # noqa: E402
from tests.conftest import DATA, ROOT, write_spec  # noqa: E402

EXAMPLES = ROOT / "examples" / "blocks"


class RefInvertedResidual(nn.Module):
    """MobileNetV2's block as torchvision writes it: expand, depthwise, linear projection."""

    def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
        super().__init__()
        mid = cin * t
        self.conv = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU6(), nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.use_res = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class RefMBv2Cifar(nn.Module):
    """examples/blocks/mbv2_cifar.yaml, written by hand: (t, c, n, s) rows as the paper's Table 2."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32),
                                  nn.ReLU6())
        layers, cin = [], 32
        for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2)):
            for i in range(n):
                layers.append(RefInvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Conv2d(64, 1280, 1, bias=False), nn.BatchNorm2d(1280),
                                  nn.ReLU6())
        self.fc = nn.Linear(1280, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class RefLayerNorm2d(nn.Module):
    """LayerNorm over the channels of each pixel (the ConvNeXt paper's channels_first LN)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, 1e-6)
        return y.permute(0, 3, 1, 2)


class RefConvNeXtBlock(nn.Module):
    """dwconv 7x7 -> LN -> 1x1 (x4) -> GELU -> 1x1 -> gamma, plus the input (Liu et al. 2022)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.ln = RefLayerNorm2d(c)
        self.pw1, self.pw2 = nn.Conv2d(c, 4 * c, 1), nn.Conv2d(4 * c, c, 1)
        # In a holder after pw2, so the state_dict lists it where the block applies it.
        self.ls = nn.ParameterDict({"gamma": nn.Parameter(torch.full((c,), 1e-6))})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw2(F.gelu(self.pw1(self.ln(self.dw(x)))))
        return x + y * self.ls["gamma"].view(1, -1, 1, 1)


class RefConvNeXtCifar(nn.Module):
    """examples/blocks/convnext_cifar.yaml, written by hand."""

    def __init__(self) -> None:
        super().__init__()
        dims, depths = (48, 96, 192, 384), (2, 2, 4, 2)
        self.stem = nn.Sequential(nn.Conv2d(3, 48, 2, 2), RefLayerNorm2d(48))
        self.stages = nn.ModuleList()
        for i, (d, n) in enumerate(zip(dims, depths)):
            down = [] if i == 0 else [RefLayerNorm2d(dims[i - 1]), nn.Conv2d(dims[i - 1], d, 2, 2)]
            self.stages.append(nn.Sequential(*down, *(RefConvNeXtBlock(d) for _ in range(n))))
        self.norm, self.fc = nn.LayerNorm(384, eps=1e-6), nn.Linear(384, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.fc(self.norm(x.mean((2, 3))))


def _load_by_order(model: nn.Module, ref: nn.Module) -> None:
    """Copy the reference's state into ours entry by entry, checking every shape."""
    ours, theirs = model.state_dict(), ref.state_dict()
    theirs = {k: v for k, v in theirs.items() if not k.endswith("num_batches_tracked")}
    keys = [k for k in ours if not k.endswith("num_batches_tracked")]
    assert len(keys) == len(theirs), f"{len(keys)} tensors against the reference's {len(theirs)}"
    for key, (ref_key, value) in zip(keys, theirs.items()):
        assert ours[key].shape == value.shape, f"{key} {ours[key].shape} vs {ref_key} {value.shape}"
        ours[key] = value
    model.load_state_dict(ours)


def _randomise(ref: nn.Module) -> None:
    """Random weights and BN statistics, so equal outputs mean equal computations."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
        for m in ref.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


def _macs(model: nn.Module, shape: tuple[int, ...]) -> int:
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *shape))
    return int(counter.get_total_flops()) // 2


@pytest.mark.parametrize(("spec", "reference"), [("mbv2_cifar", RefMBv2Cifar),
                                                  ("convnext_cifar", RefConvNeXtCifar)])
def test_example_matches_a_hand_written_reference(spec: str, reference: type[nn.Module]) -> None:
    report = archcompiler.analyze(EXAMPLES / f"{spec}.yaml")
    assert report.ok, report.diagnostics
    ref = reference().eval()
    _randomise(ref)
    assert report.params == sum(p.numel() for p in ref.parameters()), "params"
    assert report.macs == _macs(ref, report.input_shape), "MACs (FlopCounterMode / 2)"
    model = archcompiler.build_module(report, seed=0).eval()
    _load_by_order(model, ref)
    x = torch.randn(4, *report.input_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = ref(x), model(x)
    assert torch.equal(got, want), f"max abs diff {(got - want).abs().max().item():.3g}"


def test_the_inverted_residual_adds_only_where_the_shape_is_kept() -> None:
    report = archcompiler.analyze(EXAMPLES / "mbv2_cifar.yaml")
    kinds = {b.name: b.shortcut for b in report.graph.blocks}
    assert kinds["layer1.0"] == "none"  # 32 -> 16 channels
    assert kinds["layer2.0"] == "none" and kinds["layer2.1"] == "identity"
    assert all(kinds[f"layer4.{i}"] == "identity" for i in (1, 2, 3))
    dot = archcompiler.to_dot(report, detail="block")
    assert '"layer2.1.add"' in dot and '"layer2.0.add"' not in dot and '"layer1.0.add"' not in dot


YAML_BLOCKS = DATA / "blocks"


@pytest.mark.parametrize(("base", "tag"), [("resnet18", "basic_yaml"),
                                           ("resnet50", "bottleneck_yaml"),
                                           ("resnext50_32x4d", "bottleneck_yaml")])
def test_yaml_forms_equal_the_builtin_blocks_bitwise(base: str, tag: str, tmp_path: Path) -> None:
    block = (YAML_BLOCKS / f"{tag}.yaml").resolve()
    keep = "" if tag == "basic_yaml" else ", groups: 32, width_per_group: 4" \
        if base.startswith("resnext") else ""
    spec = write_spec(tmp_path, f"""
        extends: {base}
        name: {base}
        blocks: {{{tag}: {block}}}
        stages: {{block: {{type: {tag}{keep}}}}}
    """)
    ours = archcompiler.analyze(spec, allow_outside=True)
    builtin = archcompiler.analyze(base)
    assert (ours.params, ours.macs) == (builtin.params, builtin.macs)
    assert [(n.name, n.attrs) for n in ours.graph.nodes] == \
        [(n.name, n.attrs) for n in builtin.graph.nodes]
    a = archcompiler.build_module(ours, seed=3).eval()
    b = archcompiler.build_module(builtin, seed=3).eval()
    assert list(a.state_dict()) == list(b.state_dict())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(a(x), b(x))


def test_a_declared_block_exists_only_for_its_own_load(tmp_path: Path) -> None:
    inline = write_spec(tmp_path, """
        extends: resnet20
        name: local
        blocks:
          mine: {ops: [{name: conv1, op: conv, out: out, kernel: 3, stride: stride},
                       {name: bn1, op: norm}], act_after: true}
        stages: {block: {type: mine}}
        rules: {name_matches_depth: off}
    """, "local.yaml")
    assert archcompiler.analyze(inline).ok
    other = write_spec(tmp_path, "extends: resnet20\nname: other\nstages: {block: {type: mine}}\n",
                       "other.yaml")
    with pytest.raises(SpecError) as info:
        archcompiler.load_spec(other)
    assert [d.code for d in info.value.diagnostics] == ["ARC105"]
    assert "mine" not in archcompiler.blocks.BLOCKS


def test_block_file_errors_point_into_the_block_file(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(
        "ops:\n  - {name: conv1, op: conv, out: out * widht, kernel: 3}\n", encoding="utf-8")
    spec = write_spec(tmp_path, "extends: resnet20\nname: x\nblocks: {b: b.yaml}\n"
                                "stages: {block: {type: b}}\n")
    diags = archcompiler.validate(spec)
    assert [(d.code, Path(d.span.file).name, d.span.line, d.span.col) for d in diags
            if d.span is not None] == [("ARC161", "b.yaml", 2, 40)]
    assert "width" in (diags[0].hint or "")


def test_json_schema_lists_declared_fields_through_the_config_model(tmp_path: Path) -> None:
    report = archcompiler.analyze(EXAMPLES / "convnext_cifar.yaml")
    kind = report.spec.blocks[0].block_type
    assert kind is not None
    fields = kind.config.model_json_schema()["properties"]
    assert set(fields) == {"type", "mlp_ratio", "kernel", "ls_init"}
    assert fields["kernel"]["maximum"] == 31


@pytest.mark.parametrize("spec", ["mbv2_cifar", "convnext_cifar"])
@pytest.mark.parametrize("detail", ["stage", "block", "layer"])
def test_examples_render_at_every_detail(spec: str, detail: str) -> None:
    report = archcompiler.analyze(EXAMPLES / f"{spec}.yaml")
    dot = archcompiler.to_dot(report, detail=detail)
    adds = [b.name for b in report.graph.blocks if b.shortcut != "none"]
    plain = [b.name for b in report.graph.blocks if b.shortcut == "none"]
    if detail == "block":  # one add node per residual, and none where the IR has none
        assert all(f'"{b}.add"' in dot for b in adds)
        assert not any(f'"{b}.add"' in dot for b in plain)
    if detail == "layer":  # every IR node is drawn
        assert all(f'"{n.name}"' in dot for n in report.graph.nodes if n.op != "flatten")


@pytest.mark.parametrize("spec", ["mbv2_cifar", "convnext_cifar"])
def test_examples_work_from_the_command_line(spec: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """validate, summary, build --check, render, diff and sweep on a YAML-block spec, with no
    Python written by the user: each exits 0 (a rule warning is not an error)."""
    import contextlib
    import io

    from archcompiler.cli import main

    monkeypatch.chdir(EXAMPLES)
    out = tmp_path
    grid = "stages.block.mlp_ratio=2,4" if spec == "convnext_cifar" else \
        "stages.block.expand_ratio=4,6"
    for argv in (["validate", f"{spec}.yaml"], ["summary", f"{spec}.yaml", "--depth", "stage"],
                 ["build", f"{spec}.yaml", "-o", str(out / "m.pt"), "--check"],
                 ["render", f"{spec}.yaml", "-o", str(out / "m.dot"), "--detail", "layer"],
                 ["diff", f"{spec}.yaml", f"{spec}.yaml", "--set-b", "head.classes=100"],
                 ["sweep", f"{spec}.yaml", "--grid", grid, "--write", str(out / "variants")]):
        text = io.StringIO()
        with contextlib.redirect_stdout(text), contextlib.redirect_stderr(io.StringIO()):
            assert main(argv) == 0, argv
    assert len(list((out / "variants").glob("*.yaml"))) == 2
    assert (out / "m.pt").stat().st_size > 0 and "->" in (out / "m.dot").read_text()

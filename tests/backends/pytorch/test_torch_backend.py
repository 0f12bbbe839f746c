"""The torch backend: modules built from the IR match the analysis, torchvision and torch's tools."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archcompiler  # noqa: E402
from archcompiler import SpecError  # noqa: E402
from archcompiler.analysis.report import Report  # noqa: E402
from archcompiler.backends.pytorch.build import BackendError, module_from_report  # noqa: E402
from archcompiler.backends.pytorch.check import ShapeCheck, check_shapes, export_program  # noqa: E402
from archcompiler.backends.pytorch.modules import BasicBlock, Bottleneck, PadShortcut  # noqa: E402
from archcompiler.language.zoo import builtin_names  # noqa: E402
from tests.conftest import DATA, write_spec  # noqa: E402

# One thread for this module's tests only (the fixture says why, and restores the count).
pytestmark = pytest.mark.usefixtures("one_torch_thread")
TORCHVISION = json.loads((DATA / "torchvision_resnets.json").read_text())["models"]


def measure(model: nn.Module, report: Report, device: str = "cpu") -> tuple[int, int, list[str]]:
    """Params, MACs (FlopCounterMode / 2, batch 1) and shape mismatches of one hooked forward.

    Written independently of `check_shapes`, so a bug there cannot hide one in the backend.
    """
    calls: dict[str, list[tuple[int, ...]]] = {}
    handles = []
    for name, module in model.named_modules():
        def hook(mod: nn.Module, args: object, out: torch.Tensor, name: str = name) -> None:
            calls.setdefault(name, []).append(tuple(out.shape[1:]))
        handles.append(module.register_forward_hook(hook))
    model.eval()
    x = torch.randn(1, *report.input_shape, device=device)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = model(x)
    finally:
        for h in handles:
            h.remove()
    want: dict[str, list[tuple[str, tuple[int, ...] | None]]] = {}
    for node in report.graph.nodes:
        if node.module is not None:
            want.setdefault(node.module, []).append((node.name, report.shape(node.name)))
    bad = []
    for module, nodes in want.items():
        got = calls.get(module, [])
        if [s for _, s in nodes] != got:
            bad.append(f"{module}: IR {nodes} vs torch {got}")
    if tuple(out.shape[1:]) != report.output_shape:
        bad.append(f"output {tuple(out.shape)} vs {report.output_shape}")
    params = sum(p.numel() for p in model.parameters())
    return params, counter.get_total_flops() // 2, bad


def assert_matches(report: Report, device: str) -> None:
    """Build the report's module on `device` and check params, MACs and every node's shape."""
    model = archcompiler.build_module(report, device=device, seed=0)
    params, macs, bad = measure(model, report, device)
    assert params == report.params
    assert macs == report.macs
    assert not bad, bad[:5]


def _sizes(name: str) -> list[int]:
    return [32, 40] if archcompiler.load_spec(name).input_shape[1] == 32 else [224, 160]


ZOO = [(name, size) for name in builtin_names() for size in _sizes(name)]


@pytest.mark.parametrize(("name", "size"), ZOO, ids=[f"{n}-{s}" for n, s in ZOO])
def test_zoo_matches_analysis(name: str, size: int) -> None:
    spec = archcompiler.load_spec(name)
    report = archcompiler.analyze(spec, (spec.input_shape[0], size, size))
    # ImageNet nets run on the meta device: shapes and FLOPs without arithmetic. The CIFAR nets
    # are cheap for real, and resnet1202's 600 blocks run faster on the CPU than through meta
    # kernels written in Python.
    assert_matches(report, "cpu" if size <= 40 else "meta")


def test_meta_device_counts_like_the_cpu() -> None:
    # The zoo test trusts meta tensors for FLOPs and shapes; check that on a real forward.
    report = archcompiler.analyze("resnext50_32x4d", (3, 64, 64))
    on_meta = measure(archcompiler.build_module(report, device="meta"), report, "meta")
    on_cpu = measure(archcompiler.build_module(report, seed=0), report, "cpu")
    assert on_meta == on_cpu
    assert on_cpu[:2] == (report.params, report.macs) and not on_cpu[2]


def _shapes(model: nn.Module) -> list[tuple[str, list[int]]]:
    return [(k, list(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("name", [n for n in TORCHVISION if n in builtin_names()])
def test_state_dict_matches_torchvision(name: str) -> None:
    ref = TORCHVISION[name]
    model = archcompiler.build_module(name, device="meta")
    assert _shapes(model) == [(k, v) for k, v in ref["state_dict"].items()]
    assert sum(p.numel() for p in model.parameters()) == ref["params"]
    assert archcompiler.analyze(name).macs == ref["macs"]


def test_state_dict_matches_torchvision_resnext101_64x4d(tmp_path: Path) -> None:
    # Not in the zoo, but three lines of spec away: the variant mechanism reaches it.
    path = write_spec(tmp_path, """
        spec_version: 1
        extends: resnext101_32x8d
        name: resnext101_64x4d
        stages: {block: {groups: 64, width_per_group: 4}}
    """)
    ref = TORCHVISION["resnext101_64x4d"]
    model = archcompiler.build_module(path, device="meta")
    assert _shapes(model) == [(k, v) for k, v in ref["state_dict"].items()]
    assert archcompiler.analyze(path).macs == ref["macs"]


def test_torchvision_names() -> None:
    model = archcompiler.build_module("resnet50", device="meta")
    top = [n for n, _ in model.named_children()]
    assert top == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                   "avgpool", "fc"]
    assert isinstance(model.layer1, nn.Sequential) and isinstance(model.layer1[0], Bottleneck)
    assert isinstance(model.avgpool, nn.AdaptiveAvgPool2d) and model.avgpool.output_size == (1, 1)
    assert isinstance(model.layer2[0].downsample, nn.Sequential)
    assert model.layer2[1].downsample is None
    assert isinstance(archcompiler.build_module("resnet18", device="meta").layer1[0], BasicBlock)


def test_seed_is_deterministic_and_private() -> None:
    before = torch.get_rng_state()
    a = archcompiler.build_module("resnet20", seed=7).state_dict()
    b = archcompiler.build_module("resnet20", seed=7).state_dict()
    c = archcompiler.build_module("resnet20", seed=8).state_dict()
    assert torch.equal(before, torch.get_rng_state())  # the global RNG was not touched
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["conv1.weight"], c["conv1.weight"])


def test_seed_does_not_depend_on_thread_count() -> None:
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = archcompiler.build_module("resnet18", seed=3).state_dict()
        torch.set_num_threads(2)
        two = archcompiler.build_module("resnet18", seed=3).state_dict()
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(one[k], two[k]) for k in one)


def test_no_seed_follows_the_global_rng() -> None:
    torch.manual_seed(11)
    a = archcompiler.build_module("resnet20").state_dict()
    torch.manual_seed(11)
    b = archcompiler.build_module("resnet20").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_torchvision_initialisation() -> None:
    model = archcompiler.build_module("resnet50", seed=0)
    w = model.layer3[0].conv2.weight  # 256x256x3x3: large enough for the statistics
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    assert abs(w.std().item() - math.sqrt(2 / fan_out)) < 0.02 * math.sqrt(2 / fan_out)
    bn = model.layer1[0].bn3
    assert torch.equal(bn.weight, torch.ones_like(bn.weight))
    assert torch.equal(bn.bias, torch.zeros_like(bn.bias))
    assert torch.equal(bn.running_var, torch.ones_like(bn.running_var))
    assert bn.num_batches_tracked.item() == 0
    bound = 1 / math.sqrt(2048)
    assert model.fc.bias.abs().max().item() <= bound
    assert model.fc.weight.abs().max().item() <= bound


def test_meta_device_allocates_nothing() -> None:
    model = archcompiler.build_module("wide_resnet101_2", device="meta")
    assert all(p.is_meta for p in model.parameters())
    assert all(b.is_meta for b in model.buffers())


def test_dtype() -> None:
    model = archcompiler.build_module("resnet20", seed=0, dtype=torch.float64)
    assert {p.dtype for p in model.parameters()} == {torch.float64}
    f32 = archcompiler.build_module("resnet20", seed=0)
    assert torch.equal(model.conv1.weight, f32.conv1.weight.double())


def test_zero_init_residual(tmp_path: Path) -> None:
    for base, last in (("resnet18", "bn2"), ("resnet50", "bn3")):
        path = write_spec(tmp_path, f"""
            spec_version: 1
            extends: {base}
            name: {base}
            zero_init_residual: true
        """, f"{base}.yaml")
        model = archcompiler.build_module(path, seed=0)
        for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
            for block in stage:
                assert not getattr(block, last).weight.any()
                assert block.bn1.weight.all()
                if block.downsample is not None:
                    assert block.downsample[1].weight.all()


def test_option_a_shortcut_pads_without_parameters() -> None:
    model = archcompiler.build_module("resnet20", seed=0)
    pad = model.layer2[0].shortcut
    assert isinstance(pad, PadShortcut)
    assert not list(pad.parameters()) and not list(pad.buffers())
    assert model.layer2[0].downsample is None
    x = torch.randn(2, 16, 32, 32)
    y = pad(x)
    assert y.shape == (2, 32, 16, 16)
    assert torch.equal(y[:, 8:24], x[:, :, ::2, ::2])  # (32 - 16) // 2 = 8 zero channels in front
    assert not y[:, :8].any() and not y[:, 24:].any()
    odd = PadShortcut(3, 8, 3)(torch.randn(1, 3, 7, 7))  # 5 extra channels: 2 in front, 3 behind
    assert odd.shape == (1, 8, 3, 3) and not odd[:, :2].any() and not odd[:, 5:].any()


@pytest.mark.parametrize(("option", "params"), [("A", 11_515_688), ("B", 11_689_512),
                                                ("C", 12_043_816)])
def test_shortcut_options_on_resnet18(tmp_path: Path, option: str, params: int) -> None:
    path = write_spec(tmp_path, f"""
        spec_version: 1
        extends: resnet18
        name: resnet18_{option}
        stages: {{shortcut: {option}}}
    """)
    report = archcompiler.analyze(path)
    model = archcompiler.build_module(report, device="meta")
    assert sum(p.numel() for p in model.parameters()) == report.params == params
    assert_matches(archcompiler.analyze(path, (3, 64, 64)), "cpu")


def test_variants_build_what_they_say(tmp_path: Path) -> None:
    path = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: odd
        stem: {pool: {kind: avg, kernel: 2, stride: 2, padding: 0}}
        stages: {shortcut: none}
        activation: gelu
        head: {dropout: 0.25, classes: 7}
        rules: {name_matches_depth: off}
    """)
    report = archcompiler.analyze(path, (3, 64, 64))
    model = archcompiler.build_module(report, seed=0)
    assert model.maxpool is None and isinstance(model.avgpool_stem, nn.AvgPool2d)
    # Each activation module is named for its kind, as torchvision names its ReLUs `relu`.
    assert isinstance(model.gelu, nn.GELU) and isinstance(model.layer1[0].gelu, nn.GELU)
    assert not hasattr(model, "relu")
    assert isinstance(model.dropout, nn.Dropout) and model.dropout.p == 0.25
    assert "residual=False" in repr(model.layer1[0]) and model.layer2[0].downsample is None
    assert "+" not in type(model.layer1[0])._archc_source  # a plain block adds nothing
    assert_matches(report, "cpu")
    silu = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet20
        name: resnet20
        activation: silu
        stem: {pool: {kind: max, kernel: 3, stride: 2}}
    """, "silu.yaml")
    model = archcompiler.build_module(silu, seed=0)
    assert isinstance(model.layer3[2].silu, nn.SiLU) and isinstance(model.maxpool, nn.MaxPool2d)


def test_input_shape_argument() -> None:
    model = archcompiler.build_module("resnet50", device="meta", input_shape=96)
    assert model.fc.in_features == 2048
    assert archcompiler.build_module("resnet20", device="meta", input_shape=(48, 40)).conv1.in_channels == 3
    with pytest.raises(ValueError, match="height"):
        archcompiler.build_module("resnet20", device="meta", input_shape=(3, 0, 0))


def test_spec_errors_raise(tmp_path: Path) -> None:
    path = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: resnet18
        stages: {widths: [64, 100, 256, 512]}
    """)
    with pytest.raises(SpecError) as info:
        archcompiler.build_module(path)
    assert any(d.code == "ARC302" for d in info.value.diagnostics)
    with pytest.raises(SpecError):
        archcompiler.build_module("no_such_spec")


def _rewired(name: str, node: str, **change: object) -> Report:
    import dataclasses

    report = archcompiler.analyze("resnet18")
    nodes = list(report.graph.nodes)
    i = next(k for k, n in enumerate(nodes) if n.name == node)
    nodes[i] = nodes[i]._replace(**change)
    return dataclasses.replace(report, graph=dataclasses.replace(report.graph, nodes=tuple(nodes)))


def test_the_forward_follows_the_ir_and_refuses_what_it_cannot_run() -> None:
    # Whatever the IR says is what the generated forward does: skip an activation...
    skipped = _rewired("resnet18", "layer1.0.conv2", inputs=("layer1.0.bn1",))
    source = type(module_from_report(skipped, device="meta").layer1[0])._archc_source
    lines = [line.strip() for line in source.splitlines()]
    relu = next(line for line in lines if "self.relu(" in line)
    conv2 = next(line for line in lines if "self.conv2(" in line)
    # conv2 reads bn1's value, not the ReLU's (which the unchanged graph would pass to it).
    assert conv2.split("self.conv2(")[1].rstrip(")") != relu.split(" = ")[0], source
    assert conv2.split("self.conv2(")[1].rstrip(")") == \
        next(line for line in lines if "self.bn1(" in line).split(" = ")[0], source
    # ...but a node that reads a value computed after it, or a module outside its block, is a bug.
    with pytest.raises(BackendError, match=r"layer1\.0"):
        module_from_report(_rewired("resnet18", "layer1.0.conv1", inputs=("layer1.0.bn2",)),
                           device="meta")
    with pytest.raises(BackendError, match=r"layer1\.0"):
        module_from_report(_rewired("resnet18", "layer1.0.conv1", module="elsewhere.conv1"),
                           device="meta")


def test_check_shapes_reports_a_wrong_prediction() -> None:

    report = archcompiler.analyze("resnet20")
    model = archcompiler.build_module(report, seed=0)
    assert check_shapes(model, report).ok
    state = {k: v.clone() for k, v in model.state_dict().items()}
    info = report.nodes["layer2.0.conv1"]
    report.nodes["layer2.0.conv1"] = info._replace(shape=(32, 17, 16))
    result = check_shapes(model, report)
    assert not result.ok and "layer2.0.conv1" in result.mismatches[0]
    # The check runs in eval mode: BN statistics are untouched and the mode is restored.
    assert model.training
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_torch_export_with_dynamic_batch() -> None:
    report = archcompiler.analyze("resnet20")
    model = archcompiler.build_module(report, seed=0)
    program = export_program(model, report)
    for batch in (1, 3):
        x = torch.randn(batch, 3, 32, 32)
        with torch.no_grad():
            assert torch.allclose(program.module()(x), model(x), atol=1e-5)


@pytest.mark.slow
def test_torch_compile_fullgraph_has_no_graph_breaks() -> None:
    model = archcompiler.build_module("resnet20", seed=0)
    x = torch.randn(2, 3, 32, 32)
    assert torch._dynamo.explain(model)(x).graph_break_count == 0
    # aot_eager traces forward and backward through AOT autograd in seconds; inductor's C++
    # code generation takes about a minute here, so it has its own opt-in test below.
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    out = compiled(x)
    out.sum().backward()
    assert model.conv1.weight.grad is not None
    torch._dynamo.reset()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit internals under inductor
@pytest.mark.skipif(os.environ.get("ARCHC_TEST_INDUCTOR") != "1",
                    reason="inductor compiles for about a minute on 2 cores; "
                           "set ARCHC_TEST_INDUCTOR=1")
def test_torch_compile_inductor() -> None:
    model = archcompiler.build_module("resnet20", seed=0).eval()
    x = torch.randn(2, 3, 32, 32)
    torch._dynamo.reset()
    with torch.no_grad():
        got = torch.compile(model, fullgraph=True)(x)
        assert torch.allclose(got, model(x), atol=1e-4)
    torch._dynamo.reset()


def test_channels_last_and_autocast() -> None:
    model = archcompiler.build_module("resnet18", seed=0).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref = model(x)
        last = model.to(memory_format=torch.channels_last)
        assert last.conv1.weight.is_contiguous(memory_format=torch.channels_last)
        got = last(x.to(memory_format=torch.channels_last))
        assert torch.allclose(got, ref, atol=1e-4, rtol=1e-4)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(x)
    assert low.dtype == torch.bfloat16
    assert torch.isfinite(low).all()
    assert (low.float() - ref).abs().max().item() < 0.1 * ref.abs().max().item() + 0.1


def test_training_step_and_option_a_backward() -> None:
    model = archcompiler.build_module("resnet20", seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    assert all(p.grad is not None for p in model.parameters())
    assert model.bn1.num_batches_tracked.item() == 1


@pytest.mark.torchvision
def test_matches_torchvision_outputs() -> None:
    models = pytest.importorskip("torchvision.models")
    for name, size in (("resnet18", 64), ("resnext50_32x4d", 64)):
        ref = getattr(models, name)().eval()
        mine = archcompiler.build_module(name).eval()
        mine.load_state_dict(ref.state_dict())
        x = torch.randn(2, 3, size, size)
        with torch.no_grad():
            assert torch.equal(mine(x), ref(x))


# `archc build`


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_cli_build_state_dict_with_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    from archcompiler.cli import main

    out = tmp_path / "r20.pt"
    assert main(["build", "resnet20", "-o", str(out), "--check", "--seed", "5"]) == 0
    text = capsys.readouterr().out
    assert "check: ok: 61 node shapes match" in text and f"wrote {out}" in text
    saved = torch.load(out)
    ref = archcompiler.build_module("resnet20", seed=5).state_dict()
    assert list(saved) == list(ref) and all(torch.equal(saved[k], ref[k]) for k in ref)
    assert _only(tmp_path) == ["r20.pt"]  # no temporary file left behind
    small = tmp_path / "r18.pt"
    assert main(["build", "resnet18", "--input", "3x64x64", "-o", str(small), "--check"]) == 0
    assert "input 2x3x64x64" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_build_exported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from archcompiler.cli import main

    out = tmp_path / "r20.pt2"
    assert main(["build", "resnet20", "-o", str(out), "--format", "exported"]) == 0
    assert "as exported" in capsys.readouterr().out
    program = torch.export.load(out)
    model = archcompiler.build_module("resnet20", seed=0).eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(program.module()(x), model(x), atol=1e-5)


def test_cli_build_check_mismatch_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from archcompiler.cli import build as build_cli
    from archcompiler.cli import main

    monkeypatch.setattr(build_cli, "check_shapes",
                        lambda model, report: ShapeCheck(61, ["layer1.0.conv1: differs"]))
    out = tmp_path / "r20.pt"
    assert main(["build", "resnet20", "-o", str(out), "--check"]) == 1
    captured = capsys.readouterr()
    assert "check: FAILED: 1 of 61" in captured.out and "layer1.0.conv1" in captured.err
    assert _only(tmp_path) == []


@pytest.mark.parametrize(("error", "code"), [(OSError(28, "No space left on device"), 2),
                                             (RuntimeError("pickling failed"), 3)])
def test_cli_build_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str], error: Exception, code: int
                             ) -> None:
    from archcompiler.cli import main

    def failing_save(obj: object, f: object) -> None:
        f.write(b"half a file")  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(torch, "save", failing_save)
    old = tmp_path / "old.pt"
    old.write_bytes(b"previous build")
    assert main(["build", "resnet20", "-o", str(old)]) == code
    assert old.read_bytes() == b"previous build"  # the old file survives intact
    assert main(["build", "resnet20", "-o", str(tmp_path / "new.pt")]) == code
    assert _only(tmp_path) == ["old.pt"]  # neither a partial file nor a temporary one
    assert "archc:" in capsys.readouterr().err


def test_cli_build_refuses_an_invalid_spec(tmp_path: Path) -> None:
    from archcompiler.cli import main

    path = write_spec(tmp_path, """
        spec_version: 1
        extends: resnet18
        name: resnet18
        stages: {shortcut: identity}
    """)
    assert main(["build", str(path), "-o", str(tmp_path / "x.pt")]) == 1
    assert _only(tmp_path) == ["spec.yaml"]


def test_plain_blocks_say_so_in_print_model(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "spec_version: 1\nextends: resnet20\nname: plain20\n"
                      "stages: {shortcut: none}\n", "plain.yaml")
    text = str(archcompiler.build_module(spec, device="meta"))
    assert "residual=False" in text


def test_seed_must_be_a_torch_seed() -> None:
    with pytest.raises(ValueError, match="seed must be an integer"):
        archcompiler.build_module("resnet20", seed=1.5, device="meta")  # type: ignore[arg-type]


def test_resnet_d_stride_1_downsample_keeps_timm_indices() -> None:
    """The stride-1 shortcut has no pool: index 0 is a stateless Identity, as in timm, so the
    state_dict keys stay `downsample.1.*` and `downsample.2.*`."""
    model = archcompiler.build_module("resnet50d")
    assert isinstance(model.layer1[0].downsample[0], nn.Identity)
    keys = [k for k in model.state_dict() if k.startswith("layer1.0.downsample.")]
    assert keys and all(k.startswith(("layer1.0.downsample.1.", "layer1.0.downsample.2."))
                        for k in keys)
    assert isinstance(model.layer2[0].downsample[0], nn.AvgPool2d)

"""The op set is open and described once: every op, norm and activation the analysis accepts has
a torch lowering that builds, with the shape, params and buffers its record promises."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from archcompiler.backends.pytorch import lowerings  # noqa: E402
from archcompiler.ir.ops import (  # noqa: E402
    ACTIVATIONS,
    NORMS,
    OPS,
    Activation,
    Add,
    AvgPool,
    Conv2d,
    Dropout,
    DropPath,
    Flatten,
    GlobalAvgPool,
    Input,
    LayerScale,
    Linear,
    MaxPool,
    Mul,
    Op,
    OpAttrs,
    PadChannels,
    make_norm,
)
from archcompiler.language.blockfile import OpSpec  # noqa: E402
from archcompiler.language.schema import spec_model  # noqa: E402

# One example of every op record, with the input shapes it is applied to.
SAMPLES: dict[str, tuple[OpAttrs, list[tuple[int, ...]]]] = {
    "input": (Input((3, 8, 8)), []),
    "conv2d": (Conv2d(4, 8, 3, 2, 1, groups=2, bias=True), [(4, 9, 9)]),
    "batch_norm": (make_norm("batch", 4), [(4, 5, 5)]),
    "layer_norm": (make_norm("layer", 4), [(4, 5, 5)]),
    "group_norm": (make_norm("group", 64), [(64, 3, 3)]),
    "activation": (Activation("relu"), [(4, 5, 5)]),
    "max_pool": (MaxPool(3, 2, 1), [(4, 9, 9)]),
    "avg_pool": (AvgPool(2, 2, 0, ceil_mode=True, count_include_pad=False), [(4, 9, 9)]),
    "pad_channels": (PadChannels(4, 8, 2), [(4, 9, 9)]),
    "add": (Add(), [(4, 5, 5), (4, 5, 5)]),
    "mul": (Mul(), [(4, 5, 5), (4, 1, 1)]),
    "layer_scale": (LayerScale(4, 0.5), [(4, 5, 5)]),
    "drop_path": (DropPath(0.1), [(4, 5, 5)]),
    "global_avg_pool": (GlobalAvgPool(), [(4, 5, 5)]),
    "flatten": (Flatten(), [(4, 1, 1)]),
    "dropout": (Dropout(0.2), [(4,)]),
    "linear": (Linear(4, 3), [(4,)]),
}


def test_every_op_has_a_sample_and_a_record() -> None:
    assert set(SAMPLES) == set(OPS.names()) == {str(op) for op in Op}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_op_builds_in_torch_as_its_record_says(name: str) -> None:
    attrs, ins = SAMPLES[name]
    low = lowerings.lowering(name)
    out = attrs.infer(ins)
    if low.make is None:  # an expression: it must format with the op's arity
        assert low.expression is not None and attrs.FUNCTIONAL
        assert low.expression.format(*(f"v{i}" for i in range(max(attrs.ARITY, 1))))
        return
    assert not attrs.FUNCTIONAL
    module = low.make(attrs, torch.device("cpu"), False)
    if low.init is not None:
        low.init(module, attrs, torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in module.parameters()) == attrs.params()
    assert sum(b.numel() * b.element_size() for b in module.buffers()) == attrs.buffer_bytes(4)
    stateful = any(True for _ in module.parameters()) or any(True for _ in module.buffers())
    assert stateful == (low.init is not None), "a stateful module needs an initialiser"
    module.eval()
    y = module(torch.randn(2, *ins[0]))
    assert tuple(y.shape[1:]) == out


@pytest.mark.parametrize("kind", ACTIVATIONS.names())
def test_every_activation_builds(kind: str) -> None:
    assert kind in lowerings.ACTIVATION_MODULES
    module = lowerings.make_layer(Activation(kind), torch.device("cpu"), True)
    assert isinstance(module, nn.Module)
    assert module(torch.randn(2, 3)).shape == (2, 3)


@pytest.mark.parametrize("kind", NORMS.names())
def test_every_norm_kind_builds(kind: str) -> None:
    attrs = make_norm(kind, 32)
    module = lowerings.make_layer(attrs, torch.device("cpu"), False)
    assert sum(p.numel() for p in module.parameters()) == attrs.params()


def test_the_schema_offers_exactly_the_registered_kinds() -> None:
    schema = spec_model().model_json_schema()
    assert set(schema["properties"]["activation"]["enum"]) == set(ACTIVATIONS.names())
    assert set(schema["properties"]["norm"]["enum"]) == set(NORMS.names())


EVERY_OP = """
extends: resnet18
name: every_op
input: {height: 64, width: 64}
blocks:
  every:
    fields: {p: {type: float, default: 0.1, min: 0.0, max: 0.9, description: dropout}}
    ops:
      - {name: conv1, op: conv, out: out, kernel: 3, stride: stride}
      - {name: norm1, op: norm, kind: group}
      - {name: act1, op: act, kind: hardswish}
      - {name: pool1, op: max_pool, kernel: 3, stride: 1, padding: 1}
      - {name: pool2, op: avg_pool, kernel: 3, stride: 1, padding: 1}
      - {name: drop, op: dropout, p: p}
      - {name: ls, op: layer_scale, init: 0.5}
      - {name: se.pool, op: global_avg_pool, role: branch}
      - {name: se.gate, op: act, kind: sigmoid, role: branch}
      - {name: scale, op: mul, inputs: [ls, se.gate]}
      - {name: twice, op: add, inputs: [scale, ls]}
stages: {block: {type: every}}
rules: {name_matches_depth: off}
"""


def test_every_op_a_block_file_can_name_builds_and_matches_the_analysis() -> None:
    import archcompiler
    from archcompiler.backends.pytorch.check import check_shapes

    report = archcompiler.analyze(EVERY_OP)
    assert report.ok, report.diagnostics
    used = {n.op for n in report.graph.nodes}
    kinds = {getattr(n.attrs, "kind", None) for n in report.graph.nodes}
    assert {"group_norm", "max_pool", "avg_pool", "dropout", "layer_scale", "mul", "add",
            "global_avg_pool"} <= used and {"hardswish", "sigmoid"} <= kinds
    assert set(OpSpec.model_fields["op"].annotation.__args__) == {  # type: ignore[union-attr]
        "conv", "norm", "act", "add", "mul", "layer_scale", "global_avg_pool", "max_pool",
        "avg_pool", "dropout"}
    model = archcompiler.build_module(report, seed=0)
    assert sum(p.numel() for p in model.parameters()) == report.params
    assert check_shapes(model, report).ok


def test_a_missing_lowering_is_an_error_where_it_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(lowerings.LOWERINGS, Op.LAYER_SCALE)
    with pytest.raises(lowerings.BackendError, match="layer_scale has no torch lowering"):
        lowerings.make_layer(LayerScale(4), torch.device("cpu"), False)

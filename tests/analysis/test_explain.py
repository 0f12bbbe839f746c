"""`archc explain`: the worked arithmetic is the op records' own, and evaluates to the analysis."""

from __future__ import annotations

import ast
import json
import operator

import pytest

import archcompiler
from archcompiler.analysis.explain import UnknownNode, explain
from archcompiler.cli import main
from archcompiler.language.zoo import builtin_names

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv}


def evaluate(python: str) -> int:
    """Evaluate the explained expression's Python spelling, integers and + - * // only."""
    def walk(node: ast.expr) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return int(_BINOPS[type(node.op)](walk(node.left), walk(node.right)))
        raise AssertionError(f"unexpected expression {ast.dump(node)}")
    return walk(ast.parse(python, mode="eval").body)


@pytest.mark.parametrize("name", builtin_names())
def test_explained_arithmetic_evaluates_to_the_analysis(name: str) -> None:
    """Every layer of every zoo spec: its formulas, read back from the JSON text, give the
    analysis's output size, params and MACs; and no layer with params or MACs lacks a formula."""
    report = archcompiler.analyze(name)
    data = json.loads(json.dumps(explain(report).to_dict()))
    assert len(data["layers"]) == len(report.graph.nodes) - 1  # all but the input
    for layer in data["layers"]:
        info = report.nodes[layer["name"]]
        assert info.shape is not None
        got = {f["quantity"]: f for f in layer["formulas"]}
        want = {"params": info.params, "macs": info.macs}
        if len(info.shape) == 3:
            want |= {"height": info.shape[1], "width": info.shape[2]}
        for quantity, formula in got.items():
            assert evaluate(formula["python"]) == formula["result"] == want[quantity], \
                (name, layer["name"], quantity, formula)
        for quantity in ("params", "macs"):
            if want[quantity]:
                assert quantity in got, (name, layer["name"], quantity)
        if layer["settings"].get("stride") is not None and layer["op"] != "pad_channels":
            assert {"height", "width"} <= set(got), (name, layer["name"])


def test_resnet34_conv1_shows_the_papers_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's example: (224 + 2·3 − 7) / 2 + 1 = 112 and 64·3·7·7 = 9,408."""
    assert main(["explain", "resnet34", "conv1"]) == 0
    out = capsys.readouterr().out
    assert "(224 + 2·3 − 7) / 2 + 1 = 112" in out
    assert "64·3·7·7 = 9,408" in out
    assert "in 3x224x224 -> out 64x112x112" in out
    assert "kernel 7, stride 2, padding 3, groups 1" in out
    assert "64·3·7·7·112·112 = 118,013,952" in out


def test_ceil_mode_pool_and_bias() -> None:
    """A ceil-mode pool shows its extra term; a biased conv adds its bias to the params."""
    from archcompiler.ir.ops import Conv2d, MaxPool

    pool = MaxPool(kernel=3, stride=2, padding=0, ceil_mode=True)
    out = pool.infer([(8, 56, 56)])
    height = pool.formulas([(8, 56, 56)], out)[0]
    assert height.text() == "(56 + 2·0 − 3 + (2 − 1)) / 2 + 1 = 28" and out[1] == 28
    conv = Conv2d(3, 64, 7, 2, 3, bias=True)
    params = conv.formulas([(3, 224, 224)], conv.infer([(3, 224, 224)]))[2]
    assert params.text() == "64·3·7·7 + 64 = 9,472" and conv.params() == 9472


def test_block_shortcut_reasons() -> None:
    """A downsampling block of option B projects, naming the change; a same-shape block keeps
    the identity; option A zero-pads."""
    report = archcompiler.analyze("resnet34")
    blocks = {b.name: b for b in explain(report, "layer2").blocks}
    assert blocks["layer2.0"].shortcut == "projection"
    assert "channels 64→128, stride 2" in blocks["layer2.0"].reason
    assert blocks["layer2.1"].shortcut == "identity"
    assert "added unchanged" in blocks["layer2.1"].reason
    a = explain(archcompiler.analyze("resnet20"), "layer2.0").blocks[0]
    assert a.shortcut == "pad" and "option A" in a.reason


def test_diagnostics_carry_the_papers_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    """A broken rule is explained with the paper's sentence and the fix, in text and JSON."""
    args = ["explain", "resnet34", "--set", "stages.widths=[64,96,256,512]"]
    assert main(args) == 1
    out = " ".join(capsys.readouterr().out.split())  # the text is wrapped
    assert "ARC302 error: layer2" in out and "the number of filters is doubled" in out
    assert main([*args, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    rule = next(d for d in data["diagnostics"] if d["code"] == "ARC302")
    assert "preserve the time complexity" in rule["why"] and rule["fix"]


def test_unknown_node_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A NODE that names nothing: exit 2, one line, a suggestion."""
    assert main(["explain", "resnet34", "layer2.0.conv9"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" in err and "Traceback" not in err
    with pytest.raises(UnknownNode):
        explain(archcompiler.analyze("resnet18"), "nothing")

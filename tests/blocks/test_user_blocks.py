"""A block type registered from user code gets validation, analysis, rules, a module and a diagram."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

import archcompiler
from archcompiler import BlockBuilder, BlockConfig, BlockType, SpecError
from archcompiler.language.schema import json_schema
from tests.conftest import write_spec


class Bottleneck5x5Config(BlockConfig):
    """A bottleneck whose middle conv is 5x5."""

    type: Literal["bottleneck5x5"] = Field(description="Block type tag.")
    expansion: Annotated[int, Field(gt=0, le=8)] = Field(4, description="out = width x expansion.")


class Bottleneck5x5(BlockType[Bottleneck5x5Config]):
    """1x1, 5x5 (strided), 1x1, as a user would write it from the builder's vocabulary."""

    config = Bottleneck5x5Config
    module_class = "Bottleneck"  # so isinstance(m, Bottleneck) holds, as for timm's variants

    def expansion(self, cfg: Bottleneck5x5Config) -> int:
        return cfg.expansion

    def lower(self, cfg: Bottleneck5x5Config, x: str, g: BlockBuilder) -> str:
        b = g.block
        h = g.conv("conv1", x, b.in_channels, b.width, 1)
        h = g.bn("bn1", h, b.width)
        h = g.act("relu1", h)
        h = g.conv("conv2", h, b.width, b.width, 5, b.stride)
        h = g.bn("bn2", h, b.width)
        h = g.act("relu2", h)
        h = g.conv("conv3", h, b.width, b.out_channels, 1)
        h = g.bn("bn3", h, b.out_channels, residual_last=True)
        return g.residual(h, x)


@pytest.fixture
def registered() -> Iterator[None]:
    """Register the 5x5 bottleneck for one test, and always take it away again."""
    archcompiler.register_block(Bottleneck5x5)
    try:
        yield
    finally:
        archcompiler.unregister_block("bottleneck5x5")


VARIANT = """\
extends: resnet50
name: resnet50_5x5
stages: {block: {type: bottleneck5x5}}
"""


def test_a_registered_block_is_analysed(registered: None, tmp_path: Path) -> None:
    report = archcompiler.analyze(write_spec(tmp_path, VARIANT))
    assert report.ok, report.diagnostics
    # Each block's 3x3 became a 5x5: (25 - 9) x width^2 more weights, from layer1 to layer4.
    extra = sum(d * 16 * w * w for d, w in zip((3, 4, 6, 3), (64, 128, 256, 512)))
    assert report.params == 25_557_032 + extra
    assert report.shape("layer2.0.conv2") == (128, 28, 28)
    assert {b.kind for b in report.graph.blocks} == {"bottleneck5x5"}
    # The rules see it too: 50 weighted layers, as the name says.
    assert not [d for d in report.diagnostics if d.code == "ARC306"]


@pytest.mark.slow
def test_a_registered_block_builds_what_the_analysis_says(registered: None,
                                                          tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from archcompiler.backends.pytorch.modules import Bottleneck
    from tests.backends.pytorch.test_torch_backend import measure

    spec = write_spec(tmp_path, VARIANT + "input: {height: 64, width: 64}\n")
    report = archcompiler.analyze(spec)
    model = archcompiler.build_module(report, seed=0)
    params, macs, bad = measure(model, report)
    assert (params, macs, bad) == (report.params, report.macs, [])
    assert isinstance(model.layer3[2], Bottleneck)
    assert model.layer2[0].conv2.kernel_size == (5, 5) and model.layer2[0].conv2.stride == (2, 2)
    assert torch.isfinite(model.eval()(torch.randn(1, 3, 64, 64))).all()


def test_a_registered_block_is_drawn_and_published(registered: None, tmp_path: Path) -> None:
    dot = archcompiler.to_dot(write_spec(tmp_path, VARIANT))
    assert "5x5 conv, 64" in dot and "bottleneck5x5" in dot
    tags = json.dumps(json_schema())
    assert '"bottleneck5x5"' in tags


def test_its_fields_are_validated_with_locations(registered: None, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """\
        extends: resnet50
        name: bad5x5
        stages: {block: {type: bottleneck5x5, expanson: 2}}
    """)
    with pytest.raises(SpecError) as info:
        archcompiler.load_spec(spec)
    (diag,) = info.value.diagnostics
    assert diag.code == "ARC101" and diag.span is not None and diag.span.line == 3
    assert diag.hint == "did you mean 'expansion'?"


def test_a_spec_names_only_registered_blocks_and_imports_nothing(tmp_path: Path) -> None:
    for tag in ("bottleneck5x5", "mypackage.blocks.Custom", "os.system"):
        spec = write_spec(tmp_path, f"extends: resnet50\nname: x\nstages: {{block: {{type: "
                                    f"'{tag}'}}}}\n")
        with pytest.raises(SpecError) as info:
            archcompiler.load_spec(spec)
        # An unknown tag gets the choices; one that names code is refused as such, pointing at
        # --plugin, since a spec can never import Python.
        want = "ARC105" if tag == "bottleneck5x5" else "ARC107"
        assert [d.code for d in info.value.diagnostics] == [want]
        hint = info.value.diagnostics[0].hint or ""
        assert ("bottleneck" in hint) if want == "ARC105" else ("--plugin" in hint)
    assert "mypackage" not in sys.modules


def test_registration_is_strict() -> None:
    with pytest.raises(ValueError, match="already registered"):
        archcompiler.register_block(archcompiler.blocks.BLOCKS.get("basic"))

    class NoTag(BlockConfig):
        pass

    class Untagged(Bottleneck5x5):
        config = NoTag  # type: ignore[assignment]

    with pytest.raises(TypeError, match="Literal"):
        archcompiler.register_block(Untagged)
    with pytest.raises(TypeError, match="BlockType"):
        archcompiler.register_block(object())  # type: ignore[type-var]
    with pytest.raises(KeyError, match="did you mean 'basic'"):
        archcompiler.unregister_block("basik")


def test_unregistering_restores_the_schema() -> None:
    before = json_schema()
    archcompiler.register_block(Bottleneck5x5)
    assert json_schema() != before
    archcompiler.unregister_block("bottleneck5x5")
    assert json_schema() == before


def _faulty(tag: str, lower: object) -> BlockType[Any]:
    """A block type whose `lower` is the given function."""
    config = type(f"{tag}Config", (BlockConfig,), {
        "__annotations__": {"type": Literal[tag]},  # type: ignore[valid-type]
        "type": Field(description="Block type tag."), "__doc__": "A faulty block."})

    class Faulty(BlockType[Any]):
        """A block whose lowering breaks one IR invariant."""

        module_class = "BasicBlock"

        def lower(self, cfg: Any, x: str, g: BlockBuilder) -> str:
            """The faulty lowering."""
            return lower(x, g)  # type: ignore[operator,no-any-return]

    Faulty.config = config  # type: ignore[assignment]
    return Faulty()


def _conv(g: BlockBuilder, name: str, x: str, **kw: Any) -> str:
    b = g.block
    return g.conv(name, x, b.in_channels, b.out_channels, 3, b.stride, **kw)


FAULTS: dict[str, tuple[object, str]] = {
    "twice": (lambda x, g: _conv(g, "conv1", _conv(g, "conv1", x)), "is used twice"),
    "selfloop": (lambda x, g: g.op("loop", archcompiler.ir.ops.Add(), (x, g.name("loop"))),
                 "reads itself"),
    "dunder": (lambda x, g: _conv(g, "conv1", x) and g.op(
        "act", archcompiler.ir.ops.Activation("relu"), (g.name("conv1"),), module="__class__"),
               "names the module"),
    "badact": (lambda x, g: g.op("act", archcompiler.ir.ops.Activation("swishy"), (x,)),
               "unknown activation 'swishy'"),
    "returnsnone": (lambda x, g: None, "returned None"),
    "raises": (lambda x, g: {}["missing"], "KeyError"),
}


@pytest.mark.parametrize("tag", sorted(FAULTS))
def test_faulty_user_blocks_are_caught_at_validate(tag: str, tmp_path: Path) -> None:
    lower, message = FAULTS[tag]
    block = _faulty(tag, lower)
    archcompiler.register_block(block)
    try:
        spec = write_spec(tmp_path, f"extends: resnet20\nname: x\nstages: {{block: {{type: {tag}}}}}\n")
        diags = archcompiler.validate(spec)
    finally:
        archcompiler.unregister_block(tag)
    assert len(diags) == 1 and diags[0].code in ("ARC170", "ARC171"), diags
    assert message in diags[0].message and "test_user_blocks.py" in diags[0].message
    assert diags[0].span is not None and diags[0].span.line == 3


@pytest.mark.parametrize("tag", ["", "x\ny", "../x", "_private", "a b"])
def test_block_tags_are_identifiers(tag: str) -> None:
    block = _faulty(tag, lambda x, g: x)
    with pytest.raises(ValueError, match="must be an identifier"):
        archcompiler.register_block(block)

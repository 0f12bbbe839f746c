"""Hundreds of randomly generated valid specs: the built module agrees with the analysis.

Each spec is drawn from its own seeded RNG, so a failure names a spec that can be rebuilt alone
(`_spec_text(i)`). Design rules are switched off, since random widths break rules (i) and (ii)
on purpose; the specs must still pass shape inference, which is what the checks compare with.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archcompiler  # noqa: E402
from archcompiler.backends.pytorch.check import check_shapes  # noqa: E402
from archcompiler.ir.ops import ACTIVATIONS, NORMS  # noqa: E402
from archcompiler.language.zoo import specs_dir  # noqa: E402
from tests.backends.pytorch.test_torch_backend import measure  # noqa: E402
from tests.conftest import write_spec  # noqa: E402

# slow: hundreds of built modules; one torch thread for many small builds (see the fixture)
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]

COUNT = 240
RULES_OFF = ("{same_map_same_width: off, double_on_halve: off, complexity_preserved: off, "
             "name_matches_depth: off, stride_within_kernel: off, exact_downsampling: off}")
WIDTHS = (4, 8, 12, 16, 24, 32, 48)


def _block(rng: random.Random) -> tuple[str, int]:
    """A block mapping of any registered type as YAML flow text, and its expansion."""
    kind = rng.choice(("basic", "basic", "preact_basic", "bottleneck", "bottleneck",
                       "preact_bottleneck", "se_bottleneck"))
    if kind == "basic":
        return "{type: basic}", 1
    if kind == "preact_basic":
        return f"{{type: preact_basic, dropout: {rng.choice((0.0, 0.2))}}}", 1
    expansion = rng.choice((1, 2, 4))
    groups = rng.choice((1, 1, 2, 4))
    # width_per_group >= 16 keeps int(width * wpg / 64) >= 1 for every width drawn here.
    wpg = rng.choice((16, 32, 64, 64, 128))
    at = rng.choice(("1x1", "3x3"))
    se = (f", se_reduction: {rng.choice((2, 4, 16))}, se_divisor: {rng.choice((1, 4))}"
          if kind == "se_bottleneck" else "")
    return (f"{{type: {kind}, expansion: {expansion}, groups: {groups}, "
            f"width_per_group: {wpg}, downsample_at: {at}{se}}}"), expansion


def _spec_text(i: int) -> str:
    """Spec number i as YAML text."""
    rng = random.Random(10_000 + i)
    n = rng.randint(1, 4)
    shortcut = rng.choice(("A", "B", "C", "none", "B", "A"))
    stem_out = rng.choice(WIDTHS)
    block, expansion = _block(rng)
    widths = [rng.choice(WIDTHS) for _ in range(n)]
    if shortcut == "A":
        # Option A pads channels, so outputs may never shrink: sort the widths, and keep the
        # stem no wider than the first stage's output.
        widths.sort()
        stem_out = min(stem_out, widths[0] * expansion)
    strides = [rng.choice((1, 2, 2)) for _ in range(n)]
    if rng.random() < 0.1:
        strides[rng.randrange(n)] = 3
    depths = [rng.randint(1, 3) for _ in range(n)]
    kernel = rng.choice((1, 3, 5, 7))
    stem_stride = rng.choice((1, 2))
    deep = f", deep: {[rng.choice(WIDTHS) for _ in range(rng.randint(1, 2))]}" \
        if rng.random() < 0.2 else ""
    norm = ", norm: false" if rng.random() < 0.2 else ""
    pool = rng.choice(("", "", "{kind: max, kernel: 3, stride: 2}",
                       "{kind: avg, kernel: 2, stride: 2, padding: 0}"))
    height = rng.randint(12, 72)
    width = height if rng.random() < 0.7 else rng.randint(12, 72)
    lines = [
        "spec_version: 1",
        f"name: random_{i}",
        f"input: {{channels: {rng.choice((1, 3, 4))}, height: {height}, width: {width}}}",
        f"stem:\n  conv: {{out_channels: {stem_out}, kernel: {kernel}, stride: {stem_stride}"
        f"{deep}{norm}}}"
        + (f"\n  pool: {pool}" if pool else ""),
        "stages:",
        f"  block: {block}",
        f"  shortcut: {shortcut}",
        f"  shortcut_pool: {rng.choice(('none', 'none', 'avg'))}",
        f"  drop_path: {rng.choice((0.0, 0.0, 0.1))}",
        f"  drop_path_schedule: {rng.choice(('linear', 'constant'))}",
        f"  depth_multiplier: {rng.choice((1.0, 1.0, 0.5, 2.0))}",
        # Doubling with divisor 1 keeps every width ratio, so ARC116 cannot reject the draw.
        f"  width_multiplier: {rng.choice((1.0, 1.0, 2.0))}",
        "  width_divisor: 1",
    ]
    if rng.random() < 0.3 and shortcut != "A":
        # The per-stage form, mixing block types and shortcut options between stages.
        lines.append("  per_stage:")
        for d, w, s in zip(depths, widths, strides):
            extra = f", block: {_block(rng)[0]}" if rng.random() < 0.5 else ""
            extra += f", shortcut: {rng.choice(('B', 'C', 'none'))}" if rng.random() < 0.5 else ""
            lines.append(f"    - {{depth: {d}, width: {w}, stride: {s}{extra}}}")
    else:
        lines += [f"  depths: {depths}", f"  widths: {widths}", f"  strides: {strides}"]
    lines += [
        f"activation: {rng.choice(('relu', 'relu', 'silu', 'gelu'))}",
        f"head: {{classes: {rng.randint(1, 50)}, dropout: {rng.choice((0.0, 0.0, 0.3))}, "
        f"norm: {rng.choice(('true', 'false', 'false'))}}}",
        f"zero_init_residual: {rng.choice(('true', 'false'))}",
        f"conv_bias: {rng.choice(('true', 'false', 'false'))}",
        f"rules: {RULES_OFF}",
    ]
    return "\n".join(lines) + "\n"


def _draw(folder: Path, text: Callable[[int], str], count: int, stem: str
          ) -> list[archcompiler.Report]:
    """The first `count` valid draws, analyzed; only a collapsed map (ARC201) may reject one."""
    out: list[archcompiler.Report] = []
    i = 0
    while len(out) < count:
        path = write_spec(folder, text(i), f"{stem}_{i}.yaml")
        report = archcompiler.analyze(path)
        if report.ok:
            out.append(report)
        else:
            assert {d.code for d in report.diagnostics if d.severity.value == "error"} <= \
                {"ARC201"}, (path.read_text(), report.diagnostics)
        i += 1
    assert i < 2 * count, "too many draws were invalid: the generator needs fixing"
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[archcompiler.Report]:
    """The valid specs among the first draws, analyzed; specs whose maps collapse are skipped."""
    return _draw(tmp_path_factory.mktemp("random_specs"), _spec_text, COUNT, "random")


def test_the_generator_covers_the_space(reports: list[archcompiler.Report]) -> None:
    ops = {n.op for r in reports for n in r.graph.nodes}
    assert {"pad_channels", "max_pool", "avg_pool", "dropout", "mul", "drop_path"} <= ops
    blocks = [b for r in reports for b in r.spec.blocks]
    assert {b.kind for b in blocks} == set(archcompiler.blocks.BLOCKS.names())
    assert {b.shortcut_pool for b in blocks} == {"none", "avg"}
    assert any(r.spec.stem.deep for r in reports) and any(r.spec.head_norm for r in reports)
    assert any(r.spec.conv_bias for r in reports) and not all(r.spec.stem.norm for r in reports)
    assert {b.shortcut for b in blocks} == {"A", "B", "C", "none"}
    assert {b.config.downsample_at for b in blocks if "bottleneck" in b.kind} == {"1x1", "3x3"}
    assert max(getattr(b.config, "groups", 1) for b in blocks) > 1
    assert {r.spec.activation for r in reports} == {"relu", "silu", "gelu"}


@pytest.mark.parametrize("chunk", range(8))
def test_random_specs_match_analysis(reports: list[archcompiler.Report], chunk: int) -> None:
    for report in reports[chunk::8]:
        model = archcompiler.build_module(report, seed=0)
        params, macs, bad = measure(model, report)
        where = report.spec.name
        assert params == report.params, where
        assert macs == report.macs, where
        assert not bad, (where, bad[:3])
        assert check_shapes(model, report).ok, where


def test_random_specs_on_meta_agree(reports: list[archcompiler.Report]) -> None:
    for report in reports[::10]:
        model = archcompiler.build_module(report, device="meta")
        params, macs, bad = measure(model, report, "meta")
        assert (params, macs, bad) == (report.params, report.macs, []), report.spec.name


def test_random_specs_train(reports: list[archcompiler.Report]) -> None:
    # A training step on a few specs: gradients reach every parameter.
    for report in reports[::24]:
        model = archcompiler.build_module(report, seed=1)
        x = torch.randn(2, *report.input_shape)
        model(x).square().mean().backward()
        missing = [n for n, p in model.named_parameters() if p.grad is None]
        assert not missing, (report.spec.name, missing)


def test_spec_text_is_reproducible(tmp_path: Path) -> None:
    assert _spec_text(3) == _spec_text(3)
    assert _spec_text(3) != _spec_text(4)
    assert _open_spec_text(3) == _open_spec_text(3) != _open_spec_text(4)


# The open language: the zoo's YAML blocks (copied beside each spec, as a user's would be),
# every norm and activation, downsampling layers, head convs and norms, and the regnet rule.
OPEN_COUNT = 96
OPEN_BLOCKS = ("convnext", "regnet_x", "regnet_y", "se_basic", "inverted_residual",
               "depthwise_separable")


def _open_block(rng: random.Random, kind: str, group_width: int) -> str:
    """A mapping of a zoo block type with random fields, as YAML flow text."""
    fields = {
        "convnext": f"mlp_ratio: {rng.choice((1, 2, 4))}, kernel: {rng.choice((3, 5, 7))}",
        "regnet_x": f"group_width: {group_width}",
        "regnet_y": f"group_width: {group_width}, se_reduction: {rng.choice((2, 4))}",
        "se_basic": f"se_reduction: {rng.choice((4, 16))}, se_divisor: {rng.choice((1, 8))}",
        "inverted_residual": f"expand_ratio: {rng.choice((1, 3, 6))}",
        "depthwise_separable": "",
    }[kind]
    return f"{{type: {kind}{', ' + fields if fields else ''}}}"


def _open_spec_text(i: int) -> str:
    """Open-language spec number i as YAML text."""
    rng = random.Random(20_000 + i)
    norm = rng.choice(NORMS.names())
    kind = rng.choice(OPEN_BLOCKS)
    # Group norm splits 32 groups: at 64 channels a group keeps 2 values even on a 1x1 map
    # (torch refuses a group of one value at batch 1, which analysis does not model).
    pool = (64,) if norm == "group" else (8, 16, 24, 32, 48)
    group_width = rng.choice((4, 8))  # divides every width drawn
    regnet = kind.startswith("regnet") and norm != "group" and rng.random() < 0.7
    n = rng.randint(1, 3)
    if regnet:
        widths = (f"{{rule: regnet, depth: {rng.randint(2, 8)}, w0: {rng.choice((8, 16, 24))}, "
                  f"wa: {rng.choice((4.0, 8.5, 13.25, 20.0))}, wm: "
                  f"{rng.choice((1.5, 2.0, 2.49))}, group_width: {group_width}}}")
        stage_lines = [f"  widths: {widths}"]
    else:
        stage_lines = [f"  depths: {[rng.randint(1, 3) for _ in range(n)]}",
                       f"  widths: {[rng.choice(pool) for _ in range(n)]}",
                       f"  strides: {[rng.choice((1, 2, 2)) for _ in range(n)]}"]
    if rng.random() < 0.4:
        stage_lines.append("  downsample: {type: convnext_downsample}")
    used = {kind, "convnext_downsample"}
    stem_kernel = rng.choice((1, 2, 3, 4))
    head = [f"classes: {rng.randint(1, 20)}"]
    if rng.random() < 0.4:
        head.append(f"conv: {{out_channels: {rng.choice(pool)}}}")
    if rng.random() < 0.4:
        head.append("pooled_norm: true")
    size = rng.randint(24, 64)
    lines = [
        "spec_version: 1",
        f"name: open_{i}",
        "blocks: {" + ", ".join(f"{t}: {t}.yaml" for t in sorted(used)) + "}",
        f"input: {{channels: 3, height: {size}, width: {size}}}",
        f"norm: {norm}",
        f"activation: {rng.choice(ACTIVATIONS.names())}",
        f"stem: {{conv: {{out_channels: {rng.choice(pool)}, kernel: {stem_kernel}, stride: "
        f"{rng.choice((1, stem_kernel))}, padding: 0, act: {rng.choice(('true', 'false'))}}}}}",
        "stages:",
        f"  block: {_open_block(rng, kind, group_width)}",
        f"  shortcut: {rng.choice(('B', 'B', 'C', 'none'))}",
        f"  naming: {rng.choice(('torchvision', 'timm'))}",
        *stage_lines,
        "head: {" + ", ".join(head) + "}",
        f"conv_bias: {rng.choice(('true', 'false'))}",
        f"rules: {RULES_OFF}",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def open_reports(tmp_path_factory: pytest.TempPathFactory) -> list[archcompiler.Report]:
    """The valid open-language draws, analyzed; only collapsed maps may reject one."""
    folder = tmp_path_factory.mktemp("random_open_specs")
    for block in (specs_dir() / "blocks").glob("*.yaml"):
        shutil.copy(block, folder / block.name)
    return _draw(folder, _open_spec_text, OPEN_COUNT, "open")


def test_the_open_generator_covers_the_language(open_reports: list[archcompiler.Report]) -> None:
    blocks = [b for r in open_reports for b in r.spec.blocks]
    assert {b.kind for b in blocks} == {*OPEN_BLOCKS, "convnext_downsample"}
    assert any(b.role == "transition" for b in blocks)
    assert {r.spec.norm for r in open_reports} == set(NORMS.names())
    assert {r.spec.activation for r in open_reports} == set(ACTIVATIONS.names())
    assert any(r.spec.generated for r in open_reports)  # the regnet rule
    assert any(r.spec.head.conv is not None for r in open_reports)
    assert any(r.spec.head.pooled_norm for r in open_reports)
    assert any(b.name.startswith("stages.") for b in blocks)
    ops = {n.op for r in open_reports for n in r.graph.nodes}
    assert {"layer_scale", "mul", "layer_norm", "group_norm"} <= {str(o) for o in ops}


@pytest.mark.parametrize("chunk", range(4))
def test_random_open_specs_match_analysis(open_reports: list[archcompiler.Report],
                                          chunk: int) -> None:
    for report in open_reports[chunk::4]:
        model = archcompiler.build_module(report, seed=0)
        params, macs, bad = measure(model, report)
        where = report.spec.name
        assert (params, macs) == (report.params, report.macs), where
        assert not bad, (where, bad[:3])
        assert check_shapes(model, report).ok, where


def _facts(report: archcompiler.Report) -> tuple[object, ...]:
    return (report.graph, report.nodes, [(d.code, d.message, d.span) for d in report.diagnostics])


@pytest.mark.parametrize("which", ["reports", "open_reports"])
def test_memo_on_and_off_agree(which: str, request: pytest.FixtureRequest) -> None:
    """The fixtures analysed with the memo on (and matched torch above); off, all is the same."""
    from archcompiler.analysis.analyze import analyze_resolved
    from archcompiler.analysis.memo import clear_memo, memo_enabled, memo_on

    drawn: list[archcompiler.Report] = request.getfixturevalue(which)
    assert memo_on()
    with memo_enabled(False):
        off = [analyze_resolved(r.spec) for r in drawn]
    assert [_facts(r) for r in drawn] == [_facts(r) for r in off]
    clear_memo()  # and cold, with the memo on again: the first lowering of each block
    assert [_facts(analyze_resolved(r.spec)) for r in drawn] == \
        [_facts(r) for r in off]
    # the shared tables admit a block on its second offer: the third pass reads them
    for _ in range(2):
        assert [_facts(analyze_resolved(r.spec)) for r in drawn] == \
            [_facts(r) for r in off]

"""The hostile corpus of block files: every case in tests/data/bad_blocks is refused with a
located diagnostic, runs no code, and stays within CPU and memory caps; random block files and
random edits of the shipped ones never crash the compiler.

Each case is a folder: `spec.yaml` (which declares or uses the block) and, where the case is in
the block file itself, `x.yaml`. `EXPECTED` pins the code, the file and the line it points at.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st

from archcompiler.cli import main
from tests.conftest import DATA, ROOT

CASES = DATA / "bad_blocks"
MARKER = "archc_pwned_marker"

# case -> (code, file it points into, line); None: the file as a whole (no line to check)
EXPECTED: dict[str, tuple[str, str, int | None]] = {
    "act_kind_unknown": ("ARC105", "x.yaml", 4),
    "add_with_one_input": ("ARC104", "x.yaml", 4),
    "alias_bomb": ("ARC008", "x.yaml", 5),
    "block_file_is_the_spec": ("ARC101", "spec.yaml", 1),
    "builtin_tag": ("ARC108", "spec.yaml", 3),
    "conv_without_out": ("ARC168", "x.yaml", 2),
    "ends_with_other_channels": ("ARC165", "x.yaml", 3),
    "expr_attribute": ("ARC160", "x.yaml", 2),
    "expr_bool": ("ARC103", "x.yaml", 2),
    "expr_deep": ("ARC163", "x.yaml", 2),
    "expr_division_by_zero": ("ARC162", "x.yaml", 2),
    "expr_dunder_import": ("ARC161", "x.yaml", 2),
    "expr_eval_string": ("ARC160", "x.yaml", 2),
    "expr_float": ("ARC103", "x.yaml", 2),
    "expr_huge_literal": ("ARC163", "x.yaml", 2),
    "expr_huge_product": ("ARC163", "x.yaml", 2),
    "expr_lambda": ("ARC160", "x.yaml", 2),
    "expr_long": ("ARC104", "x.yaml", 2),
    "expr_negative_channels": ("ARC164", "x.yaml", 2),
    "expr_unknown_name": ("ARC161", "x.yaml", 2),
    "expr_zero_kernel": ("ARC164", "x.yaml", 2),
    "field_default_out_of_bounds": ("ARC104", "x.yaml", 4),
    "field_reserved_name": ("ARC108", "x.yaml", 4),
    "file_is_a_folder": ("ARC155", "spec.yaml", 3),
    "file_missing": ("ARC155", "spec.yaml", 3),
    "file_outside": ("ARC154", "spec.yaml", 3),
    "file_proc": ("ARC154", "spec.yaml", 3),
    "file_url": ("ARC153", "spec.yaml", 3),
    "groups_do_not_divide": ("ARC203", "x.yaml", 2),
    "list_at_top": ("ARC006", "x.yaml", 1),
    "module_class_dunder": ("ARC104", "x.yaml", 4),
    "module_shared_by_convs": ("ARC166", "x.yaml", 3),
    "norm_kind_unknown": ("ARC105", "x.yaml", 3),
    "op_kind_exec": ("ARC105", "x.yaml", 2),
    "op_name_dunder": ("ARC104", "x.yaml", 2),
    "op_name_empty": ("ARC104", "x.yaml", 2),
    "op_name_newline": ("ARC104", "x.yaml", 2),
    "op_name_path": ("ARC104", "x.yaml", 2),
    "op_name_twice": ("ARC166", "x.yaml", 3),
    "op_reads_itself": ("ARC167", "x.yaml", 3),
    "op_reads_later_op": ("ARC167", "x.yaml", 2),
    "python_tag": ("ARC007", "x.yaml", 4),
    "spec_names_a_module": ("ARC107", "spec.yaml", 3),
    "tag_mismatch": ("ARC108", "x.yaml", 1),
    "too_many_ops": ("ARC104", "x.yaml", 2),
    "unknown_key_in_op": ("ARC101", "x.yaml", 2),
    "value_is_a_number": ("ARC103", "spec.yaml", 3),
}


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    return rc, err.getvalue()


def test_the_corpus_is_large_and_fully_pinned() -> None:
    cases = sorted(p.name for p in CASES.iterdir() if p.is_dir())
    assert cases == sorted(EXPECTED) and len(cases) >= 30


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_case_is_refused_where_it_is(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / case)
    rc, err = _run(["validate", "spec.yaml"])
    code, where, line = EXPECTED[case]
    assert rc == 1, err
    assert "Traceback" not in err and "internal error" not in err
    at = f"{where}:{line}:" if line is not None else f"{where}:"
    assert any(at in row and f"error[{code}]" in row for row in err.splitlines()), err
    assert not Path(MARKER).exists()


def test_the_corpus_stays_within_resource_caps(tmp_path: Path) -> None:
    """All cases in one child process capped at 60 s of CPU and 2 GiB of address space."""
    script = (
        "import resource, os, sys, contextlib, io\n"
        "resource.setrlimit(resource.RLIMIT_CPU, (60, 60))\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from archcompiler.cli import main\n"
        "for case in sys.argv[1:]:\n"
        "    os.chdir(case)\n"
        "    with contextlib.redirect_stderr(io.StringIO()):\n"
        "        rc = main(['validate', 'spec.yaml'])\n"
        "    assert rc == 1, case\n"
        "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", script, *(str(CASES / c) for c in EXPECTED)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "ok", done.stderr[-2000:]


BLOCK_FILES = [ROOT / "examples" / "blocks" / f for f in
               ("inverted_residual.yaml", "convnext.yaml", "convnext_downsample.yaml")]
SPEC = "extends: resnet20\nname: fuzzed\nblocks: {x: x.yaml}\nstages: {block: {type: x}}\n"


def _check(folder: Path, text: str) -> None:
    (folder / "x.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
    (folder / "spec.yaml").write_text(SPEC, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        rc, err = _run(["validate", "spec.yaml"])
    finally:
        os.chdir(cwd)
    assert rc in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err, err


@pytest.mark.slow
@hypothesis.settings(max_examples=150, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(which=st.integers(0, 2), edits=st.lists(
    st.tuples(st.integers(0, 2000), st.integers(0, 8),
              st.sampled_from(["", "0", "-1", "//", "(", ")", "in", "out * 99999", ":", "{", "}",
                               "[", "]", ",", "\n", "  ", "__", "name", "op: add", "!!python",
                               "&a", "*a", "x", "kind: ", "input: ", "groups: 7"])),
    min_size=1, max_size=5))
def test_random_edits_of_block_files_never_crash(which: int, edits: list[tuple[int, int, str]],
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    text = BLOCK_FILES[which].read_text(encoding="utf-8")
    for at, cut, insert in edits:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + cut:]
    _check(tmp_path_factory.mktemp("edit"), text)


OPS = st.sampled_from(["conv", "norm", "act", "add", "mul", "layer_scale", "global_avg_pool",
                       "max_pool", "avg_pool", "dropout", "nope"])
EXPRS = st.sampled_from(["out", "in", "width", "stride", "mid", "out // 0", "out * 2", "0", "1",
                         "in * 6", "max(in, out)", "make_divisible(out, 8)", "-out", "7", "3"])


@st.composite
def _declaration(draw: st.DrawFn) -> str:
    ops = []
    for i in range(draw(st.integers(1, 6))):
        op = draw(OPS)
        keys = {"name": f"o{i}", "op": op}
        for key in draw(st.lists(st.sampled_from(["out", "kernel", "stride", "groups",
                                                  "padding"]), max_size=3, unique=True)):
            keys[key] = draw(EXPRS)
        if op in ("add", "mul"):
            keys["inputs"] = f"[{draw(st.sampled_from(['in', 'o0', 'o1']))}, o0]"
        if draw(st.booleans()):
            keys["input"] = draw(st.sampled_from(["in", "o0", f"o{i}", "zz"]))
        ops.append("{" + ", ".join(f"{k}: {v}" for k, v in keys.items()) + "}")
    residual = draw(st.sampled_from(["always", "when_shapes_match", "never"]))
    return ("values: {mid: in * 2}\nops:\n" + "".join(f"  - {o}\n" for o in ops) +
            f"residual: {residual}\n")


@pytest.mark.slow
@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(text=_declaration())
def test_random_declarations_never_crash(text: str,
                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    _check(tmp_path_factory.mktemp("decl"), text)

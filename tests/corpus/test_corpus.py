"""The hostile corpus: every file in tests/data/bad is refused cheaply, with a located diagnostic.

Each file holds one malformed or hostile case, and its name says which. `EXPECTED` pins, for every
file, the code and line of the diagnostic that must appear (and the file it points into, when
that is a base file rather than the spec itself). A new corpus file without an entry fails.

"Cheaply" is a resource limit, not a stopwatch reading: each file is validated in a child process
capped at MAX_CPU_SECONDS of CPU time and MAX_BYTES of address space (setrlimit), and must finish
normally with the expected diagnostic. Wall-clock figures live in benchmarks/bench_limits.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st

from archcompiler.cli import main
from tests.conftest import BAD, ROOT, VARIANTS

if sys.platform != "win32":
    import resource

MARKER = "archc_pwned_marker"  # what the code-execution payloads would create in the cwd

# file stem -> (code, line) of a diagnostic that must be printed for it
EXPECTED: dict[str, tuple[str, int]] = {
    # reading and parsing
    "duplicate_key": ("ARC004", 4),
    "duplicate_key_nested": ("ARC004", 8),
    "several_documents": ("ARC005", 8),
    "top_level_list": ("ARC006", 2),
    "top_level_scalar": ("ARC006", 2),
    "empty": ("ARC006", 1),
    "comments_only": ("ARC006", 1),
    "tag_python_object_apply": ("ARC007", 4),
    "tag_python_object_apply_top": ("ARC007", 2),
    "tag_python_name": ("ARC007", 4),
    "tag_python_object_new": ("ARC007", 4),
    "tag_custom": ("ARC007", 4),
    "tag_binary": ("ARC007", 4),
    "tag_on_mapping": ("ARC007", 4),
    "tag_str_on_int": ("ARC007", 8),
    "alias_bomb": ("ARC008", 9),
    "alias_bomb_wide": ("ARC008", 7),
    "alias_incomplete_anchor": ("ARC008", 4),
    "alias_undefined": ("ARC008", 4),
    "nesting_too_deep": ("ARC009", 8),
    "nesting_too_deep_block": ("ARC009", 40),
    "not_utf8_latin1": ("ARC002", 4),
    "control_characters": ("ARC001", 4),
    "nul_byte": ("ARC001", 4),
    "syntax_error_unclosed_bracket": ("ARC001", 7),
    "syntax_error_indentation": ("ARC001", 6),
    "tab_indentation": ("ARC001", 5),
    "key_not_string": ("ARC011", 8),
    "key_is_mapping": ("ARC011", 8),
    "merge_key": ("ARC101", 6),
    # YAML 1.1 surprises
    "yaml11_yes_for_string": ("ARC010", 3),
    "yaml11_on_for_bool": ("ARC010", 8),
    "yaml11_no_for_int": ("ARC010", 8),
    "yaml11_off_for_shortcut": ("ARC010", 8),
    "yaml11_octal": ("ARC010", 7),
    # types, ranges and numbers
    "wrong_type_string_for_int": ("ARC103", 6),
    "wrong_type_float_for_int": ("ARC103", 8),
    "wrong_type_list_for_mapping": ("ARC103", 4),
    "wrong_type_bool_for_int": ("ARC103", 8),
    "wrong_type_mapping_for_list": ("ARC103", 6),
    "wrong_type_int_for_string": ("ARC103", 3),
    "negative_value": ("ARC104", 6),
    "zero_value": ("ARC104", 8),
    "too_large_value": ("ARC104", 8),
    "huge_integer_literal": ("ARC104", 8),
    "nan_value": ("ARC106", 8),
    "inf_value": ("ARC106", 8),
    "nan_for_int": ("ARC103", 8),
    "missing_required_key": ("ARC102", 2),
    "spec_version_unknown": ("ARC105", 2),
    "name_bad_characters": ("ARC104", 3),
    # unknown names
    "unknown_key_top": ("ARC101", 3),
    "unknown_key_nested": ("ARC101", 5),
    "unknown_block_type": ("ARC105", 5),
    "unknown_enum_shortcut_D": ("ARC105", 8),
    "unknown_enum_activation": ("ARC105", 8),
    # extends
    "extends_cycle_a": ("ARC151", 2),
    "extends_cycle_b": ("ARC151", 2),
    "extends_self": ("ARC151", 2),
    "extends_unknown_builtin": ("ARC150", 2),
    "extends_missing_file": ("ARC155", 2),
    "extends_url": ("ARC153", 2),
    "extends_outside_folder": ("ARC154", 2),
    "extends_absolute_path": ("ARC154", 2),
    "extends_not_a_string": ("ARC103", 2),
    "extends_chain_too_long": ("ARC152", 2),
    "extends_base_invalid": ("ARC104", 8),
    # consistency, shapes and design rules
    "strides_depths_length_mismatch": ("ARC110", 8),
    "widths_depths_length_mismatch": ("ARC110", 7),
    "depths_and_per_stage": ("ARC111", 5),
    "width_and_out_channels": ("ARC112", 8),
    "out_channels_not_multiple": ("ARC113", 8),
    "map_collapses": ("ARC201", 6),
    "rule_i_same_map_width_changes": ("ARC301", 7),
    "rule_ii_width_not_doubled": ("ARC302", 7),
    "shortcut_identity_shape_change": ("ARC303", 8),
    # the families and bounds of the block redesign
    "blocks_over_bound": ("ARC115", 5),
    "conv_bias_int": ("ARC103", 4),
    "deep_stem_collapses_map": ("ARC201", 7),
    "deep_stem_empty": ("ARC104", 5),
    "deep_stem_not_a_list": ("ARC103", 5),
    "deep_stem_zero_width": ("ARC104", 5),
    "depth_multiplier_over_bound": ("ARC115", 5),
    "depth_multiplier_too_large": ("ARC104", 5),
    "drop_path_negative": ("ARC104", 5),
    "drop_path_one": ("ARC104", 5),
    "drop_path_schedule_unknown": ("ARC105", 6),
    "head_norm_yaml11_yes": ("ARC010", 5),
    "per_stage_se_groups_zero": ("ARC104", 10),
    "preact_bottleneck_no_inner": ("ARC114", 5),
    "preact_dropout_one": ("ARC104", 5),
    "preact_option_a_shrinks": ("ARC206", 5),
    "preact_unknown_field": ("ARC101", 5),
    "se_divisor_string": ("ARC103", 5),
    "se_field_on_basic": ("ARC101", 5),
    "se_reduction_zero": ("ARC104", 5),
    "se_type_misspelt": ("ARC105", 5),
    "shortcut_pool_max": ("ARC105", 5),
    "stem_norm_string": ("ARC103", 5),
    "width_divisor_zero": ("ARC104", 6),
    "width_multiplier_breaks_ratios": ("ARC116", 5),
    "width_multiplier_zero": ("ARC104", 5),
}

# Diagnostics that point into another file than the spec named on the command line.
POINTS_INTO = {
    "extends_cycle_a": "extends_cycle_b.yaml",
    "extends_cycle_b": "extends_cycle_a.yaml",
    "extends_chain_too_long": "link15.yaml",
    "extends_base_invalid": "bad_base.yaml",
}

# Hints that must be given (did-you-mean and friends).
HINTS = {
    "unknown_key_top": "did you mean 'name'?",
    "unknown_key_nested": "did you mean 'kernel'?",
    "unknown_block_type": "did you mean 'bottleneck'?",
    "unknown_enum_activation": "did you mean 'relu'?",
    "unknown_enum_shortcut_D": "A, B, C, identity, none",
    "extends_unknown_builtin": "did you mean 'resnet56'?",
    "se_type_misspelt": "did you mean 'se_bottleneck'?",
    "preact_unknown_field": "did you mean 'dropout'?",
    "width_multiplier_breaks_ratios": "width_multiplier 0.25",
    "extends_outside_folder": "--allow-outside",
    "wrong_type_string_for_int": "write 2 without quotes",
    "wrong_type_float_for_int": "write 2, without the decimal point",
}

# Cases that must also be refused by a separate `python -m archcompiler` process.
SUBPROCESS_CASES = ["tag_python_object_apply", "tag_python_object_apply_top",
                    "tag_python_object_new", "alias_bomb", "alias_bomb_wide",
                    "nesting_too_deep", "not_utf8_latin1", "huge_integer_literal"]

# Cases whose memory is also measured: with tracemalloc in-process, and as peak RSS in a fresh one.
BOMBS = ["alias_bomb", "alias_bomb_wide", "nesting_too_deep", "nesting_too_deep_block",
         "huge_integer_literal"]

MAX_CPU_SECONDS = 2  # CPU time one file may take to be refused (RLIMIT_CPU counts whole seconds)
START_UP_CPU_SECONDS = 1  # a fresh interpreter's start-up and imports, on top of the work
MAX_BYTES = 200 * 1024 * 1024  # memory: the capped child's whole address space (RLIMIT_AS)
HANG_GUARD_SECONDS = 120  # wall clock, only so that a child blocked without using CPU cannot hang

CORPUS = sorted(p.stem for p in BAD.glob("*.yaml"))
_LOCATED = re.compile(r"^(?P<file>\S+?):(?P<line>\d+):(?P<col>\d+): error\[(?P<code>ARC\d{3})\]",
                      re.MULTILINE)


def _located(text: str) -> list[tuple[str, int, int, str]]:
    """Every `FILE:LINE:COL: error[ARCxxx]` header in `text`, as (file name, line, col, code)."""
    return [(Path(m["file"]).name, int(m["line"]), int(m["col"]), m["code"])
            for m in _LOCATED.finditer(text)]


def _check_output(stem: str, text: str) -> None:
    code, line = EXPECTED[stem]
    where = POINTS_INTO.get(stem, f"{stem}.yaml")
    found = _located(text)
    assert found, f"no located ARC diagnostic for {stem}:\n{text}"
    assert any((f, ln, c) == (where, line, code) for f, ln, _col, c in found), \
        f"expected {where}:{line}: {code} for {stem}, got {found}\n{text}"
    assert "Traceback" not in text
    assert "internal error" not in text
    if stem in HINTS:
        assert HINTS[stem] in text


def test_corpus_is_large_and_fully_pinned() -> None:
    assert len(CORPUS) >= 40
    assert set(CORPUS) == set(EXPECTED), \
        f"unpinned: {set(CORPUS) - set(EXPECTED)}; stale: {set(EXPECTED) - set(CORPUS)}"
    assert set(POINTS_INTO) | set(HINTS) | set(SUBPROCESS_CASES) <= set(EXPECTED)


@pytest.mark.parametrize("stem", CORPUS)
def test_validate_refuses(stem: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a payload that ran would drop its marker here
    rc = main(["validate", str(BAD / f"{stem}.yaml")])
    out = capsys.readouterr()
    assert rc in (1, 2), out.err
    _check_output(stem, out.out + out.err)
    assert f"invalid: {BAD / stem}.yaml" in out.out
    assert not (tmp_path / MARKER).exists()
    assert not (BAD / MARKER).exists()


@pytest.mark.parametrize("stem", BOMBS)
def test_bombs_are_cheap(stem: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Python-level allocations of the validation itself; its CPU time is capped below.
    tracemalloc.start()
    try:
        rc = main(["validate", str(BAD / f"{stem}.yaml")])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    capsys.readouterr()
    assert rc == 1
    assert peak < MAX_BYTES


# Resource limits. A child process gets RLIMIT_CPU (CPU seconds: past the soft limit the kernel
# sends SIGXCPU, which ends a Python process) and RLIMIT_AS (address space: an allocation past it
# fails, as a MemoryError in Python or an abort in native code). The memory cap covers the whole
# process, interpreter included (about 40 MB of it), so it bounds both what tracemalloc counts
# and the peak RSS; a file over either cap fails the test instead of finishing normally.

needs_rlimit = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX setrlimit")


def _caps(cpu_seconds: int) -> Callable[[], None]:
    """A `preexec_fn` that caps the child at `cpu_seconds` of CPU time and MAX_BYTES of memory."""
    def apply() -> None:
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]  # kept, so the child may move its soft one
        soft = cpu_seconds if hard == resource.RLIM_INFINITY else min(cpu_seconds, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        if sys.platform.startswith("linux"):  # macOS does not enforce RLIMIT_AS
            resource.setrlimit(resource.RLIMIT_AS, (MAX_BYTES, MAX_BYTES))
    return apply


def _how_it_ended(rc: int) -> str:
    if rc >= 0:
        return f"exit code {rc}"
    name = signal.Signals(-rc).name
    why = {"SIGXCPU": "over its CPU-time cap",
           "SIGKILL": "out of memory, or over an inherited hard CPU limit",
           "SIGABRT": f"aborted: likely a native allocation over the {MAX_BYTES >> 20} MB cap",
           "SIGSEGV": "crashed: likely a stack overflow"}.get(name, "")
    return f"killed by {name}" + (f" ({why})" if why else "")


def _run_capped(args: list[str], cwd: Path, cpu_seconds: int) -> tuple[int, str]:
    """Run a process under the caps; return its exit code (-N: killed by signal N) and its output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(args, cwd=cwd, capture_output=True, env=env, timeout=HANG_GUARD_SECONDS,
                          preexec_fn=_caps(cpu_seconds))
    return proc.returncode, proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")


# Validates each file named on the command line in turn, in this one process. Before each file it
# moves the soft CPU limit to MAX_CPU_SECONDS past the CPU time spent so far and prints the file's
# name, so that a file which overruns a cap is named by the last FILE line; after each file it
# prints one JSON record of the result.
_VALIDATE_EACH = """
import contextlib, io, json, math, resource, sys
from archcompiler.cli import main

cpu_per_file = int(sys.argv[1])
for path in sys.argv[2:]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_per_file
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY
                                             else min(soft, hard), hard))
    print('FILE', path, flush=True)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(['validate', path])
    print('RESULT', json.dumps({'path': path, 'rc': rc, 'out': out.getvalue(),
                               'err': err.getvalue()}), flush=True)
"""


def _validate_capped(paths: list[Path], cwd: Path) -> dict[str, tuple[int, str, str]]:
    """Validate `paths` in one child under the caps; return {path: (rc, stdout, stderr)}.

    Fails, naming the file, if the child ended before validating them all.
    """
    args = [sys.executable, "-c", _VALIDATE_EACH, str(MAX_CPU_SECONDS), *map(str, paths)]
    rc, text = _run_capped(args, cwd, MAX_CPU_SECONDS + START_UP_CPU_SECONDS)
    results, current = {}, None
    for line in text.splitlines():
        if line.startswith("FILE "):
            current = line[5:]
        elif line.startswith("RESULT "):
            record = json.loads(line[7:])
            results[record["path"]] = (record["rc"], record["out"], record["err"])
            current = None
    if current is not None or rc != 0:
        where = f"while validating {current}" if current else "outside any file"
        tail = "\n".join(text.splitlines()[-20:])
        pytest.fail(f"the capped child ended {where}: {_how_it_ended(rc)}\n{tail}")
    assert list(results) == [str(p) for p in paths]
    return results


@needs_rlimit
def test_corpus_is_refused_within_the_resource_caps(tmp_path: Path) -> None:
    # Every corpus file in one capped child: each within MAX_CPU_SECONDS of CPU and MAX_BYTES.
    paths = [BAD / f"{stem}.yaml" for stem in CORPUS]
    results = _validate_capped(paths, tmp_path)  # tmp_path is the cwd a payload would write to
    for stem, path in zip(CORPUS, paths):
        rc, out, err = results[str(path)]
        assert rc in (1, 2), f"{stem}: exit code {rc}\n{err}"
        _check_output(stem, out + err)
    assert not (tmp_path / MARKER).exists()


@needs_rlimit
@pytest.mark.parametrize("stem", SUBPROCESS_CASES)
def test_validate_refuses_in_a_fresh_process(stem: str, tmp_path: Path) -> None:
    rc, text = _run_capped(
        [sys.executable, "-m", "archcompiler", "validate", str(BAD / f"{stem}.yaml")], tmp_path,
        MAX_CPU_SECONDS + START_UP_CPU_SECONDS)  # interpreter start-up and imports on top
    assert rc == 1, f"{stem}: {_how_it_ended(rc)}\n{text}"
    _check_output(stem, text)
    assert not (tmp_path / MARKER).exists()


# `python -m archcompiler`, reporting its own peak memory on the way out. getrusage() is no use
# here: on Linux a child's ru_maxrss includes the pytest process it was forked from, so read the
# high-water mark of the exec'd image from /proc (ru_maxrss elsewhere).
_PEAK_WRAPPER = """
import atexit, resource, runpy, sys

def report():
    try:
        with open('/proc/self/status') as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))
        peak = kb * 1024
    except OSError:
        usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = usage if sys.platform == 'darwin' else usage * 1024
    print('PEAK_BYTES', peak, file=sys.stderr)

atexit.register(report)
sys.argv[0] = 'archc'
runpy.run_module('archcompiler', run_name='__main__', alter_sys=True)
"""


@needs_rlimit
@pytest.mark.parametrize("stem", BOMBS)
def test_peak_memory_in_a_fresh_process(stem: str, tmp_path: Path) -> None:
    rc, text = _run_capped(
        [sys.executable, "-c", _PEAK_WRAPPER, "validate", str(BAD / f"{stem}.yaml")], tmp_path,
        MAX_CPU_SECONDS + START_UP_CPU_SECONDS)
    assert rc == 1, f"{stem}: {_how_it_ended(rc)}\n{text}"
    _check_output(stem, text)
    peak = int(text.rsplit("PEAK_BYTES ", 1)[1].split()[0])
    assert 0 < peak < MAX_BYTES


def test_python_payloads_never_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    # Copy the payloads next to a cwd we watch, and try every entry point on them.
    import archcompiler

    monkeypatch.chdir(tmp_path)
    for stem in ("tag_python_object_apply", "tag_python_object_apply_top",
                 "tag_python_object_new"):
        target = tmp_path / f"{stem}.yaml"
        target.write_bytes((BAD / f"{stem}.yaml").read_bytes())
        for argv in (["validate", str(target)], ["summary", str(target)],
                     ["summary", "--json", str(target)]):
            assert main(argv) == 1
        with pytest.raises(archcompiler.SpecError):
            archcompiler.load_spec(target)
    capsys.readouterr()
    assert not (tmp_path / MARKER).exists()


def test_outside_folder_is_allowed_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(BAD / "extends_outside_folder.yaml")
    assert main(["validate", spec]) == 1
    assert main(["validate", "--allow-outside", spec]) == 0
    out = capsys.readouterr().out
    assert "ok: outsider" in out


# Files generated at test time rather than committed, each refused within the same caps.


def _refuse_generated(path: Path, code: str, line: int) -> str:
    rc, out, err = _validate_capped([path], path.parent)[str(path)]
    text = out + err
    assert rc == 1, text
    assert (path.name, line, code) in [(f, ln, c) for f, ln, _col, c in _located(text)], text
    assert "Traceback" not in text
    return text


@needs_rlimit
def test_file_over_the_size_bound(tmp_path: Path) -> None:
    path = tmp_path / "over_size_bound.yaml"
    path.write_text("spec_version: 1\nname: big\ndescription: |\n"
                    + "  padding padding padding padding\n" * 40_000, encoding="utf-8")
    assert path.stat().st_size > 1 << 20
    text = _refuse_generated(path, "ARC003", 1)
    assert "byte limit" in text


@needs_rlimit
def test_many_values_under_the_size_bound(tmp_path: Path) -> None:
    path = tmp_path / "too_many_values.yaml"
    path.write_text("spec_version: 1\nname: big\nx: [" + "1, " * 300_000 + "1]\n",
                    encoding="utf-8")
    assert path.stat().st_size < 1 << 20
    _refuse_generated(path, "ARC008", 3)


@needs_rlimit
def test_many_keys_under_the_size_bound(tmp_path: Path) -> None:
    path = tmp_path / "too_many_keys.yaml"
    path.write_text("".join(f"k{i}: {i}\n" for i in range(60_000)), encoding="utf-8")
    assert path.stat().st_size < 1 << 20
    text = _refuse_generated(path, "ARC008", 10_000)
    assert "values" in text


@needs_rlimit
def test_very_deep_flow_nesting(tmp_path: Path) -> None:
    path = tmp_path / "deep_flow.yaml"
    path.write_text("x: " + "[" * 100_000 + "\n", encoding="utf-8")
    _refuse_generated(path, "ARC009", 1)


@needs_rlimit
def test_long_string_is_a_range_error(tmp_path: Path) -> None:
    path = tmp_path / "long_description.yaml"
    path.write_text("spec_version: 1\nname: big\ndescription: " + "a" * 900_000
                    + "\nstages: {block: {type: basic}, depths: [2], widths: [64]}\n",
                    encoding="utf-8")
    _refuse_generated(path, "ARC104", 3)


@needs_rlimit
def test_latin1_generated(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("spec_version: 1\nname: caf\u00e9\n".encode("latin-1"))
    text = _refuse_generated(path, "ARC002", 2)
    assert "0xe9" in text


def test_utf8_bom_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (VARIANTS / "base.yaml").read_bytes())
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()


# Fuzzing: random edits of a valid spec never crash the pipeline.

SEED_SPEC = (VARIANTS / "base.yaml").read_text(encoding="utf-8")
SNIPPETS = ["{", "}", "[", "]", ": ", ":", "- ", "&a ", "*a", "&b [1, 2]", "!!python/name:os.system",
            "!x ", "\t", "\n", "  ", "yes", "off", "012", ".nan", "-.inf", "~", "null", "'", '"',
            "#", "|\n", ">", "? ", ", ", "<<: *a", "\n---\n", "%YAML 1.1\n", "\x00", "\x07",
            "9" * 40, "-1", "0", "2.5", "extends: ", "resnet50", "./base.yaml", "https://x",
            "type: bottleneck", "per_stage: [{depth: 1, width: 8}]", "\u00e9", "\ufeff", "\r\n"]


@pytest.mark.slow
@hypothesis.settings(max_examples=100, deadline=None, derandomize=True,
                     suppress_health_check=[hypothesis.HealthCheck.too_slow])
@hypothesis.given(edits=st.lists(st.tuples(st.integers(0, len(SEED_SPEC)),
                                           st.integers(0, 8),
                                           st.sampled_from(SNIPPETS)), min_size=1, max_size=4))
def test_random_edits_never_crash(edits: list[tuple[int, int, str]],
                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    text = SEED_SPEC
    for at, cut, snippet in edits:
        at = min(at, len(text))
        text = text[:at] + snippet + text[at + cut:]
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "base.yaml").write_text(SEED_SPEC, encoding="utf-8")
    path = folder / "spec.yaml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["validate", str(path)])
    assert rc in (0, 1), err.getvalue()
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if rc == 1:
        assert _LOCATED.search(err.getvalue()), err.getvalue()


@hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
@hypothesis.given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_random_bytes_never_crash(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("bytes") / "spec.yaml"
    path.write_bytes(data)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = main(["validate", str(path)])
    assert rc == 1, err.getvalue()
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue()

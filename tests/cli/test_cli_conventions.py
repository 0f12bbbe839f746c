"""The command line's conventions (issue 21): colour, start-up cost and what it imports.

--json, stdin, table widths and warnings are in test_cli_json.py, test_cli_stdin.py (with
test_corpus_stdin.py), test_cli_width.py and test_cli_warnings.py; they use conftest's `cli`.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

import archcompiler
from archcompiler.cli import term
from archcompiler.core.diagnostics import Span, SpecError, error
from tests.conftest import BAD, ROOT, Cli, on_a_terminal

RULE_II = str(BAD / "rule_ii_width_not_doubled.yaml")  # errors and warnings, exit 1
ESC = "\033["


def _env(**extra: str) -> dict[str, str]:
    """The environment of a child `archc`: this checkout first, no colour settings inherited."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "PYTHONWARNINGS", "COLUMNS")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


# Colour: one decision (cli/term.py)


@pytest.mark.parametrize(("mode", "tty", "env", "want"), [
    ("auto", True, {}, True),
    ("auto", False, {}, False),
    ("auto", True, {"NO_COLOR": "1"}, False),
    ("auto", True, {"NO_COLOR": "0"}, False),  # any value that is not empty
    ("auto", True, {"NO_COLOR": ""}, True),  # an empty NO_COLOR is unset (no-color.org)
    ("auto", False, {"FORCE_COLOR": "1"}, True),
    ("auto", False, {"FORCE_COLOR": ""}, False),
    ("auto", True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),  # NO_COLOR first
    ("auto", True, {"TERM": "dumb"}, False),
    ("auto", False, {"TERM": "dumb", "FORCE_COLOR": "1"}, True),
    ("always", False, {"NO_COLOR": "1", "TERM": "dumb"}, True),  # the flag wins over all
    ("never", True, {"FORCE_COLOR": "1"}, False),
])
def test_the_colour_decision(mode: str, tty: bool, env: dict[str, str], want: bool) -> None:
    assert term.wants_color(mode, tty, env) is want


@pytest.mark.parametrize(("argv", "env", "coloured"), [
    (["validate", RULE_II], {}, False),  # captured stderr is no terminal
    (["validate", RULE_II, "--color", "always"], {}, True),
    (["--color", "always", "validate", RULE_II], {}, True),  # before the command too
    (["validate", RULE_II, "--colour", "always"], {"NO_COLOR": "1"}, True),
    (["validate", RULE_II], {"FORCE_COLOR": "1"}, True),
    (["validate", RULE_II], {"FORCE_COLOR": "1", "NO_COLOR": "x"}, False),
    (["validate", RULE_II, "--color", "never"], {"FORCE_COLOR": "1"}, False),
    (["summary", RULE_II, "--color=always"], {}, True),
])
def test_every_diagnostic_follows_the_decision(cli: Cli, argv: list[str], env: dict[str, str],
                                               coloured: bool) -> None:
    res = cli(*argv, env=env)
    assert res.rc == 1
    assert "ARC302" in res.err
    assert (ESC in res.err) is coloured
    assert ESC not in res.out  # colour is for diagnostics on stderr, never for data


def test_the_colour_flag_does_not_outlive_its_run(cli: Cli) -> None:
    assert ESC in cli("validate", RULE_II, "--color", "always").err
    assert ESC not in cli("validate", RULE_II).err


def test_a_spec_error_past_a_command_is_coloured_by_the_same_decision(
        cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from archcompiler import cli as cli_module

    def lowering_fails(args: object) -> int:
        raise SpecError([error("ARC201", "a block failed to lower", Span("x.yaml", 1, 1))],
                        {"x.yaml": "name: x\n"})

    monkeypatch.setitem(cli_module.HANDLERS, "summary", lowering_fails)
    assert ESC in cli("summary", "resnet18", "--color", "always").err
    res = cli("summary", "resnet18")
    assert res.rc == 1 and "error[ARC201]" in res.err and ESC not in res.err


def test_a_real_terminal_is_coloured_unless_no_color_is_set() -> None:
    assert ESC in on_a_terminal(["validate", RULE_II], _env(TERM="xterm"), "stderr")
    plain = on_a_terminal(["validate", RULE_II], _env(TERM="xterm", NO_COLOR="1"), "stderr")
    assert "error[ARC302]" in plain and ESC not in plain


# Start-up: `archc --version` and `import archcompiler` import nothing of the compiler


def _child(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd="/", env=_env())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_version_is_answered_without_importing_the_compiler() -> None:
    out = _child("import sys; sys.argv = ['archc', '--version']; before = set(sys.modules)\n"
                 "import archc_launch\nrc = archc_launch.main()\n"
                 "print(rc, sorted(set(sys.modules) - before))")
    # Only the launcher, the package (whose __init__ imports nothing) and the version's module:
    # no typing, no importlib.metadata, no pydantic.
    assert out == (f"archc {archcompiler.__version__}\n"
                   "0 ['archc_launch', 'archcompiler', 'archcompiler._version']\n")


def test_python_m_answers_version_without_importing_the_compiler() -> None:
    out = _child("import runpy, sys; sys.argv = ['archcompiler', '--version']\n"
                 "before = set(sys.modules)\n"
                 "try:\n    runpy.run_module('archcompiler', run_name='__main__')\n"
                 "except SystemExit as stop:\n    code = stop.code\n"
                 "print(code, sorted(m for m in set(sys.modules) - before if 'archc' in m))")
    assert out == (f"archc {archcompiler.__version__}\n"
                   "0 ['archcompiler', 'archcompiler._version']\n")


def test_the_launcher_answers_as_argparse_does(capsys: pytest.CaptureFixture[str]) -> None:
    from archcompiler.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    said = capsys.readouterr().out
    assert said == _child("import sys; sys.argv = ['archc', '--version']\n"
                          "import archc_launch; sys.exit(archc_launch.main())")


def test_import_archcompiler_is_lazy() -> None:
    out = _child("import sys; before = set(sys.modules)\nimport archcompiler\n"
                 "print(sorted(set(sys.modules) - before))\narchcompiler.analyze\n"
                 "print('archcompiler.api' in sys.modules, 'torch' in sys.modules)")
    imported, after = out.strip().splitlines()
    assert imported == "['archcompiler', 'archcompiler._version']"
    assert after == "True False"


def test_the_lazy_exports_agree_with_all_and_the_type_checking_imports() -> None:
    """Exporting a name means three edits in __init__.py; a missed one fails here."""
    tree = ast.parse(Path(archcompiler.__file__).read_text(encoding="utf-8"))
    typed: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and \
                node.test.id == "TYPE_CHECKING":
            typed |= {a.asname or a.name for stmt in node.body
                      if isinstance(stmt, ast.ImportFrom) and stmt.level == 1
                      for a in stmt.names}
    exports = archcompiler._EXPORTS
    assert set(archcompiler.__all__) == set(exports) == typed
    for name, module in exports.items():
        value = getattr(archcompiler, name)
        assert value is getattr(importlib.import_module(module, "archcompiler"), name), name
    assert set(archcompiler.__all__) <= set(dir(archcompiler))
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        archcompiler.no_such_name  # noqa: B018
    namespace: dict[str, object] = {}
    exec("from archcompiler import *", namespace)  # the test's own constant code
    assert set(archcompiler.__all__) <= set(namespace)


def test_the_version_has_one_source() -> None:
    assert archcompiler.__version__ == importlib.metadata.version("archcompiler")


def test_summary_imports_only_what_it_uses() -> None:
    out = _child("import contextlib, io, sys\nfrom archcompiler.cli import main\n"
                 "with contextlib.redirect_stdout(io.StringIO()):\n"
                 "    assert main(['summary', 'resnet18']) == 0\n"
                 "print(sorted(sys.modules))")
    loaded = set(ast.literal_eval(out.strip()))
    for module in ("archcompiler.cli.sweep", "archcompiler.cli.sample",
                   "archcompiler.cli.explain", "archcompiler.cli.table",
                   "archcompiler.cli.compare", "archcompiler.cli.completion",
                   "archcompiler.explore.diff", "concurrent.futures", "multiprocessing",
                   "torch", "graphviz"):
        assert module not in loaded, module


def test_the_completion_script_offers_the_new_options(cli: Cli) -> None:
    pytest.importorskip("shtab")
    script = cli("completion", "bash").out
    for command in ("validate", "table", "compare", "list"):
        line = next(x for x in script.splitlines()
                    if x.startswith(f"_shtab_archc_{command}_option_strings="))
        assert "--json" in line.split() or "--json)" in line, command
        assert "--color" in line.split(), command

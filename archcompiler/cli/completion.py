"""`archc completion bash|zsh`: a completion script for commands, options and built-in specs.

The script is generated from the argument parser by shtab (the optional `completion` extra), so
it follows every option as it is added; SPEC arguments complete the zoo's names and YAML files.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

from .._version import __version__
from ..language.zoo import builtin_names
from .codes import EXIT_OK
from .common import SPEC_DESTS, UsageError
from .parser import build_parser

# Options that name a folder (the arguments that name a spec are common.SPEC_DESTS).
DIR_OPTIONS = ("--write",)


def _spec_completer(names: list[str]) -> dict[str, object]:
    words = " ".join(names)
    bash = (f'_archc_spec() {{\n  compgen -W "{words}" -- "$1"\n'
            '  compgen -f -X "!*.yaml" -- "$1"\n  compgen -f -X "!*.yml" -- "$1"\n'
            '  compgen -d -- "$1"\n}\n')
    zsh = (f"_archc_spec() {{\n  _alternative 'specs:built-in spec:({words})' "
           "'files:spec file:_files -g \"*.(yaml|yml)\"'\n}\n")
    return {"bash": "_archc_spec", "zsh": "_archc_spec", "preamble": {"bash": bash, "zsh": zsh}}


def _mark(parser: argparse.ArgumentParser, spec: dict[str, object], folder: object) -> None:
    """Tell shtab how each SPEC and folder argument completes, in every subcommand."""
    for action in parser._actions:  # argparse has no public walk over its actions
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                _mark(sub, spec, folder)
        elif action.dest in SPEC_DESTS and not action.option_strings:
            action.complete = spec  # type: ignore[attr-defined]
        elif set(action.option_strings) & set(DIR_OPTIONS):
            action.complete = folder  # type: ignore[attr-defined]


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """Return the completion script of `parser` for `shell`; UsageError without shtab."""
    try:
        import shtab
    except ImportError:
        raise UsageError("`archc completion` needs shtab: pip install 'archcompiler[completion]' "
                         "(or pip install shtab)") from None
    _mark(parser, _spec_completer(builtin_names()), shtab.DIRECTORY)
    return str(shtab.complete(parser, shell=shell))


def _unused(args: argparse.Namespace) -> int:
    raise AssertionError("a completion parser only describes the commands")


def cmd_completion(args: argparse.Namespace) -> int:
    """Print the completion script for bash or zsh."""
    # A parser of its own (the handlers are never called), so marking it changes nothing else.
    parser = build_parser(defaultdict(lambda: _unused), __version__)
    sys.stdout.write(completion_script(parser, args.shell))
    return EXIT_OK

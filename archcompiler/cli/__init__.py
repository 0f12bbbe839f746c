"""The `archc` command line: it parses arguments, runs the pipeline and formats its values.

Exit codes: 0 valid (warnings allowed), 1 the spec has errors, 2 usage or I/O error,
3 an internal error (a bug: please report it), 4 rendering needs the graphviz `dot` binary,
5 `dot` ran past its time limit, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .._version import __version__
from ..core.diagnostics import SpecError, format_text
from ..core.outputs import OutputError, shown
from .codes import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_NO_DOT, EXIT_OK, EXIT_SPEC, EXIT_USAGE
from .common import UsageError, check_stdin_once, parse_input
from .parser import Handler
from .parser import build_parser as _build_parser
from .plugins import load_plugins
from .term import set_color_mode, use_color

__all__ = ["EXIT_INTERNAL", "EXIT_NO_DOT", "EXIT_OK", "EXIT_SPEC", "EXIT_USAGE", "UsageError",
           "build_parser", "main", "parse_input"]


def _lazy(module: str, function: str) -> Handler:
    """The handler `function` of cli/`module`.py, imported when its command runs.

    A command pays only for its own imports: `archc summary` never loads the sweep's process
    pool, the explainer or the paper table.
    """
    def handler(args: argparse.Namespace) -> int:
        run: Handler = getattr(importlib.import_module(f".{module}", __name__), function)
        return run(args)

    handler.__name__ = handler.__qualname__ = function
    return handler


HANDLERS: dict[str, Handler] = {
    "validate": _lazy("commands", "cmd_validate"), "summary": _lazy("commands", "cmd_summary"),
    "explain": _lazy("explain", "cmd_explain"), "table": _lazy("table", "cmd_table"),
    "compare": _lazy("compare", "cmd_compare"), "build": _lazy("commands", "cmd_build"),
    "render": _lazy("commands", "cmd_render"), "diff": _lazy("diff", "cmd_diff"),
    "sweep": _lazy("sweep", "cmd_sweep"), "sample": _lazy("sample", "cmd_sample"),
    "list": _lazy("commands", "cmd_list"), "schema": _lazy("commands", "cmd_schema"),
    "completion": _lazy("completion", "cmd_completion"), "lsp": _lazy("commands", "cmd_lsp"),
}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `archc`."""
    return _build_parser(HANDLERS, __version__)


def _debugging(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("ARCHC_DEBUG", "") not in ("", "0")


def undecodable(argv: Sequence[str]) -> str | None:
    """Why an argument is not UTF-8 text (the byte and its place), or None when all are.

    Python hands undecodable argv bytes over as lone surrogates ('surrogateescape'); any later
    encode would fail far from here, so they are refused first, naming the argument.
    """
    for i, arg in enumerate(argv):
        if "\x00" in arg:  # no real argv holds one; main(argv) may, and no path or value can
            return f"argument {i + 1} holds a NUL character at {arg.index(chr(0)) + 1}"
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            char = arg[exc.start]
            byte = f"byte 0x{ord(char) - 0xDC00:02x}" if 0xDC80 <= ord(char) <= 0xDCFF else \
                f"character U+{ord(char):04X}"
            after = f" (after {arg[:exc.start][-20:]!r})" if exc.start else ""
            return (f"argument {i + 1} is not UTF-8 text: {byte} at character {exc.start + 1}"
                    f"{after}; write it as UTF-8")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run `archc`; a traceback reaches the user only with --debug or ARCHC_DEBUG=1."""
    try:
        given = list(sys.argv[1:] if argv is None else argv)
        why = undecodable(given)
        if why is not None:
            print(f"archc: error: {why}", file=sys.stderr)
            return EXIT_USAGE
        args = build_parser().parse_args(given)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    try:
        set_color_mode(getattr(args, "color", "auto"))
        check_stdin_once(args)
        load_plugins(getattr(args, "plugin", None))
        return int(args.func(args))
    except (UsageError, OutputError) as exc:
        print(f"archc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `archc summary ... | head` closed the pipe: not an error
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:
        # Name what the user gave (-o FILE), not an internal temporary file.
        target = exc.filename or getattr(args, "output", None) or ""
        print(f"archc: error: {shown(str(target))}: {exc.strerror or exc}".lstrip(": "),
              file=sys.stderr)
        return EXIT_USAGE
    except SpecError as exc:  # a spec error raised past a command (a block type's lowering)
        sys.stderr.write(format_text(exc.diagnostics, exc.sources, use_color()) + "\n")
        return EXIT_SPEC
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so plainly instead of dumping a traceback
        if _debugging(args):
            import traceback

            traceback.print_exc()
        print(f"archc: internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in archcompiler; please report it with the spec and the command"
              + ("" if _debugging(args) else " (rerun with --debug for the traceback)"),
              file=sys.stderr)
        return EXIT_INTERNAL

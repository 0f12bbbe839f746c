"""The `archc` command line: it parses arguments, runs the pipeline and formats its values.

Exit codes: 0 valid (warnings allowed), 1 the spec has errors, 2 usage or I/O error,
3 an internal error (a bug: please report it), 4 rendering needs the graphviz `dot` binary.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from .._version import __version__
from ..core.diagnostics import SpecError, format_text
from .codes import EXIT_INTERNAL, EXIT_NO_DOT, EXIT_OK, EXIT_SPEC, EXIT_USAGE
from .commands import cmd_build, cmd_list, cmd_render, cmd_schema, cmd_summary, cmd_validate
from .common import UsageError, parse_input
from .completion import cmd_completion
from .diff import cmd_diff
from .parser import Handler
from .parser import build_parser as _build_parser
from .plugins import load_plugins
from .sweep import cmd_sweep

__all__ = ["EXIT_INTERNAL", "EXIT_NO_DOT", "EXIT_OK", "EXIT_SPEC", "EXIT_USAGE", "UsageError",
           "build_parser", "main", "parse_input"]

HANDLERS: dict[str, Handler] = {
    "validate": cmd_validate, "summary": cmd_summary, "build": cmd_build, "render": cmd_render,
    "diff": cmd_diff, "sweep": cmd_sweep, "list": cmd_list, "schema": cmd_schema,
    "completion": cmd_completion,
}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `archc`."""
    return _build_parser(HANDLERS, __version__)


def _debugging(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("ARCHC_DEBUG", "") not in ("", "0")


def main(argv: Sequence[str] | None = None) -> int:
    """Run `archc`; a traceback reaches the user only with --debug or ARCHC_DEBUG=1."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        load_plugins(getattr(args, "plugin", None))
        return int(args.func(args))
    except UsageError as exc:
        print(f"archc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `archc summary ... | head` closed the pipe: not an error
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:
        # Name what the user gave (-o FILE), not an internal temporary file.
        target = getattr(args, "output", None) or exc.filename or ""
        print(f"archc: error: {target}: {exc.strerror or exc}".lstrip(": "), file=sys.stderr)
        return EXIT_USAGE
    except SpecError as exc:  # a spec error raised past a command (a block type's lowering)
        sys.stderr.write(format_text(exc.diagnostics, exc.sources, color=False) + "\n")
        return EXIT_SPEC
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so plainly instead of dumping a traceback
        if _debugging(args):
            traceback.print_exc()
        print(f"archc: internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in archcompiler; please report it with the spec and the command"
              + ("" if _debugging(args) else " (rerun with --debug for the traceback)"),
              file=sys.stderr)
        return EXIT_INTERNAL

"""The `archc` command line: it parses arguments, runs the pipeline and formats its values.

Exit codes: 0 valid (warnings allowed), 1 the spec has errors, 2 usage or I/O error,
3 an internal error (a bug: please report it), 4 rendering needs the graphviz `dot` binary.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..analysis.bounds import build_diagnostics
from ..analysis.report import Report, check_input_shape
from ..api import analyze
from ..core import diagnostics as dg
from ..core.limits import DEFAULT_LIMITS, Limits, parse_size
from ..language.load import Resolution, resolve
from .codes import EXIT_INTERNAL, EXIT_NO_DOT, EXIT_OK, EXIT_SPEC, EXIT_USAGE

__all__ = ["EXIT_INTERNAL", "EXIT_NO_DOT", "EXIT_OK", "EXIT_SPEC", "EXIT_USAGE", "main"]


class UsageError(Exception):
    """A bad command line: reported in one line with exit code 2."""


def parse_input(text: str | None) -> tuple[int, int, int] | None:
    """Parse `--input CxHxW` (e.g. 3x224x224)."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d{1,5})x(\d{1,5})x(\d{1,5})\s*", text)
    if not match:
        raise UsageError(f"--input wants CxHxW, e.g. 3x224x224; got {text!r}")
    dims = tuple(int(g) for g in match.groups())
    try:
        return check_input_shape(dims)
    except ValueError as exc:
        raise UsageError(f"--input {text}: {exc}") from None


def seed_value(text: str) -> int:
    """Parse `--seed`: an integer that torch's generators accept."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError(f"must be from 0 to 2**63 - 1, got {seed}")
    return seed


def _print_diags(diags: Sequence[dg.Diagnostic], sources: dict[str, str]) -> None:
    if diags:
        color = sys.stderr.isatty()
        print(dg.format_text(sorted(diags, key=dg.sort_key), sources, color), file=sys.stderr)


def limits_of(args: argparse.Namespace) -> Limits:
    """The resource bounds the command line asks for, over the defaults."""
    given = {key: getattr(args, key) for key in _BOUNDS if getattr(args, key, None) is not None}
    return replace(DEFAULT_LIMITS, **given)


def _load(ref: str, args: argparse.Namespace, shape: tuple[int, int, int] | None
          ) -> tuple[Resolution, Report | None]:
    """Resolve and analyze one spec: the CLI's only way in to the pipeline."""
    limits = limits_of(args)
    res = resolve(ref, allow_outside=args.allow_outside, limits=limits)
    return res, analyze(res.spec, shape, limits=limits) if res.spec is not None else None


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# The bounds a command line can raise: Limits field (and --flag) -> (parser, what it bounds).
_BOUNDS = {
    "max_params": (_size, "parameters a build may have (e.g. 100G)"),
    "max_memory": (_size, "bytes of weights and buffers a build may allocate (default: the "
                          "memory available on this machine)"),
    "max_activation": (_size, "elements of the largest feature map, per sample"),
    "max_nodes": (_size, "IR nodes in the graph"),
    "max_extends": (_size, "files in one extends chain"),
    "max_blocks": (_size, "blocks in all stages"),
}


def _analyze(ref: str, args: argparse.Namespace) -> tuple[Report | None, int]:
    """Resolve and analyze one spec, printing diagnostics; return the report and an exit code."""
    shape = parse_input(getattr(args, "input", None))
    res, report = _load(ref, args, shape)
    if res.spec is None or report is None:
        # `summary --json` promises JSON on stdout: an object with the diagnostics, no summary.
        if getattr(args, "json", False):
            print(json.dumps({"name": None, "diagnostics": [d.to_dict() for d in res.diagnostics]},
                             indent=2))
        _print_diags(res.diagnostics, res.sources)
        return None, EXIT_USAGE if res.not_found else EXIT_SPEC
    if shape is not None and shape[0] != res.spec.input_shape[0]:
        print(f"archc: note: --input has {shape[0]} channels where {res.spec.name} has "
              f"{res.spec.input_shape[0]}, so its first conv changes with it", file=sys.stderr)
    return report, EXIT_OK if report.ok else EXIT_SPEC


def _output(args: argparse.Namespace, suffixes: Sequence[str] = ()) -> Path:
    """Check `-o` before any work is done, so a bad path costs nothing and names itself."""
    from ..core.fileio import check_output_path

    path = Path(args.output)
    if suffixes and path.suffix.lower() not in suffixes:
        raise UsageError(f"-o {path}: use a file ending in {', '.join(suffixes)}")
    try:
        check_output_path(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return path


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate each spec: schema, variants, shapes and design rules."""
    worst = EXIT_OK
    results = []
    input_shape = parse_input(args.input)
    for ref in args.specs:
        res, report = _load(ref, args, input_shape)
        diags = list(res.diagnostics) + (report.diagnostics if report is not None else [])
        code = EXIT_USAGE if res.not_found else (EXIT_SPEC if dg.has_errors(diags) else EXIT_OK)
        worst = max(worst, code)
        if args.format == "json":
            results.append({"spec": ref, "valid": code == EXIT_OK,
                            "params": report.params if report else None,
                            "macs": report.macs if report else None,
                            "diagnostics": [d.to_dict() for d in sorted(diags, key=dg.sort_key)]})
            continue
        _print_diags(diags, res.sources)
        if code == EXIT_OK and report is not None:
            warn = sum(d.severity is dg.Severity.WARNING for d in diags)
            extra = f", {warn} warning{'s' * (warn != 1)}" if warn else ""
            print(f"ok: {report.spec.name} ({ref}): {report.params:,} params, "
                  f"{report.macs / 1e9:.3f} GMACs{extra}")
        else:
            errors = sum(d.severity is dg.Severity.ERROR for d in diags)
            print(f"invalid: {ref}: {errors} error{'s' * (errors != 1)}")
    if args.format == "json":
        print(json.dumps(results, indent=2))
    return worst


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the shape and cost table of one spec."""
    from ..backends.summary import format_json, format_text

    report, code = _analyze(args.spec, args)
    if report is None:
        return code
    if args.json:
        print(format_json(report))
    else:
        _print_diags(report.diagnostics, report.spec.sources)
        print(format_text(report, args.depth))
    return code


def cmd_list(args: argparse.Namespace) -> int:
    """List the built-in specs with their descriptions."""
    from ..api import load_spec
    from ..language.zoo import builtin_names

    for name in builtin_names():
        print(f"{name:<20} {load_spec(name).description}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print (or write) the JSON Schema of the spec language."""
    from ..language.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    """Compile a spec into torch weights or an exported program."""
    output = _output(args)
    report, code = _analyze(args.spec, args)
    if report is None or code != EXIT_OK:
        if report is not None:
            _print_diags(report.diagnostics, report.spec.sources)
        return code
    # The bounds are checked on the analysis, before torch is even imported: a refusal is quick.
    over = build_diagnostics(report, limits_of(args))
    _print_diags(report.diagnostics + over, report.spec.sources)
    if over:
        print(f"refused: {report.spec.name}: nothing was built or written")
        return EXIT_SPEC
    try:
        from .build import run_build
    except ImportError as exc:
        raise UsageError(f"`archc build` needs torch ({exc}); install it with "
                         "`pip install torch==2.13.0`") from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    return run_build(report, output, args.format, args.check, args.seed, limits_of(args))


def cmd_render(args: argparse.Namespace) -> int:
    """Draw the architecture diagram of a spec."""
    from ..backends.render import FORMATS
    from .render import run_render

    output = _output(args, tuple(FORMATS))
    report, code = _analyze(args.spec, args)
    if report is None:
        return code
    _print_diags(report.diagnostics, report.spec.sources)
    output.parent.mkdir(parents=True, exist_ok=True)
    return run_render(report, output, args.detail, args.rankdir)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `archc`."""
    parser = argparse.ArgumentParser(prog="archc", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def spec_cmd(name: str, help_: str, many: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        if many:
            p.add_argument("specs", nargs="+", metavar="SPEC", help="YAML paths or built-in names")
        else:
            p.add_argument("spec", metavar="SPEC", help="a YAML path or a built-in name")
        p.add_argument("--input", metavar="CxHxW", help="input shape, e.g. 3x224x224")
        p.add_argument("--allow-outside", action="store_true",
                       help="let `extends` reach files outside the spec's folder")
        bounds = p.add_argument_group("resource bounds (checked before anything is allocated)")
        for key, (parse, what) in _BOUNDS.items():
            bounds.add_argument(f"--{key.replace('_', '-')}", type=parse, metavar="N",
                                help=what)
        return p

    p = spec_cmd("validate", "check specs: schema, variants, shapes and design rules", many=True)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_validate)
    p = spec_cmd("summary", "print shapes, parameters and MACs")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--depth", choices=("stage", "block", "layer"), default="block")
    p.set_defaults(func=cmd_summary)
    p = spec_cmd("build", "compile to a torch module and save it")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument("--format", choices=("state_dict", "exported"), default="state_dict")
    p.add_argument("--check", action="store_true",
                   help="run a forward pass and compare every shape with the analysis")
    p.add_argument("--seed", type=seed_value, default=0,
                   help="initialisation seed, 0 to 2**63-1 (default 0)")
    p.set_defaults(func=cmd_build)
    p = spec_cmd("render", "draw the architecture diagram (.svg, .png, .pdf or .dot)")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument("--detail", choices=("stage", "block", "layer"), default="block")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB")
    p.set_defaults(func=cmd_render)
    p = sub.add_parser("list", help="list the built-in specs")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("schema", help="print the JSON Schema of the spec language")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `archc`; never lets a traceback reach the user."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so plainly instead of dumping a traceback
        print(f"archc: internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in archcompiler; please report it with the spec", file=sys.stderr)
        return EXIT_INTERNAL

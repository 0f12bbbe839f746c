"""The spec commands of `archc`: validate, summary, build, render, list and schema."""

from __future__ import annotations

import argparse
import json
import stat
import sys
from pathlib import Path

from ..analysis.bounds import build_diagnostics
from ..core import diagnostics as dg
from ..core.fileio import atomic_write_bytes
from ..core.outputs import input_paths, shown
from ..core.outputs import to_json as strict_json
from .codes import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from .common import (
    STDIN,
    UsageError,
    analyze_one,
    limits_of,
    load,
    not_an_input,
    output_path,
    parse_input,
    print_diags,
    shown_ref,
)
from .term import Column, ellipsis, fit_table, table_width

# The build formats, and the file suffix each one is written with.
BUILD_FORMATS = {"state_dict": (".pt", ".pth"), "exported": (".pt2",), "onnx": (".onnx",)}


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate each spec: schema, variants, shapes and design rules."""
    worst = EXIT_OK
    results = []
    as_json = args.json or args.format == "json"
    input_shape = parse_input(args.input)
    for ref in args.specs:
        res, report = load(ref, args, input_shape)
        diags = list(res.diagnostics) + (report.diagnostics if report is not None else [])
        code = EXIT_USAGE if res.not_found else (EXIT_SPEC if dg.has_errors(diags) else EXIT_OK)
        worst = max(worst, code)
        if as_json:
            results.append({"spec": shown_ref(ref), "valid": code == EXIT_OK,
                            "params": report.params if report else None,
                            "macs": report.macs if report else None,
                            "diagnostics": [d.to_dict() for d in sorted(diags, key=dg.sort_key)]})
            continue
        print_diags(diags, res.sources)
        if code == EXIT_OK and report is not None:
            warn = sum(d.severity is dg.Severity.WARNING for d in diags)
            extra = f", {warn} warning{'s' * (warn != 1)}" if warn else ""
            print(f"ok: {report.spec.name} ({shown_ref(ref)}): {report.params:,} params, "
                  f"{report.macs / 1e9:.3f} GMACs{extra}")
        else:
            errors = sum(d.severity is dg.Severity.ERROR for d in diags)
            print(f"invalid: {shown_ref(ref)}: {errors} error{'s' * (errors != 1)}")
    if as_json:
        print(strict_json(results))
    return worst


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the shape and cost table of one spec, at the depth asked for."""
    from ..report.summary import format_json, format_text

    report, code = analyze_one(args.spec, args)
    if report is None:
        return code
    if args.json:
        print(format_json(report, args.depth))
    else:
        print_diags(report.diagnostics, report.spec.sources)
        print(format_text(report, args.depth or "block"))
    return code


def cmd_list(args: argparse.Namespace) -> int:
    """List the built-in specs: params, MACs, family and description."""
    from ..api import analyze
    from ..explore.diff import human
    from ..language.zoo import builtin_names
    from ..report.summary import family, traits

    records, rows = [], []
    for name in builtin_names():
        report = analyze(name)
        records.append({"name": name, "params": report.params, "macs": report.macs,
                        "family": family(report), "traits": traits(report),
                        "input_shape": list(report.input_shape), "classes": report.spec.classes,
                        "description": report.spec.description})
        rows.append([name, human(report.params), human(report.macs),
                     family(report), report.spec.description])
    if args.json:
        print(strict_json(records))
        return EXIT_OK
    # On a narrow terminal the description is cut first, then the family dropped (cli/term.py);
    # piped, the table is printed whole.
    columns = [Column("name"), Column("params", right=True), Column("MACs", right=True),
               Column("family", optional=True), Column("description", free=True, optional=True)]
    print("\n".join(fit_table(columns, rows, table_width(), ellipsis())))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print (or write) the JSON Schema of the spec language."""
    from ..language.schema import json_schema

    output = output_path(args) if args.output else None
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is not None:
        atomic_write_bytes(output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return EXIT_OK


def build_format(args: argparse.Namespace) -> str:
    """The build format: `--format` when given, else the one the output suffix names."""
    suffix = Path(args.output).suffix.lower()
    by_suffix = next((f for f, s in BUILD_FORMATS.items() if suffix in s), None)
    known = ", ".join(f"{s} ({f})" for f, ss in BUILD_FORMATS.items() for s in ss)
    if args.format is None:
        if by_suffix is None:
            raise UsageError(f"-o {args.output}: the suffix names no build format; use one of "
                             f"{known}, or give --format")
        return by_suffix
    # `-o x.onnx --format state_dict` would write a mislabelled file; `-o x.bin` names nothing.
    if by_suffix is not None and by_suffix != args.format:
        want = " or ".join(BUILD_FORMATS[args.format])
        raise UsageError(f"-o {args.output} does not match --format {args.format}: "
                         f"name the file with {want}, or drop --format to follow the suffix")
    return str(args.format)


def _unreadable(path: Path) -> str | None:
    """Why `path` cannot be a weights file before it is opened, or None."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):  # a folder; a FIFO would block the read
        return "is a folder" if stat.S_ISDIR(info.st_mode) else "is not a regular file"
    return None


def cmd_build(args: argparse.Namespace) -> int:
    """Compile a spec into torch weights, an exported program or an ONNX model."""
    weights = [Path(args.weights)] if args.weights is not None else []
    output = output_path(args, inputs=weights)
    fmt = build_format(args)
    if args.weights is not None:
        why = _unreadable(Path(args.weights))
        if why is not None:  # before any work; the same code as a file torch cannot read
            print_diags([dg.error("ARC501", f"--weights {shown(args.weights)}: {why}", None,
                                  hint="give the .pth file written by torch.save")], {})
            return EXIT_USAGE
    report, code = analyze_one(args.spec, args)
    if report is None or code != EXIT_OK:
        if report is not None:
            print_diags(report.diagnostics, report.spec.sources)
        return code
    not_an_input(output, "-o", report.spec.sources)
    # The bounds are checked on the analysis, before torch is even imported: a refusal is quick.
    over = build_diagnostics(report, limits_of(args))
    print_diags(report.diagnostics + over, report.spec.sources)
    if over:
        print(f"refused: {report.spec.name}: nothing was built or written")
        return EXIT_SPEC
    if args.weights is not None:  # the record table, before torch is imported (a zip bomb)
        from ..backends.pytorch.archive import precheck

        try:
            problem = precheck(Path(args.weights), report.params, limits_of(args))
        except OSError as exc:
            problem = f"it cannot be read ({exc.strerror or exc})"
        if problem is not None:
            print_diags([dg.error("ARC501", f"{shown(args.weights)} is refused before it is "
                                  f"read: {problem}", None, hint="give the .pth file written by "
                                  "torch.save; or raise the bound (--max-memory, --max-params)")],
                        {})
            print(f"refused: {shown(args.weights)}: nothing was built or written")
            return EXIT_USAGE
    try:
        from .build import run_build
    except ImportError as exc:
        raise UsageError(f"`archc build` needs torch ({exc}); install it with "
                         "`pip install torch==2.13.0`") from exc
    return run_build(report, output, fmt, args.check, args.seed, limits_of(args),
                     weights=Path(args.weights) if args.weights else None)


def cmd_render(args: argparse.Namespace) -> int:
    """Draw the architecture diagram of a spec."""
    from ..backends.render import FORMATS
    from .render import run_render

    output = output_path(args, tuple(FORMATS))
    specs = args.spec if isinstance(args.spec, list) else [args.spec]
    if len(specs) > 1:
        if args.watch:
            raise UsageError("--watch follows one spec; drop it, or name one spec")
        from .render import run_figure

        return run_figure(specs, args, output)
    args.spec = specs[0]
    if args.watch and args.spec == STDIN:
        raise UsageError("--watch redraws when the spec file is saved, so it needs a file, not "
                         "- (standard input)")
    if args.watch:
        from .watch import run_watch

        return run_watch(args, output)
    report, code = analyze_one(args.spec, args)
    if report is None:
        return code
    not_an_input(output, "-o", report.spec.sources)
    print_diags(report.diagnostics, report.spec.sources)
    return run_render(report, output, args.detail, args.rankdir, args.max_drawn,
                      args.dot_timeout, input_paths(report.spec.sources), args.style)


def cmd_lsp(args: argparse.Namespace) -> int:
    """Run the language server over stdio (pygls is imported only here)."""
    try:
        from ..lsp.features import serve
    except ImportError as exc:
        raise UsageError(f"`archc lsp` needs pygls and lsprotocol ({exc}); install them with "
                         "`pip install 'archcompiler[lsp]'`") from exc
    return serve(args.log)

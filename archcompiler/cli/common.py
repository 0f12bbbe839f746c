"""What every `archc` command shares: argument parsers, the one way in to the pipeline, output.

Nothing here imports torch: `validate`, `summary`, `diff` and `sweep` run on this alone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from ..analysis.report import Report, check_input_shape
from ..api import analyze
from ..core import diagnostics as dg
from ..core.limits import DEFAULT_LIMITS, Limits, parse_size
from ..core.outputs import OutputError, check_not_input, check_output, input_paths, shown
from ..language import load as language_load
from ..language.load import Resolution
from ..language.sources import SpecText
from ..language.yamlload import MAX_BYTES
from .codes import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from .term import is_terminal, use_color

Shape3 = tuple[int, int, int]

STDIN = "-"  # a SPEC of `-` is the text on standard input, as in cat and tar
STDIN_NAME = "<stdin>"  # its name in diagnostics (<stdin>:3:5) and messages
SPEC_DESTS = ("spec", "specs", "spec_a", "spec_b", "base")  # the arguments that name a spec


class UsageError(Exception):
    """A bad command line: reported in one line with exit code 2."""


# `--input 224x224x3` is almost always channels-last by mistake. The rule (documented in the
# help of --input): the last number is at most 4, like an image's channel count, while the first
# is above 16 and the height is larger than the width. A real 256x14x14 feature map passes.
_CHANNELS_LAST_MIN_C = 16
_IMAGE_CHANNELS_MAX = 4


def parse_input(text: str | None) -> Shape3 | None:
    """Parse `--input CxHxW` (e.g. 3x224x224), refusing an HxWxC order given by mistake."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d{1,5})x(\d{1,5})x(\d{1,5})\s*", text)
    if not match:
        raise UsageError(f"--input wants CxHxW, e.g. 3x224x224; got {text!r}")
    c, h, w = (int(g) for g in match.groups())
    if c > _CHANNELS_LAST_MIN_C and w <= _IMAGE_CHANNELS_MAX and h > w:
        raise UsageError(f"--input {text.strip()} reads as {c} channels of {h}x{w}, which looks "
                         f"like height x width x channels; the order is CxHxW: did you mean "
                         f"--input {w}x{c}x{h}?")
    try:
        return check_input_shape((c, h, w))
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


def seconds_value(text: str) -> float:
    """Parse a positive, finite number of seconds for argparse."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 86400, got {text}")
    return value


def size_value(text: str) -> int:
    """Parse a size argument such as 30M or 4G for argparse."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# The bounds a command line can raise: Limits field (and --flag) -> (parser, what it bounds).
BOUNDS = {
    "max_params": (size_value, "parameters a build may have (e.g. 100G)"),
    "max_memory": (size_value, "bytes of weights and buffers a build may allocate (default: the "
                               "memory available on this machine)"),
    "max_activation": (size_value, "elements of the largest feature map, per sample"),
    "max_nodes": (size_value, "IR nodes in the graph"),
    "max_extends": (size_value, "files in one extends chain"),
    "max_blocks": (size_value, "blocks in all stages"),
}


def print_diags(diags: Sequence[dg.Diagnostic], sources: dict[str, str]) -> None:
    """Print diagnostics to stderr, sorted by place, in colour as --color decides (cli/term.py)."""
    if diags:
        print(dg.format_text(sorted(diags, key=dg.sort_key), sources, use_color()),
              file=sys.stderr)


def limits_of(args: argparse.Namespace) -> Limits:
    """The resource bounds the command line asks for, over the defaults."""
    given = {key: getattr(args, key) for key in BOUNDS if getattr(args, key, None) is not None}
    return replace(DEFAULT_LIMITS, **given)


def overrides_of(args: argparse.Namespace, extra: Sequence[str] = ()) -> list[str] | None:
    """The `--set KEY=VALUE` strings of the command line (None when there are none)."""
    given = [*(getattr(args, "set", None) or ()), *extra]
    return given or None


def check_stdin_once(args: argparse.Namespace) -> None:
    """Refuse a command line that gives `-` for more than one spec: stdin is read once."""
    given: list[object] = []
    for dest in SPEC_DESTS:
        value = getattr(args, dest, None)
        given += value if isinstance(value, list) else [value]
    if given.count(STDIN) > 1:
        raise UsageError("- (standard input) can be read only once: give - for one spec, and "
                         "files or built-in names for the others")


def read_stdin() -> SpecText:
    """The spec on standard input, as bytes (the language layer decodes and bounds them)."""
    stream = sys.stdin
    if stream is None:
        raise UsageError("SPEC - reads standard input, and this process has none")
    if is_terminal(stream):
        print("archc: reading the spec from the terminal; end it with Ctrl-D", file=sys.stderr)
    try:
        buffer = getattr(stream, "buffer", None)
        # One byte over the bound is enough to report it (ARC003), however long the input runs.
        data = (buffer.read(MAX_BYTES + 1) if buffer is not None
                else stream.read(MAX_BYTES + 1).encode("utf-8", "surrogateescape"))
    except (OSError, ValueError) as exc:  # ValueError: stdin was closed
        raise UsageError(f"SPEC -: standard input cannot be read ({exc})") from None
    return SpecText(bytes(data), STDIN_NAME)


def spec_source(ref: str) -> str | SpecText:
    """A SPEC argument as the language layer takes it: a path or a name, or `-`'s text."""
    return read_stdin() if ref == STDIN else ref


def shown_ref(ref: str) -> str:
    """A SPEC argument for messages: `-` is <stdin>."""
    return STDIN_NAME if ref == STDIN else shown(ref)


def resolve_ref(ref: str, args: argparse.Namespace, limits: Limits,
                overrides: Sequence[str] | None) -> Resolution:
    """Resolve one spec with the command line's overrides (the language layer checks them)."""
    source = spec_source(ref)
    if overrides is None:
        return language_load.resolve(source, allow_outside=args.allow_outside, limits=limits)
    return language_load.resolve(source, allow_outside=args.allow_outside, limits=limits,
                                 overrides=list(overrides))


def analyze_source(source: str | SpecText, shape: Shape3 | None, allow_outside: bool,
                   overrides: Sequence[str] | None) -> Report:
    """api.analyze for a spec source that may be stdin's text; SpecError as analyze raises it."""
    if isinstance(source, str):
        return analyze(source, shape, allow_outside=allow_outside,
                       overrides=list(overrides) if overrides else None)
    res = language_load.resolve(source, allow_outside=allow_outside,
                                overrides=list(overrides) if overrides else None)
    if res.spec is None:
        raise dg.SpecError(res.diagnostics, res.sources)
    return analyze(res.spec, shape)


def load(ref: str, args: argparse.Namespace, shape: Shape3 | None,
         extra_overrides: Sequence[str] = ()) -> tuple[Resolution, Report | None]:
    """Resolve and analyze one spec: the CLI's only way in to the pipeline."""
    limits = limits_of(args)
    res = resolve_ref(ref, args, limits, overrides_of(args, extra_overrides))
    if res.spec is None:
        return res, None
    try:
        return res, analyze(res.spec, shape, limits=limits)
    except dg.SpecError as exc:  # a block type failed to lower: its diagnostic, located
        res.diagnostics.extend(exc.diagnostics)
        res.spec = None
        return res, None


def analyze_one(ref: str, args: argparse.Namespace, extra_overrides: Sequence[str] = (),
                json_errors: bool = True) -> tuple[Report | None, int]:
    """Resolve and analyze one spec, printing diagnostics; return the report and an exit code."""
    shape = parse_input(getattr(args, "input", None))
    res, report = load(ref, args, shape, extra_overrides)
    if res.spec is None or report is None:
        # `--json` promises JSON on stdout: an object with the diagnostics, no summary.
        if json_errors and getattr(args, "json", False):
            print(json.dumps({"name": None, "diagnostics": [d.to_dict() for d in res.diagnostics]},
                             indent=2))
        print_diags(res.diagnostics, res.sources)
        return None, EXIT_USAGE if res.not_found else EXIT_SPEC
    if res.diagnostics:  # warnings from the front half (an override's note, say) are kept
        report.diagnostics[:0] = [d for d in res.diagnostics if d not in report.diagnostics]
    if shape is not None and shape[0] != res.spec.input_shape[0]:
        print(f"archc: note: --input has {shape[0]} channels where {res.spec.name} has "
              f"{res.spec.input_shape[0]}, so its first conv changes with it", file=sys.stderr)
    return report, EXIT_OK if report.ok else EXIT_SPEC


def output_path(args: argparse.Namespace, suffixes: Sequence[str] = (), flag: str = "-o",
                inputs: Sequence[Path] = ()) -> Path:
    """Check an output path before any work is done, so a bad path costs nothing."""
    path = Path(getattr(args, "output", None) or "")
    if suffixes and path.suffix.lower() not in suffixes:
        raise UsageError(f"{flag} {shown(path)}: use a file ending in {', '.join(suffixes)}")
    try:
        check_output(path, flag, inputs)
    except OutputError as exc:
        raise UsageError(str(exc)) from None
    return path


def not_an_input(path: Path, flag: str, sources: Iterable[str]) -> None:
    """Refuse an output that is a file the spec was read from (the spec, a base in its chain)."""
    try:
        check_not_input(path, flag, input_paths(sources))
    except OutputError as exc:
        raise UsageError(str(exc)) from None

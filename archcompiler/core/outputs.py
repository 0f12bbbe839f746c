"""One output-path policy for every command that writes a file.

Checked before any work starts: the folder exists and takes a new file (probed, since
`os.access` says yes to root on a read-only or virtual file system such as /proc), the target is
not a folder, and it is none of the run's inputs (the spec, a base in its chain, a weights file).
Files written into a folder the user named (`sweep --write DIR`) take their names from validated
names only, and never land outside it. Errors name the user's path, never a temporary file.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

# What a file name made from a spec name may be: the schema's name pattern, not starting with
# a dot or a dash (hidden files, options), 100 characters at most.
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_ECHO_MAX = 80


class OutputError(ValueError):
    """An output path the policy refuses; the message names the flag and the user's path."""


def cut(text: str, limit: int = _ECHO_MAX) -> str:
    """`text` for echoing: control characters escaped, and cut in the middle past `limit`."""
    shown = text if text.isprintable() else text.encode("unicode_escape", "backslashreplace"
                                                        ).decode("ascii")
    if len(shown) <= limit:
        return shown
    keep = max(limit - 20, 8)
    return f"{shown[: keep - keep // 3]}...({len(text):,} chars)...{shown[-(keep // 3):]}"


def shown(path: Path | str) -> str:
    """A path as the user gave it, fit for a message."""
    return cut(os.fspath(path), 200)


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # a loop of symlinks, a name too long: not the same
        return False


def check_folder(folder: Path, flag: str) -> None:
    """Refuse a folder that does not exist or does not take new files (probed, then removed)."""
    if not folder.exists():
        raise OutputError(f"{flag} {shown(folder)}: no such folder; create it first")
    if not folder.is_dir():
        raise OutputError(f"{flag} {shown(folder)}: is not a folder")
    probe = folder / f".archc-probe.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{flag} {shown(folder)}: the folder does not take new files "
                          f"({exc.strerror or type(exc).__name__})") from None


def check_output(path: Path, flag: str = "-o", inputs: Iterable[Path] = ()) -> Path:
    """Check an output file before any work: its folder, that it is no folder, no input."""
    if "\x00" in str(path):
        raise OutputError(f"{flag} {shown(path)}: a file name cannot hold a NUL character")
    try:
        if path.name in ("", ".", "..") or path.is_dir():
            raise OutputError(f"{flag} {shown(path)}: is a folder; give a file name")
    except OSError as exc:  # a name too long for the file system
        raise OutputError(f"{flag} {shown(path)}: {exc.strerror or exc}") from None
    check_folder(path.parent, flag)
    check_not_input(path, flag, inputs)
    return path


def check_not_input(path: Path, flag: str, inputs: Iterable[Path]) -> None:
    """Refuse an output that is one of the run's inputs: writing it would destroy it."""
    for source in inputs:
        if _same_file(path, source):
            raise OutputError(f"{flag} {shown(path)}: is an input of this run ({shown(source)}); "
                              "write to another file")


def check_write_folder(folder: Path, flag: str = "--write") -> None:
    """Check a folder to write many files into: it exists (or its parent does) and takes files."""
    try:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{flag} {shown(folder)}: is a file; give a folder")
        check_folder(folder if folder.exists() else folder.parent, flag)
    except OSError as exc:
        raise OutputError(f"{flag} {shown(folder)}: {exc.strerror or exc}") from None


def unsafe_name(name: str) -> str | None:
    """Why `name` cannot be used as a file name, or None when it can."""
    if not SAFE_NAME.fullmatch(name):
        return (f"'{cut(name)}' is not a safe file name: use letters, digits, '_', '.' and '-' "
                "(not first), at most 100")
    return None


def inside(folder: Path, name: str) -> Path:
    """`folder / name` for a safe file name; OutputError for any other name (a defence in depth)."""
    why = unsafe_name(name.removesuffix(".yaml"))
    if why is not None:
        raise OutputError(why)
    return folder / name


def input_paths(sources: Iterable[str]) -> list[Path]:
    """The files among the source names of a resolution (not `<--set 1>`, `<string>`)."""
    return [Path(s) for s in sources if not s.startswith("<")]


def json_safe(value: object) -> object:
    """`value` with NaN and infinities written as the strings "NaN", "Infinity", "-Infinity".

    JSON has no such numbers (`json.dumps` writes bare NaN, which strict parsers refuse), so the
    value is said in words rather than dropped.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def to_json(value: object, indent: int | None = 2) -> str:
    """Strict JSON text: non-finite numbers as strings (json_safe), never bare NaN."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)


def comment(text: str) -> str:
    """`text` as one YAML comment line: line breaks and control characters escaped."""
    return "# " + "".join(ch if ch.isprintable() or ch == " " else
                          ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                          for ch in text)

"""What `archc` writes for a terminal: colour, decided once for every command, and table widths.

Colour (`--color auto|always|never`, default auto) follows the conventions other tools share,
in the order Python 3.13's own traceback colouring uses: a flag wins; then NO_COLOR (set and
not empty: no colour, https://no-color.org); then FORCE_COLOR (set and not empty: colour,
https://force-color.org); then TERM=dumb (no colour); else colour exactly when the stream is a
terminal.

Tables are fitted to the terminal only when stdout is one (its width from COLUMNS, else the
terminal's): output that is piped or redirected is never cut, so `archc list | grep ...` and
scripts see every character, as with `pip list` and `ls -l`.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

COLOR_MODES = ("auto", "always", "never")
_GAP = "  "  # between table columns
MIN_FREE = 16  # a free-text column is cut to no fewer characters before a column is dropped
_PROGRESS_MIN = 20  # variants before a progress line is worth drawing

_mode = "auto"


def set_color_mode(mode: str) -> None:
    """Set the command line's `--color` for the rest of the process (main does, once a run)."""
    global _mode
    if mode not in COLOR_MODES:
        raise ValueError(f"--color {mode!r}: use one of {', '.join(COLOR_MODES)}")
    _mode = mode


def is_terminal(stream: TextIO | None) -> bool:
    """Whether `stream` is a terminal (a closed or missing stream is not)."""
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # a closed or detached stream is no terminal
        return False


def wants_color(mode: str, isatty: bool, env: Mapping[str, str]) -> bool:
    """The colour decision itself, from the flag, the terminal and the environment."""
    if mode != "auto":
        return mode == "always"
    if env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", ""):
        return True
    if env.get("TERM", "") == "dumb":
        return False
    return isatty


def use_color(stream: TextIO | None = None) -> bool:
    """Whether to colour what goes to `stream` (default stderr, where diagnostics go)."""
    stream = sys.stderr if stream is None else stream
    return wants_color(_mode, is_terminal(stream), os.environ)


def table_width(stream: TextIO | None = None) -> int | None:
    """The width to fit a table to: the terminal's when `stream` (stdout) is one, else None."""
    stream = sys.stdout if stream is None else stream
    if not is_terminal(stream):
        return None
    return max(20, shutil.get_terminal_size().columns)


def ellipsis(stream: TextIO | None = None) -> str:
    """'…' where the stream's encoding has it, else '...'."""
    stream = sys.stdout if stream is None else stream
    try:
        "…".encode(getattr(stream, "encoding", None) or "ascii")
        return "…"
    except (UnicodeEncodeError, LookupError):
        return "..."


@dataclass(frozen=True)
class Column:
    """A table column: its title, its alignment, and what may give way to a narrow terminal."""

    title: str
    right: bool = False  # numbers are right-aligned
    free: bool = False  # free text: cut with an ellipsis first, down to MIN_FREE characters
    optional: bool = False  # dropped, rightmost first, when cutting the free text is not enough


def _cut(text: str, width: int, mark: str) -> str:
    return text if len(text) <= width else text[:max(0, width - len(mark))].rstrip() + mark


def fit_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None,
              mark: str = "…") -> list[str]:
    """The table's lines, at most `width` characters each where it can be done (None: no limit).

    Free-text columns are cut first, to MIN_FREE characters at the least; then optional columns
    are dropped, rightmost first (a free-text column last), the free text widening again into
    the room they leave. Columns that are neither never give way: at a width too small even for
    them, lines are longer than `width`.
    """
    keep = list(range(len(columns)))
    natural = [max([len(columns[i].title), *(len(r[i]) for r in rows)]) for i in keep]
    while True:
        widths = {i: natural[i] for i in keep}
        over = sum(widths.values()) + len(_GAP) * (len(keep) - 1) - (width or 0)
        if width is None or over <= 0:
            break
        free = [i for i in keep if columns[i].free]
        if sum(max(0, widths[i] - MIN_FREE) for i in free) >= over:
            for i in reversed(free):  # the last free column gives way first
                take = min(over, max(0, widths[i] - MIN_FREE))
                widths[i] -= take
                over -= take
            break
        droppable = [i for i in keep if columns[i].optional]
        if not droppable:
            break
        fixed = [i for i in droppable if not columns[i].free]
        keep.remove((fixed or droppable)[-1])
    lines = []
    for row in [[c.title for c in columns], *rows]:
        cells = []
        for i in keep:
            text = _cut(row[i], widths[i], mark)
            cells.append(text.rjust(widths[i]) if columns[i].right else text.ljust(widths[i]))
        lines.append(_GAP.join(cells).rstrip())
    return lines


class Progress:
    """A one-line progress count on stderr, redrawn in place; only on a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.start, self.last = total, time.perf_counter(), 0.0
        self.on = total >= _PROGRESS_MIN and is_terminal(sys.stderr)

    def update(self, done: int) -> None:
        """Redraw the count at most ten times a second."""
        now = time.perf_counter()
        if self.on and (now - self.last > 0.1 or done == self.total):
            self.last = now
            print(f"\rsweep: {done:,}/{self.total:,} variants ({100 * done // self.total}%), "
                  f"{now - self.start:.1f} s", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Clear the line so what follows starts clean."""
        if self.on:
            print("\r\033[K", end="", file=sys.stderr, flush=True)

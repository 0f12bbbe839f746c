"""Running graphviz `dot` under a time limit, and its typed errors (the CLI decides what they
mean for its exit code)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

DOT_TIMEOUT_S = 60  # a hung or slow `dot` must not hang us: it is killed, with its own exit code
INSTALL_HINT = ("install graphviz to get images: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install graphviz`")
_NODE_LINE = re.compile(r'^\s*"[^"\n]*" \[', re.MULTILINE)


class DotNotFoundError(RuntimeError):
    """The graphviz `dot` binary is not on PATH; the DOT text was written to `dot_path`."""

    def __init__(self, dot_path: Path | None) -> None:
        wrote = f"wrote {dot_path} instead" if dot_path is not None else "wrote nothing"
        super().__init__(f"graphviz `dot` was not found on PATH; {wrote}. {INSTALL_HINT}")
        self.dot_path = dot_path


class DotFailedError(RuntimeError):
    """`dot` ran but failed; the message carries its stderr. The DOT text is kept beside."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.dot_path: Path | None = None


class DotTimeoutError(DotFailedError):
    """`dot` did not finish within the time limit and was killed."""

    def __init__(self, fmt: str, seconds: float, nodes: int) -> None:
        super().__init__(f"`dot -T{fmt}` did not lay out {nodes:,} boxes in {seconds:g} s")
        self.seconds, self.nodes = seconds, nodes


def drawn_nodes(dot_text: str) -> int:
    """How many boxes a DOT text (as to_dot_text writes it) draws."""
    return len(_NODE_LINE.findall(dot_text))


def find_dot() -> str | None:
    """Return the path of graphviz's `dot`, or None."""
    return shutil.which("dot")


def run_dot(dot_text: str, fmt: str, dot: str, timeout: float = DOT_TIMEOUT_S) -> bytes:
    """Lay out `dot_text` with `dot -T<fmt>` and return the output's bytes."""
    try:
        proc = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:  # subprocess.run kills the child before raising
        raise DotTimeoutError(fmt, timeout, drawn_nodes(dot_text)) from None
    if proc.returncode != 0 or not proc.stdout:
        raise DotFailedError(f"`dot -T{fmt}` failed ({proc.returncode}): "
                             f"{proc.stderr.decode('utf-8', 'replace').strip() or 'no output'}")
    return proc.stdout

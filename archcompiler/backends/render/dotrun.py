"""Running graphviz `dot`, and its typed errors (the CLI decides what they mean)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

DOT_TIMEOUT_S = 120  # resnet1202 at layer detail lays out in seconds; a hung dot must not hang us
INSTALL_HINT = ("install graphviz to get images: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install graphviz`")


class DotNotFoundError(RuntimeError):
    """The graphviz `dot` binary is not on PATH; the DOT text was written to `dot_path`."""

    def __init__(self, dot_path: Path) -> None:
        super().__init__(f"graphviz `dot` was not found on PATH; wrote {dot_path} instead. "
                         f"{INSTALL_HINT}")
        self.dot_path = dot_path


class DotFailedError(RuntimeError):
    """`dot` ran but failed; the message carries its stderr. The DOT text is kept beside."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.dot_path: Path | None = None


def find_dot() -> str | None:
    """Return the path of graphviz's `dot`, or None."""
    return shutil.which("dot")


def run_dot(dot_text: str, fmt: str, dot: str) -> bytes:
    """Lay out `dot_text` with `dot -T<fmt>` and return the image bytes."""
    try:
        proc = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, check=False, timeout=DOT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DotFailedError(f"`dot -T{fmt}` did not finish in {DOT_TIMEOUT_S} s") from None
    if proc.returncode != 0 or not proc.stdout:
        raise DotFailedError(f"`dot -T{fmt}` failed ({proc.returncode}): "
                             f"{proc.stderr.decode('utf-8', 'replace').strip() or 'no output'}")
    return proc.stdout



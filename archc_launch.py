"""The `archc` console script: Ctrl-C while the package is still importing exits 130, quietly.

A console script imports its target's package before calling it, so an interrupt during that
import would print a traceback from inside the import system. This module imports nothing of
archcompiler until it has taken over KeyboardInterrupt. It also answers `archc --version` from
archcompiler/_version.py alone: the package's __init__ imports nothing eagerly, so that costs
about as much as starting Python, where importing the compiler costs ten times more.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> int:
    """Import and run `archc`; an interrupt at any moment exits 130 without a traceback."""
    try:
        if sys.argv[1:] == ["--version"]:  # argparse's answer, word for word
            from archcompiler._version import __version__

            sys.stdout.write(f"archc {__version__}\n")
            return 0
        from archcompiler.cli import main as archc

        return archc()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

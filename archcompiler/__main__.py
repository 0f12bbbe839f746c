"""`python -m archcompiler` runs the `archc` command line (`--version` without importing it)."""

import sys

if sys.argv[1:] == ["--version"]:  # as the console script answers it: argparse's words
    from ._version import __version__

    sys.stdout.write(f"archc {__version__}\n")
    sys.exit(0)

from .cli import main  # only when there is a command to run

sys.exit(main())

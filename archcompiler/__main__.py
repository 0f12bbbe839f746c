"""`python -m archcompiler` runs the `archc` command line."""

import sys

from .cli import main

sys.exit(main())

"""The package version: the one source (pyproject reads it as `attr:`, without importing it).

A literal, not importlib.metadata: reading installed metadata costs more than the rest of
`archc --version`, which archc_launch answers from this module alone.
"""

__version__ = "0.1.0"

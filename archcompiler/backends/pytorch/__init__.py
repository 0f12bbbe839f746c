"""The torch backend: modules built from the IR, checked against it, exported."""

import warnings

# torch imports NumPy if it can and, when NumPy is not installed, warns at import time
# ("Failed to initialize NumPy: No module named 'numpy'"). The backend never converts to or from
# NumPy, so the warning says nothing to archcompiler's users, yet `archc build` printed it on
# every run in a venv without NumPy. Ignored here, before any module of the backend imports
# torch, by its message alone: every other warning torch gives still shows.
warnings.filterwarnings("ignore", message=r"Failed to initialize NumPy", category=UserWarning)

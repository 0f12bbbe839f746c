"""archcompiler: a declarative architecture spec compiler for residual networks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .analysis import MAC_CONVENTION, Report
from .api import analyze, load_spec, resolve
from .diagnostics import Diagnostic, Severity, Span, SpecError
from .resolved import ResolvedSpec

__version__ = "0.1.0"

__all__ = [
    "MAC_CONVENTION",
    "Diagnostic",
    "Report",
    "ResolvedSpec",
    "Severity",
    "Span",
    "SpecError",
    "analyze",
    "build_module",
    "load_spec",
    "render",
    "resolve",
    "to_dot",
]

def __dir__() -> list[str]:
    # The lazily loaded backends belong in tab completion too.
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .backends.render import render, to_dot
    from .backends.torch_backend import build_module


def __getattr__(name: str) -> Any:
    # The backends import torch or graphviz; load them only when asked so validation stays light.
    if name == "build_module":
        from .backends.torch_backend import build_module
        return build_module
    if name in ("render", "to_dot"):
        from .backends import render as _render
        return getattr(_render, name)
    raise AttributeError(f"module 'archcompiler' has no attribute {name!r}")

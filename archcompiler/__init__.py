"""archcompiler: a declarative architecture spec compiler for residual networks."""

from __future__ import annotations

from ._version import __version__ as __version__
from .analysis.report import MAC_CONVENTION, Report
from .analysis.table import Row
from .api import (
    analyze,
    build_module,
    create_model,
    list_models,
    load_spec,
    render,
    summary,
    to_dot,
    validate,
)
from .blocks import BlockBuilder, BlockConfig, BlockType, register_block, unregister_block
from .core.diagnostics import Diagnostic, Severity, Span, SpecError
from .core.limits import Limits
from .interop.timm import timm_register
from .language.load import resolve
from .language.resolved import ResolvedSpec

__all__ = [
    "MAC_CONVENTION",
    "BlockBuilder",
    "BlockConfig",
    "BlockType",
    "Diagnostic",
    "Limits",
    "Report",
    "ResolvedSpec",
    "Row",
    "Severity",
    "Span",
    "SpecError",
    "analyze",
    "build_module",
    "create_model",
    "list_models",
    "load_spec",
    "register_block",
    "render",
    "resolve",
    "summary",
    "timm_register",
    "to_dot",
    "unregister_block",
    "validate",
]

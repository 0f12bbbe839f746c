"""archcompiler: a declarative architecture spec compiler for residual networks.

The public names are imported on first use (PEP 562), so `import archcompiler` and `archc
--version` cost almost nothing, and a command pays only for the modules it reaches. To export a
name: add it to _EXPORTS (name -> module), to the TYPE_CHECKING imports (for type checkers and
editors) and to __all__; tests/cli/test_cli_conventions.py checks that the three agree.
"""

from __future__ import annotations

import importlib

from ._version import __version__ as __version__

# typing.TYPE_CHECKING without importing typing (a few ms of `archc --version`); type checkers
# treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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

# Each public name and the module (relative to this package) it is imported from.
_EXPORTS: dict[str, str] = {
    "MAC_CONVENTION": ".analysis.report",
    "Report": ".analysis.report",
    "Row": ".analysis.table",
    "analyze": ".api",
    "build_module": ".api",
    "create_model": ".api",
    "list_models": ".api",
    "load_spec": ".api",
    "render": ".api",
    "summary": ".api",
    "to_dot": ".api",
    "validate": ".api",
    "BlockBuilder": ".blocks",
    "BlockConfig": ".blocks",
    "BlockType": ".blocks",
    "register_block": ".blocks",
    "unregister_block": ".blocks",
    "Diagnostic": ".core.diagnostics",
    "Severity": ".core.diagnostics",
    "Span": ".core.diagnostics",
    "SpecError": ".core.diagnostics",
    "Limits": ".core.limits",
    "timm_register": ".interop.timm",
    "resolve": ".language.load",
    "ResolvedSpec": ".language.resolved",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name on first use, and keep it, so the next lookup is a plain one."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names with the public ones not imported yet (for completion in a REPL)."""
    return sorted({*globals(), *_EXPORTS})

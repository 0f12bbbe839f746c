"""Loading weights into a built module, strictly, with every mismatch traced to the spec.

Files are read with `torch.load(weights_only=True)`, which refuses pickled code. A file is a
state_dict, or a checkpoint dict holding one under 'state_dict' or 'model'. Before anything is
copied, each key is matched with the module: a missing, unexpected or wrongly shaped key becomes
a diagnostic (ARC502) that names the IR node the key belongs to and the spec line that made it.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic, Span, SpecError, did_you_mean, error
from ...ir.graph import Node
from .keymaps import adapt_state_dict

__all__ = ["WeightsError", "load_weights", "read_state_dict", "weight_diagnostics"]

READ_CODE = "ARC501"  # the file cannot be read as weights
MISMATCH_CODE = "ARC502"  # its keys or shapes do not match the spec's module
_SHOWN = 12  # diagnostics per kind of mismatch; the rest are counted in one more
_CHECKPOINT_KEYS = ("state_dict", "model")


class WeightsError(SpecError):
    """Weights that do not fit the spec's module (or cannot be read); carries the diagnostics."""


def _fail(message: str, hint: str) -> WeightsError:
    return WeightsError([error(READ_CODE, message, None, hint=hint)])


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a state_dict (or a checkpoint holding one) safely; raise WeightsError otherwise."""
    where = Path(path)
    try:
        data = torch.load(where, weights_only=True, map_location="cpu")
    except FileNotFoundError:
        raise _fail(f"weights file {where} does not exist", "check the path") from None
    except IsADirectoryError:
        raise _fail(f"weights file {where} is a folder", "give the .pth file") from None
    except pickle.UnpicklingError as exc:
        # weights_only refuses anything but tensors and plain containers: never run its code.
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise _fail(f"{where} holds Python objects that safe loading refuses ({first[:160]})",
                    "save the weights alone: torch.save(model.state_dict(), path)") from None
    except (RuntimeError, ValueError, EOFError, OSError) as exc:
        raise _fail(f"{where} is not a torch weights file ({type(exc).__name__}: "
                    f"{str(exc).splitlines()[0][:160] if str(exc) else 'unreadable'})",
                    "give a file written by torch.save(model.state_dict(), path)") from None
    if isinstance(data, Mapping):
        for key in _CHECKPOINT_KEYS:
            inner = data.get(key)
            if isinstance(inner, Mapping) and not isinstance(inner, torch.Tensor):
                data = inner
                break
    if not isinstance(data, Mapping) or not data:
        raise _fail(f"{where} holds {type(data).__name__}, not a state_dict",
                    "a state_dict maps names to tensors; a checkpoint holds one under "
                    "'state_dict' or 'model'")
    wrong = [str(k) for k, v in data.items() if not isinstance(k, str)
             or not isinstance(v, torch.Tensor)]
    if wrong:
        raise _fail(f"{where}: {len(wrong)} entries are not named tensors (first: "
                    f"{wrong[0][:80]!r})",
                    "a state_dict maps names to tensors; a checkpoint holds one under "
                    "'state_dict' or 'model'")
    return dict(data)


def _owner(key: str, modules: Mapping[str, Node]) -> Node | None:
    """The IR node whose module holds `key` (the longest module path that prefixes it)."""
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        node = modules.get(".".join(parts[:cut]))
        if node is not None:
            return node
    return None


def _shape(t: torch.Tensor | torch.Size) -> str:
    dims = tuple(t.shape) if isinstance(t, torch.Tensor) else tuple(t)
    return "x".join(map(str, dims)) if dims else "a scalar"


def _mismatches(own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
                ) -> tuple[list[str], list[str], list[str]]:
    """The missing, unexpected and wrongly shaped keys of `state` against `own`."""
    return ([k for k in own if k not in state], [k for k in state if k not in own],
            [k for k, t in state.items() if k in own and tuple(t.shape) != tuple(own[k].shape)])


def weight_diagnostics(model: nn.Module, report: Report, state: Mapping[str, torch.Tensor]
                       ) -> list[Diagnostic]:
    """Every key of `state` that is missing, unexpected or wrongly shaped for `model`."""
    own = model.state_dict()
    modules: dict[str, Node] = {}
    for node in report.graph.nodes:
        if node.module is not None:
            modules.setdefault(node.module, node)

    present = {k.rpartition(".")[0] for k in state}  # module paths the file has keys for
    stages = report.graph.stages

    def diag(key: str, message: str, hint: str | None) -> Diagnostic:
        node = _owner(key, modules)
        span: Span | None = node.span if node is not None else None
        where = f" (IR node {node.name}, {Report.where(span)})" if node is not None else ""
        if node is not None and node.block is not None and node.stage is not None and not any(
                p == node.block or p.startswith(node.block + ".") for p in present):
            # A whole block is missing: the stage's depth made it, so that is the line to show.
            span = stages[node.stage].depth_span
            where = (f" (IR node {node.name}; the file has no block {node.block}, which the "
                     f"depth at {Report.where(span)} makes)")
        return error(MISMATCH_CODE, f"{message}{where}", span, hint,
                     node.name if node is not None else None)

    missing, extra, shaped = _mismatches(own, state)
    prefixed = bool(extra) and all(k.startswith("module.") for k in state)
    groups = {
        "missing": [diag(k, f"missing key {k}: the spec's module has it, the file does not",
                         "the file was saved from another architecture; compare the keys with "
                         "`archc summary --depth layer`") for k in missing],
        "unexpected": [diag(k, f"unexpected key {k}: in the file, not in the spec's module",
                            "every key starts with 'module.' (saved from DataParallel or DDP): "
                            "save model.module.state_dict() instead" if prefixed else
                            did_you_mean(k, missing) or "the spec has no such parameter or buffer")
                       for k in extra],
        "wrongly shaped": [diag(k, f"wrong shape for {k}: the file has {_shape(state[k])}, the "
                                f"spec makes {_shape(own[k])}",
                                "the spec value on this line sets that size") for k in shaped],
    }
    diags: list[Diagnostic] = []
    for kind, found in groups.items():
        diags += found[:_SHOWN]
        if len(found) > _SHOWN:
            diags.append(error(MISMATCH_CODE, f"and {len(found) - _SHOWN} more {kind} "
                               f"key{'s' * (len(found) - _SHOWN != 1)}", None))
    return diags


def load_weights(model: nn.Module, report: Report, path: str | os.PathLike[str]) -> None:
    """Load a weights file into a module built from `report`, strictly; raise WeightsError."""
    state = adapt_state_dict(model.state_dict(), read_state_dict(path))  # timm's layouts
    diags = weight_diagnostics(model, report, state)
    if diags:
        missing, extra, shaped = _mismatches(model.state_dict(), state)
        head = error(MISMATCH_CODE, f"{Path(path)} does not fit {report.spec.name}: "
                     f"{len(missing)} missing, {len(extra)} unexpected and {len(shaped)} "
                     "wrongly shaped keys", None,
                     hint="nothing was loaded; each key is listed with the spec line it needs")
        raise WeightsError([head, *diags], report.spec.sources)
    with torch.no_grad():
        model.load_state_dict(state, strict=True)

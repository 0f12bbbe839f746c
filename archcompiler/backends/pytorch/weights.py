"""Loading weights into a built module, strictly, with every mismatch traced to the spec.

Files are read with `torch.load(weights_only=True)`, which refuses pickled code. A file (or a
mapping given in memory) is a state_dict, or a checkpoint dict holding one under 'state_dict' or
'model'. Before anything is
copied, each key is matched with the module: a missing, unexpected or wrongly shaped key becomes
a diagnostic (ARC502) that names the IR node the key belongs to and the spec line that made it.
"""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Union

import torch
from torch import nn

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic, Span, SpecError, did_you_mean, error
from ...core.limits import DEFAULT_LIMITS, Limits
from ...core.outputs import cut
from ...ir.graph import Node
from .archive import Bound, archive_problem, file_label, storage_bound
from .keymaps import adapt_state_dict

__all__ = ["WeightsError", "WeightsSource", "load_weights", "read_state_dict", "state_dict_of",
           "weight_diagnostics"]

# A weights file, or a state_dict (or a checkpoint holding one) already in memory.
WeightsSource = Union[str, "os.PathLike[str]", Mapping[str, torch.Tensor]]
_IN_MEMORY = "the given state_dict"  # how diagnostics name a mapping passed in memory

READ_CODE = "ARC501"  # the file cannot be read as weights
MISMATCH_CODE = "ARC502"  # its keys or shapes do not match the spec's module
_SHOWN = 12  # diagnostics per kind of mismatch; the rest are counted in one more
_CHECKPOINT_KEYS = ("state_dict", "model")
# Prefixes a wrapper adds to every key: DataParallel/DDP (module.), detection backbones, Lightning.
_PREFIXES = ("module.", "backbone.", "model.", "encoder.", "net.")
_TOLERATED_MISSING = ".num_batches_tracked"  # BatchNorm fills it in for pre-1.0 checkpoints
_SAVE_HINT = "give a file written by torch.save(model.state_dict(), path)"


class WeightsError(SpecError):
    """Weights that do not fit the spec's module (or cannot be read); carries the diagnostics."""


def _fail(message: str, hint: str) -> WeightsError:
    return WeightsError([error(READ_CODE, message, None, hint=hint)])


def _torch_reason(exc: BaseException) -> str:
    """The line of torch's message that says why, e.g. `Unsupported global: GLOBAL os.system`."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep = next((line for line in lines if any(w in line for w in (
        "Unsupported", "unsupported", "WeightsUnpickler error", "GLOBAL"))), None)
    reason = keep or (lines[0] if lines else type(exc).__name__)
    return cut(reason, 240)


def _bound_of(model: nn.Module | None, limits: Limits) -> Bound:
    own = 0 if model is None else sum(t.numel() * t.element_size()
                                      for t in model.state_dict().values())
    memory, what = limits.memory_bound()
    return storage_bound(own, limits.max_params, memory, what)


def _check_tensor(where: str, key: str, t: torch.Tensor, any_device: bool = False) -> None:
    """Refuse tensors a state_dict cannot hold: sparse, meta, quantized or (in a file, which is
    read onto the CPU) off the CPU."""
    if t.layout != torch.strided:
        raise _fail(f"{where}: {cut(key, 80)} is a {t.layout} tensor, not a dense one",
                    "save dense weights: tensor.to_dense()")
    if t.is_meta or (t.device.type != "cpu" and not any_device):
        raise _fail(f"{where}: {cut(key, 80)} is a tensor on the {t.device.type} device, "
                    "which holds no values", "save weights that hold values (not on 'meta')")
    if t.is_quantized:
        raise _fail(f"{where}: {cut(key, 80)} is quantized ({t.dtype})",
                    "save the float weights: tensor.dequantize()")


def read_state_dict(path: str | os.PathLike[str], bound: Bound | None = None
                    ) -> dict[str, torch.Tensor]:
    """Read a state_dict (or a checkpoint holding one) safely; raise WeightsError otherwise.

    The zip's record table is checked against `bound` first, so nothing is inflated that would
    exceed it.
    """
    where = Path(path)
    label = file_label(path)
    if bound is None:  # no module to compare with: what this machine can hold
        memory, what = DEFAULT_LIMITS.memory_bound()
        bound = Bound(memory, what) if memory is not None else \
            Bound(8 * DEFAULT_LIMITS.max_params, "the max_params bound")
    try:
        problem = archive_problem(where, bound)
    except FileNotFoundError:
        raise _fail(f"weights file {label} does not exist", "check the path") from None
    except OSError as exc:
        raise _fail(f"weights file {label} cannot be read ({exc.strerror or exc})",
                    "check the path and its permissions") from None
    if problem is not None:
        raise _fail(f"{label} is refused before it is read: {problem}", _SAVE_HINT + "; or raise "
                    "the bound (--max-memory, --max-params)" if "over" in problem or "more than"
                    in problem else _SAVE_HINT)
    try:
        with warnings.catch_warnings():  # torch's warnings about a file become our diagnostics
            warnings.simplefilter("ignore")
            data = torch.load(where, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        # weights_only refuses anything but tensors and plain containers: never run its code.
        raise _fail(f"{label} holds Python objects that safe loading refuses "
                    f"({_torch_reason(exc)})",
                    "save the weights alone: torch.save(model.state_dict(), path)") from None
    except MemoryError:
        raise _fail(f"{label} does not fit in memory", _SAVE_HINT) from None
    except Exception as exc:  # any failure of torch on an untrusted file means: not weights
        raise _fail(f"{label} is not a torch weights file ({type(exc).__name__}: "
                    f"{_torch_reason(exc)})", _SAVE_HINT) from None
    return state_dict_of(data, label)


def state_dict_of(data: object, label: str = _IN_MEMORY, any_device: bool = False
                  ) -> dict[str, torch.Tensor]:
    """The state_dict in `data` (a state_dict, or a checkpoint holding one under 'state_dict' or
    'model'), its entries checked; raise WeightsError otherwise. `label` names it in messages."""
    if isinstance(data, Mapping):
        for key in _CHECKPOINT_KEYS:
            inner = data.get(key)
            if isinstance(inner, Mapping) and not isinstance(inner, torch.Tensor):
                data = inner
                break
    if not isinstance(data, Mapping) or not data:
        raise _fail(f"{label} holds {type(data).__name__}, not a state_dict",
                    "a state_dict maps names to tensors; a checkpoint holds one under "
                    "'state_dict' or 'model'")
    wrong = [repr(k) for k, v in data.items() if not isinstance(k, str)
             or not isinstance(v, torch.Tensor)]
    if wrong:
        raise _fail(f"{label}: {len(wrong)} entries are not named tensors (first: "
                    f"{cut(wrong[0], 80)})",
                    "a state_dict maps names to tensors; a checkpoint holds one under "
                    "'state_dict' or 'model'")
    for key, value in data.items():
        _check_tensor(label, key, value, any_device)
    return dict(data)


def _owner(key: str, modules: Mapping[str, Node]) -> Node | None:
    """The IR node whose module holds `key` (the longest module path that prefixes it)."""
    parts = key.split(".")
    for end in range(len(parts) - 1, 0, -1):
        node = modules.get(".".join(parts[:end]))
        if node is not None:
            return node
    return None


def _shape(t: torch.Tensor | torch.Size) -> str:
    dims = tuple(t.shape) if isinstance(t, torch.Tensor) else tuple(t)
    return "x".join(map(str, dims)) if dims else "a scalar"


def _kind(t: torch.Tensor) -> str:
    if t.is_complex():
        return "complex"
    if t.is_floating_point():
        return "floating"
    return "boolean" if t.dtype == torch.bool else "integer"


def _mismatches(own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
                ) -> tuple[list[str], list[str], list[str], list[str]]:
    """The missing, unexpected, wrongly shaped and wrongly typed keys of `state` against `own`.

    A missing `num_batches_tracked` is no mismatch: torch's strict load fills it in, as old
    checkpoints lack it.
    """
    missing = [k for k in own if k not in state and not k.endswith(_TOLERATED_MISSING)]
    extra = [k for k in state if k not in own]
    shaped = [k for k, t in state.items() if k in own and tuple(t.shape) != tuple(own[k].shape)]
    typed = [k for k, t in state.items() if k in own and _kind(t) != _kind(own[k])]
    return missing, extra, shaped, typed


def common_prefix(own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
                  ) -> str | None:
    """A prefix every key of the file has and the module's keys lack, e.g. `backbone.`."""
    first = next(iter(state), "")
    head = first.split(".", 1)[0] + "." if "." in first else None
    for prefix in dict.fromkeys((*_PREFIXES, *([head] if head else []))):
        if any(k.startswith(prefix) for k in own) or not all(k.startswith(prefix) for k in state):
            continue
        stripped = sum(k[len(prefix):] in own for k in state)
        if stripped * 2 >= len(state):  # most keys fit once it is gone: that is the mistake
            return prefix
    return None


def _prefix_diagnostic(prefix: str, own: Mapping[str, torch.Tensor],
                       state: Mapping[str, torch.Tensor]) -> Diagnostic:
    fit = sum(k[len(prefix):] in own for k in state)
    hint = ("saved from DataParallel or DDP: save model.module.state_dict() instead"
            if prefix == "module." else
            f"strip it: torch.save({{k.removeprefix({prefix!r}): v for k, v in sd.items()}}, path)")
    return error(MISMATCH_CODE, f"every key in the file starts with {prefix!r}, which the spec's "
                 f"module does not have; without it {fit} of {len(state)} keys match", None,
                 hint=hint)


def weight_diagnostics(model: nn.Module, report: Report, state: Mapping[str, torch.Tensor]
                       ) -> list[Diagnostic]:
    """Every key of `state` that is missing, unexpected, wrongly shaped or typed for `model`.

    Only the keys shown are traced and given suggestions, so a file of 20,000 wrong keys costs
    no more than one of twelve.
    """
    own = model.state_dict()
    prefix = common_prefix(own, state)
    if prefix is not None:
        return [_prefix_diagnostic(prefix, own, state)]
    modules: dict[str, Node] = {}
    for node in report.graph.nodes:
        if node.module is not None:
            modules.setdefault(node.module, node)

    present = {k.rpartition(".")[0] for k in state}  # module paths the file has keys for
    stages = report.graph.stages

    def diag(key: str, message: str, hint: str | None, code: str = MISMATCH_CODE) -> Diagnostic:
        node = _owner(key, modules)
        span: Span | None = node.span if node is not None else None
        where = f" (IR node {node.name}, {Report.where(span)})" if node is not None else ""
        if node is not None and node.block is not None and node.stage is not None and not any(
                p == node.block or p.startswith(node.block + ".") for p in present):
            # A whole block is missing: the stage's depth made it, so that is the line to show.
            span = stages[node.stage].depth_span
            where = (f" (IR node {node.name}; the file has no block {node.block}, which the "
                     f"depth at {Report.where(span)} makes)")
        return error(code, f"{message}{where}", span, hint, node.name if node is not None else None)

    missing, extra, shaped, typed = _mismatches(own, state)
    groups = {
        "missing": [diag(k, f"missing key {cut(k, 120)}: the spec's module has it, the file "
                         "does not", "the file was saved from another architecture; compare the "
                         "keys with `archc summary --depth layer`") for k in missing[:_SHOWN]],
        "unexpected": [diag(k, f"unexpected key {cut(k, 120)}: in the file, not in the spec's "
                            "module", did_you_mean(k, missing) or "the spec has no such "
                            "parameter or buffer") for k in extra[:_SHOWN]],
        "wrongly shaped": [diag(k, f"wrong shape for {cut(k, 120)}: the file has "
                                f"{_shape(state[k])}, the spec makes {_shape(own[k])}",
                                "the spec value on this line sets that size")
                           for k in shaped[:_SHOWN]],
        "wrongly typed": [diag(k, f"wrong dtype for {cut(k, 120)}: the file has "
                               f"{state[k].dtype} ({_kind(state[k])}), the module has "
                               f"{own[k].dtype} ({_kind(own[k])})",
                               "floating weights load into floating parameters only: save the "
                               "weights as float (tensor.float())")
                          for k in typed[:_SHOWN]],
    }
    counts = {"missing": len(missing), "unexpected": len(extra), "wrongly shaped": len(shaped),
              "wrongly typed": len(typed)}
    diags: list[Diagnostic] = []
    for kind, found in groups.items():
        diags += found
        if counts[kind] > _SHOWN:
            more = counts[kind] - _SHOWN
            diags.append(error(MISMATCH_CODE, f"and {more} more {kind} key{'s' * (more != 1)}",
                               None))
    return diags


def load_weights(model: nn.Module, report: Report, source: WeightsSource,
                 limits: Limits = DEFAULT_LIMITS) -> None:
    """Load a weights file or an in-memory state_dict into a module built from `report`,
    strictly, through timm's and torchvision's layouts (keymaps.py); raise WeightsError."""
    if isinstance(source, Mapping):
        # Already in memory, so no file bound applies; its tensors may sit on any device, as a
        # GPU model's state_dict() does (load_state_dict copies across devices).
        label, read = _IN_MEMORY, state_dict_of(source, _IN_MEMORY, any_device=True)
    else:
        label, read = file_label(source), read_state_dict(source, _bound_of(model, limits))
    state = adapt_state_dict(model.state_dict(), read)  # timm's and torchvision's layouts
    diags = weight_diagnostics(model, report, state)
    if diags:
        missing, extra, shaped, typed = _mismatches(model.state_dict(), state)
        head = error(MISMATCH_CODE, f"{label} does not fit {cut(report.spec.name)}: "
                     f"{len(missing)} missing, {len(extra)} unexpected and {len(shaped)} wrongly "
                     f"shaped keys{f', {len(typed)} of another dtype' if typed else ''}", None,
                     hint="nothing was loaded; each key is listed with the spec line it needs")
        raise WeightsError([head, *diags], report.spec.sources)
    try:
        with torch.no_grad():
            model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, TypeError) as exc:  # checked above; torch's reason if not
        raise WeightsError([error(MISMATCH_CODE, f"{label} does not load into "
                                  f"{cut(report.spec.name)}: {_torch_reason(exc)}", None,
                                  hint="nothing usable was loaded")], report.spec.sources) from None

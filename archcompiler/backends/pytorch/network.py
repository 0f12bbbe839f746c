"""timm's model interface on every built network: features, head, classifier and feature_info.

A network's `forward` is generated straight-line code (codegen.py). `forward_features` and
`forward_head` run the same lines, split where the head begins (the global pool, or the flatten
of a net without one), from the structure the class keeps of its forward (`_archc_lines`): so
`forward(x) == forward_head(forward_features(x))` by construction, and no second source is
generated. Where the head begins, the classifier's module and the feature maps are read from
the IR when the network is built (`describe`) and kept as plain instance attributes, which
pickle, deepcopy and TorchScript (which skips these methods) carry as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import torch
from torch import Tensor, nn

from ...analysis.report import Report
from ...ir.graph import Graph, Node, Role
from ...ir.ops import Op

__all__ = ["NetworkMixin", "describe", "head_start"]

Line = tuple[str, ...]  # one line of a generated forward, as codegen.structure gives it
_POOLS = {"avg": nn.AdaptiveAvgPool2d, "max": nn.AdaptiveMaxPool2d}
# timm's defaults for what a spec does not say: how its images are resized and normalised.
DATA_DEFAULTS = {"crop_pct": 0.875, "crop_mode": "center", "interpolation": "bilinear",
                 "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}


def head_start(graph: Graph) -> Node | None:
    """The node the head begins with: the global pool, or the flatten of a net without one."""
    return next((n for n in graph.nodes if n.block is None
                 and n.op in (Op.GLOBAL_AVG_POOL, Op.FLATTEN)), None)


def _feature_info(report: Report) -> list[dict[str, Any]]:
    """timm's feature_info: the last stem or stage output at each reduction of the input."""
    graph, height = report.graph, report.input_shape[1]
    candidates = [(n.module, n.name) for n in graph.nodes
                  if n.role is Role.STEM and n.block is None and n.module is not None]
    candidates += [(s.name, graph.stage_output(s)) for s in graph.stages]
    last: dict[int, dict[str, Any]] = {}
    for module, node in candidates:
        shape = report.shape(node)
        if shape is None or len(shape) != 3 or shape[1] == 0:
            continue
        reduction = round(height / shape[1])
        last.pop(reduction, None)  # a later map at the same reduction replaces it, in order
        last[reduction] = {"num_chs": shape[0], "reduction": reduction, "module": module}
    return list(last.values())


def _pretrained_cfg(report: Report, classifier: str | None, features: tuple[int, ...] | None
                    ) -> dict[str, Any]:
    """timm's pretrained_cfg for a spec, for timm's data helpers (resolve_data_config): its
    input size, final map and module names, and timm's ImageNet defaults for the rest."""
    first_conv = next((n.module for n in report.graph.nodes if n.op == Op.CONV), None)
    return {"url": "", "hf_hub_id": None, "file": None, "architecture": report.spec.name,
            "num_classes": report.spec.classes, "input_size": tuple(report.input_shape),
            "fixed_input_size": False,
            "pool_size": tuple(features[1:]) if features and len(features) == 3 else None,
            **DATA_DEFAULTS, "first_conv": first_conv, "classifier": classifier}


def describe(model: nn.Module, report: Report, head_at: int | None) -> None:
    """Record on a built network what timm's interface needs: classes, feature widths, where
    the head begins (`head_at`, a line of the forward), the classifier's module path and a
    pretrained_cfg."""
    graph, by_name = report.graph, report.graph.by_name()
    start, out = head_start(graph), graph.nodes[-1]
    classifier = out.module if out.op == Op.LINEAR else None
    pre_logits = report.shape(out.inputs[0]) if classifier is not None else None
    features = report.shape(start.inputs[0]) if start is not None else None
    num_features = features[0] if features else 0
    cfg = _pretrained_cfg(report, classifier, features)
    # Plain instance attributes (no parameters or modules among them), so nn.Module's
    # __setattr__ has nothing to do; not class annotations, which TorchScript reads as types.
    model.__dict__.update({
        "num_classes": report.spec.classes, "num_features": num_features,
        "head_hidden_size": pre_logits[0] if pre_logits else num_features,
        "feature_info": _feature_info(report), "pretrained_cfg": cfg, "default_cfg": cfg,
        "_archc_head_at": head_at if start is not None else None,
        "_archc_classifier": classifier,
        "_archc_pool": start.module if start is not None and
        by_name[start.name].op == Op.GLOBAL_AVG_POOL else None})


class NetworkMixin(nn.Module):
    """timm's classifier interface, for the generated network classes (`ResNet`, ...)."""

    if TYPE_CHECKING:  # set by `describe` on each instance; no class annotations at run time
        num_classes: int
        num_features: int
        head_hidden_size: int
        feature_info: list[dict[str, Any]]
        pretrained_cfg: dict[str, Any]
        default_cfg: dict[str, Any]

    def _archc_split(self) -> tuple[tuple[Line, ...], tuple[Line, ...], str]:
        """The forward's lines before the head, the head's (without the return), and the
        variable the head reads."""
        lines: tuple[Line, ...] = type(self)._archc_lines  # type: ignore[attr-defined]
        at = self.__dict__.get("_archc_head_at")
        if at is None:
            raise NotImplementedError(f"{type(self).__name__} has no global pool or flatten to "
                                      "split its forward at")
        first = lines[at]
        return lines[:at], lines[at:-1], first[3] if first[0] == "call" else first[2]

    def _archc_run(self, lines: tuple[Line, ...], env: dict[str, Tensor]) -> None:
        """Run lines of the forward on the values in `env`, as the generated code would."""
        for kind, target, *rest in lines:
            if kind == "call":
                env[target] = self.get_submodule(rest[0])(*(env[a] for a in rest[1:]))
            elif kind == "add":
                env[target] = env[rest[0]] + env[rest[1]]
            elif kind == "mul":
                env[target] = env[rest[0]] * env[rest[1]]
            elif kind == "flatten":
                env[target] = torch.flatten(env[rest[0]], 1)
            elif kind == "iadd":
                env[target] += env[rest[0]]
            else:  # codegen.structure writes no other kind
                raise NotImplementedError(f"a forward line of kind {kind!r}")

    def forward_features(self, x: Tensor) -> Tensor:
        """Everything before the global pool: the last feature map (N x num_features x H x W)."""
        before, _, var = self._archc_split()
        env = {"x": x}
        self._archc_run(before, env)
        return env[var]

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Pool, flatten (and dropout) and classify features; with `pre_logits`, stop before the
        classifier and return the pooled features (N x head_hidden_size)."""
        _, head, var = self._archc_split()
        env = {var: x}
        classifier = self.__dict__.get("_archc_classifier")
        for line in head:
            if pre_logits and line[0] == "call" and classifier is not None:
                path = line[2]
                if path == classifier:
                    return env[line[3]]
                if classifier.startswith(path + "."):  # a Sequential ending in the classifier
                    x = env[line[3]]
                    for layer in list(cast(nn.Sequential, self.get_submodule(path)))[:-1]:
                        x = layer(x)
                    return x
            self._archc_run((line,), env)
        if pre_logits:
            raise NotImplementedError(f"{type(self).__name__} has no linear classifier")
        return env[type(self)._archc_lines[-1][1]]  # type: ignore[attr-defined]

    def get_classifier(self, name_only: bool = False) -> nn.Module | str:
        """The classifier module (the last linear layer), or its name."""
        path = self.__dict__.get("_archc_classifier")
        if path is None:
            raise NotImplementedError(f"{type(self).__name__} has no linear classifier")
        return path if name_only else self.get_submodule(path)

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """Replace the classifier with a fresh Linear to `num_classes` (Identity for 0), and the
        global pool with `global_pool` ('avg' or 'max') when given."""
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
            raise ValueError(f"num_classes must be an integer >= 0, got {num_classes!r}")
        path = cast(str, self.get_classifier(name_only=True))
        old = self.get_submodule(path)
        if global_pool is not None:
            pool = self.__dict__.get("_archc_pool")
            if global_pool not in _POOLS or pool is None:
                raise ValueError(f"global_pool must be one of {', '.join(_POOLS)} on a net with "
                                 f"a global pool, got {global_pool!r}")
            self.set_submodule(pool, _POOLS[global_pool]((1, 1)))
        state = next(old.parameters(), None)  # the new layer goes where the old one was
        if state is None:
            state = next(self.parameters())
        new: nn.Module = nn.Identity() if num_classes == 0 else nn.Linear(
            self.head_hidden_size, num_classes, device=state.device, dtype=state.dtype)
        self.set_submodule(path, new.train(self.training))
        self.num_classes = num_classes

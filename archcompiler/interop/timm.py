"""Zoo specs and spec files as timm models: `timm.create_model("archc_resnet50", num_classes=10)`.

timm's `create_model` takes only registered names (a `hf-hub:` or `local-dir:` prefix aside), so
registration is opt-in: `timm_register()` registers `archc_<name>` for every zoo spec with timm's
own `register_model`, and `register_spec_file(path)` one spec file. timm is imported only then.

Each entrypoint takes what timm passes. `num_classes`, `in_chans`, `drop_rate` and
`drop_path_rate` become located overrides (`<timm.create_model>:1:...`), as in
`archcompiler.create_model`; `num_classes=0` is timm's "no classifier" (reset_classifier(0));
`global_pool`, `bn_momentum` and `bn_eps` are applied to the built module; `pretrained=True`
loads `pretrained_cfg_overlay={"file": PATH}` (train.py's `--pretrained-path`) strictly through
the weights loader and its timm layouts, then gives the head the classes asked for; any other
keyword is a spec field (`stages__depths=[3, 4, 9, 3]`, train.py's `--model-kwargs`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..api import build_module, keyword_overrides, load_spec
from ..language.zoo import builtin_names

if TYPE_CHECKING:  # torch is imported when a model is built, never by `import archcompiler`
    from torch import nn

    from ..backends.pytorch.network import NetworkMixin

__all__ = ["PREFIX", "create_timm_model", "register_spec_file", "registered", "timm_register"]

PREFIX = "archc_"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a timm name: no '.' (a tag) and no ':' (a source)
_REGISTERED: dict[str, str] = {}  # timm name -> the spec it builds (a zoo name or a file path)
# What timm's create_model passes or a train.py may, that builds nothing here when unset.
_UNSUPPORTED = ("drop_block_rate", "features_only", "out_indices")


def _cfg_dict(cfg: object) -> dict[str, Any]:
    """A pretrained_cfg as timm passes it (None, a dict or a PretrainedCfg), as a dict."""
    if cfg is None:
        return {}
    if isinstance(cfg, Mapping):
        return dict(cfg)
    to_dict = getattr(cfg, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise ValueError(f"archc models have no pretrained tags or named configs, got {cfg!r}; pass "
                     "pretrained_cfg_overlay={'file': PATH} for weights")


def create_timm_model(spec: str, name: str, *, pretrained: bool = False,
                      pretrained_cfg: object = None,
                      pretrained_cfg_overlay: Mapping[str, Any] | None = None,
                      cache_dir: object = None, num_classes: int | None = None,
                      in_chans: int | None = None, drop_rate: float | None = None,
                      drop_path_rate: float | None = None, global_pool: str | None = None,
                      bn_momentum: float | None = None, bn_eps: float | None = None,
                      device: Any = None, dtype: Any = None, **fields: Any) -> nn.Module:
    """Build `spec` as timm's create_model would build model `name`, from timm's keywords."""
    for key in _UNSUPPORTED:
        if fields.pop(key, None):  # timm drops None; 0 and False ask for nothing either
            raise TypeError(f"{name} does not support {key} (archcompiler builds the spec's "
                            "network; write what you need into the spec)")
    cfg = {**_cfg_dict(pretrained_cfg), **dict(pretrained_cfg_overlay or {})}
    weights = cfg.get("file") if pretrained else None
    if pretrained and not weights:
        raise RuntimeError(f"{name} has no hosted weights: pass pretrained_cfg_overlay="
                           "{'file': PATH} (train.py --pretrained --pretrained-path PATH)")
    # With weights, the net is built with the classes they were saved with (a positive
    # num_classes in the cfg, else the spec's), loaded strictly, then given a fresh head for the
    # classes asked for, as timm adapts a pretrained head. num_classes=0 is timm's headless net.
    saved = cfg.get("num_classes") if weights else None
    build_classes = saved if isinstance(saved, int) and saved > 0 else None
    if not weights and num_classes:
        build_classes = num_classes
    overrides = keyword_overrides("timm.create_model", {
        "num_classes": build_classes, "in_chans": in_chans, "drop_rate": drop_rate,
        "drop_path_rate": drop_path_rate}, fields, None)
    model = cast("NetworkMixin", build_module(spec, overrides=overrides, weights=weights,
                                              device=device, dtype=dtype))
    if (num_classes is not None and num_classes != model.num_classes) or \
            global_pool not in (None, "avg"):  # 'max' replaces the pool; others are refused
        model.reset_classifier(model.num_classes if num_classes is None else num_classes,
                               global_pool=global_pool)
    if bn_momentum is not None or bn_eps is not None:
        from torch.nn import BatchNorm2d

        for module in model.modules():
            if isinstance(module, BatchNorm2d):
                module.momentum = bn_momentum if bn_momentum is not None else module.momentum
                module.eps = bn_eps if bn_eps is not None else module.eps
    model.pretrained_cfg = model.default_cfg = {
        **model.pretrained_cfg, **cfg, "architecture": name, "num_classes": model.num_classes}
    return model


def _entrypoint(spec: str, name: str) -> Callable[..., nn.Module]:
    """The function timm registers for `name`: it builds `spec` from timm's keywords."""

    def create(pretrained: bool = False, **kwargs: Any) -> nn.Module:
        return create_timm_model(spec, name, pretrained=pretrained, **kwargs)

    create.__name__ = create.__qualname__ = name  # timm registers a function by its __name__
    create.__module__ = __name__
    create.__doc__ = f"archcompiler's {spec} as a timm model."
    return create


def _register(spec: str, name: str) -> str:
    from timm.models import register_model

    if not _NAME.fullmatch(name):
        raise ValueError(f"a timm model name is a Python name (no '.', ':' or '-'), got {name!r}")
    if _REGISTERED.get(name) == spec:
        return name  # already registered: timm would warn about overwriting it with itself
    fn = _entrypoint(spec, name)
    # timm lists a registered name in its module's __all__; the module then has the attribute.
    setattr(sys.modules[__name__], name, fn)
    register_model(fn)
    _REGISTERED[name] = spec
    return name


def timm_register(names: Iterable[str] | None = None) -> list[str]:
    """Register `archc_<name>` with timm for every zoo spec (or those named); return the names."""
    zoo = builtin_names()
    chosen = zoo if names is None else list(names)
    unknown = [n for n in chosen if n not in zoo]
    if unknown:
        raise ValueError(f"not built-in specs: {', '.join(unknown)} (archcompiler.list_models() "
                         "lists them; register a file with register_spec_file)")
    return [_register(spec, PREFIX + spec) for spec in chosen]


def register_spec_file(path: str | os.PathLike[str], name: str | None = None) -> str:
    """Register a spec file with timm as `name` (by default archc_<file stem>); return the name.

    The spec is checked now (SpecError if it is invalid), and read again, by absolute path,
    each time timm builds it.
    """
    file = Path(path).resolve()
    if not file.is_file():
        raise FileNotFoundError(f"no spec file {path}")
    load_spec(file)
    return _register(str(file), name or PREFIX + re.sub(r"\W", "_", file.stem))


def registered() -> dict[str, str]:
    """The timm names registered here, each with the spec it builds (a zoo name or a path)."""
    return dict(_REGISTERED)

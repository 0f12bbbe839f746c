"""Python block types from the command line: `--plugin MODULE`, ARCHC_PLUGINS, entry points.

A plugin is a Python module that calls `archcompiler.register_block` when imported. Importing
it runs the user's code, which only the user can ask for: by naming it on the command line, in
the ARCHC_PLUGINS environment variable (comma-separated), or by installing a package that
declares it in the `archcompiler.blocks` entry-point group. A spec is data and can never cause
an import (a tag that names a module is refused with ARC107, pointing here).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from importlib.metadata import entry_points

from .common import UsageError

GROUP = "archcompiler.blocks"
ENV = "ARCHC_PLUGINS"
_LOADED: set[str] = set()


def plugin_names(flags: Iterable[str] | None) -> list[str]:
    """The plugin modules asked for: ARCHC_PLUGINS first, then each --plugin, once each."""
    names = [n.strip() for n in os.environ.get(ENV, "").split(",") if n.strip()]
    names += list(flags or ())
    return list(dict.fromkeys(names))


def _load(name: str, origin: str) -> None:
    if name in _LOADED:
        return
    if not all(part.isidentifier() for part in name.split(".")):
        raise UsageError(f"{origin} {name!r} is not a module name (a dotted Python name)")
    # The working directory is where a user keeps a plugin next to their specs, as `python -m`.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(name)  # the user named this module: running it is the request
    except Exception as exc:
        raise UsageError(f"{origin} {name}: importing it failed: {type(exc).__name__}: {exc}") \
            from None
    _LOADED.add(name)


def load_plugins(flags: Iterable[str] | None = None) -> list[str]:
    """Import the plugins of the entry-point group, ARCHC_PLUGINS and --plugin; return them."""
    loaded = []
    for ep in entry_points(group=GROUP):
        if ep.name in _LOADED:
            continue
        try:
            ep.load()
        except Exception as exc:
            raise UsageError(f"entry point {ep.name} ({ep.value}) of {GROUP} failed to load: "
                             f"{type(exc).__name__}: {exc}") from None
        _LOADED.add(ep.name)
        loaded.append(ep.name)
    for name in plugin_names(flags):
        origin = "--plugin" if name in (flags or ()) else ENV
        _load(name, origin)
        loaded.append(name)
    return loaded

"""The built-in spec zoo, shipped as package data and looked up by name."""

from __future__ import annotations

import functools
import os
import re
from importlib import resources
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@functools.cache
def specs_dir() -> Path:
    """Return the folder that holds the built-in specs (looked up once: a sweep asks often)."""
    return Path(str(resources.files("archcompiler.specs")))


def builtin_names() -> list[str]:
    """Return the names of every built-in spec, sorted."""
    return sorted(p.stem for p in specs_dir().glob("*.yaml"))


def builtin_path(name: str) -> Path | None:
    """Return the file of the built-in spec `name`, or None when there is none."""
    if not _NAME.match(name) or name.endswith((".yaml", ".yml")):
        return None
    path = _zoo_file(name)
    return path if path.is_file() else None  # asked each time: a file may come or go


@functools.lru_cache(maxsize=256)
def _zoo_file(name: str) -> Path:
    """Where the built-in spec `name` would be (made once a name: a sweep names a few often)."""
    return specs_dir() / f"{name}.yaml"


def looks_like_name(ref: str) -> bool:
    """Tell a built-in name (resnet50) from a path (base.yaml, ../x/y.yaml)."""
    return bool(_NAME.match(ref)) and not ref.endswith((".yaml", ".yml"))


def display_path(file: str) -> str:
    """A file name for people: built-in specs by their file name alone, others as given."""
    zoo = os.path.join(str(specs_dir()), "")  # with the trailing separator
    return file[len(zoo):] if file.startswith(zoo) else file

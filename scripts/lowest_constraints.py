"""Print pip constraints that pin every dependency of pyproject.toml to its lowest allowed version.

Runtime dependencies and the user-facing extras' are pinned at their `>=` floor; the dev extra's
tools (pytest, ruff, mypy, ...) and dependencies without a floor are left free: the bounds a user
meets are the ones tested. scripts/lower_bounds.sh installs with these and runs the tests.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
FLOOR = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*[^;]*?>=\s*([0-9][0-9A-Za-z.]*)")


def floors(requirements: list[str]) -> dict[str, str]:
    """Map each requirement that has a `>=` floor (and applies to this Python) to it."""
    out: dict[str, str] = {}
    for req in requirements:
        marker = req.split(";", 1)[1].strip() if ";" in req else ""
        if marker and not _applies(marker):
            continue
        match = FLOOR.match(req)
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


def _applies(marker: str) -> bool:
    """Evaluate the simple `python_version <op> 'X.Y'` markers this project uses."""
    match = re.fullmatch(r"python_version\s*(<|>=)\s*['\"](\d+)\.(\d+)['\"]", marker)
    if not match:
        raise SystemExit(f"unsupported marker: {marker}")
    here, there = sys.version_info[:2], (int(match.group(2)), int(match.group(3)))
    return here < there if match.group(1) == "<" else here >= there


def main() -> int:
    """Print the constraints, one `name==floor` a line."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        if name != "dev":
            reqs += extra
    for name, version in sorted(floors(reqs).items()):
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

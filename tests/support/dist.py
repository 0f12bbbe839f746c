"""Check a built wheel and sdist against the checkout: nothing tracked is left out of either.

Run as `python -m tests.support.dist WHEEL SDIST` (scripts/smoke_wheel.sh);
tests/project/test_packaging.py imports it.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tracked(*folders: str) -> set[str]:
    """The files git tracks under the given folders, as POSIX paths from the repo root."""
    out = subprocess.run(["git", "ls-files", "-z", *folders], cwd=ROOT, check=True,
                         capture_output=True).stdout.decode()
    return {p for p in out.split("\0") if p}


def missing_from_wheel(wheel: Path) -> list[str]:
    """Tracked package files (and the launcher) that the wheel does not hold."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    want = tracked("archcompiler") | {"archc_launch.py"}
    return sorted(want - names)


def missing_from_sdist(sdist: Path) -> list[str]:
    """Tracked files that the sdist should carry for its tests to run, and does not."""
    with tarfile.open(sdist) as tf:
        # Strip the archcompiler-X.Y.Z/ prefix of every member.
        names = {m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name}
    want = (tracked("archcompiler", "tests", "docs", "scripts", "benchmarks", "examples",
                    "constraints")
            | {"pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "archc_launch.py"})
    return sorted(want - names)


def main(argv: list[str]) -> int:
    """Print what each distribution misses; exit 1 if anything does."""
    wheel, sdist = Path(argv[0]), Path(argv[1])
    problems = [f"wheel misses {p}" for p in missing_from_wheel(wheel)]
    problems += [f"sdist misses {p}" for p in missing_from_sdist(sdist)]
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"ok: {wheel.name} and {sdist.name} hold every tracked file they should")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

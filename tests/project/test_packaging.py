"""The package as users install it: the wheel holds every tracked package file, the metadata
claims what is tested, and every runtime dependency is imported at run time."""

from __future__ import annotations

import posixpath
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support import dist as check_dist

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (the dev extra installs it there)
    import tomli as tomllib

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
IN_GIT = (ROOT / ".git").exists() and shutil.which("git") is not None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, with the venv's setuptools (no download)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True)
    return next(out.glob("archcompiler-*.whl"))


@pytest.mark.skipif(not IN_GIT, reason="needs the git checkout (an unpacked sdist has none)")
def test_wheel_holds_every_tracked_package_file(wheel: Path) -> None:
    """Package discovery and the package-data patterns leave nothing tracked behind."""
    assert check_dist.missing_from_wheel(wheel) == []


def test_wheel_holds_the_zoo_schema_and_marker(wheel: Path) -> None:
    """The files a listed-by-hand layout used to lose, and the PEP 561 marker."""
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "archcompiler/py.typed" in names
    assert "archcompiler/schema/archcompiler.schema.json" in names
    assert "archcompiler/specs/resnet50.yaml" in names
    assert "archcompiler/specs/blocks/convnext.yaml" in names
    assert "archc_launch.py" in names
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)


def test_a_new_data_file_kind_would_be_caught(tmp_path: Path) -> None:
    """The wheel check names a tracked file that the wheel lacks (the check itself can fail)."""
    fake = tmp_path / "archcompiler-0-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("archcompiler/__init__.py", "")
    if IN_GIT:
        missing = check_dist.missing_from_wheel(fake)
        assert "archcompiler/specs/resnet50.yaml" in missing
        assert "archc_launch.py" in missing


def test_classifiers_match_requires_python_and_the_tested_versions() -> None:
    """Every minor version from requires-python's floor to 3.13 is claimed, and no other."""
    project = PYPROJECT["project"]
    floor = re.fullmatch(r">=3\.(\d+)", project["requires-python"])
    assert floor is not None
    claimed = sorted(int(c.rsplit(".", 1)[1]) for c in project["classifiers"]
                     if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert claimed == list(range(int(floor.group(1)), 14))
    assert "Typing :: Typed" in project["classifiers"]
    assert project["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])


def _import_name(requirement: str) -> str:
    """The module a requirement installs, for the ones whose names differ."""
    name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
    return {"PyYAML": "yaml"}.get(name, name.lower().replace("-", "_"))


def test_every_runtime_dependency_is_imported_on_the_main_path() -> None:
    """A dependency that only the tests import belongs in the dev extra, not in `dependencies`."""
    code = ("import sys, archcompiler; archcompiler.validate('resnet50'); "
            "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True, cwd=ROOT).stdout.split())
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert _import_name(requirement) in loaded, requirement
    assert "jsonschema" not in loaded


def test_the_torch_pin_names_the_cpu_build() -> None:
    """setup.sh installs and holds the CPU build; a bare version would be PyPI's CUDA build."""
    pins = [line for line in (ROOT / "constraints" / "torch-cpu.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert pins == [p for p in pins if p.endswith("+cpu")] and len(pins) == 1
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    # Every pip install after torch's holds the pin.
    for line in setup.splitlines():
        if "pip install" in line and "-e " in line:
            assert '-c "$CONSTRAINTS"' in line, line
    assert "CONSTRAINTS=constraints/torch-cpu.txt" in setup


def test_every_modeline_in_the_wheel_points_at_a_file_in_the_wheel(wheel: Path) -> None:
    """Installed, a zoo spec's `$schema=` modeline still names the schema beside it."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        specs = [n for n in names if n.startswith("archcompiler/specs/") and n.endswith(".yaml")]
        assert len(specs) > 40
        for name in specs:
            match = re.search(r"\$schema=(\S+)", zf.read(name).decode("utf-8"))
            if match is None:
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), match.group(1)))
            assert target in names, f"{name}: $schema={match.group(1)} is not in the wheel"

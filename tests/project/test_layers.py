"""The package's layers point one way, and no module imports itself through others."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT

importlinter_cli = pytest.importorskip("importlinter.cli")
grimp = pytest.importorskip("grimp")


def test_the_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    # The contracts live in pyproject.toml: the layer order cli > api > backends | explore >
    # report > analysis > language > blocks > ir > core, backends apart, and no torch or
    # graphviz in the static path.
    monkeypatch.chdir(ROOT)
    assert importlinter_cli.lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("archcompiler")
    modules = sorted(graph.modules)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt] if nxt in path else [module, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[module] = 2

    for module in modules:
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles

"""Half-typed text at every character position of every zoo spec and example block file,
through the server's own analysis path (analyse, then convert): diagnostics, never a crash.

Kept apart from test_lsp_robust.py, which drives the server process, so each file stays
under a minute on two cores.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pygls")

from archcompiler.lsp.analysis import Analysis, analyse_block_file, analyse_spec, is_block_file
from archcompiler.lsp.convert import diagnostics_of
from archcompiler.lsp.settings import Settings
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # every prefix of every zoo spec

ZOO = sorted((ROOT / "archcompiler" / "specs").glob("*.yaml"))


def test_every_prefix_of_every_zoo_spec_gives_diagnostics_not_a_crash() -> None:
    # The worker's own path (analyse, then convert), at every character position: each prefix
    # is a spec being typed. No internal error, and a prefix that is not the whole spec and
    # does not resolve says why.
    for spec in ZOO:
        text = spec.read_text()
        path = str(spec)
        for i in range(0, len(text) + 1):
            out = Analysis("file:///x", 1, path, text[:i], "spec")
            analyse_spec(out, Settings(), {path: text[:i]})
            lsp_diags = diagnostics_of(out)
            assert out.failed is None
            if out.report is None and out.resolution is not None:  # analysed, and failed
                assert lsp_diags, (spec.name, i)


def test_every_prefix_of_every_example_block_file() -> None:
    for block in sorted((ROOT / "examples" / "blocks").glob("*.yaml")):
        text = block.read_text()
        if not is_block_file(text):
            continue  # the example specs beside them: covered as specs above
        for i in range(0, len(text) + 1):
            out = Analysis("file:///x", 1, str(block), text[:i], "block")
            analyse_block_file(out, {str(block): text[:i]})
            diagnostics_of(out)
            assert out.failed is None

"""Tables fit the terminal (issue 21): `archc list` cuts its description, then drops the family
column, to fit COLUMNS or the terminal's width, and prints everything when piped."""

from __future__ import annotations

import os

import pytest

from archcompiler.cli import term
from archcompiler.cli.term import MIN_FREE, Column, fit_table
from archcompiler.language.zoo import builtin_names
from tests.conftest import ROOT, Cli, on_a_terminal

COLUMNS = [Column("name"), Column("n", right=True), Column("kind", optional=True),
           Column("about", free=True, optional=True)]
ROWS = [["alpha", "12", "a long family name", "a description that runs on and on and on"],
        ["b", "3456", "short", "brief"]]


def test_without_a_width_nothing_is_cut() -> None:
    lines = fit_table(COLUMNS, ROWS, None)
    assert lines == ["name      n  kind                about",
                     "alpha    12  a long family name  a description that runs on and on and on",
                     "b      3456  short               brief"]
    assert fit_table(COLUMNS, ROWS, 500) == lines


def test_the_free_text_is_cut_first() -> None:
    lines = fit_table(COLUMNS, ROWS, 60)
    assert all(len(line) <= 60 for line in lines)
    assert lines[1] == "alpha    12  a long family name  a description that runs on…"  # 60
    assert lines[2].endswith("brief")  # a cell that fits is left whole


def test_then_optional_columns_are_dropped_and_the_text_widens_again() -> None:
    lines = fit_table(COLUMNS, ROWS, 40)
    assert lines[0].split() == ["name", "n", "about"]  # kind went; about is kept
    assert all(len(line) <= 40 for line in lines)
    assert lines[1] == "alpha    12  a description that runs on…"  # 40, wider than MIN_FREE


def test_the_free_text_goes_last_and_required_columns_never() -> None:
    assert fit_table(COLUMNS, ROWS, 20) == ["name      n", "alpha    12", "b      3456"]
    assert fit_table(COLUMNS, ROWS, 5) == ["name      n", "alpha    12", "b      3456"]


def test_a_cut_keeps_at_least_min_free_characters() -> None:
    lines = fit_table(COLUMNS, ROWS, len("alpha    12  a long family name  ") + MIN_FREE)
    assert lines[1].endswith("a description t…") and len(lines[1].split("name  ")[1]) == MIN_FREE


def test_the_ascii_ellipsis_where_the_encoding_lacks_one() -> None:
    class Latin1:
        encoding = "ascii"

    assert term.ellipsis(Latin1()) == "..."  # type: ignore[arg-type]
    assert fit_table(COLUMNS, ROWS, 60, "...")[1].endswith("that runs...")


def test_list_fits_the_terminal(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(term, "is_terminal", lambda stream: True)
    for width, header in ((100, ["name", "params", "MACs", "family", "description"]),
                          (60, ["name", "params", "MACs", "description"])):
        lines = cli("list", env={"COLUMNS": str(width)}).out.splitlines()
        assert all(len(line) <= width for line in lines), (width, max(map(len, lines)))
        assert lines[0].split() == header
        assert [line.split()[0] for line in lines[1:]] == builtin_names()
        assert any(line.endswith("…") for line in lines)


def test_list_is_printed_whole_when_piped(cli: Cli) -> None:
    whole = cli("list", env={"COLUMNS": "40"}).out  # COLUMNS alone does not cut a pipe
    assert max(map(len, whole.splitlines())) > 150
    assert all(not line.endswith("…") for line in whole.splitlines())
    assert whole == cli("list", env={"COLUMNS": None}).out


def test_list_on_a_real_terminal() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    out = on_a_terminal(["list"], {**env, "PYTHONPATH": str(ROOT), "COLUMNS": "72"}, "stdout")
    lines = out.splitlines()
    assert lines[0].split() == ["name", "params", "MACs", "description"]
    assert len(lines) == len(builtin_names()) + 1
    assert all(len(line) <= 72 for line in lines)

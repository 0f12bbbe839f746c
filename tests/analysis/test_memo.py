"""Memoised analysis gives exactly what analysis without the memo gives, and the memo is bounded.

Each zoo spec is analysed with the memo off, then on twice (filling it, then reading it), and
after a variant whose blocks differ; graphs, shapes, costs and diagnostics must be equal.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import archcompiler
from archcompiler.analysis import memo
from archcompiler.analysis.lower import _LOWERED
from archcompiler.analysis.memo import (
    LRU,
    MAX_ENTRIES,
    MAX_MOVES,
    clear_memo,
    memo_enabled,
    moved,
)
from archcompiler.analysis.report import Report
from archcompiler.language.zoo import builtin_names


def _facts(report: Report) -> tuple[object, ...]:
    return (report.graph, report.nodes, [(d.code, d.message, d.span) for d in report.diagnostics],
            report.params, report.macs, report.output_shape)


@pytest.mark.parametrize("name", sorted(builtin_names()))
def test_zoo_same_with_and_without_memo(name: str) -> None:
    with memo_enabled(False):
        off = _facts(archcompiler.analyze(name))
    clear_memo()
    with memo_enabled(True):
        cold = _facts(archcompiler.analyze(name))
        warm = _facts(archcompiler.analyze(name))
    assert cold == off
    assert warm == off


def test_variants_share_blocks_and_agree() -> None:
    """A depth sweep reuses blocks across variants and within a net, with the same results."""
    clear_memo()
    for depths in ([3, 4, 6, 3], [2, 5, 6, 2], [3, 4, 23, 3], [1, 1, 1, 1]):
        over = {"stages.depths": depths}
        with memo_enabled(True):
            on = _facts(archcompiler.analyze("resnet50", overrides=over))
        with memo_enabled(False):
            off = _facts(archcompiler.analyze("resnet50", overrides=over))
        assert on == off
    # resnet50's distinct blocks: per stage the first and the rest, at most 8 entries
    assert 0 < len(_LOWERED) <= 8


def test_input_size_is_part_of_the_key() -> None:
    """The same blocks at another input size get their own shapes and MACs."""
    clear_memo()
    small = archcompiler.analyze("resnet18", (3, 64, 64))
    big = archcompiler.analyze("resnet18", (3, 224, 224))
    assert small.params == big.params and small.macs < big.macs
    with memo_enabled(False):
        assert archcompiler.analyze("resnet18", (3, 64, 64)).macs == small.macs


def test_lru_is_bounded_and_thread_safe() -> None:
    table: LRU[int, int] = LRU(size=50)

    def fill(offset: int) -> None:
        for i in range(2000):
            table.put(offset + i, i)
            table.get(offset + i // 2)

    threads = [threading.Thread(target=fill, args=(k * 10_000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(table) == 50
    table.put(1, 1)
    table.put(2, 2)
    assert table.get(1) == 1 and table.get(-5) is None


def test_sampled_regnets_agree_with_and_without_memo() -> None:
    """Sampled RegNetX nets (distinct nets, blocks repeating within a stage) analysed with the
    memo off, then on three times (offered, admitted, read): the same every time."""
    from archcompiler.explore.sample import SPACES, draw, parse_dist

    dists = [parse_dist(e) for e in SPACES["regnetx"]]
    rng = random.Random(3)
    overrides = [draw(dists, rng) for _ in range(12)]
    with memo_enabled(False):
        off = [_facts(archcompiler.analyze("regnetx_002", overrides=o)) for o in overrides]
    clear_memo()
    for _ in range(3):
        on = [_facts(archcompiler.analyze("regnetx_002", overrides=o)) for o in overrides]
        assert on == off


def test_the_doorkeeper_keeps_a_key_on_its_second_offer() -> None:
    """A block seen in one net only is never kept in the shared tables; a second offer keeps it."""
    table: LRU[str, int] = LRU(size=4, doorkeeper=True)
    table.put("a", 1)
    assert table.get("a") is None and len(table) == 0
    table.put("a", 1)
    assert table.get("a") == 1
    for i in range(100):  # the offers are bounded as well as the entries
        table.put(str(i), i)
        table.put(str(i), i)
    assert len(table) == 4 and len(table._seen or ()) <= 16
    clear_memo()
    with memo_enabled(True):
        archcompiler.analyze("resnet50")
    assert len(_LOWERED) == 0  # within one net: the local table
    with memo_enabled(True):
        archcompiler.analyze("resnet50")
    assert 0 < len(_LOWERED) <= 8


def test_a_renamed_copy_is_kept_with_its_entry_on_its_second_ask() -> None:
    """An entry keeps its copies under other names: the second ask keeps one, the third
    finds it; the copies an entry keeps are bounded."""
    made: list[str] = []

    def make(name: str) -> str:
        made.append(name)
        return name.upper()

    moves: dict[object, str | None] = {}
    assert moved(moves, "layer3.2", make, "layer3.2") == "LAYER3.2"
    assert moved(moves, "layer3.2", make, "layer3.2") == "LAYER3.2"
    assert moved(moves, "layer3.2", make, "layer3.2") == "LAYER3.2"
    assert made == ["layer3.2", "layer3.2"]
    for i in range(3 * MAX_MOVES):
        moved(moves, i, make, str(i))
        moved(moves, i, make, str(i))
    assert len(moves) == MAX_MOVES
    # resnet50 three times: by the third, every renamed copy is kept with its entry
    clear_memo()
    for _ in range(3):
        archcompiler.analyze("resnet50", overrides={"head.classes": 7})
    entries = [e for e in _LOWERED._data.values() if e.moves]
    assert entries and all(v is not None for e in entries for v in e.moves.values())


@pytest.mark.parametrize("text, size", [(None, MAX_ENTRIES), ("64", 64), ("16", 16),
                                        ("15", MAX_ENTRIES), ("-5", MAX_ENTRIES),
                                        ("lots", MAX_ENTRIES), ("", MAX_ENTRIES)])
def test_the_table_bound_comes_from_the_environment(text: str | None, size: int) -> None:
    """ARCHC_MEMO_SIZE bounds each table; a value that is no count of 16 or more is ignored."""
    assert memo._size(text) == size


def test_a_table_bound_set_in_the_environment_is_kept(tmp_path: Path) -> None:
    code = ("from archcompiler.analysis import lower, report\n"
            "print(lower._LOWERED.size, report._SHAPED.size)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "ARCHC_MEMO_SIZE": "300"}, check=True)
    assert done.stdout.split() == ["300", "300"]

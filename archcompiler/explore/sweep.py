"""The sweep backend: one row per analysed variant, the Pareto front, variant files and a plot.

Rows are read from reports (totals, the graph's main-path convs, the diagnostics); nothing here
imports torch, and matplotlib only inside `plot`.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from ..analysis.report import Report
from ..analysis.rules import RULES, check_rules
from ..core.diagnostics import Diagnostic, Severity
from ..core.fileio import atomic_write_bytes
from ..core.outputs import comment, to_json


@dataclass(frozen=True)
class SweepRow:
    """One variant: the grid values it was made with, and what the analysis says of it."""

    index: int  # the variant's place in the grid, from 1 (kept through filters: it names files)
    values: dict[str, object]  # grid key -> the (YAML-typed) value of this variant
    name: str | None
    params: int | None  # None when the variant did not resolve
    macs: int | None
    depth: int | None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    pareto: bool = False
    stages: tuple[int, ...] = ()  # each stage's output channels
    diagnostics: tuple[Diagnostic, ...] = field(default=(), compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when the variant analysed without errors."""
        return self.params is not None and not self.errors


NAME_RULE = "ARC306"  # a name like resnet50 matches the counted layers
_NAME_KEY = next(k for k in RULES.names() if RULES.get(k).code == NAME_RULE)  # its spec key


def weighted_depth(report: Report) -> int:
    """Weighted layers as the paper counts them (`Report.weighted_depth`, the count of ARC306)."""
    return report.weighted_depth


def _codes(diags: Sequence[Diagnostic], severity: Severity) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d.code for d in diags if d.severity is severity))


def row_of(index: int, values: Mapping[str, object], report: Report,
           name: str | None = None) -> SweepRow:
    """The row of an analysed variant, named `name` when given (the name rule is checked again
    under that name, so a derived name is judged as the file written with it would be)."""
    diags = tuple(report.diagnostics)
    shown = report.spec.name
    if name is not None and name != shown:
        shown = name
        # Checked again only where the spec has the rule on (a sample of regnetx_002 has not).
        if report.spec.rules.get(_NAME_KEY, "error") != "off":
            renamed = check_rules(Report(replace(report.spec, name=name), report.graph,
                                         report.nodes, list(report.diagnostics)), (NAME_RULE,))
            diags = (*(d for d in diags if d.code != NAME_RULE), *renamed)
    return SweepRow(index, dict(values), shown, report.params, report.macs,
                    weighted_depth(report), _codes(diags, Severity.ERROR),
                    _codes(diags, Severity.WARNING), diagnostics=diags,
                    stages=tuple(s.out_channels for s in report.graph.stages))


def failed_row(index: int, values: Mapping[str, object], diags: Sequence[Diagnostic]
               ) -> SweepRow:
    """The row of a variant that did not resolve (a schema error, say): codes, no costs."""
    return SweepRow(index, dict(values), None, None, None, None, _codes(diags, Severity.ERROR),
                    _codes(diags, Severity.WARNING), diagnostics=tuple(diags))


def keep(row: SweepRow, max_params: int | None, max_macs: int | None, valid_only: bool,
         depth: int | None = None) -> bool:
    """Whether a row passes the filters (a variant without costs passes no budget)."""
    if (valid_only and not row.ok) or (depth is not None and row.depth != depth):
        return False
    if max_params is not None and (row.params is None or row.params > max_params):
        return False
    return not (max_macs is not None and (row.macs is None or row.macs > max_macs))


def mark_pareto(rows: Sequence[SweepRow]) -> list[SweepRow]:
    """Mark the valid rows that no other valid row beats on both params and MACs."""
    best = [r for r in rows if r.ok]
    # Sorted by params then MACs, a row is on the front when its MACs are below every earlier
    # row's: one pass instead of comparing every pair (10,000 variants stay instant).
    front: set[int] = set()
    lowest: int | None = None
    for r in sorted(best, key=lambda r: (r.params, r.macs)):
        assert r.macs is not None
        if lowest is None or r.macs < lowest:
            front.add(r.index)
            lowest = r.macs
    return [replace(r, pareto=r.index in front) for r in rows]


def to_records(rows: Sequence[SweepRow]) -> list[dict[str, object]]:
    """JSON-ready records, one per row."""
    return [{"variant": r.index, "overrides": r.values, "name": r.name, "params": r.params,
             "macs": r.macs, "depth": r.depth, "stage_channels": list(r.stages),
             "errors": list(r.errors), "warnings": list(r.warnings), "pareto": r.pareto}
            for r in rows]


def format_json(rows: Sequence[SweepRow]) -> str:
    """The rows as a JSON array."""
    return to_json(to_records(rows))


def flow(value: object) -> str:
    """A grid value as it would be written after `--set KEY=`: one line of YAML."""
    # A grid has few distinct values and a table many cells: dump each distinct value once.
    return _flow(json.dumps(value))


@functools.lru_cache(maxsize=4096)
def _flow(key: str) -> str:
    text = yaml.safe_dump(json.loads(key), default_flow_style=True, sort_keys=False,
                          width=1 << 30).strip()
    return text.removesuffix("...").strip()


def format_csv(rows: Sequence[SweepRow], keys: Sequence[str]) -> str:
    """The rows as CSV: one column per grid key, then the costs and the codes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", *keys, "params", "macs", "depth", "errors", "warnings", "pareto"])
    for r in rows:
        writer.writerow([r.name or "", *(flow(r.values.get(k)) for k in keys),
                         "" if r.params is None else r.params, "" if r.macs is None else r.macs,
                         "" if r.depth is None else r.depth, " ".join(r.errors),
                         " ".join(r.warnings), int(r.pareto)])
    return out.getvalue()


def format_table(rows: Sequence[SweepRow], keys: Sequence[str]) -> str:
    """The rows as a table for people; `*` marks the Pareto front."""
    header = ["name", *keys, "params", "MACs", "depth", "errors", "warnings", ""]
    body = [[r.name or "-", *(flow(r.values.get(k)) for k in keys),
             f"{r.params:,}" if r.params is not None else "-",
             f"{r.macs:,}" if r.macs is not None else "-",
             str(r.depth) if r.depth is not None else "-",
             " ".join(r.errors) or "-", " ".join(r.warnings) or "-", "*" if r.pareto else ""]
            for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    numeric = {len(keys) + 1, len(keys) + 2, len(keys) + 3}
    lines = []
    for line in [header, *body]:
        lines.append("  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                               for i, (c, w) in enumerate(zip(line, widths))).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def variant_mapping(base: object, variant: object) -> object:
    """The smallest mapping that, merged over `base` as an `extends` layer, gives `variant`.

    Both are plain spec trees (mappings, lists, scalars). Lists replace in a merge, so a changed
    list is written whole; a block whose `type` changed replaces the base's mapping, so it is
    written whole too; a key the variant dropped is written as null, which resets it.
    """
    if not (isinstance(base, dict) and isinstance(variant, dict)):
        return variant
    if "type" in variant and base.get("type") != variant.get("type"):
        return variant
    out: dict[str, object] = {}
    for key in dict.fromkeys([*base, *variant]):
        if key not in variant:
            out[key] = None
        elif key not in base:
            out[key] = variant[key]
        elif base[key] != variant[key]:
            out[key] = variant_mapping(base[key], variant[key])
    return out


def variant_yaml(extends: str, name: str, changes: Mapping[str, object], note: str) -> str:
    """A spec file that extends `extends` with `changes`, named `name`."""
    body = {"spec_version": 1, "extends": extends, "name": name}
    body.update({k: v for k, v in changes.items() if k not in ("spec_version", "extends", "name")})
    # The note is one comment line, whatever a --set value holds (a line break would end it).
    return comment(note) + "\n" + yaml.safe_dump(body, sort_keys=False, default_flow_style=None,
                                                 width=100)


def plot(rows: Sequence[SweepRow], refs: Sequence[tuple[str, int, int]], path: Path,
         title: str, budgets: tuple[int | None, int | None] = (None, None),
         front_label: str = "Pareto front (min params, MACs)") -> None:
    """Draw MACs against params: the variants, their Pareto front, labelled zoo specs, and the
    budgets (`--max-params`, `--max-macs`) as dashed lines.

    Raises ImportError when matplotlib is missing. `refs` are (name, params, MACs). The legend
    sits outside the axes, so it covers no point; tick labels are plain numbers.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and no window opens
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    def points(chosen: Sequence[SweepRow]) -> tuple[list[float], list[float]]:
        pairs = [(r.params, r.macs) for r in chosen if r.params is not None and r.macs is not None]
        return [p / 1e6 for p, _ in pairs], [m / 1e9 for _, m in pairs]

    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=110)
    valid = [r for r in rows if r.ok]
    bad = [r for r in rows if not r.ok and r.params is not None]
    front = sorted((r for r in valid if r.pareto), key=lambda r: r.params or 0)
    if valid:
        ax.scatter(*points(valid), s=10, alpha=0.45, color="tab:blue",
                   label=f"variants ({len(valid)})")
    if bad:
        ax.scatter(*points(bad), s=14, marker="x", color="tab:red",
                   label=f"with errors ({len(bad)})")
    if front:
        ax.plot(*points(front), "-o", color="tab:orange", markersize=4, label=front_label)
    if refs:
        ax.scatter([p / 1e6 for _, p, _ in refs], [m / 1e9 for _, _, m in refs], marker="^",
                   s=36, color="black", label="zoo specs")
        for name, p, m in refs:
            ax.annotate(name, (p / 1e6, m / 1e9), textcoords="offset points", xytext=(4, 3),
                        fontsize=7)
    xs, ys = points([*rows, *(SweepRow(0, {}, n, p, m, None) for n, p, m in refs)])
    max_params, max_macs = budgets
    if max_params is not None:
        ax.axvline(max_params / 1e6, color="tab:red", linestyle="--", linewidth=1,
                   label=f"--max-params {_plain(max_params / 1e6)}M")
    if max_macs is not None:
        ax.axhline(max_macs / 1e9, color="tab:purple", linestyle="--", linewidth=1,
                   label=f"--max-macs {_plain(max_macs / 1e9)}G")
    if (xs and max(xs) > 20 * min(xs)) or (ys and max(ys) > 20 * min(ys)):
        ax.set_xscale("log")  # a sweep over orders of magnitude is legible on log axes only
        ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: _plain(v))
    for axis in (ax.xaxis, ax.yaxis):  # 0.4, not 4x10^-1; no labels on log minor ticks
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("parameters (M)")
    ax.set_ylabel("MACs (G)")
    ax.set_title(textwrap.fill(title, 90), fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    buffer = io.BytesIO()
    # svg files carry a creation date by default; leave it out so a plot is reproducible.
    fig.savefig(buffer, format=path.suffix.lstrip(".").lower(), metadata=_METADATA.get(
        path.suffix.lower(), {}))
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def _plain(value: float) -> str:
    """A tick or budget as a plain number: 0.4, 12, 1.5 (no powers of ten, no float noise)."""
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"


PLOT_SUFFIXES = (".png", ".svg")
_METADATA: dict[str, dict[str, object]] = {".svg": {"Date": None}, ".png": {"Software": None}}

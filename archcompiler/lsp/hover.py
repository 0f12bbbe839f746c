"""Hover: a key's resolved value, where it was set and its description; a stage's costs; a
base's or block file's name and totals. The numbers are `archc summary`'s, by its own `rows`."""

from __future__ import annotations

import json
from pathlib import Path

from ..analysis.report import Report
from ..analysis.table import Row
from ..api import analyze
from ..core.diagnostics import Span
from ..language.blockfile import BlockSpec
from ..language.schema import spec_model
from ..language.validate import locate
from ..language.variants import unsaved_key
from ..language.yamlload import LNode, to_plain
from ..language.zoo import display_path
from ..report.summary import fmt_shape
from .analysis import Analysis, block_files_of
from .navigate import base_file, inherited
from .schema_walk import describe_type, field_at
from .text import Hit

_BASE_REPORTS: dict[tuple[str, str], Report | str] = {}  # (file, its text) -> report or error


def _value(node: LNode) -> str:
    text = json.dumps(to_plain(node), ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."


def _where(span: Span, analysis: Analysis) -> str:
    if unsaved_key(span.file) == unsaved_key(analysis.path):
        return f"this file, line {span.line}"
    return f"{display_path(span.file)}:{span.line}"


def stage_row(row: Row, total_macs: int) -> str:
    """A summary row as `archc summary` prints it: shape, params, MACs and share of the total."""
    share = 100 * row.macs / (total_macs or 1)
    return (f"| {row.name} | {row.kind} | {fmt_shape(row.shape)} | {row.params:,} | "
            f"{row.macs:,} | {share:.1f}% |")


def _stages(analysis: Analysis, hit: Hit) -> str | None:
    """The summary rows of the stages the value under the cursor sets, if it sets any."""
    report, own = analysis.report, analysis.own
    if report is None or own is None or hit.on_key:
        return None
    spans = {hit.node.span}
    if len(hit.path) > 1:
        spans.add(locate(own, hit.path[:-1])[0].span)
    picked = {s.index for s in report.graph.stages
              if spans & {s.depth_span, s.width_span, s.stride_span, s.shortcut_span}}
    picked |= {b.stage for b in report.spec.blocks if b.span in spans}
    if not picked:
        return None
    names = {s.name for s in report.graph.stages if s.index in picked}
    lines = ["| stage | kind | output | params | MACs | share |", "|---|---|---|--:|--:|--:|"]
    lines += [stage_row(r, report.macs) for r in analysis.stage_rows if r.name in names]
    return "\n".join(lines) + f"\n\ntotal: {report.params:,} params, {report.macs:,} MACs"


def _base_report(path: str, unsaved: dict[str, str]) -> Report | str:
    """The analysis of a base spec (cached by its text), or why it has none."""
    text = unsaved.get(unsaved_key(path))
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"cannot read it: {exc.strerror or exc}"
    key = (path, text)
    if key not in _BASE_REPORTS:
        if len(_BASE_REPORTS) > 32:
            _BASE_REPORTS.clear()
        from ..language.load import resolve

        res = resolve(path, unsaved=unsaved)
        found: Report | str = "it has errors" if res.spec is None else analyze(res.spec)
        _BASE_REPORTS[key] = found
    return _BASE_REPORTS[key]


def _target(analysis: Analysis, hit: Hit, unsaved: dict[str, str]) -> str | None:
    """`extends:` and block-file values: the target's name and totals."""
    if hit.path == ("extends",):
        base = base_file(analysis)
        if base is None:
            return None
        report = _base_report(base, unsaved)
        if isinstance(report, str):
            return f"**{display_path(base)}**: {report}"
        return (f"**{report.spec.name}** ({display_path(base)}): {report.spec.description}\n\n"
                f"{report.params:,} params, {report.macs:,} MACs, output "
                f"{fmt_shape(report.output_shape)}")
    files = block_files_of(analysis)
    if len(hit.path) == 2 and hit.path[0] == "blocks" and str(hit.path[1]) in files:
        tag = str(hit.path[1])
        text = f"**{tag}**: block file {display_path(files[tag])}"
        if analysis.report is not None:
            used = [b for b in analysis.report.graph.blocks if b.kind == tag]
            params, macs = analysis.report.cost(n for b in used for n in b.nodes)
            share = 100 * macs / (analysis.report.macs or 1)
            text += (f"\n\n{len(used)} blocks in this spec: {params:,} params, {macs:,} MACs "
                     f"({share:.1f}% of the total)")
        return text
    return None


def _key(analysis: Analysis, hit: Hit, unsaved: dict[str, str], block_file: bool) -> str | None:
    """A key's type, description, resolved value and where it was set."""
    root = BlockSpec if block_file else spec_model()
    info = field_at(root, hit.path, lambda _: None)
    dotted = ".".join(str(p) for p in hit.path)
    out = [f"**{dotted}**" + (f": {describe_type(info.annotation)}" if info else "")]
    if info is not None and info.description:
        out.append(info.description)
    res = analysis.resolution
    merged = None
    if res is not None and res.tree is not None:
        node, found = locate(res.tree, hit.path)
        merged = node if len(found) == len(hit.path) else None
    if merged is not None:
        out.append(f"value: `{_value(merged)}`, set in {_where(merged.span, analysis)}")
        if isinstance(merged.value, dict):
            rows = [f"- `{k}`: `{_value(v)}` ({_where(v.key_span or v.span, analysis)})"
                    for k, v in merged.value.items()]
            out.append("\n".join(rows[:40]))
            config = _block_config(analysis, merged.span)
            if config is not None:
                out.append(f"resolved, with defaults: `{config}`")
    base = inherited(analysis, hit.path, unsaved) if not block_file else None
    if base is not None:
        out.append(f"overrides `{_value(base)}` from {_where(base.span, analysis)}")
    return "\n\n".join(out)


def _block_config(analysis: Analysis, span: Span) -> str | None:
    """The full config (defaults filled in) of the blocks a block mapping at `span` made."""
    report = analysis.report
    if report is None:
        return None
    block = next((b for b in report.spec.blocks if b.span == span), None)
    if block is None:
        return None
    return json.dumps(block.config.model_dump(mode="json"), ensure_ascii=False)


def hover_text(analysis: Analysis, hit: Hit, unsaved: dict[str, str], block_file: bool
               ) -> str | None:
    """The markdown a hover shows for what is under the cursor."""
    if not block_file:
        found = _target(analysis, hit, unsaved) or _stages(analysis, hit)
        if found is not None:
            return found
    return _key(analysis, hit, unsaved, block_file)

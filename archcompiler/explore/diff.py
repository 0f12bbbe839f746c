"""The diff backend: two analysis reports side by side, stage by stage, field by field.

Everything is read from the reports: stage records and `report.cost` for the table, the resolved
specs (with the span of every value) for the fields, and the rule diagnostics for what one spec
has and the other does not. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..analysis.report import Report
from ..core.diagnostics import Diagnostic, Severity, Span
from ..core.outputs import to_json as strict_json
from ..ir.graph import Node, Role
from ..ir.ops import Op, Shape
from ..report.summary import fmt_shape

_ABSENT = "(absent)"


@dataclass(frozen=True)
class StageFacts:
    """One stage (or the stem or head) of one spec: its settings, output and cost."""

    depth: int | None
    width: int | None
    stride: int | None
    kind: str
    output_shape: Shape | None
    params: int
    macs: int


@dataclass(frozen=True)
class StageRow:
    """One row of the table: the same stage in A and B (None where a spec has no such stage)."""

    name: str
    a: StageFacts | None
    b: StageFacts | None


@dataclass(frozen=True)
class FieldDiff:
    """A resolved value that differs, with where each side's value was written."""

    field: str
    a: object
    b: object
    a_at: str | None
    b_at: str | None


@dataclass(frozen=True)
class SpecDiff:
    """Everything `archc diff` shows: the table, the differing fields and the diagnostics."""

    a: Report
    b: Report
    stages: list[StageRow]
    fields: list[FieldDiff]
    only_a: list[Diagnostic] = field(default_factory=list)
    only_b: list[Diagnostic] = field(default_factory=list)


def _cost_row(report: Report, nodes: list[Node], kind: str) -> StageFacts:
    params, macs = report.cost(n.name for n in nodes)
    shape = report.shape(nodes[-1].name) if nodes else None
    return StageFacts(None, None, None, kind, shape, params, macs)


def stage_facts(report: Report) -> dict[str, StageFacts]:
    """The stem, every stage and the head of a report, in order, by name."""
    graph = report.graph
    by_stage: dict[int, list[Node]] = {}
    stem, head = [], []
    for node in graph.nodes:
        if node.op == Op.INPUT:
            continue
        if node.role is Role.STEM:
            stem.append(node)
        elif node.role is Role.HEAD:
            head.append(node)
        elif node.stage is not None:
            by_stage.setdefault(node.stage, []).append(node)
    out = {"stem": _cost_row(report, stem, "stem")}
    for s in graph.stages:
        params, macs = report.cost(n.name for n in by_stage.get(s.index, []))
        out[s.name] = StageFacts(s.depth, s.width, s.stride, s.kind,
                                 report.shape(graph.stage_output(s)), params, macs)
    out["head"] = _cost_row(report, head, "head")
    return out


def _number(value: object) -> object:
    """A float as people write it: 0.04, not 0.04000000000000001 (6 significant digits)."""
    return float(f"{value:.6g}") if isinstance(value, float) else value


def resolved_fields(report: Report) -> dict[str, tuple[object, Span | None]]:
    """Every resolved value of a spec by a dotted name, with the span of the value that set it
    (None: the default). A derived value points at the field it was derived from."""
    spec, stem = report.spec, report.spec.stem
    at = spec.span_of
    out: dict[str, tuple[object, Span | None]] = {
        "name": (spec.name, spec.name_span),
        "input": (fmt_shape(spec.input_shape), spec.input_span),
        "stem.out_channels": (stem.out_channels, at("stem.conv.out_channels")),
        "stem.kernel": (stem.kernel, at("stem.conv.kernel")),
        "stem.stride": (stem.stride, at("stem.conv.stride")),
        # A padding not written follows the kernel: it comes from the kernel's line.
        "stem.padding": (stem.padding, at("stem.conv.padding", at("stem.conv.kernel"))),
        "stem.deep": (list(stem.deep), at("stem.conv.deep")),
        "stem.norm": (stem.norm, at("stem.conv.norm")),
        "stem.pool": (f"{stem.pool_kind} {stem.pool_kernel}/{stem.pool_stride} pad "
                      f"{stem.pool_padding}" if stem.pool_kind else None, stem.pool_span),
        "activation": (spec.activation, at("activation")),
        "norm": (spec.norm, at("norm")),
        "head.classes": (spec.classes, at("head.classes")),
        "head.dropout": (_number(spec.dropout), at("head.dropout")),
        "head.norm": (spec.head_norm, at("head.norm")),
        "zero_init_residual": (spec.zero_init_residual, at("zero_init_residual")),
        "conv_bias": (spec.conv_bias, at("conv_bias")),
    }
    blocks = {b.name: b for b in spec.blocks}
    for s in spec.stages:
        first = blocks[s.blocks[0]]
        out[f"{s.name}.depth"] = (s.depth, s.depth_span)
        out[f"{s.name}.width"] = (s.width, s.width_span)
        out[f"{s.name}.out_channels"] = (s.out_channels, s.width_span)
        out[f"{s.name}.stride"] = (s.stride, s.stride_span)
        out[f"{s.name}.shortcut"] = (s.shortcut_option, s.shortcut_span)
        out[f"{s.name}.shortcut_pool"] = (first.shortcut_pool, at("stages.shortcut_pool"))
        rates = [blocks[name].drop_path for name in s.blocks]
        # Each block's rate is derived from stages.drop_path (and its schedule): point there.
        out[f"{s.name}.drop_path"] = (_number(max(rates)), at("stages.drop_path"))
        for key, value in first.config.model_dump().items():
            out[f"{s.name}.block.{key}"] = (_number(value), at(f"stages.block.{key}",
                                                                 first.span))
    for key, level in spec.rules.items():
        out[f"rules.{key}"] = (level, spec.rule_spans.get(key))
    return out


def _where(span: Span | None) -> str | None:
    return Report.where(span) if span is not None else None


def _diag_key(d: Diagnostic) -> tuple[str, str | None, str]:
    # The message carries numbers that change with the spec; the code and node name the finding.
    return (d.code, d.node, d.severity.value)


def diff_reports(a: Report, b: Report) -> SpecDiff:
    """Compare two analysed specs: per-stage table, differing fields, one-sided diagnostics."""
    fa, fb = stage_facts(a), stage_facts(b)
    names = list(dict.fromkeys([*fa, *fb]))
    names.sort(key=lambda n: (n != "stem", n == "head"))  # stem first, head last, stages between
    stages = [StageRow(n, fa.get(n), fb.get(n)) for n in names]
    va, vb = resolved_fields(a), resolved_fields(b)
    fields = []
    for key in dict.fromkeys([*va, *vb]):
        (x, xs), (y, ys) = va.get(key, (_ABSENT, None)), vb.get(key, (_ABSENT, None))
        if x != y:
            fields.append(FieldDiff(key, x, y, _where(xs), _where(ys)))
    keys_a = {_diag_key(d) for d in a.diagnostics}
    keys_b = {_diag_key(d) for d in b.diagnostics}
    return SpecDiff(a, b, stages, fields,
                    [d for d in a.diagnostics if _diag_key(d) not in keys_b],
                    [d for d in b.diagnostics if _diag_key(d) not in keys_a])


def delta(x: int | None, y: int | None) -> dict[str, float | int | None] | None:
    """B minus A, and that as a percentage of A (None when A is 0 or a side is missing)."""
    if x is None or y is None:
        return None
    return {"abs": y - x, "pct": round(100 * (y - x) / x, 2) if x else None}


def _facts_json(f: StageFacts | None) -> dict[str, object] | None:
    if f is None:
        return None
    return {"depth": f.depth, "width": f.width, "stride": f.stride, "kind": f.kind,
            "output_shape": list(f.output_shape) if f.output_shape is not None else None,
            "params": f.params, "macs": f.macs}


def _side(r: Report) -> dict[str, object]:
    return {"name": r.spec.name, "params": r.params, "macs": r.macs,
            "input_shape": list(r.input_shape),
            "output_shape": list(r.output_shape) if r.output_shape is not None else None,
            "errors": sum(d.severity is Severity.ERROR for d in r.diagnostics),
            "warnings": sum(d.severity is Severity.WARNING for d in r.diagnostics)}


def to_json(d: SpecDiff) -> dict[str, object]:
    """Return the diff as JSON-ready data: the same content as the text."""
    return {
        "a": _side(d.a), "b": _side(d.b),
        "total": {"params": delta(d.a.params, d.b.params), "macs": delta(d.a.macs, d.b.macs)},
        "stages": [{"name": row.name, "a": _facts_json(row.a), "b": _facts_json(row.b),
                    "delta": {k: delta(getattr(row.a, k, None), getattr(row.b, k, None))
                              for k in ("depth", "width", "stride", "params", "macs")}}
                   for row in d.stages],
        "fields": [{"field": f.field, "a": f.a, "b": f.b, "a_at": f.a_at, "b_at": f.b_at}
                   for f in d.fields],
        "diagnostics": {"only_a": [x.to_dict() for x in d.only_a],
                        "only_b": [x.to_dict() for x in d.only_b]},
    }


def format_json(d: SpecDiff) -> str:
    """Render the diff as indented JSON."""
    return strict_json(to_json(d))


def human(n: float) -> str:
    """A count for people, to four significant digits: 25.56M, 4.089G, 9.536K, 512."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.4g}{unit}"
    return f"{n:,.0f}"


def _pair(x: object, y: object) -> str:
    def show(v: object) -> str:
        return "-" if v is None else fmt_shape(v) if isinstance(v, tuple) else str(v)
    return show(x) if x == y else f"{show(x)} -> {show(y)}"


def _change(x: int | None, y: int | None) -> str:
    d = delta(x, y)
    if d is None or d["abs"] == 0:
        return ""
    sign = "+" if (d["abs"] or 0) > 0 else "-"
    pct = f" ({d['pct']:+.1f}%)" if d["pct"] is not None else ""
    return f"{sign}{human(abs(d['abs'] or 0))}{pct}"


def _cells(row: StageRow) -> list[str]:
    a, b = row.a, row.b

    def get(f: StageFacts | None, key: str) -> object:
        return _ABSENT if f is None else getattr(f, key)

    def num(f: StageFacts | None, key: str) -> str:
        return "-" if f is None else human(getattr(f, key))

    return [row.name] + [_pair(get(a, k), get(b, k)) for k in ("depth", "width", "stride",
                                                                 "output_shape")] + [
        num(a, "params"), num(b, "params"),
        _change(getattr(a, "params", None), getattr(b, "params", None)),
        num(a, "macs"), num(b, "macs"), _change(getattr(a, "macs", None), getattr(b, "macs", None))]


def _table(rows: list[list[str]]) -> Iterator[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        cells = [c.ljust(w) if i in (0, 4) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
        yield "  ".join(cells).rstrip()
        if n == 0:
            yield "-" * sum(w + 2 for w in widths)


def format_text(d: SpecDiff) -> str:
    """Render the diff for a terminal: the table, the fields, then the one-sided diagnostics."""
    a, b = d.a, d.b
    lines = [f"A: {a.spec.name} (input {fmt_shape(a.input_shape)})    "
             f"B: {b.spec.name} (input {fmt_shape(b.input_shape)})", ""]
    header = ["stage", "depth", "width", "stride", "output", "params A", "params B", "change",
              "MACs A", "MACs B", "change"]
    total = ["total", "", "", "", _pair(a.output_shape, b.output_shape), human(a.params),
             human(b.params), _change(a.params, b.params), human(a.macs), human(b.macs),
             _change(a.macs, b.macs)]
    lines += _table([header, *(_cells(r) for r in d.stages), total])
    lines.append("")
    if d.fields:
        n = len(d.fields)
        lines.append(f"{n} field{'s' * (n != 1)} differ{'s' * (n == 1)}:")
        for f in d.fields:
            lines.append(f"  {f.field}: {_value(f.a)} ({f.a_at or 'default'}) -> "
                         f"{_value(f.b)} ({f.b_at or 'default'})")
    else:
        lines.append("no resolved field differs")
    for label, diags in (("A", d.only_a), ("B", d.only_b)):
        for x in diags:
            where = f" ({_where(x.span)})" if x.span is not None else ""
            lines.append(f"only in {label}: {x.severity.value}[{x.code}]: {x.message}{where}")
    lines.append(f"diagnostics: A {_counts(a)}; B {_counts(b)}")
    return "\n".join(lines)


def _value(v: object) -> str:
    return "none" if v is None else str(v)


def _counts(r: Report) -> str:
    e = sum(x.severity is Severity.ERROR for x in r.diagnostics)
    w = sum(x.severity is Severity.WARNING for x in r.diagnostics)
    return f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"

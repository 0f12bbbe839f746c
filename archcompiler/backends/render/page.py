"""The interactive page: one self-contained HTML file (no network) that explores a report.

Graphviz lays out the diagram at four details (stages as single nodes, runs of identical blocks,
blocks, layers), one `dot -Tsvg` each, run in parallel. The page holds those SVGs and, for every
drawn node, cluster and edge, a hover card read off the analysis (op, shapes, params, MACs,
`file:line`). A click on a node opens the next detail at the nodes it stands for. All user text
is escaped: it reaches the SVG through graphviz's own escaping and the cards through JSON that
the script writes with `textContent`; a Content-Security-Policy lets only the page's own script
run, and no request leave the page (except, in live mode, to the local server it came from).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import itertools
import json
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import resources

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic
from ...ir.graph import Node
from ...report.summary import fmt_shape
from .dot import where
from .dotrun import DOT_TIMEOUT_S, DotFailedError
from .drawer import Drawer

LEVELS = ("net", "stage", "block", "layer")
LEVEL_NAMES = {"net": "stages", "stage": "runs ×N", "block": "blocks", "layer": "layers"}
_MAX_WHERE = 6  # source lines listed on one card


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _where_list(by_name: Mapping[str, Node], names: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for n in names:
        w = where(by_name[n].span)
        if w not in seen:
            seen.append(w)
    return seen[:_MAX_WHERE] + (["…"] if len(seen) > _MAX_WHERE else [])


def _card(report: Report, by_name: Mapping[str, Node], title: str, covers: list[str]
          ) -> dict[str, object]:
    """The hover card of a drawn node that stands for the IR nodes `covers`."""
    inside = set(covers)
    nodes = [by_name[n] for n in covers]
    ins: list[str] = []
    for node in nodes:
        for i in node.inputs:
            shape = fmt_shape(report.shape(i))
            if i not in inside and shape not in ins:
                ins.append(shape)
    params, macs = report.cost(covers)
    ops = [n.attrs.text() for n in nodes]
    op = ops[0] if len(ops) == 1 else f"{len(ops)} ops: " + " → ".join(ops[:4]) + (
        " …" if len(ops) > 4 else "")
    card: dict[str, object] = {
        "name": title, "op": op, "in": ins, "out": fmt_shape(report.shape(covers[-1])) if covers
        else "", "params": params, "macs": macs, "where": _where_list(by_name, covers),
        "ir": covers}
    stages = {n.stage for n in nodes}
    if len(stages) == 1 and None not in stages:
        card["stage"] = next(iter(stages))  # the page lists the stage's settings once
    return card


def _level(report: Report, level: str, lay_out: Callable[[str], Future[str]]
           ) -> tuple[Future[str], dict[str, object]]:
    """Start laying out one detail; meanwhile make its cards and diagnostics targets."""
    d = Drawer(report, level, "TB", page=True)
    svg = lay_out(d.dot())
    by_name = d.by_name
    ids = d.w.ids
    cards: dict[str, object] = {}
    for ident, svg_id in ids.items():
        covers = d.covers.get(ident, [])
        title = ident[len("cluster_"):] if ident.startswith("cluster_") else ident
        cards[svg_id] = _card(report, by_name, title, covers) if covers else {"name": title}
    for eid, (a, b) in d.w.edge_ends.items():
        carried = d.carries.get(eid)
        cards[eid] = {"name": f"{a} → {b}", "edge": True,
                      **({"tensor": carried, "out": fmt_shape(report.shape(carried)),
                          "where": _where_list(by_name, [carried])} if carried else {})}
    targets: list[list[str]] = []
    for diag in report.diagnostics:
        target = d._target(diag)
        if target is None or diag not in d.flags.get(target, []):
            target = "diagnostics" if diag in d.loose else None
        targets.append([ids[target]] if target is not None and target in ids else [])
    clusters = [ids[i] for i in ids if i.startswith("cluster_")]
    return svg, {"cards": cards, "targets": targets, "clusters": clusters}


def _drill(levels: dict[str, dict[str, object]]) -> None:
    """For each drawn thing, the things of the next detail that stand for the same IR nodes."""
    for here, there in itertools.pairwise(LEVELS):
        cards = levels[there]["cards"]
        assert isinstance(cards, dict)
        clusters = set(levels[there]["clusters"])  # type: ignore[call-overload]
        index: dict[str, list[str]] = {}
        for sid, card in cards.items():
            if sid not in clusters and not card.get("edge"):
                for ir in card.get("ir", ()):
                    index.setdefault(ir, []).append(sid)
        drill: dict[str, list[str]] = {}
        own = levels[here]["cards"]
        assert isinstance(own, dict)
        for sid, card in own.items():
            found: list[str] = []
            for ir in card.get("ir", ()):
                found += [t for t in index.get(ir, ()) if t not in found]
            if found:
                drill[sid] = found
        levels[here]["drill"] = drill


def _dot_svg(dot: str, text: str) -> str:
    """Lay out one DOT text with `dot -Tsvg` (run in a worker thread: the GIL is free)."""
    try:
        proc = subprocess.run([dot, "-Tsvg"], input=text.encode("utf-8"), capture_output=True,
                              check=False, timeout=DOT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DotFailedError(f"`dot -Tsvg` did not finish in {DOT_TIMEOUT_S} s") from None
    if proc.returncode != 0 or not proc.stdout:
        raise DotFailedError(f"`dot -Tsvg` failed ({proc.returncode}): "
                             f"{proc.stderr.decode('utf-8', 'replace').strip() or 'no output'}")
    return _trim_svg(proc.stdout.decode("utf-8"))


def _trim_svg(svg: str) -> str:
    """Drop the XML prolog, doctype and comments; no tooltip or link survives in page mode."""
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)


def _pack(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode("utf-8"), 6, mtime=0)).decode("ascii")


def _diag(d: Diagnostic) -> dict[str, object]:
    return {"code": d.code, "severity": d.severity.value, "message": d.message,
            "where": where(d.span) if d.span is not None else "", "hint": d.hint or ""}


def json_for_script(data: object) -> str:
    """JSON safe inside a <script> element: no '<', '>', '&' or line separators survive."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def page_data(report: Report, dot: str) -> dict[str, object]:
    """Everything the page shows: per detail its packed SVG and cards, and the diagnostics.

    Each detail's `dot` starts as soon as its DOT text is written, the largest first, and runs
    while the cards of the others are made."""
    with ThreadPoolExecutor(max_workers=len(LEVELS)) as pool:
        def lay_out(text: str) -> Future[str]:
            return pool.submit(_dot_svg, dot, text)

        made = {lv: _level(report, lv, lay_out) for lv in reversed(LEVELS)}
        levels = {lv: made[lv][1] for lv in LEVELS}
        _drill(levels)
        for lv in LEVELS:
            levels[lv]["svg"] = _pack(made[lv][0].result())
            # The cards are most of the page: packed too, unpacked when their detail is shown.
            levels[lv]["cards"] = _pack(json.dumps(levels[lv]["cards"], ensure_ascii=False,
                                                   separators=(",", ":")))
            levels[lv]["label"] = LEVEL_NAMES[lv]
    r = report
    # Each stage's own settings, each where it was written: a base spec names its file.
    stage_values = [[f"depth {st.depth}: {where(st.depth_span)}",
                     f"width {st.width}: {where(st.width_span)}",
                     f"stride {st.stride}: {where(st.stride_span)}",
                     f"shortcut {st.shortcut_option}: {where(st.shortcut_span)}"]
                    for st in r.graph.stages]
    return {"stages": stage_values, "name": r.spec.name, "description": r.spec.description or "",
            "summary": f"{r.params:,} params · {r.macs:,} MACs · input "
                       f"{fmt_shape(r.input_shape)} → {fmt_shape(r.output_shape)}",
            "levels": {lv: levels[lv] for lv in LEVELS}, "order": list(LEVELS),
            "diagnostics": [_diag(d) for d in r.diagnostics], "errors": [], "live": False}


def page_html(data: dict[str, object], *, live: bool = False,
              errors: Sequence[Diagnostic] = ()) -> str:
    """The self-contained page for `page_data`; `live` lets it poll the server it came from."""
    data = {**data, "live": live, "errors": [_diag(d) for d in errors]}
    script = _asset("page.js")
    style = _asset("page.css")
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(t.encode()).digest()).decode()}'"
              for t in (script,)]
    style_hash = f"'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'"
    connect = "'self'" if live else "'none'"
    csp = (f"default-src 'none'; script-src {' '.join(hashes)}; style-src {style_hash}; "
           f"img-src data:; connect-src {connect}; base-uri 'none'; form-action 'none'")
    title = html.escape(str(data["name"]))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title} · archc</title>\n<style>{style}</style></head>\n"
            f'<body>\n<script type="application/json" id="archc-data">{json_for_script(data)}'
            f"</script>\n<script>{script}</script>\n</body></html>\n")

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
from collections.abc import Iterable, Sequence
from importlib import resources

from ...analysis.report import Report
from ...core.diagnostics import Diagnostic
from ..summary import fmt_shape
from .dot import where
from .dotrun import DOT_TIMEOUT_S, DotFailedError
from .drawer import Drawer

LEVELS = ("net", "stage", "block", "layer")
LEVEL_NAMES = {"net": "stages", "stage": "runs ×N", "block": "blocks", "layer": "layers"}
_MAX_WHERE = 6  # source lines listed on one card


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _where_list(report: Report, names: Iterable[str]) -> list[str]:
    by_name = report.graph.by_name()
    seen: list[str] = []
    for n in names:
        w = where(by_name[n].span)
        if w not in seen:
            seen.append(w)
    return seen[:_MAX_WHERE] + (["…"] if len(seen) > _MAX_WHERE else [])


def _card(report: Report, title: str, covers: list[str]) -> dict[str, object]:
    """The hover card of a drawn node that stands for the IR nodes `covers`."""
    by_name = report.graph.by_name()
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
    return {"name": title, "op": op, "in": ins, "out": fmt_shape(report.shape(covers[-1])) if
            covers else "", "params": params, "macs": macs, "where": _where_list(report, covers),
            "ir": covers}


def _level(report: Report, level: str) -> tuple[str, dict[str, object]]:
    """The DOT text of one detail, and its cards, diagnostics targets and id map."""
    d = Drawer(report, level, "TB", page=True)
    text = d.dot()
    ids = d.w.ids
    cards: dict[str, object] = {}
    for ident, svg_id in ids.items():
        covers = d.covers.get(ident, [])
        title = ident[len("cluster_"):] if ident.startswith("cluster_") else ident
        cards[svg_id] = _card(report, title, covers) if covers else {"name": title}
    for eid, (a, b) in d.w.edge_ends.items():
        carried = d.carries.get(eid)
        cards[eid] = {"name": f"{a} → {b}", "edge": True,
                      **({"tensor": carried, "out": fmt_shape(report.shape(carried)),
                          "where": _where_list(report, [carried])} if carried else {})}
    targets: list[list[str]] = []
    for diag in report.diagnostics:
        target = d._target(diag)
        if target is None or diag not in d.flags.get(target, []):
            target = "diagnostics" if diag in d.loose else None
        targets.append([ids[target]] if target is not None and target in ids else [])
    clusters = [ids[i] for i in ids if i.startswith("cluster_")]
    return text, {"cards": cards, "targets": targets, "clusters": clusters}


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


def _svgs(texts: Sequence[str], dot: str) -> list[str]:
    """Lay out every DOT text with `dot -Tsvg`, all at once."""
    procs = [subprocess.Popen([dot, "-Tsvg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in texts]
    out = []
    for proc, text in zip(procs, texts):
        svg, err = proc.communicate(text.encode("utf-8"), timeout=DOT_TIMEOUT_S)
        if proc.returncode != 0 or not svg:
            raise DotFailedError(f"`dot -Tsvg` failed ({proc.returncode}): "
                                 f"{err.decode('utf-8', 'replace').strip() or 'no output'}")
        out.append(_trim_svg(svg.decode("utf-8")))
    return out


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
    """Everything the page shows: per detail its packed SVG and cards, and the diagnostics."""
    made = {lv: _level(report, lv) for lv in LEVELS}
    levels = {lv: made[lv][1] for lv in LEVELS}
    _drill(levels)
    for lv, svg in zip(LEVELS, _svgs([made[lv][0] for lv in LEVELS], dot)):
        levels[lv]["svg"] = _pack(svg)
        levels[lv]["label"] = LEVEL_NAMES[lv]
    r = report
    return {"name": r.spec.name, "description": r.spec.description or "",
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

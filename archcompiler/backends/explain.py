"""The text and JSON forms of `archc explain` (the data is `analysis.explain.Explanation`)."""

from __future__ import annotations

import textwrap

from ..analysis.explain import Explanation, LayerExplanation
from ..core.outputs import to_json
from ..ir.ops import Shape

__all__ = ["format_json", "format_text"]

_QUANTITY = {"height": "out height", "width": "out width", "params": "params", "macs": "MACs"}


def _shape(shape: Shape | None) -> str:
    return "?" if shape is None else "x".join(str(d) for d in shape)


def _layer_lines(layer: LayerExplanation) -> list[str]:
    ins = ", ".join(_shape(s) for s in layer.inputs) or "-"
    head = f"{layer.name}  [{layer.op}] {layer.text}"
    if not layer.formulas:  # a norm-free activation, an add, a flatten: shapes are enough
        return [f"{head}  {ins} -> {_shape(layer.output)}"]
    lines = [head, f"    in {ins} -> out {_shape(layer.output)}"]
    if layer.settings:
        lines.append("    " + ", ".join(f"{k} {_value(v)}" for k, v in layer.settings))
    for formula in layer.formulas:
        lines.append(f"    {_QUANTITY.get(formula.quantity, formula.quantity):<10} "
                     f"{formula.text()}")
    return lines


def _value(value: int | bool) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def format_text(expl: Explanation, width: int = 100) -> str:
    """The explanation as text: layers (with block headers), then the diagnostics."""
    lines: list[str] = [f"{expl.spec}" + (f": {expl.target}" if expl.target else "")]
    blocks = {b.name: b for b in expl.blocks}
    seen: set[str] = set()
    for layer in expl.layers:
        block = blocks.get(layer.block or "")
        if block is not None and block.name not in seen:
            seen.add(block.name)
            lines.append("")
            lines.append(f"block {block.name} ({block.kind}), shortcut {block.shortcut}:")
            lines.extend(textwrap.wrap(block.reason, width, initial_indent="  ",
                                       subsequent_indent="  "))
        lines.extend(("  " if layer.block else "") + line for line in _layer_lines(layer))
    for diag in expl.diagnostics:
        d = diag.diagnostic
        lines.append("")
        lines.append(f"{d.code} {d.severity.value}: {d.message}")
        for label, text in (("hint", d.hint or ""), ("rule", diag.title), ("why", diag.why),
                            ("fix", diag.fix)):
            if text:
                lines.extend(textwrap.wrap(text, width, initial_indent=f"  {label}: ",
                                           subsequent_indent="    "))
    if not expl.diagnostics:
        lines.append("")
        lines.append("no diagnostics" + (f" on {expl.target}" if expl.target else ""))
    return "\n".join(lines)


def format_json(expl: Explanation) -> str:
    """The explanation as indented JSON."""
    return to_json(expl.to_dict())

"""The IR a user's Python block type wrote, checked at analysis (`validate`), not at `build`.

Everything the torch backend relies on is checked here, so `validate` never says ok for a block
that `build` would then crash on: unique local names, no node that reads itself or a value not
made before it, module names that are dotted Python names (no dunders such as `__class__`),
only registered ops and activations, and modules shared only by ops of equal attributes. The
built-in and declared (YAML) block types are checked where they are written instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..blocks import ResolvedBlock
from ..core.diagnostics import Diagnostic, error
from ..ir.graph import Node
from ..ir.ops import ACTIVATIONS, OPS, Activation


def _module_name_ok(path: str) -> bool:
    parts = path.split(".")
    return all(p.isdigit() or (p.isidentifier() and not p.startswith("_")) for p in parts)


def lint_block(b: ResolvedBlock, nodes: Sequence[Node], known: set[str], where: str
               ) -> Diagnostic | None:
    """The first IR fault of a block's nodes, as a diagnostic at the block's spec line.

    `known` holds the nodes made before the block (its input among them); it is extended.
    """
    def fault(message: str, hint: str) -> Diagnostic:
        return error("ARC171", f"block type '{b.kind}' ({where}) made an IR the backends cannot "
                     f"build, in {b.name}: {message}", b.span, hint=hint)

    modules: dict[str, object] = {}
    for n in nodes:
        if n.name in known:
            return fault(f"the node name {n.name} is used twice", "give every op its own name")
        if n.name in n.inputs:
            return fault(f"{n.name} reads itself", "read an earlier node")
        missing = [i for i in n.inputs if i not in known]
        if missing:
            return fault(f"{n.name} reads {missing[0]}, which is not made before it",
                         "read the block input or an earlier node")
        if not isinstance(n.attrs, OPS.get(str(n.op)) if str(n.op) in OPS else ()):
            return fault(f"{n.name} is not a registered op ({type(n.attrs).__name__})",
                         "use the op records of archcompiler.ir.ops")
        if isinstance(n.attrs, Activation) and n.attrs.kind not in ACTIVATIONS:
            return fault(f"{n.name} uses the unknown activation {n.attrs.kind!r}",
                         f"use one of: {', '.join(ACTIVATIONS.names())}")
        if n.module is not None:
            if not n.module.startswith(b.name + ".") or not _module_name_ok(n.module):
                return fault(f"{n.name} names the module {n.module!r}",
                             "use a dotted name of letters, digits and _ inside the block, "
                             "not starting with _")
            if modules.setdefault(n.module, n.attrs) != n.attrs:
                return fault(f"{n.name} shares the module {n.module} with an op of other "
                             "attributes", "give the op its own module")
        known.add(n.name)
    return None

"""The IR: a flat graph of primitive ops with dotted, torchvision-style names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .diagnostics import Span

Shape = tuple[int, ...]  # (C, H, W) for maps, (F,) after flatten; no batch dimension


@dataclass(frozen=True)
class Node:
    """One primitive op. `module` is the torch submodule it becomes (None for functional ops)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    attrs: Mapping[str, Any]
    span: Span | None
    module: str | None
    block: str | None = None  # "layer2.0" for nodes inside a block
    stage: int | None = None
    role: str = "main"  # stem | main | shortcut | merge | head


@dataclass(frozen=True)
class Graph:
    """Nodes in topological order; the first is the input, the last the output."""

    name: str
    nodes: tuple[Node, ...]

    @property
    def output(self) -> str:
        """Name of the output node."""
        return self.nodes[-1].name

    def by_name(self) -> dict[str, Node]:
        """Return a name -> node table."""
        return {n.name: n for n in self.nodes}


def same_padding(kernel: int) -> int:
    """The padding that keeps an odd kernel's map size at stride 1 (torchvision's convention)."""
    return kernel // 2


@dataclass(frozen=True)
class Builder:
    """Appends nodes for one lowering. `within` gives a view that tags nodes with a block, stage
    or role, so context is passed down explicitly instead of being mutated between calls."""

    nodes: list[Node] = field(default_factory=list)
    block: str | None = None
    stage: int | None = None
    role: str = "main"

    def within(self, **context: Any) -> Builder:
        """Return a view that appends to the same nodes with other block/stage/role tags."""
        return replace(self, **context)

    def add(self, name: str, op: str, inputs: tuple[str, ...], span: Span | None,
            module: str | None = "", **attrs: Any) -> str:
        """Append a node and return its name; `module` defaults to the node's own name."""
        self.nodes.append(Node(name, op, inputs, dict(attrs), span,
                               name if module == "" else module,
                               self.block, self.stage, self.role))
        return name

    def conv(self, name: str, x: str, span: Span | None, in_channels: int, out_channels: int,
             kernel: int, stride: int = 1, padding: int | None = None, groups: int = 1) -> str:
        """Append a bias-free conv2d; padding defaults to 'same' (the torchvision rule)."""
        return self.add(name, "conv2d", (x,), span, in_channels=in_channels,
                        out_channels=out_channels, kernel=kernel, stride=stride,
                        padding=same_padding(kernel) if padding is None else padding,
                        groups=groups, bias=False)

    def bn(self, name: str, x: str, span: Span | None, channels: int,
           zero_init: bool = False) -> str:
        """Append a batch norm over `channels`."""
        return self.add(name, "batch_norm", (x,), span, channels=channels, zero_init=zero_init)

    def act(self, name: str, x: str, span: Span | None, kind: str, module: str) -> str:
        """Append an activation that materialises as the (shared) module `module`."""
        return self.add(name, "activation", (x,), span, module=module, kind=kind)

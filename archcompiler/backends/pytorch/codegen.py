"""Forward code generated from the IR: one straight-line line per op, as torchvision writes it.

A block's (or the network's) nodes become `Step`s; `forward_source` names the values (`out` on
the main path, `identity` on the shortcut, `x` for the input), reusing a name only once its old
value is dead, and adds in place where torchvision does (`out += identity`). One class is made
per distinct source and base, so networks share classes as torchvision's share `Bottleneck`.
The source is registered with linecache, so tracebacks, `inspect` and TorchScript all see it.
"""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ...ir.ops import OPS, Op
from . import modules
from .lowerings import BackendError, lowering
from .modules import GeneratedModule, block_base


class CodegenError(RuntimeError):
    """The IR asks for code this generator cannot write (a bug or a missing backend feature)."""


@dataclass(frozen=True)
class Step:
    """One line of a forward: the node it produces, what it reads, and how."""

    out: str  # the IR node whose value this line produces
    inputs: tuple[str, ...]  # the IR nodes it reads
    call: str | None  # attribute path of the submodule to call; None for a functional op
    op: Op  # the op (of the last node, for a Sequential of several)
    prefer: str  # the variable name it would like: out, identity, x



def output_free(op: str) -> bool:
    """True when autograd does not keep the op's output, so a value it made may change in place."""
    return not OPS.get(op).KEEPS_OUTPUT


def attribute(path: str) -> str:
    """`downsample.0` -> `downsample[0]`; raise CodegenError for anything but names and indices."""
    parts = path.split(".")
    if not parts[0].isidentifier() or not all(p.isidentifier() or p.isdigit() for p in parts):
        raise CodegenError(f"module name {path!r} is not a dotted Python name")
    return parts[0] + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts[1:])


def forward_source(steps: Sequence[Step], entry: str, output: str) -> str:
    """The source of `forward(self, x)` that runs `steps` on `entry` and returns `output`."""
    last_use: dict[str, int] = {output: len(steps)}
    for i, s in enumerate(steps):
        for name in s.inputs:
            last_use[name] = max(last_use.get(name, -1), i)
    var = {entry: "x"}
    holding = {"x": entry}  # variable -> the node whose value it holds now
    producer: dict[str, Op] = {}

    def free(candidate: str, i: int) -> bool:
        holder = holding.get(candidate)
        return holder is None or last_use.get(holder, -1) <= i

    lines = ["def forward(self, x: Tensor) -> Tensor:"]
    for i, s in enumerate(steps):
        try:
            args = [var[n] for n in s.inputs]
        except KeyError as exc:
            raise CodegenError(f"{s.out} reads {exc.args[0]}, which is not computed before it") \
                from None
        a = s.inputs[0] if s.inputs else None
        if s.call is None and s.op == Op.ADD and a is not None and a != entry and \
                last_use[a] == i and a in producer and output_free(producer[a]) and args[0] != args[1]:
            # In place, as torchvision's `out += identity`: saves one activation-sized buffer.
            lines.append(f"    {args[0]} += {args[1]}")
            v = args[0]
        else:
            v = next(c for c in (s.prefer, *(f"{s.prefer}_{k}" for k in range(1, len(steps) + 2)))
                     if free(c, i))
            if s.call is not None:
                expr = f"self.{attribute(s.call)}({', '.join(args)})"
            else:
                try:
                    template = lowering(s.op).expression
                except BackendError:
                    template = None
                if template is None:
                    raise CodegenError(f"{s.out}: op {s.op} has neither a module nor a torch "
                                       "expression")
                expr = template.format(*args)
            lines.append(f"    {v} = {expr}")
        var[s.out], holding[v], producer[s.out] = v, s.out, s.op
    lines.append(f"    return {var[output]}")
    return "\n".join(lines) + "\n"


_CLASSES: dict[tuple[str, str, str], type[GeneratedModule]] = {}


def generated_class(base: type[GeneratedModule], source: str, extra_repr: str = ""
                    ) -> type[GeneratedModule]:
    """The subclass of `base` whose forward is `source`, made once per (base, source, repr)."""
    key = (base._archc_base_name, source, extra_repr)
    cls = _CLASSES.get(key)
    if cls is not None:
        return cls
    name = f"{base.__name__}_{hashlib.sha256((source + extra_repr).encode()).hexdigest()[:10]}"
    filename = f"<archcompiler-generated {name}>"
    # Registered with linecache (mtime None: never evicted), so tracebacks show these lines and
    # inspect.getsource, which TorchScript reads, finds them.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, object] = {"torch": torch, "Tensor": Tensor}
    # The one exec of the package (allow-listed by the lint gate): `source` is made above from
    # a closed set of templates, and every name in it has passed `attribute` or is our own.
    exec(compile(source, filename, "exec"), namespace)
    cls = type(name, (base,), {
        "__module__": modules.__name__, "__qualname__": name, "forward": namespace["forward"],
        "__doc__": f"{base.__name__} with a forward generated from the IR.",
        "_archc_source": source, "_archc_repr": extra_repr, "__reduce__": _reduce})
    _CLASSES[key] = cls
    return cls


def _reduce(self: GeneratedModule) -> tuple[Any, ...]:
    # A generated class cannot be found by name in another process, so a pickle (or deepcopy)
    # carries the base and the source, and the class is generated again when it is loaded.
    cls = type(self)
    return (restore, (cls._archc_base_name, cls._archc_source, cls._archc_repr),
            self.__dict__.copy())


def restore(base_name: str, source: str, extra_repr: str) -> GeneratedModule:
    """Unpickle a generated module: regenerate its class; pickle then restores its state."""
    cls = generated_class(block_base(base_name), source, extra_repr)
    obj: GeneratedModule = cls.__new__(cls)
    return obj

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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ...ir.ops import OPS, Op
from . import modules
from .lowerings import BackendError, lowering
from .modules import GeneratedModule, block_base, network_base
from .network import NetworkMixin


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


_CLASSES: dict[tuple[type[GeneratedModule], str, str], type[GeneratedModule]] = {}

# The structure of a generated forward, one tuple per line, as a pickle carries it instead of
# source text: ("call", target, module path, *inputs), ("add" | "mul", target, a, b),
# ("flatten", target, a), ("iadd", a, b) and ("return", a). Every name is an identifier.
Line = tuple[str, ...]
_BINARY = {"add": "+", "mul": "*"}
_HEADER = "def forward(self, x: Tensor) -> Tensor:"


def _name(text: object) -> str:
    if not isinstance(text, str) or not text.isidentifier() or text in ("self", "torch"):
        raise CodegenError(f"{text!r} is not a variable name of a generated forward")
    return text


def render_lines(lines: Sequence[Line]) -> str:
    """The source of a forward from its structure; every name is checked, every line a template.

    This is how a pickle's forward is made again: the pickle's data fills templates, and no text
    of it is run as code.
    """
    out = [_HEADER]
    for line in lines:
        if not isinstance(line, tuple) or not line or not all(isinstance(p, str) for p in line):
            raise CodegenError(f"malformed forward line {line!r:.80}")
        kind, *rest = line
        if kind == "call" and len(rest) >= 2:
            args = ", ".join(_name(a) for a in rest[2:])
            out.append(f"    {_name(rest[0])} = self.{attribute(rest[1])}({args})")
        elif kind in _BINARY and len(rest) == 3:
            out.append(f"    {_name(rest[0])} = {_name(rest[1])} {_BINARY[kind]} {_name(rest[2])}")
        elif kind == "flatten" and len(rest) == 2:
            out.append(f"    {_name(rest[0])} = torch.flatten({_name(rest[1])}, 1)")
        elif kind == "iadd" and len(rest) == 2:
            out.append(f"    {_name(rest[0])} += {_name(rest[1])}")
        elif kind == "return" and len(rest) == 1:
            out.append(f"    return {_name(rest[0])}")
        else:
            raise CodegenError(f"malformed forward line {line!r:.80}")
    return "\n".join(out) + "\n"


_CALL = re.compile(r"    (\w+) = self\.([\w.\[\]]+)\(([\w, ]*)\)")
_BIN = re.compile(r"    (\w+) = (\w+) ([+*]) (\w+)")
_FLAT = re.compile(r"    (\w+) = torch\.flatten\((\w+), 1\)")
_IADD = re.compile(r"    (\w+) \+= (\w+)")
_RET = re.compile(r"    return (\w+)")


def structure(source: str) -> tuple[Line, ...]:
    """The structure of a source `forward_source` wrote (the inverse of `render_lines`)."""
    head, *body = source.rstrip("\n").split("\n")
    if head != _HEADER:
        raise CodegenError("not a generated forward")
    lines: list[Line] = []
    for text in body:
        if m := _CALL.fullmatch(text):
            path = re.sub(r"\[(\d+)\]", r".\1", m[2])
            args = tuple(a.strip() for a in m[3].split(",") if a.strip())
            lines.append(("call", m[1], path, *args))
        elif m := _BIN.fullmatch(text):
            lines.append(("add" if m[3] == "+" else "mul", m[1], m[2], m[4]))
        elif m := _FLAT.fullmatch(text):
            lines.append(("flatten", m[1], m[2]))
        elif m := _IADD.fullmatch(text):
            lines.append(("iadd", m[1], m[2]))
        elif m := _RET.fullmatch(text):
            lines.append(("return", m[1]))
        else:
            raise CodegenError(f"a line the generator does not write: {text!r:.80}")
    if render_lines(lines) != source:  # the structure must say all the source says
        raise CodegenError("a generated forward does not round-trip through its structure")
    return tuple(lines)


def generated_class(base: type[GeneratedModule], source: str, extra_repr: str = ""
                    ) -> type[GeneratedModule]:
    """The subclass of `base` whose forward is `source`, made once per (base, source, repr)."""
    key = (base, source, extra_repr)
    cls = _CLASSES.get(key)
    if cls is not None:
        return cls
    lines = structure(source)  # what a pickle of it carries: data, not code
    digest = hashlib.sha256((source + extra_repr).encode()).hexdigest()[:10]
    # The class reads as its base (`ResNet`, `Bottleneck`) in print, torchinfo and tracebacks;
    # the source file keeps the digest, so each distinct forward has its own lines.
    name = base.__name__
    filename = f"<archcompiler-generated {name}_{digest}>"
    # Registered with linecache (mtime None: never evicted), so tracebacks show these lines and
    # inspect.getsource, which TorchScript reads, finds them.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, object] = {"torch": torch, "Tensor": Tensor}
    # The one exec of the package (allow-listed by the lint gate): `source` is made from a closed
    # set of templates (forward_source, or render_lines for a pickle), every name in it has passed
    # `attribute` or is our own, and `structure` has checked it line by line.
    exec(compile(source, filename, "exec"), namespace)
    cls = type(name, (base,), {
        "__module__": modules.__name__, "__qualname__": name, "forward": namespace["forward"],
        "__doc__": f"{base.__name__} with a forward generated from the IR.",
        "_archc_source": source, "_archc_lines": lines, "_archc_repr": extra_repr,
        "__reduce__": _reduce})
    _CLASSES[key] = cls
    return cls


def _reduce(self: GeneratedModule) -> tuple[Any, ...]:
    # A generated class cannot be found by name in another process, so a pickle (or deepcopy)
    # carries the base's name and kind and the forward's structure (names and line kinds, no
    # source), and the class is generated again from templates when it is loaded.
    cls = type(self)
    network = isinstance(self, NetworkMixin)
    return (restore, (cls._archc_base_name, cls._archc_lines, cls._archc_repr, network),  # type: ignore[attr-defined]
            self.__dict__.copy())


def restore(base_name: str, lines: Sequence[Line], extra_repr: str,
            network: bool = False) -> GeneratedModule:
    """Unpickle a generated module: its class made again from the forward's structure, on its
    network or block base.

    The structure is checked (render_lines): a pickle whose data is not names and known line
    kinds raises CodegenError, and no text from it is ever run.
    """
    if not isinstance(extra_repr, str) or not isinstance(lines, (tuple, list)) or \
            not isinstance(network, bool):
        raise CodegenError("malformed pickle of a generated module")
    base = network_base(base_name) if network else block_base(base_name)
    cls = generated_class(base, render_lines(tuple(lines)), extra_repr)
    obj: GeneratedModule = cls.__new__(cls)
    return obj

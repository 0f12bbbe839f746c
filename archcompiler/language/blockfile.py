"""Block files: block types declared as data, read with the same located errors as specs.

A spec declares block types under `blocks:`, each tag mapped to a block file (a path relative
to the file that names it) or to an inline declaration. A declaration lists the block's config
fields, named values, its ops in order and its ending (see docs/blocks.md). Everything is
checked here, before any lowering: the schema of the declaration, unique local names, inputs
that exist, expressions that parse over known names, known norm and activation kinds. The
result is a `BlockScope` that holds these types for this load only.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, create_model

from ..blocks import BlockConfig
from ..blocks.data import BlockDecl, DataBlockType, Located, OpDecl
from ..blocks.scope import BlockScope
from ..core.diagnostics import Diagnostic, Span, did_you_mean, error
from ..core.expr import ExprError, parse_expr
from ..core.model import SpecModel
from ..ir.ops import ACTIVATIONS, NORMS
from .validate import errors_of, locate
from .variants import LoadContext, inside, read_file_data
from .yamlload import LNode, to_plain
from .zoo import specs_dir

Ident = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
# A local name: dotted identifiers or indices ('se.fc1', 'mlp.fc2', '0'); a part starts with a
# letter or is a number, so no dunder (`__class__`) can become a module attribute.
Local = Annotated[str, Field(pattern=r"^([A-Za-z][A-Za-z0-9_]*|[0-9]+)"
                                     r"(\.([A-Za-z][A-Za-z0-9_]*|[0-9]+)){0,3}$",
                             max_length=64)]
IntExpr = int | Annotated[str, Field(max_length=256)]
OpKind = Literal["conv", "norm", "act", "add", "mul", "layer_scale", "global_avg_pool",
                 "max_pool", "avg_pool", "dropout"]
RESERVED = frozenset({"in", "out", "width", "stride", "type", "min", "max", "make_divisible",
                      "round_to", "ceil_div"})
MAX_DECLS = 64


class FieldSpec(SpecModel):
    """One config field of a declared block."""

    type: Literal["int", "float", "bool"] = Field(description="The field's type.")
    default: int | float | bool = Field(description="Its value when a spec leaves it out.")
    min: int | float | None = Field(None, description="The smallest allowed value.")
    max: int | float | None = Field(None, description="The largest allowed value.")
    description: Annotated[str, Field(max_length=1000)] = Field("", description="For people.")


class OpSpec(SpecModel):
    """One op of a declared block, in order."""

    name: Local = Field(description="Local name: the node and (for stateful ops) the module.")
    op: OpKind = Field(description="What the op is.")
    input: Local | None = Field(None, description="The op it reads; default the previous op.")
    inputs: list[Local] | None = Field(None, min_length=2, max_length=2,
                                       description="The two ops an add or mul reads.")
    out: IntExpr | None = Field(None, description="A conv's output channels.")
    kernel: IntExpr | None = Field(None, description="Kernel size (conv, pools).")
    stride: IntExpr | None = Field(None, description="Stride (conv, pools).")
    padding: IntExpr | None = Field(None, description="Padding; a conv's default kernel // 2.")
    groups: IntExpr | None = Field(None, description="A conv's groups (= channels: depthwise).")
    bias: bool | None = Field(None, description="A conv's bias; default the spec's conv_bias.")
    kind: Ident | None = Field(None, description="A norm's or activation's kind; default "
                                                 "the spec's.")
    last: bool = Field(False, description="The norm that zero_init_residual zeroes.")
    module: Local | None = Field(None, description="A module shared with other ops.")
    role: Literal["main", "branch"] = Field("main", description="'branch': a side branch "
                                            "(an SE gate), not a layer of the main path.")
    init: float | Ident | None = Field(None, description="layer_scale's initial value.")
    p: float | Ident | None = Field(None, description="dropout's probability.")


class BlockSpec(SpecModel):
    """A block type declared as data."""

    block: Ident | None = Field(None, description="The tag; must equal the key under `blocks:`.")
    module_class: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")] | None = Field(
        None, description="Class name of its torch modules (a letter first: no dunders).")
    description: Annotated[str, Field(max_length=10_000)] = Field("", description="For people.")
    expansion: IntExpr | None = Field(None, description="out_channels / width (default 1).")
    fields: dict[Ident, FieldSpec] = Field(default_factory=dict, max_length=32,
                                           description="The block's config fields.")
    values: dict[Ident, IntExpr] = Field(default_factory=dict, max_length=32,
                                         description="Named values, each over those before it.")
    ops: list[OpSpec] = Field(min_length=1, max_length=256, description="The ops, in order.")
    residual: Literal["always", "when_shapes_match", "never"] = Field(
        "always", description="When the shortcut is added.")
    act_after: bool = Field(False, description="An activation after the add (post-activation).")


# Declarations made, keyed by tag, where they are named, and what declares them: an inline
# mapping by its plain content, a block file by its name and bytes (its tree is a function of
# them), so a sweep need not flatten the file's tree again to key it.
_CACHE: dict[tuple[str, str, str | tuple[str, bytes]],
             tuple[DataBlockType | None, tuple[Diagnostic, ...]]] = {}
_CACHE_MAX = 128


def declared_scope(tree: LNode, ctx: LoadContext) -> BlockScope:
    """The scope of a merged spec tree: the global block types plus those under `blocks:`."""
    node = tree.get("blocks")
    if node is None or not isinstance(node.value, dict):
        return BlockScope()  # a wrong kind is reported by the spec's own schema
    local: dict[str, DataBlockType] = {}
    from ..blocks import BLOCKS

    for tag, value in list(node.value.items())[:MAX_DECLS]:
        if tag in BLOCKS:
            ctx.diags.append(error("ARC108", f"block '{tag}' is already a built-in block type",
                                   value.key_span or value.span,
                                   hint="give the declared block another tag"))
            continue
        found = _declaration(tag, value, ctx)
        if found is not None:
            local[tag] = found
    return BlockScope(local)


def _declaration(tag: str, value: LNode, ctx: LoadContext) -> DataBlockType | None:
    """Read one declaration: a block file's path, or an inline mapping."""
    content: str | tuple[str, bytes]
    if isinstance(value.value, str):
        read = _read_block_file(value, ctx)
        if read is None:
            return None
        decl_node, content = read
        source = value.value
    elif isinstance(value.value, dict):
        decl_node, source = value, value.span.file
        content = repr(to_plain(decl_node))
    else:
        ctx.diags.append(error("ARC103", f"blocks.{tag} must be a block file path or a "
                               "mapping", value.span, hint="write `my_block: my_block.yaml`"))
        return None
    key = (tag, value.span.file + ":" + source, content)
    hit = _CACHE.get(key)
    if hit is None:
        diags: list[Diagnostic] = []
        made = _build(tag, decl_node, diags)
        hit = (made, tuple(diags))
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = hit
    ctx.diags.extend(hit[1])
    return hit[0]


def _read_block_file(value: LNode, ctx: LoadContext) -> tuple[LNode, tuple[str, bytes]] | None:
    """Read the block file a path names, under the same folder policy as `extends`; return its
    tree and what it was parsed from (its name and bytes)."""
    ref = str(value.value)
    if not ref or "://" in ref or "\x00" in ref:
        ctx.diags.append(error("ARC153", f"'{ref}' is not a block file path", value.span,
                               hint="give a path relative to this file, e.g. blocks/my.yaml"))
        return None
    # Paths of up to PATH_MAX are kept (a hostile megabyte-long name is not).
    here, path = (_named if len(ref) <= 4096 else _named.__wrapped__)(value.span.file, ref)
    if here.name.startswith("<"):  # text in memory: relative to the working directory
        path = Path.cwd() / ref
    # A built-in spec's own block files (specs/blocks/) are part of the zoo: a user's spec
    # that extends it reads them from wherever it lies.
    # (Checked last: resolving paths costs system calls, and a file in the spec's own folder
    # needs no more.)
    if ctx.root_dir is not None and not ctx.allow_outside and \
            not inside(path, ctx.root_dir) and \
            not (inside(here, specs_dir()) and inside(path, specs_dir())):
        ctx.diags.append(error(
            "ARC154", f"block file '{ref}' lies outside the spec's folder {ctx.root_dir}",
            value.span, hint="move the block file next to the spec, or pass --allow-outside"))
        return None
    display = str(path)
    tree, data = read_file_data(path, display, ctx, value.span)
    if tree is None:
        return None
    if not isinstance(tree.value, dict):
        ctx.diags.append(error("ARC103", f"block file '{ref}' must hold a mapping", tree.span,
                               hint="see docs/blocks.md for the block file format"))
        return None
    return tree, (display, data)


@functools.lru_cache(maxsize=256)  # a sweep names the same block file from the same spec
def _named(file: str, ref: str) -> tuple[Path, Path]:
    """The file that names a block file, and the block file's path beside it."""
    here = Path(file)
    return here, here.parent / ref


def _build(tag: str, node: LNode, diags: list[Diagnostic]) -> DataBlockType | None:
    """Check a declaration and make its block type (None, with diagnostics, when invalid)."""
    try:
        spec = BlockSpec.model_validate(to_plain(node))
    except ValidationError as exc:
        diags.extend(errors_of(exc, node, BlockSpec))
        return None
    if spec.block is not None and spec.block != tag:
        diags.append(error("ARC108", f"the block file declares '{spec.block}' but is used as "
                           f"'{tag}'", _at(node, "block"), hint=f"write `block: {tag}`"))
    names = _field_names(spec, node, diags)
    values: list[tuple[str, Located]] = []
    for name, text in spec.values.items():
        values.append((name, _expr(text, names, _at(node, "values", name), diags)))
        names.append(name)
    expansion = None if spec.expansion is None else _expr(
        spec.expansion, [n for n, f in spec.fields.items() if f.type == "int"],
        _at(node, "expansion"), diags)
    ops = _ops(spec, node, names, diags)
    if diags:
        return None
    config = _config_model(tag, spec)
    decl = BlockDecl(tag, spec.module_class or _camel(tag), tuple(ops), tuple(values),
                     tuple(n for n, f in spec.fields.items() if f.type == "int"), spec.residual,
                     spec.act_after, expansion, node.span.file, node.span)
    return DataBlockType(decl, config)


def _at(node: LNode, *path: str | int) -> Span:
    return locate(node, path)[0].span


def _camel(tag: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in tag.split("_")) or "Block"


def _field_names(spec: BlockSpec, node: LNode, diags: list[Diagnostic]) -> list[str]:
    """The int fields an expression may read; reserved names and bad defaults reported."""
    names = ["in", "out", "width", "stride"]
    for name, f in spec.fields.items():
        where = _at(node, "fields", name)
        if name in RESERVED:
            diags.append(error("ARC108", f"field '{name}' is a reserved name", where,
                               hint="rename the field"))
            continue
        kinds: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float),
                                               "bool": (bool,)}
        ok = isinstance(f.default, kinds[f.type]) and (f.type == "bool" or
                                                       not isinstance(f.default, bool))
        low = f.min is not None and not isinstance(f.default, bool) and f.default < f.min
        high = f.max is not None and not isinstance(f.default, bool) and f.default > f.max
        if not ok or low or high:
            diags.append(error("ARC104", f"field '{name}' has default {f.default!r}, not a "
                               f"{f.type} within its bounds", _at(node, "fields", name, "default"),
                               hint="make the default fit the field's type and bounds"))
        if f.type == "int":
            names.append(name)
    return names


def _expr(text: int | str, names: list[str], span: Span, diags: list[Diagnostic]) -> Located:
    """Parse one expression, reporting errors at their column in the file."""
    try:
        return Located(parse_expr(text, names), span)
    except ExprError as exc:
        diags.append(error(exc.code, exc.message, Span(span.file, span.line, span.col + exc.offset),
                           hint=exc.hint))
        return Located(parse_expr(1), span)


def _ops(spec: BlockSpec, node: LNode, names: list[str], diags: list[Diagnostic]) -> list[OpDecl]:
    """Check each op's references, kinds and expressions; make the op declarations."""
    out: list[OpDecl] = []
    seen: list[str] = ["in"]
    modules: dict[str, str] = {}
    floats = {n for n, f in spec.fields.items() if f.type in ("int", "float")}
    for i, op in enumerate(spec.ops):
        where = _at(node, "ops", i)
        duplicate = op.name in seen
        if duplicate:
            diags.append(error("ARC166", f"op name '{op.name}' is used twice", _at(node, "ops", i,
                               "name"), hint="give every op its own name"))
        refs = list(op.inputs or ([op.input] if op.input else []))
        if op.op in ("add", "mul") and len(refs) != 2:
            diags.append(error("ARC168", f"{op.op} '{op.name}' needs `inputs: [a, b]`", where,
                               hint="name the two ops it joins"))
        for ref in refs:
            if ref not in seen:
                hint = did_you_mean(ref, seen) or f"earlier ops: {', '.join(seen)}"
                diags.append(error("ARC167", f"op '{op.name}' reads '{ref}', which is not an "
                                   "earlier op", where, hint=hint))
        if op.op == "conv" and op.out is None:
            diags.append(error("ARC168", f"conv '{op.name}' needs `out`", where,
                               hint="give its output channels, e.g. `out: out`"))
        registry = NORMS if op.op == "norm" else ACTIVATIONS if op.op == "act" else None
        if op.kind is not None and (registry is None or op.kind not in registry):
            known = registry.names() if registry is not None else []
            diags.append(error("ARC105", f"op '{op.name}': unknown {op.op} kind '{op.kind}'",
                               _at(node, "ops", i, "kind"), hint=did_you_mean(op.kind, known)
                               or f"choose one of: {', '.join(known) or 'none (no kind here)'}"))
        for key in ("init", "p"):
            ref = getattr(op, key)
            if isinstance(ref, str) and ref not in floats:
                diags.append(error("ARC161", f"op '{op.name}': {key} names no numeric field "
                                   f"'{ref}'", _at(node, "ops", i, key),
                                   hint=did_you_mean(ref, sorted(floats)) or "give a number"))
        module = op.module or op.name
        if not duplicate and module in modules and (op.op != "act" or modules[module] != "act"):
            diags.append(error("ARC166", f"module '{module}' is used by two ops; only "
                               "activations may share a module", where,
                               hint="give the op its own name"))
        modules.setdefault(module, op.op)
        ints = {key: _expr(getattr(op, key), names, _at(node, "ops", i, key), diags)
                for key in ("out", "kernel", "stride", "padding", "groups")
                if getattr(op, key) is not None}
        fl = {k: v for k in ("init", "p") if (v := getattr(op, k)) is not None}
        out.append(OpDecl(op.name, op.op, where, tuple(refs), op.module, op.role, ints, fl,
                          op.kind, op.bias, op.last))
        seen.append(op.name)
    return out


def _config_model(tag: str, spec: BlockSpec) -> type[BlockConfig]:
    """The pydantic config model of a declared block: its `type` tag and its fields."""
    fields: dict[str, Any] = {"type": (Literal[tag], Field(description="Block type tag."))}
    for name, f in spec.fields.items():
        kind: Any = {"int": int, "float": float, "bool": bool}[f.type]
        bounded = kind if f.type == "bool" else Annotated[kind, Field(ge=f.min, le=f.max)]
        fields[name] = (bounded, Field(f.default, description=f.description or name))
    model: type[BlockConfig] = create_model(
        _camel(tag) + "Block", __base__=BlockConfig, __doc__=spec.description or tag, **fields)
    return model

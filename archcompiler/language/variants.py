"""Variants: `extends` chains, the merge rules, and the safety checks on what may be extended.

Merge rules: mappings merge key by key, recursively; lists and scalars in the child replace the
base's; an explicit null in the child deletes the key, so the field falls back to its default. A
mapping whose `type` tag changes (a new block type) replaces the base's mapping instead of merging
into it, since the old type's options would not apply to the new one.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..core.diagnostics import Diagnostic, Span, did_you_mean, error
from ..core.limits import DEFAULT_LIMITS
from .yamlload import MAX_BYTES, LNode, decode_source, parse_yaml
from .zoo import builtin_names, builtin_path, looks_like_name, specs_dir

MAX_CHAIN = DEFAULT_LIMITS.max_extends
K = TypeVar("K")
V = TypeVar("V")


def merge(base: LNode, child: LNode) -> LNode:
    """Merge `child` over `base` with the documented rules; both keep their own locations."""
    if not (isinstance(base.value, dict) and isinstance(child.value, dict)):
        return child
    base_tag, child_tag = base.get("type"), child.get("type")
    if base_tag is not None and child_tag is not None and base_tag.value != child_tag.value:
        return child
    out = dict(base.value)
    for key, node in child.value.items():
        if node.value is None:
            out.pop(key, None)
        elif key in out:
            out[key] = merge(out[key], node)
        else:
            out[key] = node
    return LNode(out, child.span, child.key_span)


@dataclass
class LoadContext:
    """State of one load: the allowed folder tree, the chain so far, and every source read."""

    root_dir: Path | None
    allow_outside: bool = False
    chain: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    diags: list[Diagnostic] = field(default_factory=list)
    max_extends: int = MAX_CHAIN
    # Texts read in place of files, keyed by normalised absolute path: an editor's unsaved
    # buffers, so a spec is checked against the base and block files as they are being typed.
    unsaved: Mapping[str, str] = field(default_factory=dict)


def unsaved_key(path: str | os.PathLike[str]) -> str:
    """The key of a file in `LoadContext.unsaved`: its absolute path, normalised (no links)."""
    return os.path.normpath(os.path.abspath(path))


# Parsed files keyed by their name and their bytes (the dict hashes the content; comparing the
# bytes themselves on a hit rules out collisions): a sweep re-reads its base files, so a file
# changed on disk is seen at once, but parses each distinct content only once. LNode trees are
# never mutated (merge and drop_nulls build new ones), so sharing them is safe. Bounded, so a
# long-lived process (an editor server) holds at most _PARSED_MAX files of _CACHED_BYTES each.
_PARSED: dict[tuple[str, bytes], tuple[str | None, LNode | None, tuple[Diagnostic, ...]]] = {}
_PARSED_MAX = 256
_CACHED_BYTES = 64 << 10  # a spec is a few hundred bytes; larger files are parsed every time


def parse_cached(data: bytes, display: str) -> tuple[str | None, LNode | None,
                                                     tuple[Diagnostic, ...]]:
    """Decode and parse a file's bytes, reusing the result for bytes seen before."""
    key = (display, data)
    hit = _PARSED.get(key)
    if hit is not None:
        return hit
    text, diags = decode_source(data, display)
    tree = None
    if text is not None:
        tree, more = parse_yaml(text, display)
        diags += more
    found = (text, tree, tuple(diags))
    if len(data) <= _CACHED_BYTES:
        _remember(_PARSED, key, found, _PARSED_MAX)
    return found


# Merged chains keyed by the trees of their layers as read (ids; the entry holds the trees, so
# no id is reused while it lives): the merge is a function of those trees, and a sweep over one
# base reads the same cached trees each time, so it merges them once.
_MERGED: dict[tuple[int, ...], tuple[tuple[LNode, ...], LNode]] = {}
_MERGED_MAX = 64


def _remember(table: dict[K, V], key: K, value: V, bound: int) -> None:
    """Keep `value` under `key`, first dropping the oldest entry of a full table."""
    if len(table) >= bound:
        try:  # drop the oldest: sweeps reuse a few recent bases
            table.pop(next(iter(table)), None)
        except (StopIteration, RuntimeError):  # emptied or resized by another thread
            pass
    table[key] = value


def clear_cache() -> None:
    """Forget every parsed file and merged chain (for benchmarks and tests that time a cold load)."""
    _PARSED.clear()
    _MERGED.clear()


def read_file(path: Path, display: str, ctx: LoadContext, at: Span | None) -> LNode | None:
    """Read and parse one file, recording its text for caret display."""
    return read_file_data(path, display, ctx, at)[0]


def read_file_data(path: Path, display: str, ctx: LoadContext, at: Span | None
                   ) -> tuple[LNode | None, bytes]:
    """`read_file`, also giving the bytes parsed (empty when none could be read): the tree is
    a function of them and `display`, so they key what is made from it."""
    if ctx.unsaved:
        held = ctx.unsaved.get(unsaved_key(path))
        if held is not None:  # an editor's buffer; lone surrogates fail decoding with ARC002
            data = held.encode("utf-8", "surrogatepass")
            return _parsed(data, display, ctx), data
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a folder, a FIFO, /dev/zero: never opened (a FIFO blocks)
            raise OSError(0, "not a regular file")
        size = info.st_size
        # A bare descriptor: a buffered file object costs twice the read of a small spec.
        fd = os.open(path, os.O_RDONLY)
        try:
            # Enough to report the size bound, no more. Asking for the file's own size (not the
            # bound) saves allocating a 1 MiB buffer per read, which a sweep pays per variant.
            data = _read_upto(fd, min(size, MAX_BYTES) + 1)
            if len(data) > size:  # it grew since stat: read on, up to the bound
                data += _read_upto(fd, MAX_BYTES + 1 - len(data))
        finally:
            os.close(fd)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        ctx.diags.append(error("ARC155", f"cannot read '{display}': {reason}", at,
                               hint="check the path; `extends` paths are relative to the file"))
        return None, b""
    return _parsed(data, display, ctx), data


def _read_upto(fd: int, count: int) -> bytes:
    """Read `count` bytes, or up to the end of the file if it ends first (as a buffered read)."""
    chunks = []
    while count > 0:
        chunk = os.read(fd, count)
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _parsed(data: bytes, display: str, ctx: LoadContext) -> LNode | None:
    """Parse a file's bytes, recording its diagnostics and text."""
    text, tree, diags = parse_cached(data, display)
    ctx.diags.extend(diags)
    if text is not None:
        ctx.sources[display] = text
    return tree


def _plainly_below(path: Path, folder: Path) -> bool:
    """True when `path` is `folder` plus names that exist and are no links (then following
    links in `path` changes only its `folder` part, so it lies in `folder`); False: unknown."""
    if os.name != "posix":  # junctions and drive letters: leave them to resolve()
        return False
    inner, outer = path.parts, folder.parts
    if len(inner) <= len(outer) or inner[:len(outer)] != outer or ".." in inner:
        return False
    # One lstat a name below the folder, where resolve() takes one a name of the whole path
    # and a stat of each result: a sweep checks its block file once a variant.
    at = str(folder)
    for name in inner[len(outer):]:
        at = os.path.join(at, name)
        try:
            if stat.S_ISLNK(os.lstat(at).st_mode):
                return False
        except OSError:  # missing, unreadable, a loop above: resolve() decides
            return False
    return True


def inside(path: Path, folder: Path) -> bool:
    """True when `path`, with every link followed, lies in `folder` (a link loop is outside)."""
    if _plainly_below(path, folder):
        return True
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, RuntimeError, OSError):  # RuntimeError: a symlink loop (Python < 3.13)
        return False


def _base_of(ref_node: LNode, here: Path | None, ctx: LoadContext) -> tuple[Path, str] | None:
    """Find the file an `extends` value names, or record why it may not be used."""
    ref = ref_node.value
    span = ref_node.span
    if not isinstance(ref, str) or not ref:
        ctx.diags.append(error("ARC103", "extends must be a spec name or a path", span,
                               hint="write e.g. `extends: resnet50`"))
        return None
    if "://" in ref or ref.startswith(("http:", "https:", "file:")):
        ctx.diags.append(error("ARC153", f"extends may not name a URL ('{ref}')", span,
                               hint="download the base spec and extend its local path"))
        return None
    if looks_like_name(ref):
        path = builtin_path(ref)
        if path is None:
            hint = did_you_mean(ref, builtin_names()) or "see `archc list` for the built-in specs"
            ctx.diags.append(error("ARC150", f"no built-in spec named '{ref}'", span, hint=hint))
            return None
        return path, str(path)
    folder = here.parent if here is not None else Path.cwd()
    path = folder / ref
    if ctx.root_dir is not None and not ctx.allow_outside and not inside(path, ctx.root_dir):
        ctx.diags.append(error(
            "ARC154", f"'{ref}' lies outside the spec's folder {ctx.root_dir}", span,
            hint="move the base next to the spec, or pass --allow-outside (allow_outside=True)"))
        return None
    return path, os.path.relpath(path) if not os.path.isabs(ref) else str(path)


# One layer of a chain before it is read: cycle key, display name, where it was named, how to
# read it, and the file it lives in (None for text in memory).
_Layer = tuple[str, str, "Span | None", Callable[[], "LNode | None"], "Path | None"]


def _file_layer(path: Path, display: str, ctx: LoadContext, at: Span | None) -> _Layer:
    # The cycle key is the real path; a built-in's own path is already canonical (realpath
    # costs more than parsing a cached file, and a sweep loads the same built-ins each time).
    key = str(path) if path.parent == specs_dir() else str(path.resolve())
    return key, display, at, lambda: read_file(path, display, ctx, at), path


def load_chain(path: Path, display: str, ctx: LoadContext, at: Span | None = None) -> LNode | None:
    """Load `path` and everything it extends, merged into one located tree."""
    return _load_layers(_file_layer(path, display, ctx, at), ctx)


def load_text_chain(text: str | bytes, display: str, ctx: LoadContext) -> LNode | None:
    """Load a spec held in memory (named `display`, e.g. `<string>`) and everything it extends.

    Bytes are decoded and parsed as a file's are: bounded, checked for UTF-8, and cached.
    """
    def read() -> LNode | None:
        if isinstance(text, bytes):
            return _parsed(text, display, ctx)
        ctx.sources[display] = text
        tree, diags = parse_yaml(text, display)
        ctx.diags.extend(diags)
        return tree

    return _load_layers((display, display, None, read, None), ctx)


def _load_layers(first: _Layer, ctx: LoadContext) -> LNode | None:
    """Read a chain layer by layer, then merge each over the one its `extends` names.

    A loop, not a recursion: `--max-extends 5000` may allow a chain deeper than Python's stack.
    """
    layers: list[LNode] = []
    read_trees: list[LNode] = []  # each layer as read, `extends` and all: what the merge keys on
    reused = True  # every layer from a small file, whose tree the parse cache hands out again
    pushed = 0
    layer: _Layer | None = first
    try:
        while layer is not None:
            key, display, at, read, here = layer
            if key in ctx.chain:
                ctx.diags.append(error(
                    "ARC151", f"extends forms a cycle through '{display}'", at,
                    hint="remove one `extends` so the chain ends at a spec without it"))
                return None
            if len(ctx.chain) >= ctx.max_extends:
                ctx.diags.append(error(
                    "ARC152", f"extends chain is longer than {ctx.max_extends} files", at,
                    hint="flatten the chain by copying settings into fewer files"))
                return None
            ctx.chain.append(key)
            pushed += 1
            tree = read()
            if tree is None:
                return None
            read_trees.append(tree)
            reused = reused and here is not None and \
                len(ctx.sources.get(display, "")) <= _CACHED_BYTES
            ref_node = tree.get("extends")
            if ref_node is None or ref_node.value is None:  # `extends: null`: no base
                layers.append(tree)
                break
            own = {k: v for k, v in tree.value.items() if k != "extends"}  # type: ignore[union-attr]
            layers.append(LNode(own, tree.span))
            found = _base_of(ref_node, here, ctx)
            if found is None:
                return None
            layer = _file_layer(found[0], found[1], ctx, ref_node.span)
    finally:
        del ctx.chain[len(ctx.chain) - pushed:]
    if len(layers) == 1:
        return layers[0]
    chain_key = tuple(map(id, read_trees))
    hit = _MERGED.get(chain_key) if reused else None
    if hit is not None and all(a is b for a, b in zip(hit[0], read_trees)):
        return hit[1]
    merged = layers[-1]
    for own_layer in reversed(layers[:-1]):
        merged = merge(merged, own_layer)
    if reused:
        _remember(_MERGED, chain_key, (tuple(read_trees), merged), _MERGED_MAX)
    return merged


def drop_nulls(node: LNode) -> LNode:
    """Remove null mapping values, so an explicit null means 'use the default' everywhere."""
    if not node.has_nulls:  # the same tree: shared subtrees stay shared, and are not walked
        return node
    if isinstance(node.value, dict):
        kept = {k: drop_nulls(v) for k, v in node.value.items() if v.value is not None}
        return LNode(kept, node.span, node.key_span)
    if isinstance(node.value, list):
        return LNode([drop_nulls(v) for v in node.value], node.span, node.key_span)
    return node

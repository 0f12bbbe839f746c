"""Property-based fuzzing of the whole pipeline: load, analyze, DOT text and a meta-device build.

Four seeded generators feed it:

- mutations of the zoo specs: keys deleted, duplicated (as text lines), renamed, added or
  retyped; extreme and odd values (0, negatives, huge integers, floats, NaN, strings, unicode,
  nulls, nested lists, deep nesting, YAML 1.1 words, tags, anchors); `extends` kept resolvable
  (a built-in name, a sibling copy of the zoo file, or a mutated base written beside);
- byte-level damage of zoo, TINY and random specs: truncation, inserted bytes, cut ranges,
  changed indentation, swapped lines;
- random small specs drawn from the spec space, whose block types, options and choices are read
  from the committed JSON Schema so that new block types join automatically;
- specs the JSON Schema accepts, drawn from the schema itself with boundary values.

The invariant: each case either succeeds or raises `SpecError`, whose diagnostics each carry an
ARCnnn code and, unless there is no file to point into, a location inside a file that was read.
Any other exception fails. For a valid spec the meta-device module has exactly `report.params`
parameters and the DOT text is a digraph (some random specs are also built on the CPU and run).
Some cases also run `archc validate` or `archc summary` in-process: they return 0, 1 or 2 (never
3, an internal error), agree with the API and print no traceback.

A case that hits a bug listed in KNOWN_BUGS is counted, not failed, so the fuzzer can find the
next one; test_fuzz_totals reports the count. The list is empty now: the one bug found so far is
fixed and pinned by the test_doubled_width_past_bound_* tests at the end of this file.

Seeded (`derandomize=True`) so CI is reproducible; `ARCHC_FUZZ_LONG=1` runs ten times the cases.
Only the public API is used: the package internals are being reorganised.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import math
import os
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archcompiler
from archcompiler import Severity, SpecError
from archcompiler.cli import main
from tests.conftest import TINY, write_spec

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.slow  # property-based sweeps of the whole pipeline

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "archcompiler" / "specs"
SCHEMA: dict[str, Any] = json.loads((ROOT / "archcompiler" / "schema" / "archcompiler.schema.json")
                                    .read_text(encoding="utf-8"))

LONG = os.environ.get("ARCHC_FUZZ_LONG") == "1"
SCALE = 10 if LONG else 1
N_ZOO = 1000 * SCALE  # tree mutations of the zoo specs
N_BYTES = 700 * SCALE  # byte-level damage
N_RANDOM = 700 * SCALE  # random specs from the spec space
N_BOUNDARY = 400 * SCALE  # specs the JSON Schema accepts, with boundary values
MIN_CASES = 20_000 if LONG else 2_000

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=list(HealthCheck))

# Checks the JSON Schema cannot express: list lengths, stage forms, widths, block count.
CROSS_FIELD = {"ARC110", "ARC111", "ARC112", "ARC113", "ARC114", "ARC115", "ARC116", "ARC117"}
CODE = re.compile(r"^ARC\d{3}$")
UNLOCATED = {"ARC012"}  # the spec itself was not found: there is no file to point into
UNDECODED = {"ARC002", "ARC003"}  # not UTF-8, or too big: located, but no text to show
STATS: Counter[str] = Counter()  # cases run per generator, and outcomes
CODES: Counter[str] = Counter()  # error codes seen
TIMES: dict[str, float] = {}  # when the first fuzz test started

# resnet1202 builds 600 blocks on meta (~0.5 s): the long run only.
ZOO_NAMES = sorted(p.stem for p in SPECS.glob("*.yaml") if LONG or p.stem != "resnet1202")
ZOO_TEXT = {p.stem: p.read_text(encoding="utf-8") for p in SPECS.glob("*.yaml")}


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans only, so `stride_within_kernel: off` stays."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

ZOO_TREE = {name: yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass
            for name, text in ZOO_TEXT.items()}
EXTENDS = re.compile(r"^extends: *(\S+) *$", re.MULTILINE)


# -- environment -------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def _checkout_zoo() -> Iterator[None]:
    """Resolve built-in names to this checkout's specs/ while this module runs.

    The shared venv's editable install maps `archcompiler.specs` to another checkout's specs/
    (and, earlier, to nothing), so with PYTHONPATH pointing here the package under test would
    extend a zoo that belongs to different code. When the package comes from this checkout and
    its zoo does not, the zoo is swapped for this module only.
    """
    TIMES.setdefault("start", time.perf_counter())
    saved = sys.modules.get("archcompiler.specs")
    try:
        where = Path(next(iter(importlib.import_module("archcompiler.specs").__path__)))
    except ModuleNotFoundError:
        where = None
    ours = Path(archcompiler.__file__).resolve().parent.parent == ROOT
    if not ours or (where is not None and where.resolve() == SPECS.resolve()):
        yield
        return
    spec = importlib.util.spec_from_file_location(
        "archcompiler.specs", SPECS / "__init__.py", submodule_search_locations=[str(SPECS)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["archcompiler.specs"] = module
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop("archcompiler.specs", None)
        else:
            sys.modules["archcompiler.specs"] = saved


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a copy of every zoo spec whose `extends` names a sibling file."""
    folder = tmp_path_factory.mktemp("fuzz_zoo")
    shutil.copytree(SPECS / "blocks", folder / "blocks")  # the zoo's block files
    for name, text in ZOO_TEXT.items():
        (folder / f"{name}.yaml").write_text(EXTENDS.sub(r"extends: ./\1.yaml", text),
                                             encoding="utf-8")
    return folder


# -- schema-derived spec space -----------------------------------------------------------------

DEFS: dict[str, Any] = SCHEMA["$defs"]
# The block slot: the built-in types' tagged union, or (DeclaredBlock) a type the spec declares.
_BLOCK_SLOT = next(b for b in DEFS["Stages"]["properties"]["block"]["anyOf"]
                   if "discriminator" in b)
BLOCK_DEFS: dict[str, str] = {
    tag: ref.rsplit("/", 1)[-1] for tag, ref in _BLOCK_SLOT["discriminator"]["mapping"].items()}


def _choices(prop: dict[str, Any]) -> list[Any]:
    """The allowed values of an enum (or const) property; a nullable one lists its non-null
    branch (the schema lets a field be null to reset it to its default)."""
    for branch in prop.get("anyOf", []):
        if branch.get("type") != "null":
            return _choices(branch)
    return list(prop["enum"]) if "enum" in prop else [prop["const"]]


SHORTCUTS = _choices(DEFS["Stages"]["properties"]["shortcut"])
ACTIVATIONS = _choices(SCHEMA["properties"]["activation"])
POOL_KINDS = _choices(DEFS["StemPool"]["properties"]["kind"])
WIDTH_RULES = _choices(DEFS["WidthRule"]["properties"]["rule"])
HEAD_POOLS = _choices(DEFS["Head"]["properties"]["pool"])
RULES = {k: _choices(v) for k, v in DEFS["Rules"]["properties"].items()}


def _all_keys(node: Any) -> set[str]:
    """Every property name anywhere in the schema."""
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out |= set(value)
            out |= _all_keys(value)
    elif isinstance(node, list):
        for value in node:
            out |= _all_keys(value)
    return out


SCHEMA_KEYS = sorted(_all_keys(SCHEMA))
YN = {"y", "Y", "n", "N"}

# Values for block options that keep the inner width at least 1 for the widths drawn here.
_BLOCK_OPTION_VALUES: dict[str, list[Any]] = {
    "expansion": [1, 2, 4],
    "groups": [1, 1, 2, 4],
    "width_per_group": [16, 32, 64, 64, 128],
}


def _option_strategy(name: str, prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of one block option, from its schema (known options get safe values)."""
    if name in _BLOCK_OPTION_VALUES:
        return st.sampled_from(_BLOCK_OPTION_VALUES[name])
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    if "const" in prop:
        return st.just(prop["const"])
    kind = prop.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0) + 1)
        return st.integers(low, max(low, min(prop.get("maximum", 4), 4)))
    if kind == "number":
        return st.sampled_from([prop.get("default", 0.0)])
    return st.just(prop["default"]) if "default" in prop else st.nothing()


@st.composite
def block_mapping(draw: st.DrawFn) -> dict[str, Any]:
    """A block mapping of any block type in the schema, with a random subset of its options."""
    tag = draw(st.sampled_from(sorted(BLOCK_DEFS)))
    props = DEFS[BLOCK_DEFS[tag]].get("properties", {})
    block: dict[str, Any] = {"type": tag}
    for name, prop in props.items():
        if name != "type" and draw(st.booleans()):
            block[name] = draw(_option_strategy(name, prop))
    return block


def _expansion(block: dict[str, Any]) -> int | None:
    """Output channels per unit of width, when the schema lets us know it."""
    if "expansion" in block:
        return int(block["expansion"])
    prop = DEFS[BLOCK_DEFS[block["type"]]].get("properties", {}).get("expansion")
    if prop is not None:
        return int(prop.get("default", 1))
    return 1 if block["type"] == "basic" else None


@st.composite
def random_spec(draw: st.DrawFn) -> dict[str, Any]:
    """A small spec drawn from the whole spec space; most draws are valid."""
    n = draw(st.integers(1, 4))
    name = draw(st.from_regex(r"[a-z][a-z0-9_.-]{0,11}", fullmatch=True))
    spec: dict[str, Any] = {"spec_version": 1, "name": f"net_{name}"}
    if draw(st.booleans()):
        # PyYAML writes y and n unquoted, and the loader refuses them as YAML 1.1 booleans.
        spec["description"] = draw(st.text(max_size=30).filter(lambda t: t not in YN))
    height = draw(st.integers(32, 64))
    width = height if draw(st.booleans()) else draw(st.integers(32, 64))
    spec["input"] = {"channels": draw(st.sampled_from([1, 3, 4])), "height": height, "width": width}
    kernel = draw(st.sampled_from([1, 3, 5, 7]))
    conv: dict[str, Any] = {"out_channels": draw(st.sampled_from([8, 16, 32])), "kernel": kernel,
                            "stride": draw(st.sampled_from([1, 2]))}
    if draw(st.booleans()):
        conv["padding"] = draw(st.integers(0, kernel // 2))
    stem: dict[str, Any] = {"conv": conv}
    if draw(st.booleans()):
        pk = draw(st.sampled_from([2, 3]))
        pool: dict[str, Any] = {"kind": draw(st.sampled_from(POOL_KINDS)), "kernel": pk,
                                "stride": draw(st.sampled_from([1, 2]))}
        if draw(st.booleans()):
            pool["padding"] = draw(st.integers(0, pk // 2))
        stem["pool"] = pool
    spec["stem"] = stem
    block = draw(block_mapping())
    stages: dict[str, Any] = {"block": block}
    if draw(st.booleans()):
        stages["shortcut"] = draw(st.sampled_from(SHORTCUTS))
    explicit_strides = draw(st.booleans())
    strides = [1] + [draw(st.sampled_from([1, 2, 2])) if explicit_strides else 2
                     for _ in range(n - 1)]
    # Widths that follow the paper's rules (x2 where the map halves) mostly, random otherwise.
    base = draw(st.sampled_from([8, 16, 32]))
    doubled = [base * 2 ** sum(x > 1 for x in strides[: i + 1]) for i in range(n)]
    ruled = draw(st.integers(0, 3)) < 3  # hypothesis starts from 0: start with valid specs
    if draw(st.booleans()):
        entries = []
        for i, s in enumerate(strides):
            entry: dict[str, Any] = {"depth": draw(st.integers(1, 2)), "stride": s}
            own = draw(block_mapping()) if draw(st.booleans()) else block
            if own is not block:
                entry["block"] = own
            exp, main = _expansion(own), _expansion(block) or 1
            if ruled and exp is not None and doubled[i] * main % exp == 0 \
                    and doubled[i] * main // exp >= 8:  # keeps a bottleneck's inner width >= 1
                # The output channels the main block type would give, whatever this stage's type.
                entry["out_channels"] = doubled[i] * main
            elif ruled:
                entry["width"] = doubled[i]
            else:
                w = draw(st.sampled_from([8, 16, 32]))
                if exp is not None and draw(st.booleans()):
                    entry["out_channels"] = w * exp
                else:
                    entry["width"] = w
            if draw(st.booleans()):
                entry["shortcut"] = draw(st.sampled_from(SHORTCUTS))
            entries.append(entry)
        stages["per_stage"] = entries
    else:
        stages["depths"] = [draw(st.integers(1, 2)) for _ in range(n)]
        if draw(st.booleans()):
            stages["widths"] = {"base": base}
            if draw(st.booleans()):
                stages["widths"]["rule"] = draw(st.sampled_from(WIDTH_RULES))
        elif ruled:
            stages["widths"] = doubled
        else:
            stages["widths"] = sorted(draw(st.sampled_from([8, 16, 32])) for _ in range(n))
        if explicit_strides:
            stages["strides"] = strides  # else the default, 1 then 2 for every later stage
    spec["stages"] = stages
    if draw(st.booleans()):
        spec["activation"] = draw(st.sampled_from(ACTIVATIONS))
    head: dict[str, Any] = {}
    if draw(st.booleans()):
        head["classes"] = draw(st.integers(1, 20))
    if draw(st.booleans()):
        head["dropout"] = draw(st.sampled_from([0.0, 0.1, 0.5, 0.9]))
    if draw(st.booleans()):
        head["pool"] = draw(st.sampled_from(HEAD_POOLS))
    if head or draw(st.booleans()):
        spec["head"] = head
    if draw(st.booleans()):
        spec["zero_init_residual"] = draw(st.booleans())
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(sorted(RULES)), unique=True))
        spec["rules"] = {k: draw(st.sampled_from(RULES[k])) for k in keys}
    return spec


class _QuotingDumper(yaml.SafeDumper):
    """Writes every string double-quoted, so no string reads back as a number or a boolean."""


_QuotingDumper.add_representer(
    str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style='"'))


def dump(tree: Any, quote: bool = False) -> str:
    """YAML text for a tree, with raw tokens (see Raw) written as they are."""
    raws: list[str] = []
    memo: dict[int, Any] = {}  # shared and even cyclic parts (mutations make them) stay so

    def swap(node: Any) -> Any:
        if isinstance(node, Raw):
            raws.append(str(node))
            return f"RAWTOKEN{len(raws) - 1}X"
        if isinstance(node, (dict, list)):
            if id(node) in memo:
                return memo[id(node)]
            out: Any = {} if isinstance(node, dict) else []
            memo[id(node)] = out
            if isinstance(node, dict):
                out.update((swap(k), swap(v)) for k, v in node.items())
            else:
                out.extend(swap(v) for v in node)
            return out
        return node

    text = yaml.dump(swap(tree), Dumper=_QuotingDumper if quote else yaml.SafeDumper,
                     default_flow_style=None, allow_unicode=True, sort_keys=False, width=100)
    for i, raw in enumerate(raws):
        text = text.replace(f"RAWTOKEN{i}X", raw)
    return text


# -- mutations of the zoo specs ----------------------------------------------------------------

class Raw(str):
    """A scalar written into the YAML text as it is: YAML 1.1 words, tags, anchors, odd numbers."""

    __slots__ = ()


RAW_TOKENS = ["yes", "No", "on", "OFF", "y", "012", "0o12", "0x1F", "1_000", "1e3", "+3", ".5",
              "2.", "~", "null", "Null", ".inf", "-.Inf", ".NaN", "!!python/object/apply:os.system "
              "['true']", "!!str 3", "!custom 3", "!!binary aGk=", "!!int '3'", "&a 3", "*a",
              "*undefined", "&x [1, *x]", "[1, 2", "{a: 1", "'open", "\"\\q\"", "<<: {a: 1}",
              "{? [1]: 2}", "!!set {a, b}", "!!omap [a: 1]", "2001-12-14", "0b101", "- 1",
              "1:2", "true", "False", "'3'", "\"16\"", "16.0", "1e400", "-0", "0e0"]

EXTREME: list[Any] = [
    0, -1, 1, 2, 3, 7, 31, 32, 64, 65, 100, 1000, 4999, 5000, 10_001, 65_536, 65_537, 2**31,
    2**63, 2**64, -2**63, 10**100, 0.0, -0.0, 0.5, 1.5, 2.0, 1e308, 5e-324, math.nan, math.inf,
    -math.inf, "", "0", "2", "2.0", "x", "basic", "bottleneck", "A", "B", "C", "identity", "none",
    "relu", "1x1", "3x3", "max", "avg", "double", "constant", "error", "warn", "off", " ", "\t",
    "é中😀", "\u202e", "\x00", "\ud7ff", "a" * 101, "a" * 10_001, "../x.yaml", "/etc/passwd",
    "http://example.com/x.yaml", "resnet50", "./resnet20.yaml", "resnet20.yaml", "nonexistent",
    "./case.yaml", "./mbase.yaml", ".", "./", "..", "/dev/null", "resnet50.yml", "ResNet50",
    "resnet50 ", "file:resnet50", "\\\\server\\x.yaml", "C:\\x.yaml", "~/x.yaml", "resnet50\x00",
    True, False, None, [], {}, [[1]], [None], [1, 2, 3], [16, 32, 64, 128], {"type": "basic"},
    {"type": "bottleneck", "groups": 3}, {"base": 16}, {"base": 16, "rule": "triple"},
    {"depth": 1, "width": 16}, [{"depth": 1, "width": 16, "stride": 2}],
]

value_strategy = st.one_of(
    st.sampled_from(EXTREME).map(copy.deepcopy),  # a fresh copy: mutations must not leak back
    st.sampled_from(RAW_TOKENS).map(Raw),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.booleans(),
    st.lists(st.integers(-2, 70), max_size=6),
)


# Each mutation, weighted by how often it is drawn; "top" replaces the whole document.
MUTATIONS = ["delete"] * 3 + ["replace"] * 6 + ["retype"] * 3 + ["rename"] * 2 + ["add"] * 3 + \
    ["nest", "null", "null", "grow", "grow", "swap", "swap"] + ["top"] * (1 if LONG else 0)


def _slots(tree: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in a tree, parents before children."""
    out: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for key, value in list(items):
            out.append((node, key))
            walk(value)

    walk(tree)
    return out


def _retype(value: Any) -> Any:
    """The same value in another YAML type."""
    if isinstance(value, bool):
        return Raw("yes" if value else "no")
    if isinstance(value, int):
        return [str(value), float(value), [value], {"value": value}][abs(value) % 4]
    if isinstance(value, float):
        return str(value)
    if isinstance(value, str):
        return [value] if len(value) % 2 else {value: value}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


def _rename(key: Any, how: int) -> Any:
    """A typo of a mapping key."""
    if not isinstance(key, str) or not key:
        return "key"
    return [key[:-1], key.upper(), key + "s", key.replace("_", "-"), key[1:] + key[0],
            "é" + key, 3, key + " "][how % 8]


def _nest(value: Any, depth: int, as_list: bool) -> Any:
    """Wrap a value in `depth` levels of lists or mappings."""
    for _ in range(depth):
        value = [value] if as_list else {"x": value}
    return value


@st.composite
def mutated_tree(draw: st.DrawFn, tree: Any) -> Any:
    """A deep copy of `tree` with one to four mutations applied."""
    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(tree)
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        op = draw(st.sampled_from(MUTATIONS))
        if op == "delete":
            del container[key]
        elif op == "replace":
            container[key] = draw(value_strategy)
        elif op == "retype":
            container[key] = _retype(container[key])
        elif op == "rename" and isinstance(container, dict):
            new = _rename(key, draw(st.integers(0, 7)))
            items = [(new if k == key else k, v) for k, v in container.items()]
            container.clear()
            container.update(items)
        elif op == "add":
            target = container[key] if isinstance(container[key], dict) else container
            if isinstance(target, dict):
                target[draw(st.sampled_from(SCHEMA_KEYS))] = draw(value_strategy)
        elif op == "nest":
            container[key] = _nest(container[key], draw(st.sampled_from([1, 2, 5, 31, 33, 40])),
                                   draw(st.booleans()))
        elif op == "null":
            container[key] = None
        elif op == "grow" and isinstance(container[key], list) and container[key]:
            container[key].append(container[key][-1])
        elif op == "swap":
            other, okey = draw(st.sampled_from(slots))
            container[key], other[okey] = other[okey], container[key]
        elif op == "top":
            return draw(st.sampled_from([[tree], "just text", 3, None, [], {}]))
    return tree


@st.composite
def zoo_case(draw: st.DrawFn) -> dict[str, str]:
    """Files (name -> text) for a mutated zoo spec, maybe over a mutated base; entry is case.yaml."""
    name = draw(st.sampled_from(ZOO_NAMES))
    tree = draw(mutated_tree(ZOO_TREE[name]))
    files: dict[str, str] = {}
    base = ZOO_TREE[name].get("extends")
    if isinstance(tree, dict) and isinstance(tree.get("extends"), str) and tree["extends"] == base:
        how = draw(st.sampled_from(["builtin", "sibling", "mutated"]))
        if how == "sibling":
            tree["extends"] = f"./{base}.yaml"
        elif how == "mutated":
            base_tree = draw(mutated_tree(ZOO_TREE[base]))
            if isinstance(base_tree, dict) and isinstance(base_tree.get("extends"), str):
                base_tree["extends"] = f"./{base_tree['extends']}.yaml"
            files["mbase.yaml"] = dump(base_tree)
            tree["extends"] = "./mbase.yaml"
    text = dump(tree)
    if draw(st.integers(0, 4)) == 0:  # duplicate a line: duplicate keys, extra list items
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        text = "".join([*lines[: i + 1], *lines[i:]])
    files["case.yaml"] = text
    return files


# -- byte-level damage -------------------------------------------------------------------------

TRICKY_BYTES = [b"\t", b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"{", b"[", b"]", b":", b": ",
                b"&", b"*", b"!", b"%", b"#", b"|", b">", b"'", b'"', b"-", b"- ", b"---\n",
                b"...\n", b"\r", b"\r\n", b"\x1b", b"\x7f", b"\xef\xbb\xbf", b"\n  ", b"\n",
                b"? ", b"@", b"`", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc2\x85", "\u2028".encode()]


@st.composite
def damaged_bytes(draw: st.DrawFn) -> bytes:
    """A zoo spec, TINY or a random spec, damaged at the byte level."""
    source = draw(st.one_of(st.sampled_from(ZOO_NAMES).map(ZOO_TEXT.__getitem__), st.just(TINY),
                            random_spec().map(dump)))
    data = bytearray(source.encode("utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["truncate", "insert", "insert", "flip", "cut", "indent",
                                   "indent", "swap_lines"]))
        if op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(TRICKY_BYTES), st.binary(min_size=1,
                                                                                   max_size=8)))
        elif op == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at:at + draw(st.integers(1, 40))]
        elif op in ("indent", "swap_lines"):
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            if op == "swap_lines":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            else:
                stripped = lines[i].lstrip(b" ")
                indent = len(lines[i]) - len(stripped)
                new = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 8]))
                lines[i] = (b"\t" if draw(st.integers(0, 5)) == 0 else b" " * new) + stripped \
                    if new != indent else b" " * (indent + 1) + stripped
            data = bytearray(b"\n".join(lines))
    return bytes(data)


# -- schema-boundary specs ---------------------------------------------------------------------

def _deref(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a `$ref` into `$defs`."""
    while "$ref" in node:
        node = DEFS[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _int_values(node: dict[str, Any], name: str = "") -> st.SearchStrategy[int]:
    """Integers within a schema's bounds, the bounds themselves drawn often.

    Block counts get only small values and the bounds, so no draw builds thousands of blocks.
    """
    low = node["minimum"] if "minimum" in node else node.get("exclusiveMinimum", -(2**31)) + 1
    high = node["maximum"] if "maximum" in node else node.get("exclusiveMaximum", 2**31) - 1
    typical = [v for v in (1, 2, 3, 4, 8, 16, 32, 64) if low <= v <= high]
    edges = sorted({low, min(low + 1, high), max(high - 1, low), high})
    if name in ("depth", "depths"):
        return st.one_of(st.sampled_from([1, 1, 2]), st.sampled_from(edges))
    if "multipleOf" in node:  # e.g. the regnet rule's w0
        step = node["multipleOf"]
        return st.integers(-(-low // step), high // step).map(lambda k: k * step)
    return st.one_of(st.sampled_from(typical or edges), st.sampled_from(edges),
                     st.integers(low, high))


def _length(node: dict[str, Any]) -> st.SearchStrategy[int]:
    """A list length within a schema's bounds, short mostly."""
    low, high = node.get("minItems", 0), node.get("maxItems", 6)
    return st.sampled_from(sorted({n for n in (low, low + 1, 2, 3, 4, high) if low <= n <= high}))


@st.composite
def schema_value(draw: st.DrawFn, node: dict[str, Any], name: str = "") -> Any:
    """Any value the JSON Schema `node` (of the property `name`) accepts, often at a bound."""
    node = _deref(node)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return draw(st.sampled_from(node["enum"]))
    for key in ("anyOf", "oneOf"):
        if key in node:
            # A declared block type names a declaration under `blocks:`, which this generator
            # does not write (tests/corpus/test_corpus_blocks.py fuzzes declarations).
            options = [o for o in node[key] if o.get("$ref") != "#/$defs/DeclaredBlock"]
            return draw(schema_value(draw(st.sampled_from(options)), name))
    kind = node.get("type")
    if kind == "integer":
        return draw(_int_values(node, name))
    if kind == "number":
        # Bounds may be inclusive or exclusive on either side: stay just inside an exclusive one.
        low = node["minimum"] if "minimum" in node else node.get("exclusiveMinimum", -1e-9) + 1e-9
        high = node["maximum"] if "maximum" in node else node.get("exclusiveMaximum", 1.0) - 1e-9
        return draw(st.sampled_from([low, (low + high) / 2, high, float(low)]))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "null":
        return None
    if kind == "string":
        size = min(node.get("maxLength", 30), 30)
        if "pattern" in node:
            text = st.from_regex(node["pattern"].strip("^$").replace("+", f"{{1,{size}}}"),
                                 fullmatch=True)
        else:
            text = st.text(max_size=size)
        return draw(text.filter(lambda t: t not in YN))
    if kind == "array":
        return [draw(schema_value(node["items"], name)) for _ in range(draw(_length(node)))]
    if kind == "object":
        out: dict[str, Any] = {}
        for key, prop in node.get("properties", {}).items():
            if key in ("extends", "blocks"):
                continue
            if key in node.get("required", ()) or draw(st.booleans()):
                out[key] = draw(schema_value(prop, key))
        return out
    raise AssertionError(f"schema node the generator does not know: {node}")


def _branch(prop: dict[str, Any], kind: str) -> dict[str, Any]:
    """The `anyOf` branch of a property that has the given JSON type (or a $ref for 'object')."""
    for option in prop.get("anyOf", [prop]):
        option = _deref(option)
        if option.get("type") == kind:
            return option
    raise AssertionError(f"no {kind} branch in {prop}")


STAGE_PROPS: dict[str, Any] = DEFS["Stages"]["properties"]
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)


@st.composite
def boundary_spec(draw: st.DrawFn) -> dict[str, Any]:
    """A spec the JSON Schema accepts, with boundary values; the stage lists mostly agree."""
    spec = draw(schema_value(DEFS.get("Spec", SCHEMA)))  # the complete form (no extends)
    stages = spec["stages"]
    if draw(st.integers(0, 4)):  # mostly exactly one stage form, with consistent lengths
        for key in ("depths", "widths", "strides", "per_stage"):
            stages.pop(key, None)
        n = draw(st.sampled_from([1, 2, 3, 4, 4, 8, 15, 64]))
        if draw(st.booleans()):
            depth = _int_values(_branch(STAGE_PROPS["depths"], "array")["items"], "depths")
            stages["depths"] = [draw(depth) for _ in range(n)]
            if draw(st.booleans()):
                stages["widths"] = draw(schema_value(DEFS["WidthRule"]))
            else:
                width = _branch(STAGE_PROPS["widths"], "array")["items"]
                stages["widths"] = [draw(_int_values(width)) for _ in range(n)]
            if draw(st.booleans()):
                stride = _branch(STAGE_PROPS["strides"], "array")["items"]
                stages["strides"] = [draw(_int_values(stride)) for _ in range(n)]
        else:
            entries = [draw(schema_value(DEFS["StageEntry"])) for _ in range(n)]
            for entry in entries:
                if (entry.get("width") is None) == (entry.get("out_channels") is None):
                    entry.pop("out_channels", None)
                    entry["width"] = draw(st.sampled_from([8, 16, 64, 65536]))
            stages["per_stage"] = entries
    return spec


# -- the invariant -----------------------------------------------------------------------------

def _check_diagnostics(diags: list[Any], sources: dict[str, str], context: str) -> None:
    """Each diagnostic has an ARCnnn code, a severity and, unless none can exist, a location."""
    for d in diags:
        assert isinstance(d.code, str) and CODE.match(d.code), f"bad code {d.code!r}\n{context}"
        assert isinstance(d.severity, Severity), f"{d.code}: bad severity {d.severity!r}\n{context}"
        assert isinstance(d.message, str) and d.message, f"{d.code}: no message\n{context}"
        if d.code in UNLOCATED:
            continue
        span = d.span
        assert span is not None, f"{d.code} has no location: {d.message}\n{context}"
        assert span.line >= 1 and span.col >= 1, f"{d.code} at {span}\n{context}"
        source = sources.get(span.file)
        if source is None and d.code in UNDECODED:
            continue
        assert source is not None, \
            f"{d.code} points into {span.file}, which is not among the sources read: " \
            f"{sorted(sources)}\n{context}"
        lines = source.splitlines()
        assert span.line <= len(lines) + 1, \
            f"{d.code} at line {span.line} of a {len(lines)}-line file: {d.message}\n{context}"


Shape3 = tuple[int, int, int]

# Bugs found by this fuzzer and not yet fixed, each matched by its exception. A case that hits
# one is counted (and reported by test_fuzz_totals) instead of failing, so the fuzzer can find
# more. A bug added here should get a reproducer test of its own.
KNOWN_BUGS: dict[str, Callable[[BaseException], bool]] = {
    # (fixed) widths {base, rule: double} doubling past the schema's 65536 escaped load_spec as
    # pydantic's ValidationError; it is now ARC117, pinned by the two tests below.
}
KNOWN = object()  # what run_pipeline returns for a case that hit a known bug


def known_bug(exc: BaseException) -> str | None:
    """The name of the known bug this exception is, or None."""
    return next((name for name, match in KNOWN_BUGS.items() if match(exc)), None)



@st.composite
def cli_options(draw: st.DrawFn) -> list[str]:
    """A read-only archc command line for one spec (the spec path is appended)."""
    cmd = draw(st.sampled_from(["validate", "validate", "validate-json", "summary", "summary-json"]))
    if cmd == "validate":
        return ["validate"]
    if cmd == "validate-json":
        return ["validate", "--format", "json"]
    if cmd == "summary":
        return ["summary", "--depth", draw(st.sampled_from(["stage", "block", "layer"]))]
    return ["summary", "--json"]


def run_pipeline(path: Path, context: str, *, detail: str = "block", rankdir: str = "TB",
                 input_shape: Shape3 | None = None, allow_outside: bool = False) -> Any:
    """Load, analyze, draw and build one spec.

    Return the report, None when loading failed with SpecError, or KNOWN for a known bug.
    """
    try:
        spec = archcompiler.load_spec(str(path), allow_outside=allow_outside)
    except Exception as exc:
        if not isinstance(exc, SpecError):
            bug = known_bug(exc)
            if bug is None:
                raise
            STATS[f"known bug: {bug}"] += 1
            return KNOWN
        assert exc.diagnostics, f"SpecError without diagnostics\n{context}"
        assert any(d.severity is Severity.ERROR for d in exc.diagnostics), context
        _check_diagnostics(exc.diagnostics, exc.sources, context)
        str(exc)  # formatting with carets must not fail either
        STATS["refused"] += 1
        CODES.update(d.code for d in exc.diagnostics)
        return None
    assert isinstance(spec, archcompiler.ResolvedSpec)
    report = archcompiler.analyze(spec, input_shape)
    _check_diagnostics(report.diagnostics, spec.sources, context)
    CODES.update(d.code for d in report.diagnostics if d.severity is Severity.ERROR)
    dot = archcompiler.to_dot(report, detail=detail, rankdir=rankdir)
    assert dot and dot.startswith("digraph"), f"DOT text: {dot[:80]!r}\n{context}"
    if report.ok:
        model = archcompiler.build_module(report, device="meta")
        params = sum(p.numel() for p in model.parameters())
        assert params == report.params, f"meta module {params} vs report {report.params}\n{context}"
        STATS["valid"] += 1
    else:
        with pytest.raises(SpecError):
            archcompiler.build_module(report, device="meta")
        STATS["invalid"] += 1
    return report


def check_cli(argv: list[str], path: Path, report: Any,
              capsys: pytest.CaptureFixture[str], context: str,
              input_shape: Shape3 | None = None, allow_outside: bool = False) -> None:
    """archc returns 0, 1 or 2 as the API decided, prints no traceback, and its JSON parses."""
    if report is KNOWN:
        return
    argv = [*argv, str(path)]
    if input_shape is not None:
        argv += ["--input", "x".join(map(str, input_shape))]
    if allow_outside:
        argv.append("--allow-outside")
    capsys.readouterr()
    rc = main(argv)
    out, err = capsys.readouterr()
    where = f"archc {' '.join(argv)}\n{out[-2000:]}\n{err[-2000:]}\n{context}"
    assert rc in (0, 1, 2), f"exit {rc}\n{where}"
    assert "Traceback" not in out + err and "internal error" not in err, where
    expected = 1 if report is None else (0 if report.ok else 1)
    assert rc == expected, f"CLI exit {rc}, API says {expected}\n{where}"
    if "json" in argv or "--json" in argv:
        data = json.loads(out)
        if argv[0] == "validate":
            assert data[0]["valid"] is (rc == 0), where
    STATS["cli"] += 1


def _context(files: dict[str, str | bytes]) -> str:
    """The case's files, for failure messages."""
    return "\n".join(f"--- {name}\n{text!r}" for name, text in files.items())


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write a case's files into `folder`; return the entry file (the last one)."""
    for name, text in files.items():
        data = text.encode("utf-8") if isinstance(text, str) else text
        (folder / name).write_bytes(data)
    return folder / next(reversed(files))


# -- the tests ---------------------------------------------------------------------------------

@settings(FUZZ, max_examples=N_ZOO)
@given(files=zoo_case(), outside=st.integers(0, 9), cli=st.one_of(st.none(), st.none(),
                                                                  st.none(), cli_options()))
def test_zoo_mutations(files: dict[str, str], outside: int, cli: list[str] | None, zoo_dir: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    STATS["zoo"] += 1
    path = _write(zoo_dir, dict(files))
    context = _context(dict(files))
    report = run_pipeline(path, context, allow_outside=outside == 0)
    if cli is not None:
        check_cli(cli, path, report, capsys, context, allow_outside=outside == 0)
    (zoo_dir / "mbase.yaml").unlink(missing_ok=True)


@settings(FUZZ, max_examples=N_BYTES)
@given(data=damaged_bytes(), cli=st.one_of(st.none(), st.none(), st.none(), cli_options()))
def test_byte_damage(data: bytes, cli: list[str] | None, zoo_dir: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    STATS["bytes"] += 1
    path = _write(zoo_dir, {"damaged.yaml": data})
    context = _context({"damaged.yaml": data})
    report = run_pipeline(path, context)
    if cli is not None:
        check_cli(cli, path, report, capsys, context)


@st.composite
def input_override(draw: st.DrawFn) -> Shape3 | None:
    """No override (mostly), or an input shape to analyze at, tiny sizes included."""
    if draw(st.integers(0, 3)):
        return None
    size = st.one_of(st.integers(1, 16), st.integers(17, 96))
    return (draw(st.sampled_from([1, 3, 4])), draw(size), draw(size))


def check_forward(report: archcompiler.Report, context: str) -> None:
    """A CPU build runs one image through and gives one score per class."""
    model = archcompiler.build_module(report, seed=0).eval()
    with torch.no_grad():
        out = model(torch.zeros(1, *report.input_shape))
    assert tuple(out.shape) == (1, report.spec.classes), f"{tuple(out.shape)}\n{context}"
    STATS["forward"] += 1


@settings(FUZZ, max_examples=N_RANDOM)
@given(spec=random_spec(), detail=st.sampled_from(["stage", "block", "layer"]),
       rankdir=st.sampled_from(["TB", "LR"]), shape=input_override(),
       cli=st.one_of(st.none(), st.none(), st.none(), cli_options()), forward=st.integers(0, 9))
def test_random_specs(spec: dict[str, Any], detail: str, rankdir: str, shape: Shape3 | None,
                      cli: list[str] | None, forward: int, zoo_dir: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    STATS["random"] += 1
    # Quoted strings: PyYAML writes YAML 1.1, whose plain '0E0' or 'y' read differently in 1.2.
    text = dump(spec, quote=True)
    path = _write(zoo_dir, {"random.yaml": text})
    context = _context({"random.yaml": text}) + f"\ninput_shape={shape}"
    report = run_pipeline(path, context, detail=detail, rankdir=rankdir, input_shape=shape)
    if report is KNOWN:
        return
    if report is None:
        raise AssertionError(f"a spec drawn from the schema's space was refused at load\n{context}")
    if shape is not None and shape[0] == report.input_shape[0] and report.ok:
        # Parameters depend on channels only: the spec's own input size gives the same count.
        plain = archcompiler.analyze(report.spec, report.spec.input_shape)
        if plain.ok:
            assert plain.params == report.params, context
    if report.ok and forward == 1:  # a CPU build and forward pass cost ~50 ms
        check_forward(report, context)
    if not report.ok:
        # Only shapes and the design rules may reject a draw: the schema part is always valid.
        codes = {d.code for d in report.diagnostics if d.severity is Severity.ERROR}
        assert all(c.startswith(("ARC2", "ARC3")) for c in codes), f"{codes}\n{context}"
        STATS["random_invalid"] += 1
    if cli is not None:
        check_cli(cli, path, report, capsys, context, input_shape=shape)


@settings(FUZZ, max_examples=N_BOUNDARY)
@given(spec=boundary_spec(), cli=st.one_of(st.none(), st.none(), st.none(), cli_options()))
def test_schema_boundary_specs(spec: dict[str, Any], cli: list[str] | None, zoo_dir: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    STATS["boundary"] += 1
    VALIDATOR.validate(spec)  # the generator's own check: the JSON Schema accepts the draw
    text = dump(spec, quote=True)
    path = _write(zoo_dir, {"boundary.yaml": text})
    context = _context({"boundary.yaml": text})
    report = run_pipeline(path, context)
    if report is KNOWN:
        return
    if report is None:
        # The schema accepted the document, so only checks beyond the schema may refuse it.
        with pytest.raises(SpecError) as info:
            archcompiler.load_spec(str(path))
        codes = {d.code for d in info.value.diagnostics}
        assert codes <= CROSS_FIELD, f"the schema accepts what the loader refuses: {codes}\n{context}"
    if cli is not None:
        check_cli(cli, path, report, capsys, context)


def test_builtin_names_resolve_to_this_checkout() -> None:
    """The zoo the fuzzer extends is the one beside the package under test."""
    if Path(archcompiler.__file__).resolve().parent.parent != ROOT:
        pytest.skip("the package under test is installed, not this checkout")
    files = archcompiler.load_spec("resnet20").files
    assert Path(files[0]).resolve().parent == SPECS.resolve(), files


def test_fuzz_totals() -> None:
    """Enough cases ran, and the random generator mostly makes valid specs."""
    if not all(STATS[k] for k in ("zoo", "bytes", "random", "boundary")):
        pytest.skip("the fuzz tests did not all run in this session")
    total = STATS["zoo"] + STATS["bytes"] + STATS["random"] + STATS["boundary"]
    elapsed = time.perf_counter() - TIMES["start"]
    print(f"\nfuzz: {total} cases in {elapsed:.1f} s: {dict(STATS)}")
    print(f"fuzz: error codes seen: {dict(sorted(CODES.items()))}")
    assert total >= MIN_CASES, dict(STATS)
    assert STATS["random_invalid"] < STATS["random"] * 0.6, dict(STATS)
    assert STATS["cli"] >= total / 10, dict(STATS)


# -- reproducers of the bugs the fuzzer found --------------------------------------------------

WIDTH_DOUBLES_PAST_BOUND = """\
    spec_version: 1
    name: w
    stages:
      block: {type: basic}
      depths: [1, 1]
      widths: {base: 65536}
    """


def test_doubled_width_past_bound_is_a_diagnostic(tmp_path: Path) -> None:
    path = write_spec(tmp_path, WIDTH_DOUBLES_PAST_BOUND)
    with pytest.raises(SpecError) as info:
        archcompiler.load_spec(str(path))
    _check_diagnostics(info.value.diagnostics, info.value.sources, WIDTH_DOUBLES_PAST_BOUND)


def test_doubled_width_past_bound_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_spec(tmp_path, WIDTH_DOUBLES_PAST_BOUND)
    rc = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert rc == 1, err

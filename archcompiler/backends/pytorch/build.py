"""The torch backend: the IR of an analyzed spec becomes a torchvision-compatible nn.Module.

Construction reads only the IR (`report.graph`): each node's op and attributes pick and configure
a torch module (`layers.py`), its `module` attribute names it, and the graph's block and stage
records group the modules into blocks and `layerN` Sequentials. Each block's forward, and the
network's, is generated from the IR (`codegen.py`), so no block has a hand-written forward.

Parameters are created on the meta device and materialised once: torchvision allocates each
tensor, fills it with the default uniform init and then overwrites it with kaiming_normal_.
Skipping the first fill, and spreading the second over torch's threads with one seeded generator
per module, is what makes building faster than torchvision (benchmarks/RESULTS_torch.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Union

import torch
from torch import nn

from ...analysis.bounds import build_diagnostics
from ...analysis.report import Report
from ...core.diagnostics import SpecError
from ...core.limits import DEFAULT_LIMITS, Limits
from ...ir.graph import BlockRecord, Graph, Node, Role
from ...ir.ops import Op, OpAttrs
from .codegen import CodegenError, Step, forward_source, generated_class, output_free
from .lowerings import BackendError, lowering, make_layer
from .modules import GeneratedModule, Group, block_base, network_base
from .network import describe, head_start

__all__ = ["BackendError", "check_seed", "module_from_report"]

DeviceLike = Union[str, torch.device, int]
Stateful = list[tuple[OpAttrs, nn.Module]]  # modules with parameters or buffers, in graph order
_META = torch.device("meta")


def _layers(graph: Graph) -> tuple[dict[str, nn.Module], Stateful]:
    """One torch module per distinct `module` name of the graph, in graph order, on meta."""
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    by_name = graph.by_name()
    # An activation may run in place only where its input feeds nothing else and the op that
    # made it does not need its own output for the backward pass (torchvision's inplace ReLU).
    inplace: dict[str, bool] = {}
    for node in graph.nodes:
        if node.op == Op.ACTIVATION and node.module is not None:
            src = node.inputs[0]
            safe = readers[src] == 1 and output_free(by_name[src].op)
            inplace[node.module] = inplace.get(node.module, True) and safe
    made: dict[str, tuple[OpAttrs, nn.Module]] = {}
    stateful: Stateful = []
    for node in graph.nodes:
        if node.module is None:
            continue
        if node.module in made:  # a shared module (a block's activation): one op, many calls
            if made[node.module][0] != node.attrs:
                raise BackendError(f"{node.name} shares module {node.module} with an op of other "
                                   "attributes")
            continue
        module = make_layer(node.attrs, _META, inplace.get(node.module, False))
        made[node.module] = (node.attrs, module)
        if lowering(node.op).init is not None:
            stateful.append((node.attrs, module))
        elif any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
            raise BackendError(f"op {node.op} has state but no initialiser")
    return {name: m for name, (_, m) in made.items()}, stateful


def _tree(modules: Mapping[str, nn.Module], strip: str) -> dict[str, nn.Module]:
    """Dotted local paths to a nested module tree, as torch.fx turns qualified names into
    submodules: children named 0, 1, ... in order make an indexed Sequential (`downsample`,
    `layer1`), named ones a Group (`se`, `mlp`). State_dict keys are then the IR's names."""
    leaves: dict[str, nn.Module | None] = {}  # head -> module, or None for a container
    inner: dict[str, dict[str, nn.Module]] = {}
    for path, module in modules.items():
        head, _, rest = path[len(strip):].partition(".")
        if head in leaves and (not rest or leaves[head] is not None):
            raise BackendError(f"module {path} is both a module and a container")
        if rest:
            leaves.setdefault(head, None)
            inner.setdefault(head, {})[rest] = module
        else:
            leaves[head] = module
    tree: dict[str, nn.Module] = {}
    for head, leaf in leaves.items():
        if leaf is not None:
            tree[head] = leaf
            continue
        members = _tree(inner[head], "")
        names = list(members)
        if all(n.isdigit() for n in names):
            numbers = [int(n) for n in names]
            if numbers != sorted(set(numbers)) or names != [str(k) for k in numbers]:
                raise BackendError(f"the members of {strip}{head} are numbered {names}, not "
                                   "0, 1, ... in order")
            # A gap is a stateless nn.Identity, as timm's stride-1 `downsample.0` of ResNet-D.
            seq: list[nn.Module] = [nn.Identity() for _ in range(numbers[-1] + 1)]
            for k, module in zip(numbers, members.values(), strict=True):
                seq[k] = module
            tree[head] = nn.Sequential(*seq)
        elif any(n.isdigit() for n in names):
            raise BackendError(f"{strip}{head} mixes numbered and named members: {names}")
        else:
            group = Group()
            for name, module in members.items():
                setattr(group, name, module)
            tree[head] = group
    return tree


# The variable a value prefers in generated code, by its node's role (else the main one).
_PREFER = {Role.SHORTCUT: "identity", Role.BRANCH: "w"}


def _step(node: Node, strip: str, main: str) -> Step:
    call = node.module[len(strip):] if node.module is not None else None
    return Step(node.name, node.inputs, call, Op(node.op), _PREFER.get(node.role, main))


def _find(tree: Mapping[str, nn.Module], path: str) -> nn.Module | None:
    """The module at a dotted path of the tree, or None."""
    head, _, rest = path.partition(".")
    module = tree.get(head)
    for part in rest.split(".") if rest else ():
        if module is None:
            return None
        module = module._modules.get(part)
    return module


def _collapse(steps: list[Step], tree: Mapping[str, nn.Module]) -> list[Step]:
    """Runs of steps that walk a whole Sequential in order become one call of it, innermost
    first (`stages.0.blocks.0`, `.1`, ... become `stages.0.blocks`)."""
    while True:
        out: list[Step] = []
        i = 0
        while i < len(steps):
            parent, _, index = (steps[i].call or "").rpartition(".")
            seq = _find(tree, parent) if parent and index == "0" else None
            n = len(seq) if isinstance(seq, nn.Sequential) else 0
            run = steps[i:i + n]
            if n and [s.call for s in run] == [f"{parent}.{k}" for k in range(n)] and all(
                    b.inputs == (a.out,) for a, b in itertools.pairwise(run)):
                out.append(Step(run[-1].out, run[0].inputs, parent, run[-1].op, run[0].prefer))
                i += n
            else:
                out.append(steps[i])
                i += 1
        if len(out) == len(steps):
            return out
        steps = out


def _block(record: BlockRecord, nodes: list[Node], layers: Mapping[str, nn.Module]
           ) -> nn.Module:
    """Build one block: its submodules, and its class with a forward generated from its nodes."""
    prefix = record.name + "."
    owned = {path: m for path, m in layers.items() if path.startswith(prefix)}
    stray = [n.name for n in nodes if n.module is not None and not n.module.startswith(prefix)]
    if stray:
        raise BackendError(f"block {record.name}: nodes {stray} use modules outside the block")
    tree = _tree(owned, prefix)
    steps = _collapse([_step(n, prefix, "out") for n in nodes], tree)
    if list(tree) == [str(k) for k in range(len(tree))]:
        # Numbered ops in a chain (ConvNeXt's downsampling layer: norm, conv) are what timm
        # builds as an nn.Sequential; anything else with numbered members has no forward.
        if [s.call for s in steps] == list(tree) and all(
                b.inputs == (a.out,) for a, b in itertools.pairwise(steps)):
            return nn.Sequential(*tree.values())
        raise BackendError(f"block {record.name} numbers its modules but is not a chain of them")
    source = forward_source(steps, record.input, record.output)
    # A plain block (shortcut 'none') looks like a residual one in print(model) unless it says so.
    plain = record.shortcut == "none" and record.role == "block"
    cls = generated_class(block_base(record.module_class), source,
                          "residual=False" if plain else "")
    return cls(tree, record.absent_modules)


def _assemble(graph: Graph) -> tuple[GeneratedModule, Stateful, int | None]:
    """Build the module tree from the graph, on the meta device: every block (and stage
    transition) a generated class at its name, every other module at its own name. Also
    return the line of the network's forward where the head begins (network.py)."""
    layers, stateful = _layers(graph)
    records = {r.name: r for r in graph.blocks}
    by_name = graph.by_name()
    by_block: dict[str, list[Node]] = {}
    for node in graph.nodes:
        if node.block is not None:
            by_block.setdefault(node.block, []).append(node)
    flat: dict[str, nn.Module] = {}  # top-level module paths, in graph order
    steps: list[Step] = []
    current: str | None = None
    try:
        for node in graph.nodes:
            if node.op == Op.INPUT:
                continue
            if node.block is None:
                current = None
                if node.module is not None:
                    flat.setdefault(node.module, layers[node.module])
                steps.append(_step(node, "", "x"))
                continue
            if node.block == current:
                continue
            if node.block in flat:
                raise BackendError(f"the nodes of block {node.block} are not contiguous in the IR")
            current = node.block
            r = records[node.block]
            flat[r.name] = _block(r, by_block[r.name], layers)
            steps.append(Step(r.output, (r.input,), r.name, Op(by_name[r.output].op), "x"))
        top = _tree(flat, "")
        steps = _collapse(steps, top)
        source = forward_source(steps, graph.nodes[0].name, graph.output)
    except CodegenError as exc:
        raise BackendError(str(exc)) from None
    # forward_source writes one line per step, so the head begins at its first step's index.
    start = head_start(graph)
    head_at = next((i for i, s in enumerate(steps) if start is not None and s.out == start.name),
                   None)
    network = generated_class(network_base(graph.module_class), source)
    return network(top, graph.absent_modules), stateful, head_at


def _initialise(stateful: Stateful, seed: int | None) -> None:
    """Fill every parameter and buffer, on as many threads as torch may use.

    Each module draws from its own generator, seeded from one master draw in graph order, so
    the weights depend on the seed alone, not on the thread count or the scheduling. Random
    fills are serial per generator in torch, so threads are what spreads them over the cores.
    """
    master = torch.Generator().manual_seed(seed) if seed is not None else None
    # seed=None draws the per-module seeds from the global RNG, like any torch constructor,
    # so torch.manual_seed still governs the result.
    seeds = torch.randint(0, 2**62, (len(stateful),), generator=master).tolist()

    def run(job: tuple[OpAttrs, nn.Module, int]) -> None:
        attrs, module, module_seed = job
        with torch.no_grad():  # grad mode is per thread
            init = lowering(attrs.OP).init
            assert init is not None  # only modules with an initialiser are listed
            init(module, attrs, torch.Generator().manual_seed(module_seed))

    jobs = [(attrs, module, s) for (attrs, module), s in zip(stateful, seeds)]
    workers = min(torch.get_num_threads(), 8)
    if workers <= 1:
        for job in jobs:
            run(job)
        return
    # Largest first, so no thread is left alone with the fc at the end.
    jobs.sort(key=lambda j: -sum(p.numel() for p in j[1].parameters()))
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, jobs))


def module_from_report(report: Report, *, seed: int | None = None,
                       device: DeviceLike | None = None, dtype: torch.dtype | None = None,
                       limits: Limits = DEFAULT_LIMITS) -> nn.Module:
    """Build the nn.Module of an analyzed spec; raise SpecError when the report has errors, or
    when the module would exceed a resource bound (checked before anything is allocated)."""
    if not report.ok:
        raise SpecError(report.diagnostics, report.spec.sources)
    target = torch.device(device) if device is not None else torch.device("cpu")
    if target.type != "meta":
        size = (dtype or torch.get_default_dtype()).itemsize
        over = build_diagnostics(report, limits, max(size, 4))  # initialised in fp32 first
        if over:
            raise SpecError(over, report.spec.sources)
    model, stateful, head_at = _assemble(report.graph)  # on meta: nothing allocated or drawn
    describe(model, report, head_at)  # timm's interface: classes, features, the classifier
    if target.type == "meta":
        return model.to(dtype=dtype) if dtype is not None else model
    # Initialise on the CPU with private generators: the global RNG stays untouched and a seed
    # gives the same weights whatever the target device.
    model.to_empty(device="cpu")
    _initialise(stateful, seed)
    if target.type != "cpu" or dtype is not None:
        model.to(device=target, dtype=dtype)
    return model


def check_seed(seed: object) -> None:
    """Raise ValueError unless `seed` is None or an integer torch's generators accept."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2**63):
        raise ValueError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r}")

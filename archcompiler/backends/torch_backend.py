"""The torch backend: the IR of an analyzed spec becomes a torchvision-compatible nn.Module.

Construction reads only the IR (`report.graph`): each node's op and attributes pick and configure
a torch module, its `module` attribute names it, and its `block` groups it. The block's node
pattern is matched against the known shapes of a residual block to choose a class with a plain
forward (`torch_modules`), so the IR is interpreted once, at build time, never per call.

Parameters are created on the meta device and materialised once: torchvision allocates each
tensor, fills it with the default uniform init and then overwrites it with kaiming_normal_.
Skipping the first fill, and spreading the second over torch's threads with one seeded generator
per module, is what makes building faster than torchvision (benchmarks/RESULTS_torch.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any, Union

import torch
from torch import nn

from ..analysis import Report
from ..api import InputShape, SpecLike, analyze
from ..diagnostics import SpecError
from ..ir import Graph, Node, Shape
from .torch_modules import BasicBlock, Bottleneck, PadShortcut, ResNet

__all__ = ["BackendError", "ShapeCheck", "build_module", "check_shapes", "cli_build",
           "export_program", "module_from_report"]

Attrs = Mapping[str, Any]
Pattern = dict[str, tuple[str, ...]]  # a block's local node name -> its inputs' local names
DeviceLike = Union[str, torch.device, int]


class BackendError(RuntimeError):
    """The IR holds a pattern this backend cannot build: a bug or a missing backend feature."""


_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    # In-place where torch allows it, as torchvision does, to save activation memory.
    "relu": lambda: nn.ReLU(inplace=True),
    "silu": lambda: nn.SiLU(inplace=True),
    "gelu": lambda: nn.GELU(),
}


def _activation(a: Attrs) -> nn.Module:
    kind = a["kind"]
    if kind not in _ACTIVATIONS:
        raise BackendError(f"activation {kind!r} has no torch module; known: "
                           f"{', '.join(sorted(_ACTIVATIONS))}")
    return _ACTIVATIONS[kind]()


# One factory per IR op that owns a module; ops absent here (input, add, flatten) are functional.
# The device is passed to each constructor rather than set with `with torch.device(...)`, whose
# per-call dispatch overhead doubles the construction time of a deep net.
_FACTORIES: dict[str, Callable[[Attrs, torch.device], nn.Module]] = {
    "conv2d": lambda a, d: nn.Conv2d(a["in_channels"], a["out_channels"], a["kernel"],
                                     a["stride"], a["padding"], groups=a["groups"],
                                     bias=a["bias"], device=d),
    "batch_norm": lambda a, d: nn.BatchNorm2d(a["channels"], device=d),
    "activation": lambda a, d: _activation(a),
    "max_pool": lambda a, d: nn.MaxPool2d(a["kernel"], a["stride"], a["padding"]),
    "avg_pool": lambda a, d: nn.AvgPool2d(a["kernel"], a["stride"], a["padding"]),
    "pad_channels": lambda a, d: PadShortcut(a["in_channels"], a["out_channels"], a["stride"]),
    "global_avg_pool": lambda a, d: nn.AdaptiveAvgPool2d((1, 1)),
    "dropout": lambda a, d: nn.Dropout(a["p"]),
    "linear": lambda a, d: nn.Linear(a["in_features"], a["out_features"], bias=a["bias"],
                                     device=d),
}
_META = torch.device("meta")


def _init_conv(m: nn.Module, a: Attrs, g: torch.Generator | None) -> None:
    assert isinstance(m, nn.Conv2d)
    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=g)
    if m.bias is not None:
        nn.init.zeros_(m.bias)


def _init_bn(m: nn.Module, a: Attrs, g: torch.Generator | None) -> None:
    assert isinstance(m, nn.BatchNorm2d)
    m.reset_running_stats()  # to_empty left the buffers uninitialised
    # zero_init_residual: the block's last BN starts at 0, so the block starts as an identity.
    nn.init.constant_(m.weight, 0.0 if a.get("zero_init") else 1.0)
    nn.init.zeros_(m.bias)


def _init_linear(m: nn.Module, a: Attrs, g: torch.Generator | None) -> None:
    # nn.Linear.reset_parameters, spelled out because it takes no generator.
    assert isinstance(m, nn.Linear)
    nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
    if m.bias is not None:
        bound = 1 / math.sqrt(m.in_features) if m.in_features > 0 else 0.0
        nn.init.uniform_(m.bias, -bound, bound, generator=g)


_INITS: dict[str, Callable[[nn.Module, Attrs, torch.Generator | None], None]] = {
    "conv2d": _init_conv, "batch_norm": _init_bn, "linear": _init_linear,
}

# The node patterns a block may lower to: local name -> inputs ("@in" is the block input).
_BODIES: dict[str, Pattern] = {
    "basic": {"conv1": ("@in",), "bn1": ("conv1",), "relu1": ("bn1",), "conv2": ("relu1",),
              "bn2": ("conv2",)},
    "bottleneck": {"conv1": ("@in",), "bn1": ("conv1",), "relu1": ("bn1",), "conv2": ("relu1",),
                   "bn2": ("conv2",), "relu2": ("bn2",), "conv3": ("relu2",), "bn3": ("conv3",)},
}
_SHORTCUTS: dict[str, Pattern] = {
    "projection": {"downsample.0": ("@in",), "downsample.1": ("downsample.0",)},
    "pad": {"shortcut": ("@in",)},
    "identity": {},
    "none": {},
}
_BLOCK_CLASSES: dict[str, type[BasicBlock] | type[Bottleneck]] = {
    "basic": BasicBlock, "bottleneck": Bottleneck}
_STEM = ("input", "conv1", "bn1", "relu", "maxpool", "avgpool_stem")
_HEAD = ("avgpool", "flatten", "dropout", "fc")


Stateful = list[tuple[Node, nn.Module]]  # modules with parameters or buffers, in graph order


def _make(node: Node, stateful: Stateful) -> nn.Module:
    factory = _FACTORIES.get(node.op)
    if factory is None:
        raise BackendError(f"IR node {node.name}: op {node.op!r} has no torch module")
    module = factory(node.attrs, _META)
    if node.op in _INITS:
        stateful.append((node, module))
    elif any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
        raise BackendError(f"op {node.op!r} has state but no initialiser")
    return module


def _block_pattern(local: Mapping[str, Node]) -> tuple[str, Pattern]:
    """Recognise a block's body and shortcut and return the pattern its nodes must follow."""
    body = "bottleneck" if "conv3" in local else "basic"
    short = ("projection" if "downsample.0" in local else "pad" if "shortcut" in local
             else "identity" if "add" in local else "none")
    pattern = dict(_BODIES[body])
    pattern.update(_SHORTCUTS[short])
    last = "bn3" if body == "bottleneck" else "bn2"
    if short == "none":
        pattern["relu_out"] = (last,)
    else:
        tail = {"projection": "downsample.1", "pad": "shortcut", "identity": "@in"}[short]
        pattern["add"] = (last, tail)
        pattern["relu_out"] = ("add",)
    return body, pattern


def _expected_module(block: str, local: str, op: str) -> str | None:
    if op == "add":
        return None
    return f"{block}.relu" if op == "activation" else f"{block}.{local}"


def _build_block(block: str, nodes: list[Node], block_input: str, stateful: Stateful
                 ) -> nn.Module:
    """Check a block's nodes against a known pattern and build the matching block class."""
    prefix = block + "."
    local = {n.name[len(prefix):]: n for n in nodes if n.name.startswith(prefix)}
    body, pattern = _block_pattern(local)

    def rel(name: str) -> str:
        return "@in" if name == block_input else name[len(prefix):]

    found = {k: tuple(rel(i) for i in n.inputs) for k, n in local.items()}
    bad = [n.name for n in nodes if not n.name.startswith(prefix)] + [
        f"{prefix}{k}" for k, n in local.items()
        if n.module != _expected_module(block, k, n.op)]
    if found != pattern or bad:
        raise BackendError(f"block {block} does not match the {body} pattern the torch backend "
                           f"builds: {sorted(found.items())} (misnamed: {bad})")
    modules: dict[str, nn.Module] = {}
    for node in nodes:
        if node.module is None:
            continue
        name = node.module[len(prefix):]
        if name not in modules:  # the activation module is shared by relu1/relu2/relu_out
            modules[name] = _make(node, stateful)
    # Dotted locals such as downsample.0 / downsample.1 become an indexed Sequential.
    grouped: dict[str, nn.Module] = {}
    for name, module in modules.items():
        head, _, index = name.partition(".")
        if not index:
            grouped[name] = module
            continue
        seq = grouped.setdefault(head, nn.Sequential())
        assert isinstance(seq, nn.Sequential) and index == str(len(seq)), name
        seq.append(module)
    return _BLOCK_CLASSES[body](grouped, residual="add" in local)


def _assemble(graph: Graph) -> tuple[ResNet, Stateful]:
    """Build the module tree from the graph, on the meta device, checking the IR's structure."""
    stateful: Stateful = []
    parts: dict[str, nn.Module | list[nn.Module]] = {}
    prev: str | None = None  # output node of the previous stem node, head node or block
    seen_blocks = False
    for block, group in groupby(graph.nodes, key=lambda n: n.block):
        nodes = list(group)
        if block is not None:
            stage, _, index = block.rpartition(".")
            blocks = parts.setdefault(stage, [])
            if not isinstance(blocks, list) or index != str(len(blocks)) or prev is None:
                raise BackendError(f"block {block} is out of order in the IR")
            blocks.append(_build_block(block, nodes, prev, stateful))
            prev, seen_blocks = f"{block}.relu_out", True
            continue
        allowed = _HEAD if seen_blocks or nodes[0].role == "head" else _STEM
        for node in nodes:
            want_inputs = () if prev is None else (prev,)
            if node.name not in allowed or node.inputs != want_inputs or \
                    node.module not in (None, node.name):
                raise BackendError(f"IR node {node.name} ({node.op}) does not fit the "
                                   "stem/head pattern the torch backend builds")
            if node.module is not None:
                parts[node.module] = _make(node, stateful)
            prev = node.name
    if prev != graph.output:
        raise BackendError("the IR output is not the classifier")
    modules = {k: nn.Sequential(*v) if isinstance(v, list) else v for k, v in parts.items()}
    return ResNet(modules), stateful


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

    def run(job: tuple[Node, nn.Module, int]) -> None:
        node, module, module_seed = job
        with torch.no_grad():  # grad mode is per thread
            _INITS[node.op](module, node.attrs, torch.Generator().manual_seed(module_seed))

    jobs = [(node, module, s) for (node, module), s in zip(stateful, seeds)]
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
                       device: DeviceLike | None = None,
                       dtype: torch.dtype | None = None) -> nn.Module:
    """Build the nn.Module of an analyzed spec; raise SpecError when the report has errors."""
    if not report.ok:
        raise SpecError(report.diagnostics, report.spec.sources)
    target = torch.device(device) if device is not None else torch.device("cpu")
    model, stateful = _assemble(report.graph)  # on meta: nothing allocated, nothing drawn
    if target.type == "meta":
        return model.to(dtype=dtype) if dtype is not None else model
    # Initialise on the CPU with private generators: the global RNG stays untouched and a seed
    # gives the same weights whatever the target device.
    model.to_empty(device="cpu")
    _initialise(stateful, seed)
    if target.type != "cpu" or dtype is not None:
        model.to(device=target, dtype=dtype)
    return model


def build_module(ref: SpecLike | Report, *, seed: int | None = None,
                 device: DeviceLike | None = None, dtype: torch.dtype | None = None,
                 input_shape: InputShape | None = None) -> nn.Module:
    """Build a torch module from a spec path, built-in name, resolved spec or report.

    `input_shape` (a square size, HxW or CxHxW) sets the size the spec is checked at; a channel
    count other than the spec's also changes the first conv, as it would in the spec.
    """
    _check_seed(seed)
    return module_from_report(analyze(ref, input_shape), seed=seed, device=device, dtype=dtype)


def _check_seed(seed: object) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2**63):
        raise ValueError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r}")


@dataclass
class ShapeCheck:
    """The outcome of comparing a forward pass with the analysis, node by node."""

    checked: int
    mismatches: list[str]

    @property
    def ok(self) -> bool:
        """True when every hooked output has the predicted shape."""
        return not self.mismatches


def check_shapes(model: nn.Module, report: Report, batch: int = 2) -> ShapeCheck:
    """Run one forward pass with hooks and compare each IR node's shape with its module's output.

    A shared module (a block's activation) is compared call by call with its nodes in graph
    order. The model is run in eval mode so BN statistics are left unchanged.
    """
    expected: dict[str, list[tuple[str, Shape | None]]] = {}
    for node in report.graph.nodes:
        if node.module is not None:
            expected.setdefault(node.module, []).append((node.name, report.shape(node.name)))
    seen: dict[str, list[Shape]] = {name: [] for name in expected}

    def hook(name: str) -> Callable[[nn.Module, Any, torch.Tensor], None]:
        def record(module: nn.Module, args: Any, output: torch.Tensor) -> None:
            seen[name].append(tuple(output.shape[1:]))
        return record

    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    handles = [model.get_submodule(name).register_forward_hook(hook(name)) for name in expected]
    was_training = model.training
    try:
        model.eval()
        x = torch.randn(batch, *report.input_shape, device=device, dtype=dtype,
                        generator=None if device.type == "meta" else
                        torch.Generator(device).manual_seed(0))
        with torch.no_grad():
            out = model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    mismatches: list[str] = []
    checked = 0
    for name, nodes in expected.items():
        got = seen[name]
        if len(got) != len(nodes):
            mismatches.append(f"module {name} ran {len(got)} times for {len(nodes)} IR nodes")
        for (node_name, want), shape in zip(nodes, got):
            checked += 1
            if want != shape:
                mismatches.append(f"{node_name}: analysis says {want}, torch gives {shape}")
    if tuple(out.shape) != (batch, *(report.output_shape or ())):
        mismatches.append(f"output: analysis says {report.output_shape}, torch gives "
                          f"{tuple(out.shape[1:])}")
    return ShapeCheck(checked, mismatches)


def export_program(model: nn.Module, report: Report) -> torch.export.ExportedProgram:
    """Export the model in eval mode with a dynamic batch dimension."""
    model.eval()
    param = next(model.parameters())
    example = torch.randn(2, *report.input_shape, device=param.device, dtype=param.dtype)
    batch = torch.export.Dim("batch", min=1, max=65536)
    return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))


def cli_build(report: Report, output: Path, fmt: str, check: bool, seed: int) -> int:
    """Implement `archc build`: build, optionally check shapes, and write the file atomically."""
    from .torch_cli import run_build

    return run_build(report, output, fmt, check, seed)

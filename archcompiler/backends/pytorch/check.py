"""Checks of a built module against the analysis, and export with a dynamic batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ...analysis.report import Report
from ...ir.ops import Shape

__all__ = ["ShapeCheck", "check_shapes", "export_program"]


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
    batch = torch.export.Dim("batch", min=1, max=65535)  # CUDA kernels cap a grid dim here
    return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))

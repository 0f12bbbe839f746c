"""DistributedDataParallel: two CPU processes (gloo) train a built module and stay in sync."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

pytestmark = pytest.mark.slow  # two processes train

STEPS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, port: int, folder: str) -> None:
    """One replica: build with the same seed, train on its own shard, save its parameters."""
    import torch.distributed as dist
    from torch import nn

    from archcompiler import build_module, load_spec

    torch.set_num_threads(1)
    spec = load_spec(Path(folder) / "tiny.yaml")  # the input shape and classes to train on
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    try:
        model = nn.parallel.DistributedDataParallel(build_module(Path(folder) / "tiny.yaml",
                                                                 seed=0))
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        data = torch.Generator().manual_seed(100 + rank)  # each replica sees different data
        for _ in range(STEPS):
            x = torch.randn(4, *spec.input_shape, generator=data)
            y = torch.randint(0, spec.classes, (4,), generator=data)
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        torch.save({k: v.detach() for k, v in model.module.named_parameters()},
                   Path(folder) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available")
def test_ddp_replicas_agree(tiny: Path) -> None:
    folder = tiny.parent  # the replicas read tiny.yaml and save their parameters beside it
    torch.multiprocessing.spawn(_worker, args=(2, _free_port(), str(folder)), nprocs=2,
                                join=True)
    a, b = (torch.load(folder / f"rank{r}.pt") for r in (0, 1))
    assert a.keys() == b.keys() and a
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # Training moved the weights away from the shared initialisation.
    from archcompiler import build_module

    init = dict(build_module(tiny, seed=0).named_parameters())
    assert not torch.equal(init["conv1.weight"], a["conv1.weight"])

"""Forwards generated from the IR: bitwise equal to the hand-written modules they replaced, and
usable with every torch tool a torchvision user reaches for."""

from __future__ import annotations

import copy
import hashlib
import pickle
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archcompiler  # noqa: E402
from archcompiler.backends.pytorch.modules import BasicBlock, Bottleneck, ResNet  # noqa: E402
from archcompiler.language.zoo import builtin_names  # noqa: E402
from tests.conftest import DATA, ROOT  # noqa: E402

# The reference outputs were taken with one thread: this module's tests run on one, and only
# they (the fixture restores the count).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _state_sha256(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for key, value in model.state_dict().items():
        h.update(key.encode())
        h.update(value.contiguous().numpy().tobytes())
    return h.hexdigest()


REFERENCE = torch.load(DATA / "reference_outputs.pt", weights_only=True)


@pytest.mark.parametrize("name", [n for n in builtin_names() if n in REFERENCE])
def test_outputs_are_bitwise_those_of_the_hand_written_modules(name: str) -> None:
    # tests/data/reference_outputs.pt was dumped from the hand-written block classes (seed 0,
    # eval mode, one thread) before forwards were generated from the IR.
    ref = REFERENCE[name]
    size = ref["size"]
    model = archcompiler.build_module(name, seed=0, input_shape=size).eval()
    x = torch.randn(2, archcompiler.load_spec(name).input_shape[0], size, size,
                    generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(x)
    assert _state_sha256(model) == ref["state_sha256"]
    # Compared as bits, so NaN (resnet1202's untrained eval output overflows) compares too.
    assert torch.equal(out.view(torch.int32), ref["out"].view(torch.int32))


def test_forwards_read_like_torchvision() -> None:
    model = archcompiler.build_module("resnet50", device="meta")
    assert type(model.layer2[0])._archc_source == (
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    out = self.conv1(x)\n    out = self.bn1(out)\n    out = self.relu(out)\n"
        "    out = self.conv2(out)\n    out = self.bn2(out)\n    out = self.relu(out)\n"
        "    out = self.conv3(out)\n    out = self.bn3(out)\n"
        "    identity = self.downsample(x)\n    out += identity\n    out = self.relu(out)\n"
        "    return out\n")
    # The residual add is in place, as torchvision's `out += identity`.
    assert "    out += x\n" in type(model.layer2[1])._archc_source
    net = type(model)._archc_source
    assert "x = self.layer4(x)" in net and "x = torch.flatten(x, 1)" in net


def test_one_class_per_block_pattern_on_named_bases() -> None:
    model = archcompiler.build_module("resnet50", device="meta")
    classes = {type(b) for stage in (model.layer1, model.layer2, model.layer3, model.layer4)
               for b in stage}
    assert len(classes) == 2  # with a projection, and with an identity shortcut
    assert all(issubclass(c, Bottleneck) for c in classes)
    assert isinstance(model, ResNet)
    assert isinstance(archcompiler.build_module("resnet20", device="meta").layer1[0], BasicBlock)
    # The same pattern in another net reuses the class.
    other = archcompiler.build_module("resnet101", device="meta")
    assert type(other.layer3[5]) in classes
    # Each generated class reads as its named base in print, torchinfo and tracebacks.
    assert {(c.__name__, c.__qualname__) for c in classes} == {("Bottleneck", "Bottleneck")}
    assert (type(model).__name__, type(model).__qualname__) == ("ResNet", "ResNet")


def test_the_in_place_add_trains() -> None:
    model = archcompiler.build_module("resnet20", seed=0)
    x = torch.randn(4, 3, 32, 32)
    model(x).sum().backward()  # an unsafe in-place op would fail autograd's version check
    assert all(p.grad is not None for p in model.parameters())


def test_print_model_reads_like_torchvision() -> None:
    text = repr(archcompiler.build_module("resnet18", device="meta"))
    assert text.startswith("ResNet(\n  (conv1): Conv2d(3, 64, kernel_size=(7, 7)")
    assert "(0): BasicBlock(\n" in text and "(relu): ReLU(inplace=True)" in text
    assert "(downsample): Sequential(\n" in text
    assert "BasicBlock_" not in text  # the generated class names stay out of the way


def test_a_traceback_shows_the_generated_line() -> None:
    model = archcompiler.build_module("resnet18", device="meta")
    with pytest.raises(RuntimeError) as info:
        model(torch.randn(1, 5, 64, 64, device="meta"))  # 5 channels where conv1 wants 3
    text = "".join(traceback.format_exception(info.value))
    assert "<archcompiler-generated ResNet_" in text and "x = self.conv1(x)" in text


def test_pickle_and_deepcopy_of_the_whole_model() -> None:
    model = archcompiler.build_module("resnet20", seed=0).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = model(x)
        for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            assert type(clone) is type(model) and isinstance(clone.layer2[0], BasicBlock)
            assert torch.equal(clone(x), want)
            assert clone.layer1[0].conv1.weight is not model.layer1[0].conv1.weight


@pytest.mark.slow
def test_a_pickle_loads_in_a_fresh_process(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(archcompiler.build_module("resnet18", seed=0, input_shape=64)))
    code = ("import pickle, sys, torch; m = pickle.loads(open(sys.argv[1], 'rb').read()); "
            "from archcompiler.backends.pytorch.modules import BasicBlock; "
            "assert isinstance(m.layer1[0], BasicBlock); "
            "print(m.eval()(torch.zeros(1, 3, 64, 64)).shape)")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "torch.Size([1, 1000])" in proc.stdout


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
@pytest.mark.parametrize("name", ["resnet18", "resnet20", "resnext50_32x4d"])
def test_torch_jit_script(name: str, tmp_path: Path) -> None:
    size = 32 if name == "resnet20" else 64
    model = archcompiler.build_module(name, seed=0, input_shape=size).eval()
    scripted = torch.jit.script(model)
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        assert torch.equal(scripted(x), model(x))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_torch_jit_script_a_plain_net(tmp_path: Path) -> None:
    from tests.conftest import write_spec

    plain = write_spec(tmp_path, "extends: resnet20\nname: plain20\nstages: {shortcut: none}\n")
    model = archcompiler.build_module(plain, seed=0).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(torch.jit.script(model)(x), model(x))


def test_a_pickle_cannot_carry_code(tmp_path: Path) -> None:
    """A pickle of a generated module carries structure, not source; forged data is refused."""
    from archcompiler.backends.pytorch import codegen

    model = archcompiler.build_module("resnet20", seed=0)
    data = pickle.dumps(model)
    assert b"def forward" not in data  # no source text travels in the pickle
    marker = tmp_path / "pwned"
    forged = [
        (("call", "out", "conv1", "x"), ("return", f"__import__('os').system('touch {marker}')")),
        (("call", "out", "conv1); __import__('os').system('true'); (x", "x"), ("return", "out")),
        (("exec", "out", "x"), ("return", "out")),
        (("return", "self"),),
        ("return x",),
    ]
    for lines in forged:
        with pytest.raises(codegen.CodegenError):
            codegen.restore("BasicBlock", lines, "")  # type: ignore[arg-type]
    assert not marker.exists()
    # A source the generator did not write does not even make a class.
    with pytest.raises(codegen.CodegenError):
        codegen.structure("def forward(self, x: Tensor) -> Tensor:\n    import os\n    return x\n")

"""Write docs/rules.md: every diagnostic code with a minimal example, its exact output and the fix.

The codes, their reasons and fixes come from `archcompiler.core.codes`, the design rules' keys
from the rule registry and their default severities from the schema's `Rules` model. Each example
is run through the real CLI, in this process, and its output is pasted as printed. Run
`.venv/bin/python scripts/gen_rules.py` after changing a code or an example;
tests/project/test_rules_catalogue.py fails while docs/rules.md differs from what this writes.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import archcompiler
from archcompiler.analysis.rules import RULES
from archcompiler.blocks import BlockType
from archcompiler.cli import main
from archcompiler.core.codes import CODES, Code, group
from archcompiler.language.schema import Rules
from archcompiler.language.zoo import specs_dir
from tests.support.rule_blocks import (
    Flattening,
    Grouped3,
    Miswired,
    OddKernel,
    Raising,
    Twice,
    simple_block,
)

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "rules.md"
EXAMPLE_DIR = "docs/rules"
FILE = "{file}"  # stands for the example file, docs/rules/<code>.yaml, in an example's arguments
REGENERATE = ".venv/bin/python scripts/gen_rules.py"



@dataclass(frozen=True)
class Example:
    """How the catalogue triggers one code, and where the diagnostic must point."""

    line: int | None  # the line of the example file the diagnostic points at; None: no file
    args: tuple[str, ...] = ("validate", FILE)  # the `archc` arguments
    also: tuple[str, ...] = ()  # other codes the example cannot help producing
    fixed: str | None = None  # the example, fixed (checked to validate cleanly)
    note: str = ""  # how it is run, where that needs saying
    files: tuple[tuple[str, str], ...] = ()  # made in a scratch folder first (too big to commit)
    shell: str = ""  # the shell line that makes `files`, as the docs show it
    before: tuple[tuple[str, ...], ...] = ()  # `archc` commands that prepare the example
    torch: bool = False  # it builds a module, so it runs only where torch is installed
    block: type[BlockType[Any]] | None = None  # a user block type, registered for the run
    points_into: str | None = None  # the source the diagnostic points into, when not a file

    @property
    def has_file(self) -> bool:
        """Whether the example is a committed file, docs/rules/<code>.yaml."""
        return FILE in self.args

    def target(self, code: str) -> str | None:
        """The source the diagnostic must point into: the example file, or a generated one."""
        if self.line is None:  # the diagnostic has no location
            return None
        if self.points_into is not None:
            return self.points_into
        if self.files:
            return self.files[0][0]
        return f"{EXAMPLE_DIR}/{code}.yaml" if self.has_file else None


_BLOCK_NOTE = ("No spec can reach {code} with the built-in block types, so the example registers "
               "a faulty block type of its own, as a user would (docs/blocks.md), and runs the "
               "CLI in the same Python process.")

EXAMPLES: dict[str, Example] = {
    "ARC001": Example(3, fixed="extends: resnet18\nname: resnet18_typo\n"
                               "stages: {depths: [2, 2, 2, 2]}\n"),
    "ARC002": Example(3, note="The example holds the byte 0xe9 (e acute in Latin-1); it is "
                              "shown here as `\\xe9`."),
    "ARC003": Example(1, ("validate", "big.yaml"), files=(("big.yaml", "#" * (1 << 20) + "\n"),),
                      shell="python3 -c \"print('#' * 1048576)\" > big.yaml",
                      note="A file over the bound is too big to commit, so the example makes one "
                           "in the current folder first."),
    "ARC004": Example(3, fixed="extends: resnet18\nname: resnet18_b\n"),
    "ARC005": Example(3, fixed="extends: resnet18\nname: resnet18_a\n"),
    "ARC006": Example(1, fixed="extends: resnet18\nname: resnet18_listed\n"),
    "ARC007": Example(3, fixed="extends: resnet18\nname: resnet18_tagged\n"
                               "description: ResNet-18, no tags\n"),
    "ARC008": Example(3),
    "ARC009": Example(3),
    "ARC010": Example(3, fixed="extends: resnet18\nname: resnet18_zero_init\n"
                               "zero_init_residual: true\n"),
    "ARC011": Example(3, fixed="extends: resnet18\nname: resnet18_keys\n"
                               "stages: {depths: [2, 2, 2, 2]}\n"),
    "ARC012": Example(None, ("validate", "resnet_50"),
                      note="No file: the argument names neither a file nor a built-in spec."),
    "ARC013": Example(1, ("validate", "resnet18", "--set", "head.classes"), points_into="<--set 1>",
                      note="No file: the override on the command line has no `=`. The diagnostic "
                           "points into the override itself, shown as the source `<--set 1>` "
                           "(the first `--set`)."),
    "ARC100": Example(3, block=OddKernel, note=_BLOCK_NOTE.format(code="ARC100")),
    "ARC101": Example(3, fixed="extends: resnet18\nname: resnet18_cifar\nhead: {classes: 10}\n"),
    "ARC102": Example(1, fixed="spec_version: 1\nname: headless\n"
                               "stages: {block: {type: basic}, depths: [2, 2], widths: [64, 128]}\n"),
    "ARC103": Example(3, fixed="extends: resnet18\nname: resnet18_cifar\nhead: {classes: 10}\n"),
    "ARC104": Example(3, fixed="extends: resnet18\nname: resnet18_classless\n"
                               "head: {classes: 10}\n"),
    "ARC105": Example(3, fixed="extends: resnet18\nname: resnet18_relu6\nactivation: relu\n"),
    "ARC106": Example(3, fixed="extends: resnet18\nname: resnet18_nan\nhead: {dropout: 0.2}\n"),
    "ARC107": Example(3, fixed="extends: resnet18\nname: resnet18_plugin\n"
                               "stages: {block: {type: basic}}\n"),
    "ARC108": Example(3, fixed="extends: resnet18\nname: resnet18_shadow\n"),
    "ARC110": Example(3, fixed="extends: resnet18\nname: resnet18_short\n"
                               "stages: {depths: [2, 2, 2], widths: [64, 128, 256], "
                               "strides: [1, 2, 2]}\n"),
    "ARC111": Example(3, fixed="extends: resnet18\nname: resnet18_both\n"
                               "stages: {per_stage: [{depth: 2, width: 64}], depths: null, "
                               "widths: null, strides: null}\n"),
    "ARC112": Example(3, fixed="extends: resnet18\nname: resnet18_widthless\n"
                               "stages: {widths: [32, 64, 128, 256]}\n"),
    "ARC113": Example(5, fixed="spec_version: 1\nname: odd_channels\nstages:\n"
                               "  block: {type: bottleneck}\n"
                               "  per_stage: [{depth: 1, out_channels: 256}]\n"),
    "ARC114": Example(3, fixed="extends: resnext50_32x4d\nname: resnext50_32x2d\n"
                               "stages: {block: {width_per_group: 2}, widths: {base: 32}}\n"),
    "ARC115": Example(3),
    "ARC116": Example(3, fixed="extends: resnet50\nname: resnet50_x025\n"
                               "stages: {width_multiplier: 0.25}\n"),
    "ARC117": Example(3, fixed="extends: resnet18\nname: resnet18_vast\n"
                               "stages: {widths: {base: 2048}}\n"),
    "ARC118": Example(3, fixed="extends: resnet18\nname: resnet18_3x3\n"
                               "stem: {conv: {kernel: 3, padding: 1}}\n"),
    "ARC119": Example(3, fixed="extends: resnet20\nname: resnet20_padded\n"
                               "stem: {conv: {padding: 1}}\n"),
    "ARC150": Example(1, fixed="extends: resnet50\nname: resnet50_typo\n"),
    "ARC151": Example(1),
    "ARC152": Example(1, ("validate", FILE, "--max-extends", "1"),
                      note="The default bound is 8 files; `--max-extends 1` lowers it so that "
                           "one file shows the diagnostic."),
    "ARC153": Example(1),
    "ARC154": Example(1, fixed="extends: resnet18\nname: resnet18_outside\n"),
    "ARC155": Example(1),
    "ARC156": Example(2, ("sweep", FILE, "--grid", "head.classes=10,100", "--write", "variants"),
                      note="`--write` names each variant file after the base's name; this one "
                           "would climb out of the folder, so the sweep is refused before it "
                           "starts."),
    "ARC160": Example(4, fixed=simple_block("expr")),
    "ARC161": Example(4, fixed=simple_block("name")),
    "ARC162": Example(4, fixed=simple_block("zero")),
    "ARC163": Example(4, fixed=simple_block("big")),
    "ARC164": Example(4, fixed=simple_block("none")),
    "ARC165": Example(4, fixed=simple_block("wide")),
    "ARC166": Example(4, fixed=simple_block("twice")),
    "ARC167": Example(4, fixed=simple_block("typo")),
    "ARC168": Example(4, fixed=simple_block("outless")),
    "ARC170": Example(3, block=Raising, note=_BLOCK_NOTE.format(code="ARC170")),
    "ARC171": Example(3, block=Twice, note=_BLOCK_NOTE.format(code="ARC171")),
    "ARC201": Example(4, fixed="extends: resnet18\nname: resnet18_32px\n"
                               "input: {height: 32, width: 32}\n"),
    "ARC202": Example(3, block=Miswired, note=_BLOCK_NOTE.format(code="ARC202")),
    "ARC203": Example(3, block=Grouped3, note=_BLOCK_NOTE.format(code="ARC203")),
    "ARC208": Example(5, fixed="extends: resnet18\nname: resnet18_gn\nnorm: group\n"
                               "input: {height: 32, width: 32}\n"),
    "ARC204": Example(3, fixed="extends: resnet18\nname: resnet18_padded_pool\n"
                               "stem: {pool: {padding: 1}}\n"),
    "ARC205": Example(3, block=Flattening, note=_BLOCK_NOTE.format(code="ARC205")),
    "ARC206": Example(3, fixed="extends: resnet20\nname: resnet20_shrinking\n"
                               "stages: {widths: [64, 32, 16], shortcut: B}\n"
                               "rules: {double_on_halve: off, complexity_preserved: off}\n"),
    "ARC207": Example(3, fixed="extends: resnet18\nname: resnet18_identity\n"
                               "stages: {shortcut: B}\n"),
    "ARC301": Example(3, fixed="extends: resnet18\nname: resnet18_wide_early\n"
                               "stages: {widths: [64, 64, 128, 256], strides: [1, 1, 2, 2]}\n"),
    "ARC302": Example(3, fixed="extends: resnet50\nname: resnet50_narrow\n"
                               "stages: {widths: [64, 128, 256, 512]}\n"),
    "ARC303": Example(3, also=("ARC207",),
                      fixed="extends: resnet20\nname: resnet20_identity\n"
                            "stages: {shortcut: A}\n"),
    "ARC304": Example(4, fixed="extends: resnet20\nname: resnet20_32px\n"
                               "input: {height: 32, width: 32}\nstages: {strides: [1, 2, 2]}\n"),
    "ARC305": Example(3, fixed="extends: resnet18\nname: resnet18_flat\n"
                               "stages: {widths: {base: 64, rule: double}}\n"),
    "ARC306": Example(2, fixed="extends: resnet18\nname: resnet22\n"
                               "stages: {depths: [2, 3, 3, 2]}\n"),
    "ARC307": Example(3, fixed="extends: resnet50\nname: resnet50_v1_warned\n"
                               "stages: {block: {downsample_at: 1x1}, strides: [1, 2, 2, 2]}\n"
                               "rules: {stride_within_kernel: off}\n"),
    "ARC308": Example(3, fixed="extends: resnet34\nname: resnet34_biased\nconv_bias: false\n",
                      note="The note does not fail validation: the net is correct, and exit 0."),
    "ARC401": Example(3, ("build", FILE, "-o", "out/ARC401.pt", "--max-memory", "1T"),
                      note="Refused before torch is imported. `--max-memory 1T` pins the memory "
                           "bound (ARC402), which otherwise follows the memory this machine has "
                           "available, so that the output does not depend on the machine."),
    "ARC402": Example(3, ("build", FILE, "-o", "out/ARC402.pt", "--max-memory", "1G"),
                      note="Refused before torch is imported. By default the bound is the memory "
                           "this machine has available; `--max-memory 1G` stands in for a "
                           "machine with 1 GB free, so that the output does not depend on the "
                           "machine."),
    "ARC403": Example(4, ("build", FILE, "-o", "out/ARC403.pt"),
                      note="Refused before torch is imported."),
    "ARC501": Example(None, ("build", "resnet20", "-o", "out/resnet20.pt", "--weights",
                             "resnet20.pth"), files=(("resnet20.pth", ""),),
                      shell=": > resnet20.pth",
                      note="An interrupted download leaves an empty file behind; the example makes "
                           "one, and builds ResNet-20 with it as the weights. An unreadable file "
                           "is an I/O problem, so the exit code is 2, as for a usage error.",
                      torch=True),
    "ARC502": Example(3, ("build", FILE, "-o", "out/resnet20_cifar100.pt", "--weights",
                          "resnet20.pt"), before=(("build", "resnet20", "-o", "resnet20.pt"),),
                      note="The first command saves ResNet-20's weights, made for 10 classes; the "
                           "spec asks for 100, so the classifier's weights do not fit it.",
                      torch=True),
    "ARC404": Example(2, ("validate", FILE, "--max-nodes", "300"),
                      note="The default bound, 200,000 nodes, is above what the block bound "
                           "(ARC115) lets a spec make, so the example lowers it."),
}


@dataclass(frozen=True)
class Step:
    """One `archc` command of an example: arguments, exit code and output as printed."""

    args: tuple[str, ...]
    rc: int
    output: str  # stderr, then stdout; paths relative to the repo root


@dataclass(frozen=True)
class Run:
    """An example's commands: the steps that prepare it, then the one that shows the code."""

    steps: tuple[Step, ...]

    @property
    def args(self) -> tuple[str, ...]:
        """The arguments of the command that shows the code."""
        return self.steps[-1].args

    @property
    def rc(self) -> int:
        """Its exit code."""
        return self.steps[-1].rc

    @property
    def output(self) -> str:
        """Its output, as printed."""
        return self.steps[-1].output


@dataclass(frozen=True)
class Found:
    """One diagnostic header in a run's output."""

    file: str | None
    line: int | None
    severity: str
    code: str


_HEADER = re.compile(r"^(?:(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): )?"
                     r"(?P<severity>error|warning|note)\[(?P<code>ARC\d{3})\]", re.MULTILINE)


def found(output: str) -> list[Found]:
    """Every diagnostic header (`FILE:LINE:COL: severity[CODE]`) in printed output."""
    return [Found(m["file"], int(m["line"]) if m["line"] else None, m["severity"], m["code"])
            for m in _HEADER.finditer(output)]


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """Run in `folder`, then return to the folder we came from."""
    here = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)


@contextlib.contextmanager
def registered(block: type[BlockType[Any]] | None) -> Iterator[None]:
    """Register a user block type for the length of one run, and always take it away again."""
    if block is None:
        yield
        return
    archcompiler.register_block(block)
    try:
        yield
    finally:
        archcompiler.unregister_block(block().name)


def _relative(text: str, *folders: Path) -> str:
    """Show paths relative to the repo root (the zoo as archcompiler/specs/), whatever machine ran this."""
    replacements = [(str(specs_dir()), "archcompiler/specs"), *((str(f), ".") for f in folders)]
    for old, new in replacements:
        text = text.replace(old + os.sep, "" if new == "." else new + "/").replace(old, new)
    return text


def _step(args: tuple[str, ...], folder: Path, block: type[BlockType[Any]] | None) -> Step:
    """Run `archc ARGS` in this process, in `folder`, and capture what it prints."""
    out, err = io.StringIO(), io.StringIO()
    with _inside(folder), registered(block), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            rc = main(list(args))
        except SystemExit as exc:  # argparse refuses a command line by exiting
            rc = exc.code if isinstance(exc.code, int) else 1
    return Step(args, rc, _relative(err.getvalue() + out.getvalue(), folder, ROOT))


def example_args(code: str, example: Example) -> tuple[str, ...]:
    """The example's `archc` arguments with its file filled in."""
    return tuple(a.replace(FILE, f"{EXAMPLE_DIR}/{code}.yaml") for a in example.args)


def _run(code: str, spec: bytes | None) -> Run:
    """Run a code's example with `spec` as its file, in a scratch folder laid out like the repo.

    The scratch folder holds the file at its repo path and whatever the example makes, so the
    commands read and print the same relative paths and nothing is written into the repo.
    """
    example = EXAMPLES[code]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch).resolve()
        (folder / "out").mkdir()  # the examples write into out/; archc creates no folders
        if spec is not None:
            (folder / EXAMPLE_DIR).mkdir(parents=True)
            (folder / EXAMPLE_DIR / f"{code}.yaml").write_bytes(spec)
        for name, text in example.files:
            (folder / name).write_text(text, encoding="utf-8")
        steps = [*example.before, example_args(code, example)]
        return Run(tuple(_step(args, folder, example.block) for args in steps))


@functools.cache
def run_example(code: str) -> Run:
    """Run one code's example (cached: the generator and the tests share the runs)."""
    path = ROOT / EXAMPLE_DIR / f"{code}.yaml"
    return _run(code, path.read_bytes() if EXAMPLES[code].has_file else None)


def run_fixed(code: str) -> Run:
    """Run the fixed version of a code's example the way the example runs."""
    fixed = EXAMPLES[code].fixed
    assert fixed is not None, f"{code} has no fixed version"
    return _run(code, fixed.encode("utf-8"))


def rule_key(code: str) -> str | None:
    """The `rules:` key of a design rule, or None for a code that is not one."""
    return next((k for k in RULES.names() if RULES.get(k).code == code), None)


def default_severity(entry: Code) -> str:
    """The severity a code has unless a spec says otherwise: error or warning."""
    if entry.severity is not None:
        return entry.severity.value
    key = rule_key(entry.code)
    assert key is not None, f"{entry.code} has no severity and is no design rule"
    return {"error": "error", "warn": "warning", "note": "note"}[str(Rules.model_fields[key].default)]


def severity_text(entry: Code) -> str:
    """The default severity, and for a design rule how a spec switches it."""
    key = rule_key(entry.code)
    if entry.severity is not None or key is None:
        return default_severity(entry)
    return f"{default_severity(entry)} by default; switch it with `rules: {{{key}: error|warn|note|off}}`"


def _fence(text: str, lang: str = "") -> list[str]:
    """A fenced block, long enough that the text cannot close it."""
    ticks = "`" * max([3, *(len(m) + 1 for m in re.findall(r"`+", text))])
    return [f"{ticks}{lang}", text.rstrip("\n"), ticks, ""]


def _shown_source(code: str) -> str:
    """The example file as text; bytes that are not UTF-8 are shown as \\xNN."""
    data = (ROOT / EXAMPLE_DIR / f"{code}.yaml").read_bytes()
    return data.decode("utf-8", errors="backslashreplace")


def _block_source(block: type[BlockType[Any]]) -> str:
    """The user block type as written above, with the imports it needs and its registration."""
    body = inspect.getsource(block.config).rstrip() + "\n\n\n" + inspect.getsource(block).rstrip()
    pydantic = "Field, field_validator" if "@field_validator" in body else "Field"
    imports = ["from typing import Literal", "", f"from pydantic import {pydantic}", "",
               "import archcompiler", "from archcompiler import BlockBuilder, BlockConfig, BlockType"]
    if "Flatten(" in body:
        imports.append("from archcompiler.ir.ops import Flatten")
    return "\n".join(imports) + "\n\n\n" + body + \
        f"\n\n\narchcompiler.register_block({block.__name__})"


def _command(example: Example, run: Run) -> list[str]:
    """How the example is run, its exact output and its exit code."""
    if example.block is None:
        shell = f"$ {example.shell}\n" if example.shell else ""
        shown = "".join(f"$ archc {' '.join(s.args)}\n{s.output}" for s in run.steps)
        return [*_fence(shell + shown, "console"), f"Exit code {run.rc}.", ""]
    call = ", ".join(f'"{a}"' for a in run.args)
    return [example.note, "", *_fence(_block_source(example.block), "python"),
            "Run in that process:", "",
            *_fence(f"from archcompiler.cli import main\n\nmain([{call}])  # returns {run.rc}",
                    "python"),
            "Output:", "", *_fence(run.output, "text")]


def section(entry: Code) -> list[str]:
    """The docs section of one code: severity, checks, why, example, command, output, fix."""
    code, example = entry.code, EXAMPLES[entry.code]
    out = [f"### {code}", "", f"**{entry.title[0].upper()}{entry.title[1:]}.**", "",
           f"- Severity: {severity_text(entry)}.", f"- Why: {entry.why}", ""]
    target = example.target(code)
    if not example.has_file:
        out += [f"**Example.** {example.note}", ""]
    else:
        out += [f"**Example**, `{target}` (the diagnostic points at line {example.line}):", "",
                *_fence(_shown_source(code), "yaml")]
        if example.note and example.block is None:
            out += [example.note, ""]
    out += _command(example, run_example(code))
    out += [f"**Fix.** {entry.fix}" + (" Fixed:" if example.fixed else ""), ""]
    if example.fixed:
        out += _fence(example.fixed, "yaml")
    return out


_INTRO = f"""\
# Diagnostic codes, with examples

<!-- Generated by scripts/gen_rules.py from the code and rule registries; do not edit by hand.
     Regenerate with: {REGENERATE} -->

Every problem archcompiler reports has a stable code. This page shows each one: what it checks,
why (with the section of the paper it comes from, where one applies), a minimal spec that
triggers it, the exact command and the exact output, and the fix. Every example lives in
[docs/rules/](rules/) and is run by the tests, which also check that this page is current.
[diagnostics.md](diagnostics.md) explains the output format and the exit codes.

## Severities

- **error**: the spec is invalid. `archc validate` exits with 1 (2 for ARC012, a usage error),
  and `archc build` refuses to build it.
- **warning**: reported, but the spec is valid: `archc validate` prints `ok` and exits with 0.

Each code has the severity its section gives, except the design rules (ARC3xx): they are
errors or warnings by default, and each spec sets each one to `error`, `warn` or `off` under
`rules:`, by the key each section names:

```yaml
extends: resnet50
name: resnet50_narrow
stages: {{widths: [64, 128, 256, 256]}}
rules: {{double_on_halve: warn, complexity_preserved: off}}
```

The papers cited: He et al. 2015, *Deep Residual Learning for Image Recognition*; He et al.
2016, *Identity Mappings in Deep Residual Networks*; He et al. 2019, *Bag of Tricks for Image
Classification with Convolutional Neural Networks*.

To add a code: register it in `archcompiler/core/codes.py` (what it checks, why, the fix), give
it an example in `EXAMPLES` of `tests/support/rule_catalogue.py` (with its spec as `docs/rules/ARCnnn.yaml`),
and run `{REGENERATE}`.
`tests/project/test_rules_catalogue.py` names any code that lacks either.
"""


def render() -> str:
    """The whole of docs/rules.md."""
    entries = [CODES.get(c) for c in sorted(CODES.names()) if not CODES.get(c).reserved]
    out = [_INTRO, "| code | severity | checks |", "|---|---|---|"]
    for e in entries:
        key = rule_key(e.code) if e.severity is None else None
        severity = default_severity(e) + (f" (rule `{key}`)" if key else "")
        out.append(f"| [{e.code}](#{e.code.lower()}) | {severity} | {e.title} |")
    reserved = [CODES.get(c) for c in sorted(CODES.names()) if CODES.get(c).reserved]
    if reserved:
        out += ["", "Reserved, not reported yet: " +
                "; ".join(f"{e.code} ({e.title})" for e in reserved) + "."]
    out.append("")
    heading = None
    for e in entries:
        if group(e.code) != heading:
            heading = group(e.code)
            out += [f"## {heading}", ""]
        out += section(e)
    return "\n".join(out).rstrip("\n") + "\n"


def main_() -> int:
    """Write docs/rules.md; with --check, only say whether it is current."""
    text = render()
    if "--check" in sys.argv[1:]:
        current = OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == text
        print("docs/rules.md is current" if current else f"docs/rules.md is stale: {REGENERATE}")
        return 0 if current else 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main_())

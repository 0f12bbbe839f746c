"""The argument parser of `archc`: every command, option and help text in one place."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ..explore.sample import SPACES
from .common import BOUNDS, seconds_value, seed_value, size_value
from .term import COLOR_MODES

Handler = Callable[[argparse.Namespace], int]

INPUT_HELP = ("input shape CxHxW, e.g. 3x224x224 (channels first: a last number of at most 4 "
              "after a first above 16, as in 224x224x3, is refused as channels-last)")
SET_HELP = ("override one field of the spec, e.g. --set stages.depths=[3,4,9,3] or "
            "--set head.classes=10; the value is YAML; repeatable")
DEPTHS = ("stage", "block", "layer")


def _global_parent() -> argparse.ArgumentParser:
    """The options every command takes, before or after its name."""
    # SUPPRESS keeps a subcommand from resetting a `--debug` given before it.
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback of an internal error (or set ARCHC_DEBUG=1)")
    parent.add_argument("--color", "--colour", choices=COLOR_MODES, default=argparse.SUPPRESS,
                        help="colour the diagnostics: auto (the default: on a terminal, unless "
                             "NO_COLOR is set or TERM=dumb; FORCE_COLOR forces it), always or "
                             "never")
    return parent


def _spec_options(p: argparse.ArgumentParser, bounds: bool = True) -> None:
    p.add_argument("--input", metavar="CxHxW", help=INPUT_HELP)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument("--allow-outside", action="store_true",
                   help="let `extends` reach files outside the spec's folder")
    if bounds:
        group = p.add_argument_group("resource bounds (checked before anything is allocated)")
        for key, (parse, what) in BOUNDS.items():
            group.add_argument(f"--{key.replace('_', '-')}", type=parse, metavar="N", help=what)


def build_parser(handlers: dict[str, Handler], version: str) -> argparse.ArgumentParser:
    """Return the argument parser of `archc`; `handlers` maps each command to its function."""
    debug = _global_parent()
    parser = argparse.ArgumentParser(
        prog="archc", parents=[debug],
        description="A declarative architecture spec compiler for residual networks.",
        epilog="exit codes: 0 ok, 1 the spec has errors, 2 usage or I/O error, 3 internal error, "
               "4 rendering needs graphviz `dot`, 5 `dot` ran past --dot-timeout, 130 "
               "interrupted")
    parser.add_argument("--version", action="version", version=f"archc {version}")
    parser.add_argument("--plugin", action="append", metavar="MODULE",
                        help="import a Python module that registers block types (repeatable; "
                             "also ARCHC_PLUGINS=a,b and the archcompiler.blocks entry points). "
                             "This runs that module's code: name only modules you trust")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_: str, **kwargs: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, parents=[debug], **kwargs)
        p.set_defaults(func=handlers[name])
        return p

    def spec_arg(p: argparse.ArgumentParser, dest: str = "spec", **kwargs: Any) -> None:
        p.add_argument(dest, metavar=kwargs.pop("metavar", "SPEC"),
                       help=kwargs.pop("help", "a YAML path or a built-in name"), **kwargs)

    p = command("validate", "check specs: schema, variants, shapes and design rules")
    spec_arg(p, "specs", nargs="+", help="YAML paths or built-in names")
    _spec_options(p)
    p.add_argument("--json", action="store_true",
                   help="print JSON (a list: each spec's validity, params, MACs, diagnostics)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="--format json is --json (kept for the scripts that use it)")
    p = command("summary", "print shapes, parameters and MACs")
    spec_arg(p)
    _spec_options(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--depth", choices=DEPTHS, default=None,
                   help="rows per stage, block (the table's default) or layer; with --json, "
                        "the rows at that depth and the totals (without: every IR node)")
    p = command("explain", "explain each layer: shapes, kernel, stride, padding and the worked "
                           "arithmetic of its size, params and MACs; each shortcut; each rule")
    spec_arg(p)
    p.add_argument("node", metavar="NODE", nargs="?", default=None,
                   help="a layer (conv1, layer2.0.conv1), block (layer2.0) or stage (layer2); "
                        "default: every layer")
    _spec_options(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p = command("table", "print the paper's Table 1 for specs side by side: stage output sizes, "
                         "bracketed layers x blocks, FLOPs (multiply-adds)")
    spec_arg(p, "specs", nargs="+", help="YAML paths or built-in names, one column each")
    _spec_options(p)
    p.add_argument("--format", choices=("text", "markdown", "latex"), default="text")
    p.add_argument("--json", action="store_true",
                   help="print JSON: each row's cells, one per spec, and FLOPs as integers")
    p = command("compare", "check your own nn.Module against a spec, by structure: the first "
                           "divergence in the spec's words, or weights mapped and outputs "
                           "compared", epilog="MODULE runs your Python file, as --plugin does")
    p.add_argument("module", metavar="MODULE", help="path/to/file.py:ClassName")
    spec_arg(p)
    p.add_argument("--args", metavar="YAML", help="positional constructor arguments, e.g. [10]")
    p.add_argument("--kwargs", metavar="YAML", help="keyword arguments, e.g. {num_classes: 10}")
    _spec_options(p)
    p.add_argument("-o", "--output", metavar="FILE.pth",
                   help="write the module's weights under the spec's names")
    p.add_argument("--weights", metavar="FILE.pth",
                   help="the module's own saved state_dict: loaded into MODULE, mapped onto the "
                        "spec by structure, and its keys reported as differing only in names")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p = command("build", "compile to a torch module and save it")
    spec_arg(p)
    _spec_options(p)
    p.add_argument("-o", "--output", required=True,
                   help="file to write: .pt/.pth (state_dict), .pt2 (exported) or .onnx")
    p.add_argument("--format", choices=("state_dict", "exported", "onnx"), default=None,
                   help="what to write (default: the one -o's suffix names; they must agree)")
    p.add_argument("--weights", metavar="FILE.pth",
                   help="load these weights (a state_dict, or a checkpoint with 'state_dict' or "
                        "'model') strictly before --check and saving")
    p.add_argument("--check", action="store_true",
                   help="run a forward pass and compare every shape with the analysis")
    p.add_argument("--seed", type=seed_value, default=0,
                   help="initialisation seed, 0 to 2**63-1 (default 0)")
    p = command("render", "draw the architecture diagram (.svg, .png, .pdf, .dot, or .html: an "
                          "interactive page); several specs are drawn side by side, aligned by "
                          "map size, as the paper's Figure 3")
    spec_arg(p, nargs="+", help="a YAML path or a built-in name; several for a side-by-side "
                                "figure (archc render vgg19 plain34 resnet34 -o figure3.svg)")
    _spec_options(p)
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument("--detail", choices=DEPTHS, default="block")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB")
    p.add_argument("--max-drawn", type=size_value, metavar="N", default=None,
                   help="boxes an image may draw before it is drawn at stage detail (default "
                        "5000; graphviz's layout time grows faster than the box count)")
    p.add_argument("--dot-timeout", type=seconds_value, metavar="SECONDS", default=None,
                   help="stop graphviz `dot` after this long, with exit code 5 (default 60)")
    p.add_argument("--style", choices=("default", "paper"), default="default",
                   help="paper: grayscale, compact, one column wide")
    p.add_argument("--watch", action="store_true",
                   help="redraw on every save of the spec or a file it reads, and serve a live "
                        "page on 127.0.0.1 (needs `pip install archcompiler[watch]`)")
    p.add_argument("--port", type=int, default=8765, help="port of the --watch server (0: any)")
    p = command("diff", "compare two specs stage by stage: shapes, params, MACs, fields, rules")
    spec_arg(p, "spec_a", metavar="A")
    spec_arg(p, "spec_b", metavar="B")
    _spec_options(p)
    p.add_argument("--set-a", action="append", metavar="KEY=VALUE", help="like --set, for A only")
    p.add_argument("--set-b", action="append", metavar="KEY=VALUE",
                   help="like --set, for B only: `archc diff resnet50 resnet50 --set-b K=V` "
                        "shows what an override changes")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    _sweep_parser(command)
    _sample_parser(command)
    p = command("list", "list the built-in specs: params, MACs, family, description")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p = command("schema", "print the JSON Schema of the spec language")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p = command("completion", "print a shell completion script (needs the `completion` extra)",
                epilog="bash: `eval \"$(archc completion bash)\"` in ~/.bashrc; zsh: "
                       "`archc completion zsh > ~/.zfunc/_archc`")
    p.add_argument("shell", choices=("bash", "zsh"))
    p = command("lsp", "run the language server over stdio (needs the `lsp` extra)",
                epilog="editor setup: docs/editors.md; settings: archc.rules, archc.input, "
                       "archc.plugins")
    p.add_argument("--log", metavar="FILE", help="write the server's log to FILE")
    return parser


def _sweep_parser(command: Callable[..., argparse.ArgumentParser]) -> None:
    p = command(
        "sweep", "analyse every combination of a grid of overrides, in-process",
        epilog="sweep only analyses, so it takes no resource bounds: its --max-params and "
               "--max-macs are budget filters. Exit 0 with rows, 1 when no variant is left, "
               "2 for a malformed grid.")
    p.add_argument("base", metavar="BASE", help="the spec to vary: path or name")
    p.add_argument("--grid", action="append", metavar="KEY=V1,V2,...", default=[],
                   help="values of one field, YAML each, split on top-level commas: "
                        "--grid stages.depths=[2,2,2,2],[3,4,6,3]; repeatable (the product)")
    p.add_argument("--input", metavar="CxHxW", help=INPUT_HELP)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument("--allow-outside", action="store_true",
                   help="let `extends` reach files outside the spec's folder")
    budget = p.add_argument_group("filters")
    budget.add_argument("--max-params", type=size_value, metavar="N",
                        help="keep variants with at most N params (e.g. 30M)")
    budget.add_argument("--max-macs", type=size_value, metavar="N",
                        help="keep variants with at most N MACs (e.g. 4G)")
    budget.add_argument("--valid-only", action="store_true",
                        help="keep only variants without errors")
    budget.add_argument("--depth", type=int, metavar="N",
                        help="keep variants with N weighted layers (stem conv, main-path convs, "
                             "fc), so the Pareto front compares the ways to spend one depth")
    goal = p.add_argument_group("objectives").add_mutually_exclusive_group()
    goal.add_argument("--maximize", metavar="Q",
                      help="print the kept variants best first by Q: params, macs, depth, width "
                           "(last stage's channels) or stageN, e.g. --max-params 1M "
                           "--maximize depth")
    goal.add_argument("--minimize", metavar="Q", help="as --maximize, smallest first")
    p.add_argument("--pareto", metavar="A,B",
                   help="the pair the Pareto front is over, each min (default) or max, e.g. "
                        "depth:max,params (default: the objective and params, else params,macs)")
    p.add_argument("--jobs", type=int, metavar="N", default=1,
                   help="analyse the variants in N processes")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--max-work", type=size_value, metavar="N",
                   help="refuse a sweep that would analyse more than N blocks in all (variants x "
                        "blocks; default 6M, about ten minutes), before it starts")
    p.add_argument("--write", metavar="DIR",
                   help="write each kept variant as a YAML file that extends BASE")
    p.add_argument("--plot", metavar="FILE.png|svg",
                   help="plot MACs against params with the Pareto front and the zoo (needs the "
                        "`plot` extra: matplotlib)")


def _sample_parser(command: Callable[..., argparse.ArgumentParser]) -> None:
    p = command(
        "sample", "draw random models from a design space, seeded, under constraints",
        epilog="Exit 0 with --count models, 1 when fewer pass the constraints, 2 for a malformed "
               "space. Example (RegNetX-400MF): archc sample regnetx_002 --space regnetx "
               "--min-macs 380M --max-macs 420M --count 10000 --seed 0 --plot edf.png")
    p.add_argument("base", metavar="BASE", help="the spec whose fields are drawn: path or name")
    p.add_argument("--dist", action="append", metavar="KEY=KIND(LO,HI[,STEP])",
                   help="a field's distribution: uniform, loguniform or pow2, e.g. "
                        "stages.widths.w0=loguniform(8,256,8); repeatable")
    p.add_argument("--space", choices=sorted(SPACES),
                   help="a preset space: regnetx is pycls's (depth, w0, wa, wm, group width)")
    p.add_argument("--count", type=int, default=100, metavar="N", help="models to keep")
    p.add_argument("--seed", type=int, default=0, help="the generator's seed (default 0)")
    p.add_argument("--max-draws", type=int, metavar="N",
                   help="give up after N draws (default 200 x --count)")
    p.add_argument("--input", metavar="CxHxW", help=INPUT_HELP)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument("--allow-outside", action="store_true",
                   help="let `extends` reach files outside the spec's folder")
    c = p.add_argument_group("constraints")
    c.add_argument("--min-params", type=size_value, metavar="N")
    c.add_argument("--max-params", type=size_value, metavar="N")
    c.add_argument("--min-macs", type=size_value, metavar="N", help="e.g. 380M")
    c.add_argument("--max-macs", type=size_value, metavar="N", help="e.g. 420M")
    c.add_argument("--valid-only", action="store_true", help="keep models without errors")
    c.add_argument("--no-warnings", action="store_true", help="keep models without warnings")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="analyse in N processes")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--write", metavar="DIR", help="write each kept model as a spec file")
    p.add_argument("--plot", metavar="FILE.png|svg",
                   help="plot the empirical CDFs of MACs and params (needs matplotlib)")

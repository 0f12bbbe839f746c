"""`archc sweep --write DIR`: the variant files, planned and checked before the sweep starts.

Each file is named as its variant is (explore/objectives.py: the base's validated name, with its
counted depth, and the values that vary), lands inside DIR and replaces no input of the run
(core/outputs.py is the policy).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core import diagnostics as dg
from ..core.fileio import atomic_write_bytes
from ..core.outputs import OutputError, check_write_folder, input_paths, inside, shown, unsafe_name
from ..explore import sweep as backend
from ..explore.objectives import DEPTH_IN_NAME
from ..language.load import Resolution, find_spec, resolve
from ..language.sources import apply_overrides, parse_overrides
from ..language.variants import LoadContext, load_chain
from ..language.yamlload import LNode, to_plain
from ..language.zoo import builtin_path
from .codes import EXIT_SPEC
from .common import STDIN, UsageError, print_diags

Grid = list[tuple[str, list[str]]]  # key -> the YAML text of each value


@dataclass(frozen=True)
class WritePlan:
    """What `--write` will write, checked before the sweep.

    The folder, the file stem, the width of the variant number, and the base's tree that the
    variants are written against.
    """

    folder: Path
    stem: str
    digits: int
    base_tree: LNode
    inputs: tuple[Path, ...] = ()  # the run's input files, which no variant file may replace


def check_write(args: argparse.Namespace) -> None:
    """Check `--write DIR` before anything else: a folder that is, or can be, made there."""
    try:
        check_write_folder(Path(args.write), "--write")
    except OutputError as exc:
        raise UsageError(str(exc)) from None
    if args.base == STDIN or find_spec(args.base) is None:
        raise UsageError("--write needs BASE to be a file or a built-in name, for `extends` "
                         "(a spec from standard input has no path to extend: save it first)")


def _extends(base: str, folder: Path) -> str:
    """How a file in `folder` names BASE: a built-in by name, a file by relative path."""
    path = Path(base)
    if not path.is_file() and builtin_path(base) is not None:
        return base
    return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()


def plan_write(args: argparse.Namespace, grid: Grid, first: Resolution) -> WritePlan | int:
    """Check every file `--write` would write, before the sweep; an exit code when refused.

    The stem is a validated, safe name, the files land inside the folder, and no input of the
    run is among them.
    """
    folder = Path(args.write)
    found = find_spec(args.base)
    assert found is not None  # checked by _check_write
    ctx = LoadContext(root_dir=found[0].resolve().parent, allow_outside=args.allow_outside)
    base_tree = load_chain(found[0], found[1], ctx)
    if base_tree is None:
        print_diags(ctx.diags, ctx.sources)
        return EXIT_SPEC
    sets = list(args.set or ())
    res = resolve(args.base, allow_outside=args.allow_outside, overrides=sets or None)
    name_node = base_tree.get("name")
    # File names come from validated names only: the base's own, once it validates.
    stem = res.spec.name if res.spec is not None else (
        name_node.value if name_node is not None and isinstance(name_node.value, str) else "")
    why = unsafe_name(stem) if isinstance(stem, str) else "the name is not a string"
    if why is not None:
        span = name_node.span if name_node is not None else None
        print_diags([dg.error("ARC156", f"--write names each file after the base's name, but {why}",
                              span, hint="give the base a name of letters, digits, '_', '.' and "
                              "'-', e.g. `name: my_net`")], {**ctx.sources, **res.sources})
        return EXIT_SPEC
    variants = 1
    for _, values in grid:
        variants *= len(values)
    digits = len(str(variants))
    inputs = []
    # Variant files are named `STEM-...` (with the counted depth in STEM where it names one):
    # an input so named in the folder could be replaced, so it is refused before any work.
    found_depth = DEPTH_IN_NAME.search(stem)
    like = re.compile((re.escape(stem[:found_depth.start(1)]) + r"\d+"
                       + re.escape(stem[found_depth.end(1):]) if found_depth
                       else re.escape(stem)) + r"-.+\.yaml")
    for source in input_paths([*first.sources, *ctx.sources, *res.sources]):
        try:
            if source.resolve().parent != folder.resolve():
                continue
        except OSError:
            continue
        inputs.append(source.resolve())
        if like.fullmatch(source.name):
            raise UsageError(f"--write {shown(folder)}: a variant file (named {stem}-...) would "
                             f"replace {shown(source)}, an input of this sweep; write to "
                             "another folder")
    return WritePlan(folder, stem, digits, base_tree, tuple(inputs))


def check_names(kept: list[backend.SweepRow], plan: WritePlan) -> None:
    """Refuse, before writing any, a variant file that would replace an input of the sweep."""
    for row in kept:
        path = (plan.folder / f"{row.name}.yaml").resolve()
        if path in plan.inputs:
            raise UsageError(f"--write {shown(plan.folder)}: the variant file {path.name} would "
                             "replace an input of this sweep; write to another folder")


def write_variants(args: argparse.Namespace, kept: list[backend.SweepRow],
           rows: list[backend.SweepRow], plan: WritePlan) -> None:
    """Write each kept variant as a spec file that extends BASE with its overrides."""
    folder = plan.folder
    folder.mkdir(exist_ok=True)
    base_plain = to_plain(plan.base_tree)
    extends = _extends(args.base, folder)
    check_names(kept, plan)
    for row in kept:
        overrides = list(args.set or ()) + [f"{k}={backend.flow(v)}" for k, v in row.values.items()]
        parsed, _ = parse_overrides(overrides, {})
        tree, _ = apply_overrides(plan.base_tree, parsed)
        changes = backend.variant_mapping(base_plain, to_plain(tree))
        name = row.name or f"{plan.stem}-v{row.index:0{plan.digits}d}"
        note = f"archc sweep {args.base}: " + " ".join(overrides)
        text = backend.variant_yaml(extends, name, changes if isinstance(changes, dict) else {},
                                    note)
        atomic_write_bytes(inside(folder, f"{name}.yaml"), text.encode("utf-8"))
    outside = " (they extend a file outside their folder: validate with --allow-outside)" \
        if extends.startswith("../") else ""
    print(f"wrote {len(kept)} variant file{'s' * (len(kept) != 1)} to {shown(folder)}{outside}",
          file=sys.stderr)

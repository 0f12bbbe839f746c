"""Run timm's train.py, unchanged, on archcompiler's specs.

    python -m archcompiler.interop.timm_train [--spec FILE[=NAME]]... TRAIN_PY [ARGS...]

registers every zoo spec with timm as `archc_<name>`, and each `--spec` file as NAME (by default
`archc_<file stem>`), then runs TRAIN_PY as `__main__` with ARGS, as `python TRAIN_PY ARGS`
would: `--model archc_resnet50` (or the file's name) then reaches `timm.create_model`.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

from ..core.diagnostics import SpecError
from .timm import register_spec_file, timm_register

__all__ = ["main"]

USAGE = ("usage: python -m archcompiler.interop.timm_train [--spec FILE[=NAME]]... TRAIN_PY "
         "[ARGS...]")


def _split(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """The --spec values before the script, and the script with its arguments."""
    specs, args = [], list(argv)
    while args and (args[0] == "--spec" or args[0].startswith("--spec=")):
        flag = args.pop(0)
        if flag == "--spec":
            if not args:
                raise SystemExit(f"--spec needs a FILE\n{USAGE}")
            specs.append(args.pop(0))
        else:
            specs.append(flag.removeprefix("--spec="))
    return specs, args


def main(argv: Sequence[str] | None = None) -> None:
    """Register the specs with timm, then run the training script with its own arguments."""
    specs, args = _split(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print((__doc__ or USAGE).strip() if args else USAGE, file=sys.stdout if args else sys.stderr)
        raise SystemExit(0 if args else 2)
    timm_register()
    for spec in specs:
        path, eq, name = spec.rpartition("=")
        if not eq or not name.isidentifier():  # no NAME given: the whole value is the path
            path, name = spec, ""
        try:
            print(f"registered {register_spec_file(path, name or None)} from {path}",
                  file=sys.stderr)
        except (SpecError, FileNotFoundError, ValueError) as exc:
            raise SystemExit(f"--spec {spec}: {exc}") from None
    script = args[0]
    # What `python TRAIN_PY ARGS` would see: its own argv, and its folder first on the path.
    sys.argv = list(args)
    sys.path.insert(0, str(Path(script).resolve().parent))
    # The one script this runs is the one the user names on the command line, as `python` would
    # (allow-listed in tests/project/test_lint_gate.py); nothing a spec holds reaches it.
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()

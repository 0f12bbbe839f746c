"""`archc compare MODULE SPEC`: check the user's own nn.Module against a spec, by structure.

MODULE is `path/to/file.py:ClassName`. Running that file is what the user asked for, as with
`--plugin`; a spec still never imports code.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import Any

import yaml

from ..core.outputs import shown, to_json
from .codes import EXIT_OK, EXIT_SPEC
from .common import UsageError, analyze_one


def _yaml_arg(text: str | None, flag: str, want: type) -> Any:
    if text is None:
        return want()
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{flag} is not YAML: {exc}") from None
    if not isinstance(value, want):
        raise UsageError(f"{flag} wants a YAML {want.__name__}, e.g. "
                         f"{'[10]' if want is list else '{num_classes: 10}'}; got {text!r}")
    return value


def load_user_module(ref: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Import `file.py:ClassName` and construct it (on the meta device first, for the trace)."""
    path_text, sep, cls_name = ref.rpartition(":")
    if not sep or not path_text.endswith(".py") or not cls_name.isidentifier():
        raise UsageError(f"MODULE {ref!r}: write path/to/file.py:ClassName")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"MODULE {shown(path)}: no such file")
    spec = importlib.util.spec_from_file_location(f"archc_user_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"MODULE {shown(path)}: cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)  # the user named this file: running it is the request
    except Exception as exc:
        raise UsageError(f"MODULE {shown(path)}: importing it failed: "
                         f"{type(exc).__name__}: {exc}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise UsageError(f"MODULE {shown(path)} defines no {cls_name!r}")
    return lambda: cls(*args, **kwargs)


def _load_user_weights(user: Any, path: str) -> None:
    """Load the user's own state_dict into the user's module, strictly."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a pickle can fail in many ways; none is a bug here
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"--weights {shown(path)}: cannot be read as a state_dict: "
                         f"{first}") from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    try:
        user.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"--weights {shown(path)} does not load into MODULE itself: "
                         f"{first}") from None


def cmd_compare(args: argparse.Namespace) -> int:
    """Trace the module, match it to the spec, and check the outputs where they agree."""
    try:
        # The backend before torch: its package silences torch's import-time NumPy warning.
        from ..backends.pytorch.compare import compare, map_state_dict
    except ImportError as exc:
        raise UsageError(f"`archc compare` needs torch ({exc})") from exc
    import torch  # loaded by the backend by now
    make = load_user_module(args.module, _yaml_arg(args.args, "--args", list),
                            _yaml_arg(args.kwargs, "--kwargs", dict))
    report, code = analyze_one(args.spec, args)
    if report is None:
        return code
    try:
        with torch.device("meta"):
            model = make()
        result = compare(model, report)
    except Exception as exc:
        raise UsageError(f"MODULE {args.module}: building or tracing it failed: "
                         f"{type(exc).__name__}: {exc}") from None
    # What --json prints: every line of the text, as data; None where the run stopped before.
    found: dict[str, Any] = {"module": args.module, "spec": report.spec.name,
                             "structure_matches": result.divergence is None,
                             "divergence": None, "pairs": None, "weights": None,
                             "missing_keys": None, "mapped_keys": None, "outputs_equal": None,
                             "output": None}
    say = (lambda line: None) if args.json else print
    if result.divergence is not None:
        found["divergence"] = {"where": result.where, "what": result.divergence,
                               "cause": result.cause or None}
        say(f"diverges at {result.where or '?'}: {result.divergence}")
        if result.cause:
            say(f"  likely cause: {result.cause}")
        return _done(args, found, EXIT_SPEC)
    found["pairs"] = len(result.pairs)
    say(f"structure matches {report.spec.name}: {len(result.pairs)} modules paired by "
        "structure")
    from ..api import build_module

    torch.manual_seed(0)
    user = make().eval()
    if args.weights is not None:
        _load_user_weights(user, args.weights)
    ours = build_module(report).eval()
    mapped = map_state_dict(user, result.pairs)
    if args.weights is not None:
        renamed = [(u, s) for u, s in zip(user.state_dict(), mapped) if u != s]
        found["weights"] = {"file": args.weights, "keys": len(user.state_dict()),
                            "renamed": len(renamed)}
        say(f"--weights {shown(args.weights)}: its {len(user.state_dict())} keys load into "
            f"the spec; {len(renamed)} differ only in their names"
            + (f" (e.g. {renamed[0][0]} -> {renamed[0][1]})" if renamed else ""))
    missing = sorted(set(ours.state_dict()) - set(mapped))
    found["missing_keys"] = missing
    if missing:
        say(f"weights: {len(missing)} spec keys have no counterpart, e.g. {missing[0]}")
        return _done(args, found, EXIT_SPEC)
    ours.load_state_dict(mapped, strict=True)
    x = torch.randn(1, *report.input_shape)
    with torch.no_grad():
        equal = torch.equal(user(x), ours(x))
    found.update(mapped_keys=len(mapped), outputs_equal=equal)
    say(f"weights mapped by structure: {len(mapped)} keys; outputs "
        f"{'equal' if equal else 'DIFFER'}")
    if args.output:
        torch.save(mapped, args.output)
        found["output"] = args.output
        say(f"wrote {args.output} (the module's weights under the spec's names)")
    return _done(args, found, EXIT_OK if equal else EXIT_SPEC)


def _done(args: argparse.Namespace, found: dict[str, Any], code: int) -> int:
    """Print the comparison as JSON when asked (the text was printed as it went); return code."""
    if args.json:
        print(to_json(found))
    return code

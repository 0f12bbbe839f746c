"""The server's settings, as a client sends them (`archc.rules`, `archc.input`, `archc.plugins`).

Each is what a command-line flag would be: a rule's severity is `--set rules.KEY=LEVEL`, the
input shape is `--input CxHxW`, a plugin is `--plugin MODULE`. A bad setting is reported once
to the user (window/showMessage) and ignored; it never stops the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..analysis.rules import RULES
from ..cli.common import UsageError, parse_input
from ..core.limits import DEFAULT_LIMITS, Limits

LEVELS = ("error", "warn", "note", "off")


@dataclass(frozen=True)
class Settings:
    """Rule severities, the input shape and plugin modules, as the client configured them."""

    rules: tuple[tuple[str, str], ...] = ()
    input_shape: tuple[int, int, int] | None = None
    plugins: tuple[str, ...] = ()
    limits: Limits = field(default=DEFAULT_LIMITS)

    def overrides(self) -> dict[str, object] | None:
        """The rule severities as overrides, one more `extends` layer (as `--set` is)."""
        return {f"rules.{key}": level for key, level in self.rules} or None


def parse_settings(raw: object) -> tuple[Settings, list[str]]:
    """Read the client's settings object (the `archc` section or the whole); return problems."""
    problems: list[str] = []
    if isinstance(raw, Mapping) and isinstance(raw.get("archc"), Mapping):
        raw = raw["archc"]
    if raw is None:
        return Settings(), problems
    if not isinstance(raw, Mapping):
        return Settings(), [f"archc settings must be an object, not {type(raw).__name__}"]
    rules: list[tuple[str, str]] = []
    given = raw.get("rules") or {}
    if not isinstance(given, Mapping):
        problems.append("archc.rules must map rule names to error, warn, note or off")
        given = {}
    codes = {r.code: r.key for _, r in RULES.items()}
    for key, level in given.items():
        name = codes.get(str(key), str(key))  # "ARC302" and "double_on_halve" alike
        if name not in RULES or level not in LEVELS:
            problems.append(f"archc.rules.{key}: want a rule name ({', '.join(RULES.names())}) "
                            f"set to {', '.join(LEVELS)}")
            continue
        rules.append((name, str(level)))
    shape = None
    if raw.get("input") not in (None, ""):
        try:
            shape = parse_input(str(raw.get("input")))
        except UsageError as exc:
            problems.append(f"archc.input: {exc}")
    plugins = raw.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        problems.append("archc.plugins must be a list of module names")
        plugins = []
    return Settings(tuple(rules), shape, tuple(plugins)), problems

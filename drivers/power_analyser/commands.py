"""SCPI command sets as data: what a model is sent to set up, read and integrate.

A command set (``command_sets/<model>.yaml``) lists the setup commands (with ``{option}``
placeholders filled from the driver options), the one query that returns every figure and
the order of the figures in its answer, the integrator commands and the error-queue query.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

COMMANDS_DIR = Path(__file__).with_name("command_sets")
FIELDS = ("voltage_v", "current_a", "power_w", "energy_wh")


class CommandSetError(ValueError):
    """A command set file that cannot be used; the message names file and field."""


@dataclass(frozen=True)
class CommandSet:
    name: str
    model: str
    source: str
    idn_manufacturers: tuple[str, ...]
    options: dict[str, str]
    clear: str
    setup: tuple[str, ...]
    read: str
    fields: tuple[str, ...]
    reset: str
    start: str
    stop: str
    error_query: str

    def setup_commands(self, options: dict[str, Any]) -> list[str]:
        """Setup commands with the model's default options overridden by ``options``."""
        values = {**self.options, **{k: str(v) for k, v in options.items()}}
        try:
            return [cmd.format(**values) for cmd in self.setup]
        except KeyError as exc:
            raise CommandSetError(f"{self.name}: setup needs option {exc}") from None


def parse_command_set(name: str, data: Any, origin: str = "<memory>") -> CommandSet:
    if not isinstance(data, dict):
        raise CommandSetError(f"{origin}: a command set must be a mapping")

    def need(key: str, kind: type) -> Any:
        value = data.get(key)
        if not isinstance(value, kind) or not value:
            raise CommandSetError(f"{origin}: field {key} must be a non-empty {kind.__name__}")
        return value

    integration = need("integration", dict)
    for key in ("reset", "start", "stop"):
        if not isinstance(integration.get(key), str):
            raise CommandSetError(f"{origin}: field integration.{key} must be a command")
    fields = tuple(need("fields", list))
    if sorted(fields) != sorted(FIELDS):
        raise CommandSetError(f"{origin}: fields must list each of {', '.join(FIELDS)} once")
    return CommandSet(
        name=name,
        model=str(data.get("model", name)),
        source=str(data.get("source", "")),
        idn_manufacturers=tuple(str(m).upper() for m in need("idn_manufacturers", list)),
        options={k: str(v) for k, v in (data.get("options") or {}).items()},
        clear=str(data.get("clear", "*CLS")),
        setup=tuple(str(c) for c in need("setup", list)),
        read=need("read", str),
        fields=fields,
        reset=integration["reset"],
        start=integration["start"],
        stop=integration["stop"],
        error_query=need("error_query", str),
    )


@cache
def load_command_set(name: str) -> CommandSet:
    """The bundled command set ``command_sets/<name>.yaml``."""
    path = COMMANDS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in COMMANDS_DIR.glob("*.yaml")))
        raise CommandSetError(f"no command set {name!r}; bundled: {known}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CommandSetError(f"{path}: not valid YAML: {exc}") from None
    return parse_command_set(name, data, str(path))

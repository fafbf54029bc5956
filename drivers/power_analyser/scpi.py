"""One SCPI power analyser driver, following the model's command set (data).

Address: a VISA resource string, e.g. ``TCPIP0::192.168.1.60::10001::SOCKET`` or
``TCPIP0::192.168.1.60::inst0::INSTR``; it is opened with pyvisa-py
(``ResourceManager('@py')``), imported in :meth:`ScpiPowerAnalyser.open`.

Options: ``timeout_s`` (default 2), plus the command set's own placeholders (for the WT300
``element`` and ``phase_element``). Every setup and integrator command is followed by the
error-queue query, so a command the instrument refused is an error here, not a silent
wrong reading. A lock serialises each command/answer pair for concurrent callers.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from drivers.power_analyser.base import PowerAnalyser
from drivers.power_analyser.commands import CommandSet, CommandSetError, load_command_set
from drivers.scpi_visa import ScpiOverVisa

#: SCPI's "not a number" (9.91E37) and anything near it means "no data"
_SCPI_NAN = 9.9e37


class ScpiPowerAnalyser(ScpiOverVisa, PowerAnalyser):
    """Reads voltage, current, power and the integral with the model's command set."""

    #: bundled command set (``command_sets/<COMMAND_SET>.yaml``) of the model a subclass drives
    COMMAND_SET: ClassVar[str] = ""

    def __init__(self, address: str, **options: Any) -> None:
        super().__init__(address, **options)
        try:
            self.commands: CommandSet = load_command_set(self.COMMAND_SET)
            placeholders = {k: v for k, v in options.items() if k != "timeout_s"}
            unknown = set(placeholders) - set(self.commands.options)
            if unknown:
                known = ", ".join(["timeout_s", *sorted(self.commands.options)])
                raise CommandSetError(
                    f"unknown option(s) {', '.join(sorted(unknown))}; known: {known}"
                )
            self._setup = self.commands.setup_commands(placeholders)
        except CommandSetError as exc:
            raise self.error(str(exc)) from None
        self._init_scpi(float(options.get("timeout_s", 2.0)))
        self.error_query = self.commands.error_query
        self._idn = ""

    # -- connection --------------------------------------------------------------------

    def open(self) -> None:
        """Connect, check it is the expected make, clear its status and set it up."""
        if not self._open_resource():
            return
        try:
            idn = self._query("*IDN?")
            if not idn.upper().startswith(self.commands.idn_manufacturers):
                raise self.error(
                    f"*IDN? answered {idn!r}, not a {self.commands.model} "
                    f"(expected {' or '.join(self.commands.idn_manufacturers)})"
                )
            self._idn = idn
            self._write(self.commands.clear)
            for command in self._setup:
                self.command(command)
        except Exception:
            self.close()
            raise

    # -- transactions ------------------------------------------------------------------

    def read_all(self) -> dict[str, float]:
        """Every figure of the read query, in base units, from one answer."""
        query = self.commands.read
        answer = self._query(query)
        parts = [p.strip() for p in answer.split(",")]
        if len(parts) != len(self.commands.fields):
            raise self.error(
                f"garbled answer to {query!r}: {answer!r} "
                f"(expected {len(self.commands.fields)} values)"
            )
        values: dict[str, float] = {}
        for name, text in zip(self.commands.fields, parts, strict=True):
            try:
                value = float(text)
            except ValueError:
                raise self.error(f"garbled answer to {query!r}: {answer!r}") from None
            if math.isnan(value) or math.isinf(value) or abs(value) >= _SCPI_NAN:
                raise self.error(f"{name} not available (instrument answered {text!r})")
            values[name] = value
        return values

    # -- the role ----------------------------------------------------------------------

    def identify(self) -> str:
        return self._query("*IDN?")

    def read_voltage_v(self) -> float:
        return self.read_all()["voltage_v"]

    def read_current_a(self) -> float:
        return self.read_all()["current_a"]

    def read_power_w(self) -> float:
        return self.read_all()["power_w"]

    def read_energy_wh(self) -> float:
        return self.read_all()["energy_wh"]

    def read_sample(self) -> dict[str, float]:
        values = self.read_all()
        return {
            "power_w": values["power_w"],
            "energy_wh": values["energy_wh"],
            "current_a": values["current_a"],
        }

    def integration_reset(self) -> None:
        self.command(self.commands.reset)

    def integration_start(self) -> None:
        self.command(self.commands.start)

    def integration_stop(self) -> None:
        self.command(self.commands.stop)

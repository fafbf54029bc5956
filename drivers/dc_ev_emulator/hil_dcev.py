"""Driver for the lab's reference DC EV emulator ("hil-dcev").

Speaks the SCPI command set of docs/dc-ev-emulator-protocol.md over a raw TCP socket
(``TCPIP0::<host>::5025::SOCKET``), opened with pyvisa-py (``ResourceManager('@py')``,
imported in :meth:`HilDcEv.open`). Every setting is followed by ``SYST:ERR?``, so a command
the emulator refused is an :class:`~drivers.base.InstrumentError` naming the command and
the emulator's reason, not a silently ignored setting. A lock serialises each
command/answer pair for concurrent callers.
"""

from __future__ import annotations

import json
import math
from typing import Any

from drivers.dc_ev_emulator.base import (
    PILOT_STATES,
    SESSION_STATES,
    DcEvEmulator,
    EvseOffer,
    PresentValues,
    SessionStatus,
    TraceRecord,
)
from drivers.scpi_visa import ScpiOverVisa
from drivers.serial_line import reject_unknown_options

_STOP_FAULTS = ("INSULATION", "ESTOP", "OVERVOLTAGE", "UNPLUGGED", "PILOT")
_SCPI_COMMANDS = {
    "capacity_wh": "BATT:CAP",
    "initial_soc_pct": "BATT:SOC:INIT",
    "target_soc_pct": "BATT:SOC:TARG",
    "max_voltage_v": "LIM:VOLT",
    "max_current_a": "LIM:CURR",
    "max_power_w": "LIM:POW",
}
_TEXT_FIELDS = ("message", "response_code", "ev_error_code", "detail")
_NUMBER_FIELDS = (
    "soc_pct",
    "target_voltage_v",
    "target_current_a",
    "present_voltage_v",
    "present_current_a",
)


class HilDcEv(ScpiOverVisa, DcEvEmulator):
    """The reference DC EV emulator. Option: ``timeout_s`` (s to wait for an answer, 2.0)."""

    def __init__(self, address: str, *, timeout_s: float = 2.0, **unknown: Any) -> None:
        super().__init__(address, timeout_s=timeout_s)
        reject_unknown_options(self, unknown, "timeout_s")
        if not timeout_s > 0:
            raise self.error(f"option timeout_s must be > 0 s, got {timeout_s!r}")
        self._init_scpi(timeout_s)

    # -- connection --------------------------------------------------------------------

    def open(self) -> None:
        """Connect, check the identity and clear the error queue."""
        if not self._open_resource():
            return
        try:
            self.identify()
            self._write("*CLS")
        except Exception:
            self.close()
            raise

    def identify(self) -> str:
        idn = self._query("*IDN?")
        if idn.count(",") != 3:
            raise self.error(f"*IDN? answered {idn!r}, expected maker,model,serial,firmware")
        return idn

    def reset(self) -> None:
        """Back to power-up defaults (docs/dc-ev-emulator-protocol.md)."""
        self.command("*RST")

    # -- transactions ------------------------------------------------------------------

    def _numbers(self, command: str, count: int) -> list[float]:
        answer = self._query(command)
        try:
            values = [float(part) for part in answer.split(",")]
        except ValueError:
            values = []
        if len(values) != count or not all(math.isfinite(v) for v in values):
            raise self.error(
                f"garbled answer to {command!r}: {answer!r} (expected {count} number(s))"
            )
        return values

    # -- primitives --------------------------------------------------------------------

    def _plug(self, plugged: bool) -> None:
        self.command("CONN:PLUG" if plugged else "CONN:UNPL")

    def _force_pilot(self, state: str | None) -> None:
        self.command(f"PIL:STAT {state or 'AUTO'}")

    def _read_pilot(self) -> str:
        answer = self._query("PIL:STAT?")
        if answer not in PILOT_STATES:
            raise self.error(f"garbled answer to 'PIL:STAT?': {answer!r} (expected A/B/C/E/F)")
        return answer

    def _set_battery(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.command(f"{_SCPI_COMMANDS[name]} {value:g}")

    def _set_ev_limits(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.command(f"{_SCPI_COMMANDS[name]} {value:g}")

    def _start_session(self, protocol: str, auth: str) -> None:
        self.command(f"SESS:PROT {protocol}")
        self.command(f"SESS:AUTH {auth}")
        self.command("SESS:STAR")

    def _stop_session(self) -> None:
        self.command("SESS:STOP")

    def _set_fault(self, kind: str | None) -> None:
        self.command(f"FAUL:INJ {kind}" if kind else "FAUL:CLE")

    def _read_present(self) -> PresentValues:
        volts, amps, watts, soc = self._numbers("MEAS:ALL?", 4)
        return PresentValues(voltage_v=volts, current_a=amps, power_w=watts, soc_pct=soc)

    def _read_offer(self) -> EvseOffer:
        watts, amps = self._numbers("MEAS:OFF?", 2)
        return EvseOffer(max_power_w=watts, max_current_a=amps)

    def _read_status(self) -> SessionStatus:
        answer = self._query("SESS:STAT?")
        state, _, fault = answer.partition(",")
        state = state.lower()
        if state not in SESSION_STATES or fault not in ("NONE", *_STOP_FAULTS):
            raise self.error(
                f"garbled answer to 'SESS:STAT?': {answer!r} (expected <state>,<fault|NONE>)"
            )
        return SessionStatus(state=state, fault=None if fault == "NONE" else fault)

    def _read_trace(self, start: int) -> list[TraceRecord]:
        total = int(self._numbers("TRAC:COUN?", 1)[0])
        records: list[TraceRecord] = []
        index = start
        while index < total:
            page = self._trace_page(index)
            if not page:
                raise self.error(f"'TRAC:DATA? {index}' answered no records of {total}")
            records += page
            index += len(page)
        return records

    def _trace_page(self, start: int) -> list[TraceRecord]:
        command = f"TRAC:DATA? {start}"
        answer = self._query(command)
        try:
            items = json.loads(answer)
            if not isinstance(items, list):
                raise TypeError("not a JSON array")
            page = [_record(item) for item in items]
        except (ValueError, TypeError, KeyError) as exc:
            raise self.error(
                f"garbled answer to {command!r}: {exc} (expected a JSON array of trace "
                f"records); answer began {answer[:80]!r}"
            ) from None
        for offset, record in enumerate(page):
            if record.index != start + offset:
                raise self.error(
                    f"{command!r} answered record {record.index} where {start + offset} was due"
                )
        return page


def _record(item: object) -> TraceRecord:
    """One trace record from its JSON object; TypeError/KeyError/ValueError if malformed."""
    if not isinstance(item, dict):
        raise TypeError(f"record {item!r} is not an object")
    index, time_s = item["index"], item["time_s"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"bad index {index!r}")
    if not isinstance(time_s, int | float) or isinstance(time_s, bool):
        raise ValueError(f"bad time_s {time_s!r}")
    texts = {name: item[name] for name in _TEXT_FIELDS}
    for name, value in texts.items():
        if not isinstance(value, str):
            raise ValueError(f"bad {name} {value!r} in record {index}")
    if not texts["message"]:
        raise ValueError(f"empty message in record {index}")
    numbers = {name: item.get(name) for name in _NUMBER_FIELDS}
    for name, value in numbers.items():
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise ValueError(f"bad {name} {value!r} in record {index}")
    return TraceRecord(
        index=index,
        time_s=float(time_s),
        **texts,
        **{k: None if v is None else float(v) for k, v in numbers.items()},
    )

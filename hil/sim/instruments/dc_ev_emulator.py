"""The virtual reference DC EV emulator: docs/dc-ev-emulator-protocol.md over TCP on loopback.

A thin SCPI layer over :class:`~hil.sim.dc_session.DcSession`: each line is one command or
query; before it runs, the session is advanced to the emulator's clock, so the session's
exchanges happen in (injectable) clock time without a background task. The station side
(a later change of the virtual bench) reaches the same session through
:meth:`VirtualDcEvEmulator.set_evse_limits` and :attr:`VirtualDcEvEmulator.session`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from collections import deque
from collections.abc import Callable

from hil.sim.dc_session import (
    FAULTS,
    PILOT_STATES,
    PROTOCOLS,
    DcSession,
    RangeError,
    SessionError,
    SessionTiming,
)
from hil.sim.instruments.scpi_server import ScpiTcpServer

IDN = "HIL-LAB,DCEV-1,VIRTUAL0001,1.0.0"
#: most trace records in one ``TRACe:DATA?`` answer
TRACE_PAGE = 100
#: longest command line accepted (the answer to a longer one is error -102)
MAX_LINE = 256
MAX_ERRORS = 20

ERRORS = {
    -102: "Syntax error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -221: "Settings conflict",
    -222: "Data out of range",
    -224: "Illegal parameter value",
    -350: "Queue overflow",
}


class ScpiError(Exception):
    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def entry(self) -> str:
        text = ERRORS[self.code] + (f"; {self.detail}" if self.detail else "")
        return f'{self.code},"{text.replace(chr(34), chr(39))}"'


def _mnemonic(spec: str) -> list[tuple[str, str]]:
    """``SESSion:PROTocol`` -> [("SESS", "SESSION"), ("PROT", "PROTOCOL")]."""
    nodes = []
    for part in spec.split(":"):
        short = re.match(r"[A-Z*]+", part)
        assert short, spec
        nodes.append((short.group(), part.upper()))
    return nodes


def _number(param: str) -> float:
    try:
        value = float(param)
    except ValueError:
        raise ScpiError(-224, f"not a number: {param[:20]}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ScpiError(-224, f"not a number: {param[:20]}")
    return value


def _word(param: str, choices: tuple[str, ...]) -> str:
    word = param.upper()
    if word not in choices:
        raise ScpiError(-224, f"expected {'|'.join(choices)}, got {param[:20]}")
    return word


class VirtualDcEvEmulator(ScpiTcpServer):
    """Serve the DC EV emulator's SCPI on ``host:port``; ``port=0`` picks a free port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        timing: SessionTiming | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(host, port)
        self.timing = timing or SessionTiming()
        self._clock = clock
        self._commands = [(_mnemonic(spec), query, h) for spec, query, h in self._table()]
        self._reset()

    # -- the station's side ------------------------------------------------------------

    def sync(self) -> DcSession:
        """The session, advanced to the emulator's clock."""
        self.session.advance_to(self._clock() - self._t0)
        return self.session

    def set_evse_limits(self, max_power_w: float, max_current_a: float) -> None:
        """What the (virtual) station offers from now on."""
        self.sync().set_evse_limits(max_power_w, max_current_a)

    # -- state -------------------------------------------------------------------------

    def _reset(self) -> None:
        """Power-up state of the EV; the station's limits stay (they are not the EV's)."""
        old = getattr(self, "session", None)
        self._t0 = self._clock()
        self.session = DcSession(timing=self.timing)
        if old is not None:
            self.session.evse_limits = old.evse_limits
        self.errors: deque[str] = deque()

    def _push_error(self, error: ScpiError) -> None:
        if len(self.errors) >= MAX_ERRORS - 1:
            if len(self.errors) == MAX_ERRORS - 1:
                self.errors.append(ScpiError(-350).entry())
            return
        self.errors.append(error.entry())

    # -- connection handling -----------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    raw = await reader.readline()
                except ValueError:  # far longer than MAX_LINE: dropped by the reader
                    self._push_error(ScpiError(-102, f"line longer than {MAX_LINE} characters"))
                    continue
                if not raw:
                    break
                answer = self.handle_line(raw.decode("ascii", "replace").strip())
                if answer is not None:
                    writer.write(answer.encode("ascii", "replace") + b"\n")
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def handle_line(self, line: str) -> str | None:
        """Execute one command or query; return the query's answer (None: no answer)."""
        if not line:
            return None
        try:
            if len(line) > MAX_LINE:
                raise ScpiError(-102, f"line longer than {MAX_LINE} characters")
            self.sync()
            return self._execute(line)
        except ScpiError as exc:
            self._push_error(exc)
        except SessionError as exc:
            self._push_error(ScpiError(-221, str(exc)))
        return None

    def _execute(self, line: str) -> str | None:
        header, _, params = line.partition(" ")
        params = params.strip()
        is_query = header.endswith("?")
        tokens = header.rstrip("?").lstrip(":").upper().split(":")
        for nodes, query, handler in self._commands:
            if query != is_query or len(nodes) != len(tokens):
                continue
            if all(tok in node for tok, node in zip(tokens, nodes, strict=True)):
                return handler(params)
        raise ScpiError(-113, header[:30])

    # -- the command table -------------------------------------------------------------

    def _table(self) -> list[tuple[str, bool, Callable[[str], str | None]]]:
        s = self
        return [
            ("*IDN", True, s._no_param(lambda: IDN)),
            ("*RST", False, s._no_param(self._reset)),
            ("*CLS", False, s._no_param(lambda: self.errors.clear())),
            ("SYSTem:ERRor", True, s._no_param(self._error)),
            ("CONNector:PLUG", False, s._no_param(lambda: self.session.plug())),
            ("CONNector:UNPLug", False, s._no_param(lambda: self.session.unplug())),
            ("CONNector:STATe", True, s._no_param(self._connector)),
            ("PILot:STATe", False, self._force_pilot),
            ("PILot:STATe", True, s._no_param(lambda: self.session.pilot())),
            ("SESSion:PROTocol", False, self._protocol),
            ("SESSion:PROTocol", True, s._no_param(lambda: self.session.protocol)),
            ("SESSion:AUTHorization", False, self._auth),
            ("SESSion:AUTHorization", True, s._no_param(lambda: "EIM")),
            ("SESSion:STARt", False, s._no_param(lambda: self.session.start())),
            ("SESSion:STOP", False, s._no_param(lambda: self.session.stop())),
            ("SESSion:STATe", True, s._no_param(self._state)),
            ("BATTery:CAPacity", False, self._setter("set_battery", "capacity_wh")),
            ("BATTery:CAPacity", True, self._getter("battery", "capacity_wh")),
            ("BATTery:SOC:INITial", False, self._setter("set_battery", "initial_soc_pct")),
            ("BATTery:SOC:INITial", True, self._getter("battery", "initial_soc_pct")),
            ("BATTery:SOC:TARGet", False, self._setter("set_battery", "target_soc_pct")),
            ("BATTery:SOC:TARGet", True, self._getter("battery", "target_soc_pct")),
            ("LIMit:VOLTage", False, self._setter("set_ev_limits", "max_voltage_v")),
            ("LIMit:VOLTage", True, self._getter("ev_limits", "max_voltage_v")),
            ("LIMit:CURRent", False, self._setter("set_ev_limits", "max_current_a")),
            ("LIMit:CURRent", True, self._getter("ev_limits", "max_current_a")),
            ("LIMit:POWer", False, self._setter("set_ev_limits", "max_power_w")),
            ("LIMit:POWer", True, self._getter("ev_limits", "max_power_w")),
            ("MEASure:VOLTage", True, s._no_param(lambda: self._measure()[0])),
            ("MEASure:CURRent", True, s._no_param(lambda: self._measure()[1])),
            ("MEASure:POWer", True, s._no_param(lambda: self._measure()[2])),
            ("MEASure:SOC", True, s._no_param(lambda: self._measure()[3])),
            ("MEASure:ALL", True, s._no_param(lambda: ",".join(self._measure()))),
            ("MEASure:OFFer", True, s._no_param(self._offer)),
            ("FAULt:INJect", False, self._inject),
            ("FAULt:INJect", True, s._no_param(lambda: self.session.armed_fault or "NONE")),
            ("FAULt:CLEar", False, s._no_param(lambda: self.session.clear_fault())),
            ("TRACe:COUNt", True, s._no_param(lambda: str(len(self.session.trace)))),
            ("TRACe:DATA", True, self._trace),
        ]

    @staticmethod
    def _no_param(fn: Callable[[], object]) -> Callable[[str], str | None]:
        def handler(params: str) -> str | None:
            if params:
                raise ScpiError(-108)
            answer = fn()
            return answer if isinstance(answer, str) else None

        return handler

    def _setter(self, method: str, name: str) -> Callable[[str], None]:
        def handler(params: str) -> None:
            if not params:
                raise ScpiError(-109)
            value = _number(params)
            try:
                getattr(self.session, method)(**{name: value})
            except RangeError as exc:
                raise ScpiError(-222, str(exc)) from None

        return handler

    def _getter(self, group: str, name: str) -> Callable[[str], str | None]:
        return self._no_param(lambda: f"{getattr(getattr(self.session, group), name):g}")

    def _connector(self) -> str:
        return "PLUGGED" if self.session.plugged else "UNPLUGGED"

    def _force_pilot(self, params: str) -> None:
        word = _word(params, (*PILOT_STATES, "AUTO"))
        self.session.force_pilot(None if word == "AUTO" else word)

    def _protocol(self, params: str) -> None:
        self.session.set_protocol(_word(params, PROTOCOLS))

    def _auth(self, params: str) -> None:
        word = _word(params, ("EIM", "PNC"))
        if word == "PNC":
            raise ScpiError(-224, "Plug & Charge (PNC) is not supported")

    def _state(self) -> str:
        return f"{self.session.state.value.upper()},{self.session.fault or 'NONE'}"

    def _measure(self) -> list[str]:
        now = self.session.present()
        return [
            f"{now.voltage_v:.3f}",
            f"{now.current_a:.3f}",
            f"{now.power_w:.1f}",
            f"{now.soc_pct:.3f}",
        ]

    def _offer(self) -> str:
        watts, amps = self.session.offered()
        return f"{watts:.1f},{amps:.3f}"

    def _inject(self, params: str) -> None:
        self.session.inject_fault(_word(params, FAULTS))

    def _trace(self, params: str) -> str:
        if not params:
            raise ScpiError(-109)
        if not params.isdigit():
            raise ScpiError(-224, f"not an index: {params[:20]}")
        start, count = int(params), len(self.session.trace)
        if start > count:
            raise ScpiError(-222, f"index {start} beyond the {count} records")
        page = self.session.trace[start : start + TRACE_PAGE]
        return json.dumps([dataclasses.asdict(r) for r in page], separators=(",", ":"))

    def _error(self) -> str:
        return self.errors.popleft() if self.errors else '0,"No error"'

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

import contextlib
import math
import threading
from typing import Any, ClassVar

from drivers.power_analyser.base import PowerAnalyser
from drivers.power_analyser.commands import CommandSet, CommandSetError, load_command_set

#: SCPI's "not a number" (9.91E37) and anything near it means "no data"
_SCPI_NAN = 9.9e37


class ScpiPowerAnalyser(PowerAnalyser):
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
        self.timeout_s = float(options.get("timeout_s", 2.0))
        self._lock = threading.Lock()
        self._rm: Any = None
        self._res: Any = None
        self._idn = ""

    # -- connection --------------------------------------------------------------------

    def open(self) -> None:
        """Connect, check it is the expected make, clear its status and set it up."""
        import pyvisa

        with self._lock:
            if self._res is not None:
                return
            try:
                self._rm = pyvisa.ResourceManager("@py")
                ms = int(self.timeout_s * 1000)
                self._res = self._rm.open_resource(
                    self.address,
                    read_termination="\n",
                    write_termination="\n",
                    timeout=ms,
                    open_timeout=ms,
                )
            except Exception as exc:  # pyvisa-py raises plain Exception on connect failure
                self._release()
                raise self.error(f"cannot open VISA resource: {exc}") from None
            _no_delay(self._res)
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

    def _release(self) -> None:
        # the link may already be dead; closing must not fail
        for handle in (self._res, self._rm):
            if handle is not None:
                with contextlib.suppress(Exception):
                    handle.close()
        self._res = None
        self._rm = None

    def close(self) -> None:
        with self._lock:
            self._release()

    # -- transactions ------------------------------------------------------------------

    def _io(self, command: str, query: bool) -> str:
        from pyvisa.errors import VisaIOError

        with self._lock:
            res = self._res
            if res is None:
                raise self.error("not open; call open() first")
            try:
                if not query:
                    res.write(command)
                    return ""
                return str(res.query(command)).strip()
            except VisaIOError as exc:
                if exc.error_code == -1073807339:  # VI_ERROR_TMO
                    raise self.error(
                        f"no answer within {self.timeout_s} s to {command!r}"
                    ) from None
                raise self.error(f"VISA error on {command!r}: {exc.description}") from None
            except OSError as exc:
                raise self.error(f"connection failed on {command!r}: {exc}") from None
            except UnicodeDecodeError:
                raise self.error(f"garbled (non-ASCII) answer to {command!r}") from None

    def _query(self, command: str) -> str:
        return self._io(command, query=True)

    def _write(self, command: str) -> None:
        self._io(command, query=False)

    def command(self, command: str) -> None:
        """Send a setting command and raise if the instrument queued an error for it."""
        self._write(command)
        answer = self._query(self.commands.error_query)
        code, _, text = answer.partition(",")
        try:
            number = int(code)
        except ValueError:
            raise self.error(
                f"garbled answer {answer!r} to {self.commands.error_query!r}"
            ) from None
        if number != 0:
            raise self.error(f"refused {command!r}: error {number} {text.strip().strip(chr(34))}")

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


def _no_delay(resource: Any) -> None:
    """Switch Nagle off on socket resources, best effort.

    Each setting is followed by the error query; with Nagle on, that second small write
    waits for the peer's delayed ACK (about 40 ms a command). pyvisa-py 0.8 lists
    VI_ATTR_TCPIP_NODELAY but cannot set it, so fall back to its session's socket.
    """
    import socket

    from pyvisa import constants

    try:
        resource.set_visa_attribute(constants.VI_ATTR_TCPIP_NODELAY, constants.VI_TRUE)
        return
    except Exception:
        pass
    with contextlib.suppress(Exception):
        sock = resource.visalib.sessions[resource.session].interface
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

"""SCPI over a VISA resource (pyvisa-py), shared by the roles whose instruments speak it.

A mixin for an :class:`~drivers.base.Instrument`: it opens the resource (pyvisa imported
only then, as every driver does), serialises each command/answer pair under a lock, turns
VISA and socket failures into the instrument's own error (naming role and address), and
follows every setting with the error-queue query, so a refused command is an error here,
not a silently ignored setting.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from drivers.base import InstrumentError

#: pyvisa's VI_ERROR_TMO: no answer within the timeout
_VI_ERROR_TMO = -1073807339


class ScpiOverVisa:
    """Open, command, query and close one SCPI instrument; mixed into a role's driver."""

    #: the query that pops the instrument's error queue (``0,"No error"`` when empty)
    error_query = "SYST:ERR?"
    address: str
    timeout_s: float
    error: Callable[[str], InstrumentError]  # the Instrument's: names role and address

    def _init_scpi(self, timeout_s: float) -> None:
        self.timeout_s = float(timeout_s)
        self._lock = threading.Lock()
        self._rm: Any = None
        self._res: Any = None

    def _open_resource(self) -> bool:
        """Open the VISA resource; False when it already was (nothing else to do)."""
        import pyvisa

        with self._lock:
            if self._res is not None:
                return False
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
        return True

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
                if exc.error_code == _VI_ERROR_TMO:
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
        """Send a setting and raise if the instrument queued an error for it."""
        self._write(command)
        answer = self._query(self.error_query)
        code, _, text = answer.partition(",")
        try:
            number = int(code)
        except ValueError:
            raise self.error(f"garbled answer {answer!r} to {self.error_query!r}") from None
        if number != 0:
            raise self.error(f"refused {command!r}: error {number} {text.strip().strip(chr(34))}")


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

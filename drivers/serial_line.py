"""One command line out, one reply line back, over any pyserial URL.

Shared by the line-protocol instruments (the reference EV simulator, the line RFID reader).
``serial.serial_for_url`` makes ``/dev/ttyUSB0``, ``socket://host:port`` and
``rfc2217://host:port`` all work; pyserial is imported only in :meth:`SerialLinePort.open`.
A lock makes each command/reply pair atomic, so several threads may share one instrument.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drivers.base import Instrument

#: Longest reply line accepted; anything longer is garbage, not a reply.
MAX_REPLY_BYTES = 256


class SerialLinePort:
    """A ``\\n``-terminated ASCII request/reply link for ``instrument``.

    Replies are ``OK``, a value line, or ``ERR <code> <text>``; every failure (port cannot
    be opened, no reply in time, link closed, undecodable bytes, ``ERR``) raises the
    instrument's :class:`~drivers.base.InstrumentError`, naming its role and address.
    """

    def __init__(self, instrument: Instrument, *, baudrate: int, timeout: float) -> None:
        self._inst = instrument
        self._baudrate = baudrate
        self._timeout = timeout
        self._lock = threading.Lock()
        self._port: Any = None

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        import serial  # lazy: a bench without serial instruments never imports pyserial

        if self._port is not None:
            return
        try:
            self._port = serial.serial_for_url(
                self._inst.address,
                baudrate=self._baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=self._timeout,
                write_timeout=self._timeout,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise self._inst.error(f"cannot open serial port: {exc}") from None

    def close(self) -> None:
        with self._lock:
            port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):  # closing a dead link must not raise
                port.close()

    def query(self, command: str) -> str:
        """Send ``command``; return the reply line (without terminator).

        ``ERR`` replies raise; so do timeouts and replies that are not printable ASCII.
        """
        import serial

        if not (command.isascii() and command.isprintable()):
            raise ValueError(f"commands are printable ASCII, got {command!r}")
        with self._lock:
            if self._port is None:
                raise self._inst.error(f"port not open (sending {command!r})")
            started = time.monotonic()
            try:
                # Drop anything stale (e.g. a reply that arrived after an earlier timeout),
                # so this command cannot be paired with an old answer.
                self._port.reset_input_buffer()
                self._port.write(command.encode("ascii") + b"\n")
                self._port.flush()
                raw = self._port.read_until(b"\n", MAX_REPLY_BYTES)
            except serial.SerialTimeoutException:
                raise self._inst.error(
                    f"could not send {command!r} within {self._timeout:g} s"
                ) from None
            except (serial.SerialException, OSError) as exc:
                raise self._inst.error(f"link failed during {command!r}: {exc}") from None
        if not raw.endswith(b"\n"):
            if len(raw) >= MAX_REPLY_BYTES:
                raise self._inst.error(
                    f"garbage reply to {command!r}: {len(raw)} bytes without a line end"
                )
            waited = time.monotonic() - started
            got = f"; got only {raw!r}" if raw else ""
            raise self._inst.error(
                f"no reply to {command!r} within {self._timeout:g} s (waited {waited:.1f} s){got}"
            )
        try:
            line = raw.decode("ascii").rstrip("\r\n")
        except UnicodeDecodeError:
            raise self._inst.error(f"garbage reply to {command!r}: {raw!r}") from None
        if not line.isprintable():
            raise self._inst.error(f"garbage reply to {command!r}: {raw!r}")
        if line == "ERR" or line.startswith("ERR "):
            raise self._inst.error(f"refused {command!r}: {line}")
        return line

    def command(self, command: str) -> None:
        """Send a command whose only good reply is ``OK``."""
        reply = self.query(command)
        if reply != "OK":
            raise self._inst.error(f"unexpected reply to {command!r}: {reply!r} (expected OK)")


def reject_unknown_options(instrument: Instrument, unknown: dict[str, Any], known: str) -> None:
    """Raise the instrument's error when the lab config passed options it does not take."""
    if unknown:
        names = ", ".join(sorted(unknown))
        raise instrument.error(f"unknown option(s) {names}; this driver takes: {known}")


class LineDevice:
    """Mixin for drivers that talk a line protocol over a :class:`SerialLinePort`.

    Opening also asks ``*IDN?``, so a wrong port or a silent device fails at once, with
    the role and address named, instead of at the first command.
    """

    _link: SerialLinePort

    def _attach_link(self, baudrate: int, timeout: float) -> None:
        self._link = SerialLinePort(self, baudrate=int(baudrate), timeout=float(timeout))  # type: ignore[arg-type]

    def open(self) -> None:
        self._link.open()
        try:
            self.identify()
        except Exception:
            self._link.close()
            raise

    def close(self) -> None:
        self._link.close()

    def identify(self) -> str:
        return self._link.query("*IDN?")

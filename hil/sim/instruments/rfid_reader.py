"""The virtual station's RFID reader: a tiny line protocol on a TCP socket.

The lab "presents" a tag by sending ``PRESENT <idTag>``; the reader hands the tag to the
virtual station (``on_tag``, called on the bench's loop) and answers ``OK``. The driver
reaches it with pyserial's ``socket://`` URL. Protocol: docs/ev-simulator-protocol.md,
section "RFID reader".
"""

from __future__ import annotations

from collections.abc import Callable

from hil.sim.instruments.ev_serial import LineService, printable

#: OCPP 1.6 IdToken: CiString20Type.
MAX_TAG_LENGTH = 20


class VirtualRfidReader:
    """Serves ``*IDN?`` and ``PRESENT <idTag>``; calls ``on_tag(tag)`` for each tag."""

    IDN = "HIL-LAB,RFID-VIRTUAL,0,1.0"

    def __init__(
        self, on_tag: Callable[[str], None], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._on_tag = on_tag
        self._service = LineService(self.handle_line, host, port)

    async def start(self) -> str:
        """Serve; return ``socket://127.0.0.1:<port>``."""
        return await self._service.start()

    async def stop(self) -> None:
        await self._service.stop()

    def handle_line(self, line: str) -> str | None:
        words = line.split()
        if not words:
            return None
        keyword, args = words[0].upper(), words[1:]
        if keyword == "*IDN?":
            return self.IDN if not args else "ERR 101 this query takes no argument"
        if keyword != "PRESENT":
            return f"ERR 100 unknown command {printable(words[0][:20])}"
        if len(args) != 1:
            return f"ERR 101 expected 1 argument (the idTag), got {len(args)}"
        tag = args[0]
        if len(tag) > MAX_TAG_LENGTH or not tag.isascii() or not tag.isprintable():
            return f"ERR 102 idTag must be 1-{MAX_TAG_LENGTH} printable ASCII characters"
        try:
            self._on_tag(tag)
        except Exception as exc:  # the reader reports it; the bench keeps running
            return f"ERR 104 reader could not deliver the tag: {printable(str(exc))[:60]}"
        return "OK"

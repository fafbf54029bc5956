"""An SNMP v2c session behind a synchronous API, for the drivers that speak SNMP (the
managed switch, the switched PDU).

pysnmp 7's high-level API is async-only. The drivers are synchronous (Robot keywords call
them from their own thread, sometimes while another asyncio loop runs there), so the
session owns a private event loop on a daemon thread, created in ``open()`` and stopped in
``close()``. The SNMP engine lives on that loop for the session's whole life: it is built
once (loading its MIB tables takes ~0.1 s) and never crosses loops, which pysnmp's
dispatcher does not support. Each request is handed over with ``run_coroutine_threadsafe``
and waited for with a deadline a little longer than pysnmp's own timeout x tries, so a
wedged engine still cannot hang the caller. OIDs are numeric: no MIB files are needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

#: Extra time the caller waits beyond pysnmp's own timeout before declaring the engine stuck.
GUARD_S = 2.0
#: SET refusals that mean "this community may not write here".
ACCESS_ERRORS = {"noAccess", "authorizationError", "notWritable", "readOnly", "noSuchName"}


class LoopThread:
    """A private asyncio loop on a daemon thread, for an async library behind a sync API."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5.0)
        if not self._thread.is_alive():
            self.loop.close()


def parse_snmp_address(address: str) -> tuple[str, int] | None:
    """``snmp://host[:port]`` -> (host, UDP port, 161 by default); None if malformed."""
    parts = urlsplit(address)
    try:
        udp_port = parts.port or 161
    except ValueError:
        return None
    if parts.scheme != "snmp" or not parts.hostname or udp_port <= 0:
        return None
    return parts.hostname, udp_port


class SnmpV2cSession:
    """GET and SET of INTEGER objects with the errors a lab engineer can act on.

    ``error`` turns a message into the driver's exception (which names role and address);
    ``device`` names the kind of agent in messages ("switch", "PDU"); ``missing_hint``
    is added when the agent has no such object (a wrong port, outlet or model).
    """

    def __init__(
        self,
        address: str,
        *,
        community: str,
        write_community: str,
        timeout: float,
        retries: int,
        error: Callable[[str], Exception],
        device: str,
        missing_hint: str = "",
    ) -> None:
        self._error = error
        parsed = parse_snmp_address(address)
        if parsed is None:
            raise error("address must look like snmp://host or snmp://host:port")
        self.host, self.udp_port = parsed
        self.community = community
        self.write_community = write_community
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.device = device
        self.missing_hint = missing_hint
        self._loop: LoopThread | None = None
        self._engine: Any = None
        self._target: Any = None

    # -- lifecycle -----------------------------------------------------------------------

    def open(self, name: str) -> None:
        """Start the private loop and the SNMP engine (no request is sent)."""
        if self._loop is not None:
            return
        self._loop = LoopThread(f"{name}-{self.host}:{self.udp_port}")
        try:
            self._loop.run(self._setup(), self.timeout + GUARD_S)
        except BaseException:
            self.close()
            raise

    @property
    def is_open(self) -> bool:
        return self._loop is not None

    async def _setup(self) -> None:
        from pysnmp.error import PySnmpError
        from pysnmp.hlapi.v3arch.asyncio import (
            SnmpEngine,
            Udp6TransportTarget,
            UdpTransportTarget,
        )

        target_cls = Udp6TransportTarget if ":" in self.host else UdpTransportTarget
        try:
            self._target = await target_cls.create(
                (self.host, self.udp_port), timeout=self.timeout, retries=self.retries
            )
        except PySnmpError as exc:
            raise self._error(f"cannot resolve the {self.device} address: {exc}") from None
        self._engine = SnmpEngine()  # on the private loop, which its dispatcher binds to

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        if self._engine is not None:
            engine, self._engine = self._engine, None

            async def _shutdown() -> None:
                engine.close_dispatcher()

            with contextlib.suppress(Exception):  # a dead engine must not stop the close
                loop.run(_shutdown(), GUARD_S)
        loop.stop()

    # -- requests ------------------------------------------------------------------------

    def get(self, oids: list[str], what: str) -> list[Any]:
        """The values of ``oids`` (read community); an absent object is an error."""
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType, get_cmd
        from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

        values = self._request(
            get_cmd, self.community, [ObjectType(ObjectIdentity(o)) for o in oids], what
        )
        for oid, value in zip(oids, values, strict=True):
            if isinstance(value, NoSuchObject | NoSuchInstance | EndOfMibView):
                hint = f" ({self.missing_hint})" if self.missing_hint else ""
                raise self._error(f"{what}: the {self.device} has no {oid}{hint}")
        return values

    def get_int(self, oid: str, what: str) -> int:
        (value,) = self.get([oid], what)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise self._error(f"{what}: not an integer: {value!r}") from None

    def set_int(self, oid: str, wanted: int, what: str) -> None:
        """SET ``oid`` to INTEGER ``wanted`` (write community); the echo must match."""
        from pysnmp.hlapi.v3arch.asyncio import Integer, ObjectIdentity, ObjectType, set_cmd

        binds = [ObjectType(ObjectIdentity(oid), Integer(wanted))]
        (value,) = self._request(set_cmd, self.write_community, binds, what)
        if int(value) != wanted:
            raise self._error(f"{what}: agent answered value {value.prettyPrint()}")

    def _request(self, cmd: Any, community: str, binds: list[Any], what: str) -> list[Any]:
        if self._loop is None or self._engine is None:
            raise self._error(f"{what}: driver not open")
        tries = self.retries + 1
        try:
            error_indication, error_status, error_index, var_binds = self._loop.run(
                self._send(cmd, community, binds), self.timeout * tries + GUARD_S
            )
        except TimeoutError:
            raise self._error(f"{what}: SNMP engine did not complete the request") from None
        if error_indication:
            text = str(error_indication)
            if "timed out" in text.lower() or "timeout" in text.lower():
                raise self._error(
                    f"{what}: no answer within {self.timeout:g} s x {tries} tries - "
                    f"{self.device} unreachable, SNMP disabled, or community {community!r} "
                    "unknown to it (agents drop such requests without a reply)"
                )
            raise self._error(f"{what}: {text}")
        if int(error_status):
            status = error_status.prettyPrint()
            hint = ""
            if status in ACCESS_ERRORS:
                hint = " - the community may not write this object (check write_community)"
            elif status in ("noCreation", "inconsistentName") and self.missing_hint:
                hint = f" - {self.missing_hint}"
            raise self._error(
                f"{what}: agent refused with {status} (index {int(error_index)}){hint}"
            )
        return [value for _, value in var_binds]

    async def _send(self, cmd: Any, community: str, binds: list[Any]) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import CommunityData, ContextData

        auth = CommunityData(community, mpModel=1)  # mpModel 1 = SNMP v2c
        return await cmd(self._engine, auth, self._target, ContextData(), *binds, lookupMib=False)

"""Any managed switch, through SNMP v2c and the standard IF-MIB ("snmp-ifmib").

A port is taken down / up by SETting ``ifAdminStatus.<ifIndex>`` (1.3.6.1.2.1.2.2.1.7) to
down(2) / up(1); ``identify()`` reads ``sysDescr.0``. OIDs are numeric, so no MIB files are
needed. Address: ``snmp://host[:port]`` (UDP port 161 by default).

pysnmp 7's high-level API is async-only. This driver is synchronous (Robot keywords call it
from their own thread, sometimes while another asyncio loop runs there), so it owns a
private event loop on a daemon thread, created in ``open()`` and stopped in ``close()``. The
SNMP engine lives on that loop for the driver's whole life: it is built once (loading its
MIB tables takes ~0.1 s) and never crosses loops, which pysnmp's dispatcher does not
support. Each request is handed over with ``run_coroutine_threadsafe`` and waited for with a
deadline a little longer than pysnmp's own timeout x tries, so a wedged engine still
cannot hang the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

from drivers.network_switch.base import NetworkSwitch

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
_UP, _DOWN = 1, 2
#: Extra time the caller waits beyond pysnmp's own timeout before declaring the engine stuck.
_GUARD_S = 2.0
#: SET refusals that mean "this community may not write here".
_ACCESS_ERRORS = {"noAccess", "authorizationError", "notWritable", "readOnly", "noSuchName"}


class _LoopThread:
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


class SnmpIfMib(NetworkSwitch):
    """Options: ``port`` (the station's ifIndex), ``community`` (read, "public"),
    ``write_community`` ("private"), ``timeout`` (s per try, 1.0), ``retries`` (1)."""

    def __init__(
        self,
        address: str,
        *,
        port: int | None = None,
        community: str = "public",
        write_community: str = "private",
        timeout: float = 1.0,
        retries: int = 1,
        **unknown: Any,
    ) -> None:
        super().__init__(
            address,
            port=port,
            community=community,
            write_community=write_community,
            timeout=timeout,
            retries=retries,
        )
        if unknown:
            raise self.error(
                f"unknown option(s) {', '.join(sorted(unknown))}; this driver takes: "
                "port, community, write_community, timeout, retries"
            )
        if timeout <= 0 or retries < 0:
            raise self.error(f"need timeout > 0 and retries >= 0, got {timeout!r}, {retries!r}")
        self._community = community
        self._write_community = write_community
        self._timeout = float(timeout)
        self._retries = int(retries)
        self._host, self._udp_port = self._parse_address(address)
        self._loop: _LoopThread | None = None
        self._engine: Any = None
        self._target: Any = None

    def _parse_address(self, address: str) -> tuple[str, int]:
        parts = urlsplit(address)
        try:
            udp_port = parts.port or 161
        except ValueError:
            udp_port = -1
        if parts.scheme != "snmp" or not parts.hostname or udp_port <= 0:
            raise self.error("address must look like snmp://host or snmp://host:port")
        return parts.hostname, udp_port

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> None:
        """Start the private loop and SNMP engine; check the agent answers (sysDescr)."""
        if self._loop is not None:
            return
        self._loop = _LoopThread(f"snmp-{self._host}:{self._udp_port}")
        try:
            self._loop.run(self._setup(), self._timeout + _GUARD_S)
            self.identify()
        except BaseException:
            self.close()
            raise

    async def _setup(self) -> None:
        from pysnmp.error import PySnmpError
        from pysnmp.hlapi.v3arch.asyncio import (
            SnmpEngine,
            Udp6TransportTarget,
            UdpTransportTarget,
        )

        target_cls = Udp6TransportTarget if ":" in self._host else UdpTransportTarget
        try:
            self._target = await target_cls.create(
                (self._host, self._udp_port), timeout=self._timeout, retries=self._retries
            )
        except PySnmpError as exc:
            raise self.error(f"cannot resolve the switch address: {exc}") from None
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
                loop.run(_shutdown(), _GUARD_S)
        loop.stop()

    # -- role API ------------------------------------------------------------------------

    def identify(self) -> str:
        (value,) = self._get([SYS_DESCR], "read sysDescr")
        return value.prettyPrint()

    def port_is_up(self, port: int) -> bool:
        """ifAdminStatus of ``port`` (= ifIndex) is up(1)."""
        return self._status(IF_ADMIN_STATUS, port, "ifAdminStatus") == _UP

    def oper_is_up(self, port: int) -> bool:
        """ifOperStatus of ``port`` is up(1): enabled and a link partner is there."""
        return self._status(IF_OPER_STATUS, port, "ifOperStatus") == _UP

    def set_port(self, port: int, up: bool) -> None:
        from pysnmp.hlapi.v3arch.asyncio import Integer, ObjectIdentity, ObjectType, set_cmd

        port = self._check_port(port)
        oid = f"{IF_ADMIN_STATUS}.{port}"
        wanted = _UP if up else _DOWN
        what = f"set port {port} {'up' if up else 'down'} (ifAdminStatus.{port} = {wanted})"
        binds = [ObjectType(ObjectIdentity(oid), Integer(wanted))]
        (value,) = self._request(set_cmd, self._write_community, binds, what)
        if int(value) != wanted:
            raise self.error(f"{what}: agent answered value {value.prettyPrint()}")

    # -- SNMP plumbing -------------------------------------------------------------------

    @staticmethod
    def _check_port(port: int) -> int:
        if isinstance(port, bool) or int(port) != port or port < 1:
            raise ValueError(f"switch port must be an ifIndex >= 1, got {port!r}")
        return int(port)

    def _status(self, column: str, port: int, name: str) -> int:
        port = self._check_port(port)
        (value,) = self._get([f"{column}.{port}"], f"read {name}.{port}")
        try:
            status = int(value)
        except (TypeError, ValueError):
            raise self.error(f"read {name}.{port}: not an integer: {value!r}") from None
        if status not in range(1, 8):
            raise self.error(f"read {name}.{port}: invalid status {status}")
        return status

    def _get(self, oids: list[str], what: str) -> list[Any]:
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType, get_cmd
        from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

        values = self._request(
            get_cmd, self._community, [ObjectType(ObjectIdentity(o)) for o in oids], what
        )
        for oid, value in zip(oids, values, strict=True):
            if isinstance(value, NoSuchObject | NoSuchInstance | EndOfMibView):
                hint = " (is that port an ifIndex of this switch?)" if "ifIndex" not in oid else ""
                raise self.error(f"{what}: the switch has no {oid}{hint}")
        return values

    def _request(self, cmd: Any, community: str, binds: list[Any], what: str) -> list[Any]:
        if self._loop is None or self._engine is None:
            raise self.error(f"{what}: driver not open")
        tries = self._retries + 1
        try:
            error_indication, error_status, error_index, var_binds = self._loop.run(
                self._send(cmd, community, binds), self._timeout * tries + _GUARD_S
            )
        except TimeoutError:
            raise self.error(f"{what}: SNMP engine did not complete the request") from None
        if error_indication:
            text = str(error_indication)
            if "timed out" in text.lower() or "timeout" in text.lower():
                raise self.error(
                    f"{what}: no answer within {self._timeout:g} s x {tries} tries - switch "
                    f"unreachable, SNMP disabled, or community {community!r} unknown to it "
                    "(agents drop such requests without a reply)"
                )
            raise self.error(f"{what}: {text}")
        if int(error_status):
            status = error_status.prettyPrint()
            hint = ""
            if status in _ACCESS_ERRORS:
                hint = " - the community may not write this object (check write_community)"
            elif status in ("noCreation", "inconsistentName"):
                hint = " - is that port an ifIndex of this switch?"
            raise self.error(
                f"{what}: agent refused with {status} (index {int(error_index)}){hint}"
            )
        return [value for _, value in var_binds]

    async def _send(self, cmd: Any, community: str, binds: list[Any]) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import CommunityData, ContextData

        auth = CommunityData(community, mpModel=1)  # mpModel 1 = SNMP v2c
        return await cmd(self._engine, auth, self._target, ContextData(), *binds, lookupMib=False)

"""A switched PDU outlet over SNMP v2c ("snmp-pdu"); the OIDs per model are data.

``model`` picks a map in ``maps/`` (:mod:`drivers.power_relay.relay_maps`): the OID SET to
switch the outlet, the OID read back, and the INTEGER values meaning on and off (APC
PowerNet-MIB ``sPDUOutletCtl``: on 1 / off 2; Gude EPC ``epc8226PortState``: on 1 / off
0). ``identify()`` reads ``sysDescr.0``. Address: ``snmp://host[:port]`` (UDP 161 by
default). Reads use ``community``, SETs ``write_community``.

Like :mod:`drivers.network_switch.snmp_ifmib` (whose private-loop helper it shares), the
driver is synchronous and keeps pysnmp's async engine on a private loop thread for its
whole life, with a guard deadline on every request.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from drivers.network_switch.snmp_ifmib import _GUARD_S, _LoopThread
from drivers.power_relay.base import PowerRelay
from drivers.power_relay.relay_maps import RelayMapError, SnmpPduModel, load_snmp_map

#: SET refusals that mean "this community may not write here".
_ACCESS_ERRORS = {"noAccess", "authorizationError", "notWritable", "readOnly", "noSuchName"}


class SnmpPdu(PowerRelay):
    """Options: ``outlet`` (1), ``model`` ("apc-powernet"), ``community`` ("public"),
    ``write_community`` ("private"), ``timeout`` (s per try, 1.0), ``retries`` (1),
    ``readback_timeout_s`` (5.0)."""

    def __init__(
        self,
        address: str,
        *,
        outlet: int | None = None,
        model: SnmpPduModel | None = None,
        community: str = "public",
        write_community: str = "private",
        timeout: float = 1.0,
        retries: int = 1,
        readback_timeout_s: float = 5.0,
        **unknown: Any,
    ) -> None:
        outlet = 1 if outlet is None else outlet
        model = model or "apc-powernet"
        super().__init__(
            address,
            outlet=outlet,
            model=model,
            community=community,
            write_community=write_community,
            timeout=timeout,
            retries=retries,
            readback_timeout_s=readback_timeout_s,
        )
        if unknown:
            raise self.error(
                f"unknown option(s) {', '.join(sorted(unknown))}; this driver takes: outlet, "
                "model, community, write_community, timeout, retries, readback_timeout_s"
            )
        if isinstance(outlet, bool) or int(outlet) != outlet or outlet < 1:
            raise self.error(f"outlet must be a number >= 1, got {outlet!r}")
        if timeout <= 0 or retries < 0 or readback_timeout_s <= 0:
            raise self.error(
                f"need timeout > 0, retries >= 0, readback_timeout_s > 0; got {timeout!r}, "
                f"{retries!r}, {readback_timeout_s!r}"
            )
        try:
            self.map = load_snmp_map(model)
        except RelayMapError as exc:
            raise self.error(str(exc)) from None
        self.outlet = int(outlet)
        self.readback_timeout_s = float(readback_timeout_s)
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
        self._loop = _LoopThread(f"snmp-pdu-{self._host}:{self._udp_port}")
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
            raise self.error(f"cannot resolve the PDU address: {exc}") from None
        self._engine = SnmpEngine()

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        if self._engine is not None:
            engine, self._engine = self._engine, None

            async def _shutdown() -> None:
                engine.close_dispatcher()

            with contextlib.suppress(Exception):
                loop.run(_shutdown(), _GUARD_S)
        loop.stop()

    # -- role API ------------------------------------------------------------------------

    def identify(self) -> str:
        (value,) = self._get(self.map.identity_oid, "read sysDescr")
        return f"{value.prettyPrint()} (outlet {self.outlet}, map {self.map.name})"

    def is_on(self) -> bool:
        oid = self.map.state(self.outlet)
        (value,) = self._get(oid, f"read outlet {self.outlet} state ({oid})")
        try:
            state = int(value)
        except (TypeError, ValueError):
            raise self.error(
                f"read outlet {self.outlet} ({oid}): not an integer: {value!r}"
            ) from None
        if state == self.map.read_on:
            return True
        if state == self.map.read_off:
            return False
        raise self.error(
            f"read outlet {self.outlet} ({oid}): state {state} is neither on "
            f"({self.map.read_on}) nor off ({self.map.read_off}) in map {self.map.name}"
        )

    def switch(self, on: bool) -> None:
        from pysnmp.hlapi.v3arch.asyncio import Integer, ObjectIdentity, ObjectType, set_cmd

        oid = self.map.control(self.outlet)
        wanted = self.map.set_on if on else self.map.set_off
        what = f"switch outlet {self.outlet} {'on' if on else 'off'} ({oid} = {wanted})"
        binds = [ObjectType(ObjectIdentity(oid), Integer(wanted))]
        (value,) = self._request(set_cmd, self._write_community, binds, what)
        if int(value) != wanted:
            raise self.error(f"{what}: agent answered value {value.prettyPrint()}")

    # -- SNMP plumbing -------------------------------------------------------------------

    def _get(self, oid: str, what: str) -> list[Any]:
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType, get_cmd
        from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

        values = self._request(get_cmd, self._community, [ObjectType(ObjectIdentity(oid))], what)
        if isinstance(values[0], NoSuchObject | NoSuchInstance | EndOfMibView):
            raise self.error(
                f"{what}: the PDU has no {oid} (is model {self.map.name!r} right, and "
                f"outlet {self.outlet} one of its outlets?)"
            )
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
                    f"{what}: no answer within {self._timeout:g} s x {tries} tries - PDU "
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
                hint = f" - is outlet {self.outlet} an outlet of this PDU?"
            raise self.error(
                f"{what}: agent refused with {status} (index {int(error_index)}){hint}"
            )
        return [value for _, value in var_binds]

    async def _send(self, cmd: Any, community: str, binds: list[Any]) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import CommunityData, ContextData

        auth = CommunityData(community, mpModel=1)  # mpModel 1 = SNMP v2c
        return await cmd(self._engine, auth, self._target, ContextData(), *binds, lookupMib=False)

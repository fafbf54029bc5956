"""The virtual managed switch: a real SNMP v2c agent (pysnmp) for a small IF-MIB subset.

It serves sysDescr, ifNumber and, per port (ifIndex = port number), ifIndex, ifDescr,
ifAdminStatus and ifOperStatus. A SET of ifAdminStatus to down(2) / up(1) pulls / plugs the
port's cable: ``relay.set_link(False / True)`` on the :class:`~hil.sim.network.BlackholeRelay`
the station's traffic runs through. Reads use the read community, writes need the write
community (:mod:`hil.sim.instruments.snmp_agent`, like a real agent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hil.sim.instruments.snmp_agent import OID, ObjectTable, SnmpAgent, check_integer
from hil.sim.network import BlackholeRelay

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1, 0)
IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_INDEX, IF_DESCR, IF_ADMIN_STATUS, IF_OPER_STATUS = 1, 2, 7, 8
_MIB2 = (1, 3, 6, 1, 2, 1)
_UP, _DOWN = 1, 2


class _IfMibTable(ObjectTable):
    """The IF-MIB subset from the relays' live state."""

    def __init__(self, ports: dict[int, BlackholeRelay], sys_descr: str) -> None:
        self._ports = ports
        self._sys_descr = sys_descr

    def objects(self) -> dict[OID, Callable[[], Any]]:
        from pysnmp.proto.api import v2c

        objs: dict[OID, Callable[[], Any]] = {
            SYS_DESCR: lambda: v2c.OctetString(self._sys_descr),
            IF_NUMBER: lambda: v2c.Integer(len(self._ports)),
        }
        for index, relay in self._ports.items():
            status = (lambda r: lambda: v2c.Integer(_UP if r.link_up else _DOWN))(relay)
            objs[IF_ENTRY + (IF_INDEX, index)] = (lambda i: lambda: v2c.Integer(i))(index)
            objs[IF_ENTRY + (IF_DESCR, index)] = (lambda i: lambda: v2c.OctetString(f"port {i}"))(
                index
            )
            objs[IF_ENTRY + (IF_ADMIN_STATUS, index)] = status
            objs[IF_ENTRY + (IF_OPER_STATUS, index)] = status
        return objs

    def accept(self, oid: OID, value: Any, name: Any, idx: int) -> Any | None:
        if oid[:-1] == IF_ENTRY + (IF_ADMIN_STATUS,) and oid[-1] in self._ports:
            # testing(3) is not supported
            up = check_integer(value, (_UP, _DOWN), name, idx) == _UP
            return self._ports[oid[-1]], up
        return None

    def apply(self, changes: list[Any]) -> None:
        for relay, up in changes:
            relay.set_link(up)


class VirtualSwitch(SnmpAgent):
    """An SNMP v2c agent whose ports ``ports`` (ifIndex -> relay) can be set up or down."""

    def __init__(
        self,
        ports: dict[int, BlackholeRelay],
        host: str = "127.0.0.1",
        port: int = 0,
        community: str = "public",
        write_community: str = "private",
        sys_descr: str = "HIL-LAB virtual managed switch (SNMPv2c, IF-MIB subset)",
    ) -> None:
        super().__init__(
            _IfMibTable(ports, sys_descr), _MIB2, host, port, community, write_community
        )
        self.ports = ports

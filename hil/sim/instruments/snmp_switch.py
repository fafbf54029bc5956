"""The virtual managed switch: a real SNMP v2c agent (pysnmp) for a small IF-MIB subset.

It serves sysDescr, ifNumber and, per port (ifIndex = port number), ifIndex, ifDescr,
ifAdminStatus and ifOperStatus. A SET of ifAdminStatus to down(2) / up(1) pulls / plugs the
port's cable: ``relay.set_link(False / True)`` on the :class:`~hil.sim.network.BlackholeRelay`
the station's traffic runs through. Reads use the read community, writes need the write
community (enforced by pysnmp's view-based access control, like a real agent); requests with
an unknown community are dropped silently, as real agents do.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from hil.sim.network import BlackholeRelay

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1, 0)
IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_INDEX, IF_DESCR, IF_ADMIN_STATUS, IF_OPER_STATUS = 1, 2, 7, 8
_MIB2 = (1, 3, 6, 1, 2, 1)
_UP, _DOWN = 1, 2


class _IfMibInstrum:
    """Answers GET / GETNEXT / SET from the relays' live state (pysnmp MIB controller API)."""

    def __init__(self, ports: dict[int, BlackholeRelay], sys_descr: str) -> None:
        self._ports = ports
        self._sys_descr = sys_descr

    def _objects(self) -> dict[tuple[int, ...], Callable[[], Any]]:
        from pysnmp.proto.api import v2c

        objs: dict[tuple[int, ...], Callable[[], Any]] = {
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

    @staticmethod
    def _hidden(kind: str, name: tuple[int, ...], val: Any, idx: int, context: Any) -> bool:
        """True if ``name`` is outside the requester's view (raises if no access at all)."""
        ac_fun = context.get("acFun")
        return bool(ac_fun and ac_fun(kind, (name, val), idx=idx, **context))

    def read_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        from pysnmp.proto import rfc1905

        objs = self._objects()
        out = []
        for idx, (name, _) in enumerate(var_binds):
            oid = tuple(name)
            if self._hidden("read", oid, None, idx, context):
                out.append((name, rfc1905.noSuchObject))
            elif oid in objs:
                out.append((name, objs[oid]()))
            else:
                out.append((name, rfc1905.noSuchInstance))
        return out

    def read_next_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        from pysnmp.proto import rfc1905
        from pysnmp.proto.api import v2c

        objs = self._objects()
        ordered = sorted(objs)
        out = []
        for idx, (name, _) in enumerate(var_binds):
            start = tuple(name)
            for oid in ordered:
                if oid > start and not self._hidden("read", oid, None, idx, context):
                    out.append((v2c.ObjectIdentifier(oid), objs[oid]()))
                    break
            else:
                out.append((name, rfc1905.endOfMibView))
        return out

    def write_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        from pysnmp.proto.api import v2c
        from pysnmp.smi import error as smi_error

        objs = self._objects()
        changes: list[tuple[BlackholeRelay, bool]] = []
        # Check every binding first: a SET is all or nothing (RFC 3416 4.2.5).
        for idx, (name, val) in enumerate(var_binds):
            oid = tuple(name)
            if self._hidden("write", oid, val, idx, context):
                raise smi_error.NoAccessError(name=name, idx=idx)
            is_admin = oid[:-1] == IF_ENTRY + (IF_ADMIN_STATUS,)
            if is_admin and oid[-1] in self._ports:
                if val.tagSet != v2c.Integer.tagSet:
                    raise smi_error.WrongTypeError(name=name, idx=idx)
                if int(val) not in (_UP, _DOWN):  # testing(3) is not supported
                    raise smi_error.WrongValueError(name=name, idx=idx)
                changes.append((self._ports[oid[-1]], int(val) == _UP))
            elif oid in objs:
                raise smi_error.NotWritableError(name=name, idx=idx)
            else:
                raise smi_error.NoCreationError(name=name, idx=idx)
        for relay, up in changes:
            relay.set_link(up)
        return [(name, val) for name, val in var_binds]


class VirtualSwitch:
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
        self.ports = ports
        self._bind = (host, port)
        self._community = community
        self._write_community = write_community
        self._sys_descr = sys_descr
        self._engine: Any = None
        self.url: str | None = None

    async def start(self) -> str:
        """Start the agent on the running loop; return ``snmp://<host>:<port>``."""
        if self.url is not None:
            return self.url
        from pysnmp.carrier.asyncio.dgram import udp
        from pysnmp.entity import config, engine
        from pysnmp.entity.rfc3413 import cmdrsp, context

        # Bind ourselves, so port 0 works and the bound port is known at once.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(self._bind)
        host, port = sock.getsockname()[:2]
        snmp = engine.SnmpEngine()  # created on the running loop: its dispatcher uses it
        config.add_transport(snmp, udp.DOMAIN_NAME, udp.UdpTransport().open_server_mode(sock=sock))
        self._configure_access(snmp, config)
        ctx = context.SnmpContext(snmp)
        ctx.context_names[b""] = _IfMibInstrum(self.ports, self._sys_descr)
        for responder in (
            cmdrsp.GetCommandResponder,
            cmdrsp.NextCommandResponder,
            cmdrsp.BulkCommandResponder,
            cmdrsp.SetCommandResponder,
        ):
            responder(snmp, ctx)
        self._engine = snmp
        self.url = f"snmp://{host}:{port}"
        return self.url

    def _configure_access(self, snmp: Any, config: Any) -> None:
        """Read community: read MIB-2. Write community: read and write MIB-2."""
        config.add_context(snmp, b"")
        # pysnmp treats a view with no entries as "allowed", so "none" excludes MIB-2.
        config.add_vacm_view(snmp, "mib2", "included", _MIB2, b"")
        config.add_vacm_view(snmp, "none", "excluded", _MIB2, b"")
        grants = {self._community: ("mib2", "none")}
        grants[self._write_community] = ("mib2", "mib2")
        for n, (community, (read_view, write_view)) in enumerate(grants.items()):
            name, group = f"community-{n}", f"group-{n}"
            config.add_v1_system(snmp, name, community)
            config.add_vacm_group(snmp, group, 2, name)
            config.add_vacm_access(  # security level 1 = noAuthNoPriv
                snmp, group, b"", 2, 1, "exact", read_view, write_view, "none"
            )

    async def stop(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None
        self.url = None

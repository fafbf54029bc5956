"""What every virtual SNMP instrument shares: a real SNMP v2c agent (pysnmp) that answers
from a table of live objects, with read and write communities enforced by pysnmp's
view-based access control (requests with an unknown community are dropped silently, as
real agents do).

An instrument says which objects it has (:meth:`ObjectTable.objects`) and which of them a
SET may change (:meth:`ObjectTable.accept`); GET, GETNEXT, GETBULK and the all-or-nothing
SET (RFC 3416 4.2.5) are done here.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

OID = tuple[int, ...]


class ObjectTable:
    """Answers GET / GETNEXT / SET from live state (pysnmp's MIB controller API)."""

    def objects(self) -> dict[OID, Callable[[], Any]]:
        """Every object the agent has, OID -> a callable giving its current value."""
        raise NotImplementedError

    def accept(self, oid: OID, value: Any, name: Any, idx: int) -> Any | None:
        """The change a SET of ``oid`` to ``value`` asks for, or None when ``oid`` is not a
        writable object; raise pysnmp's WrongType/WrongValue errors for a bad value."""
        return None

    def apply(self, changes: list[Any]) -> None:
        """Make the accepted changes of one SET (all were checked first)."""

    @staticmethod
    def _hidden(kind: str, name: OID, val: Any, idx: int, context: Any) -> bool:
        """True if ``name`` is outside the requester's view (raises if no access at all)."""
        ac_fun = context.get("acFun")
        return bool(ac_fun and ac_fun(kind, (name, val), idx=idx, **context))

    def read_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        from pysnmp.proto import rfc1905

        objs = self.objects()
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

        objs = self.objects()
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
        from pysnmp.smi import error as smi_error

        objs = self.objects()
        changes = []
        # Check every binding first: a SET is all or nothing (RFC 3416 4.2.5).
        for idx, (name, val) in enumerate(var_binds):
            oid = tuple(name)
            if self._hidden("write", oid, val, idx, context):
                raise smi_error.NoAccessError(name=name, idx=idx)
            change = self.accept(oid, val, name, idx)
            if change is not None:
                changes.append(change)
            elif oid in objs:
                raise smi_error.NotWritableError(name=name, idx=idx)
            else:
                raise smi_error.NoCreationError(name=name, idx=idx)
        self.apply(changes)
        return [(name, val) for name, val in var_binds]


def check_integer(val: Any, allowed: tuple[int, ...], name: Any, idx: int) -> int:
    """A SET value must be an INTEGER among ``allowed`` (else WrongType / WrongValue)."""
    from pysnmp.proto.api import v2c
    from pysnmp.smi import error as smi_error

    if val.tagSet != v2c.Integer.tagSet:
        raise smi_error.WrongTypeError(name=name, idx=idx)
    if int(val) not in allowed:
        raise smi_error.WrongValueError(name=name, idx=idx)
    return int(val)


class SnmpAgent:
    """A v2c agent serving one :class:`ObjectTable`: reads with ``community`` within
    ``view``, writes with ``write_community``."""

    def __init__(
        self,
        table: ObjectTable,
        view: OID,
        host: str = "127.0.0.1",
        port: int = 0,
        community: str = "public",
        write_community: str = "private",
    ) -> None:
        self.table = table
        self.view = view
        self._bind = (host, port)
        self.community = community
        self.write_community = write_community
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
        ctx.context_names[b""] = self.table
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
        """Read community: read the view. Write community: read and write it."""
        config.add_context(snmp, b"")
        # pysnmp treats a view with no entries as "allowed", so "none" excludes the view.
        config.add_vacm_view(snmp, "view", "included", self.view, b"")
        config.add_vacm_view(snmp, "none", "excluded", self.view, b"")
        grants = {self.community: ("view", "none"), self.write_community: ("view", "view")}
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

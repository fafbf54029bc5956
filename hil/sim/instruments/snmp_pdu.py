"""The virtual PDU: a real SNMP v2c agent (pysnmp) serving an APC PowerNet-MIB outlet table.

It serves ``sysDescr.0`` and, per outlet, ``sPDUOutletCtl.<outlet>`` from the bundled map
``drivers/power_relay/maps/apc_powernet.yaml`` (the same data the driver uses): a GET
answers outletOn(1) / outletOff(2), a SET of immediateOn(1) / immediateOff(2) switches the
outlet. An outlet may feed something: its callback gets ``True`` / ``False`` when it is
switched (on the virtual bench, outlet ``options.outlet`` is the virtual station's mains,
:meth:`~hil.sim.station.station.VirtualStation.set_mains`). Reads use the read community,
writes need the write community (pysnmp's view-based access control); requests with an
unknown community are dropped silently, as real agents do.

``ignore_sets=True`` makes a faulty PDU for tests: it answers every SET with success and
switches nothing (a welded contact, a locked outlet), so only a read-back can tell.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from drivers.power_relay.relay_maps import load_snmp_map

_ROOT = (1, 3, 6, 1)


def _oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


class _PduInstrum:
    """Answers GET / GETNEXT / SET from the outlets' state (pysnmp MIB controller API)."""

    def __init__(self, pdu: VirtualPdu) -> None:
        self._pdu = pdu
        self._map = pdu.map

    def _objects(self) -> dict[tuple[int, ...], Callable[[], Any]]:
        from pysnmp.proto.api import v2c

        pdu, m = self._pdu, self._map
        objs: dict[tuple[int, ...], Callable[[], Any]] = {
            _oid(m.identity_oid): lambda: v2c.OctetString(pdu.sys_descr),
        }
        for outlet in pdu.outlets:
            objs[_oid(m.state(outlet))] = (
                lambda o: lambda: v2c.Integer(m.read_on if pdu.outlets[o] else m.read_off)
            )(outlet)
        return objs

    @staticmethod
    def _hidden(kind: str, name: tuple[int, ...], val: Any, idx: int, context: Any) -> bool:
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
        out = []
        for idx, (name, _) in enumerate(var_binds):
            start = tuple(name)
            for oid in sorted(objs):
                if oid > start and not self._hidden("read", oid, None, idx, context):
                    out.append((v2c.ObjectIdentifier(oid), objs[oid]()))
                    break
            else:
                out.append((name, rfc1905.endOfMibView))
        return out

    def write_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        from pysnmp.proto.api import v2c
        from pysnmp.smi import error as smi_error

        m, control = self._map, _oid(self._map.control_oid)
        objs = self._objects()
        changes: list[tuple[int, bool]] = []
        for idx, (name, val) in enumerate(var_binds):  # all or nothing (RFC 3416 4.2.5)
            oid = tuple(name)
            if self._hidden("write", oid, val, idx, context):
                raise smi_error.NoAccessError(name=name, idx=idx)
            if oid[:-1] == control and oid[-1] in self._pdu.outlets:
                if val.tagSet != v2c.Integer.tagSet:
                    raise smi_error.WrongTypeError(name=name, idx=idx)
                if int(val) not in (m.set_on, m.set_off):  # reboot, delayed: not served
                    raise smi_error.WrongValueError(name=name, idx=idx)
                changes.append((oid[-1], int(val) == m.set_on))
            elif oid in objs:
                raise smi_error.NotWritableError(name=name, idx=idx)
            else:
                raise smi_error.NoCreationError(name=name, idx=idx)
        if not self._pdu.ignore_sets:
            for outlet, on in changes:
                self._pdu.set_outlet(outlet, on)
        return [(name, val) for name, val in var_binds]


class VirtualPdu:
    """An SNMP v2c agent with ``outlets`` outlets (all on at start); ``feeds`` maps an outlet
    to the callback it powers."""

    def __init__(
        self,
        feeds: dict[int, Callable[[bool], None]] | None = None,
        outlets: int = 8,
        host: str = "127.0.0.1",
        port: int = 0,
        community: str = "public",
        write_community: str = "private",
        sys_descr: str = "HIL-LAB virtual PDU (SNMPv2c, APC PowerNet-MIB sPDUOutletCtl)",
        ignore_sets: bool = False,
        model: str = "apc-powernet",
    ) -> None:
        self.map = load_snmp_map(model)
        self.feeds = dict(feeds or {})
        self.outlets: dict[int, bool] = {n: True for n in range(1, outlets + 1)}
        for outlet in self.feeds:
            self.outlets.setdefault(outlet, True)
        self.sys_descr = sys_descr
        self.ignore_sets = ignore_sets
        self._bind = (host, port)
        self._community = community
        self._write_community = write_community
        self._engine: Any = None
        self.url: str | None = None

    def set_outlet(self, outlet: int, on: bool) -> None:
        """Switch an outlet (as a SET does) and tell what it feeds."""
        if self.outlets.get(outlet) == on:
            return
        self.outlets[outlet] = on
        feed = self.feeds.get(outlet)
        if feed is not None:
            feed(on)

    async def start(self) -> str:
        """Start the agent on the running loop; return ``snmp://<host>:<port>``."""
        if self.url is not None:
            return self.url
        from pysnmp.carrier.asyncio.dgram import udp
        from pysnmp.entity import config, engine
        from pysnmp.entity.rfc3413 import cmdrsp, context

        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(self._bind)
        host, port = sock.getsockname()[:2]
        snmp = engine.SnmpEngine()
        config.add_transport(snmp, udp.DOMAIN_NAME, udp.UdpTransport().open_server_mode(sock=sock))
        config.add_context(snmp, b"")
        # pysnmp treats a view with no entries as "allowed", so "none" excludes everything.
        config.add_vacm_view(snmp, "all", "included", _ROOT, b"")
        config.add_vacm_view(snmp, "none", "excluded", _ROOT, b"")
        grants = {self._community: ("all", "none"), self._write_community: ("all", "all")}
        for n, (community, (read_view, write_view)) in enumerate(grants.items()):
            name, group = f"community-{n}", f"group-{n}"
            config.add_v1_system(snmp, name, community)
            config.add_vacm_group(snmp, group, 2, name)
            config.add_vacm_access(snmp, group, b"", 2, 1, "exact", read_view, write_view, "none")
        ctx = context.SnmpContext(snmp)
        ctx.context_names[b""] = _PduInstrum(self)
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

    async def stop(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None
        self.url = None

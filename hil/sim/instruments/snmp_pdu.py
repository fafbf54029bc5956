"""The virtual PDU: a real SNMP v2c agent (pysnmp) serving an APC PowerNet-MIB outlet table.

It serves ``sysDescr.0`` and, per outlet, ``sPDUOutletCtl.<outlet>`` from the bundled map
``drivers/power_relay/maps/apc_powernet.yaml`` (the same data the driver uses): a GET
answers outletOn(1) / outletOff(2), a SET of immediateOn(1) / immediateOff(2) switches the
outlet. An outlet may feed something: its callback gets ``True`` / ``False`` when it is
switched (on the virtual bench, outlet ``options.outlet`` is the virtual station's mains,
:meth:`~hil.sim.station.station.VirtualStation.set_mains`). Reads use the read community,
writes need the write community (:mod:`hil.sim.instruments.snmp_agent`).

``ignore_sets=True`` makes a faulty PDU for tests: it answers every SET with success and
switches nothing (a welded contact, a locked outlet), so only a read-back can tell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.power_relay.relay_maps import load_snmp_map
from hil.sim.instruments.snmp_agent import OID, ObjectTable, SnmpAgent, check_integer

_ROOT = (1, 3, 6, 1)


def _oid(text: str) -> OID:
    return tuple(int(part) for part in text.split("."))


class _PduTable(ObjectTable):
    """The outlet table of the bundled map, from the outlets' state."""

    def __init__(self, pdu: VirtualPdu) -> None:
        self._pdu = pdu
        self._map = pdu.map

    def objects(self) -> dict[OID, Callable[[], Any]]:
        from pysnmp.proto.api import v2c

        pdu, m = self._pdu, self._map
        objs: dict[OID, Callable[[], Any]] = {
            _oid(m.identity_oid): lambda: v2c.OctetString(pdu.sys_descr),
        }
        for outlet in pdu.outlets:
            objs[_oid(m.state(outlet))] = (
                lambda o: lambda: v2c.Integer(m.read_on if pdu.outlets[o] else m.read_off)
            )(outlet)
        return objs

    def accept(self, oid: OID, value: Any, name: Any, idx: int) -> Any | None:
        m = self._map
        if oid[:-1] == _oid(m.control_oid) and oid[-1] in self._pdu.outlets:
            # reboot and delayed switching are not served
            return oid[-1], check_integer(value, (m.set_on, m.set_off), name, idx) == m.set_on
        return None

    def apply(self, changes: list[Any]) -> None:
        if not self._pdu.ignore_sets:
            for outlet, on in changes:
                self._pdu.set_outlet(outlet, on)


class VirtualPdu(SnmpAgent):
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
        super().__init__(_PduTable(self), _ROOT, host, port, community, write_community)

    def set_outlet(self, outlet: int, on: bool) -> None:
        """Switch an outlet (as a SET does) and tell what it feeds."""
        if self.outlets.get(outlet) == on:
            return
        self.outlets[outlet] = on
        feed = self.feeds.get(outlet)
        if feed is not None:
            feed(on)

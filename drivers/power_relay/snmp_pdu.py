"""A switched PDU outlet over SNMP v2c ("snmp-pdu"); the OIDs per model are data.

``model`` picks a map in ``maps/`` (:mod:`drivers.power_relay.relay_maps`): the OID SET to
switch the outlet, the OID read back, and the INTEGER values meaning on and off (APC
PowerNet-MIB ``sPDUOutletCtl``: on 1 / off 2; Gude EPC ``epc8226PortState``: on 1 / off
0). ``identify()`` reads ``sysDescr.0``. Address: ``snmp://host[:port]`` (UDP 161 by
default). Reads use ``community``, SETs ``write_community``.

The SNMP plumbing (a private loop for pysnmp's async engine, deadlines, errors) is
:mod:`drivers.snmp_v2c`, shared with the managed switch's driver.
"""

from __future__ import annotations

from typing import Any

from drivers.power_relay.base import PowerRelay
from drivers.power_relay.relay_maps import RelayMapError, SnmpPduModel, load_snmp_map
from drivers.snmp_v2c import SnmpV2cSession


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
        self.snmp = SnmpV2cSession(
            address,
            community=community,
            write_community=write_community,
            timeout=timeout,
            retries=retries,
            error=self.error,
            device="PDU",
            missing_hint=(
                f"is model {self.map.name!r} right, and outlet {self.outlet} one of its outlets?"
            ),
        )

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> None:
        """Start the SNMP session; check the agent answers (sysDescr)."""
        if self.snmp.is_open:
            return
        self.snmp.open("snmp-pdu")
        try:
            self.identify()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.snmp.close()

    # -- role API ------------------------------------------------------------------------

    def identify(self) -> str:
        (value,) = self.snmp.get([self.map.identity_oid], "read sysDescr")
        return f"{value.prettyPrint()} (outlet {self.outlet}, map {self.map.name})"

    def is_on(self) -> bool:
        oid = self.map.state(self.outlet)
        state = self.snmp.get_int(oid, f"read outlet {self.outlet} state ({oid})")
        if state == self.map.read_on:
            return True
        if state == self.map.read_off:
            return False
        raise self.error(
            f"read outlet {self.outlet} ({oid}): state {state} is neither on "
            f"({self.map.read_on}) nor off ({self.map.read_off}) in map {self.map.name}"
        )

    def switch(self, on: bool) -> None:
        oid = self.map.control(self.outlet)
        wanted = self.map.set_on if on else self.map.set_off
        what = f"switch outlet {self.outlet} {'on' if on else 'off'} ({oid} = {wanted})"
        self.snmp.set_int(oid, wanted, what)

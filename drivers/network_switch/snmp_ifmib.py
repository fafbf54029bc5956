"""Any managed switch, through SNMP v2c and the standard IF-MIB ("snmp-ifmib").

A port is taken down / up by SETting ``ifAdminStatus.<ifIndex>`` (1.3.6.1.2.1.2.2.1.7) to
down(2) / up(1); ``identify()`` reads ``sysDescr.0``. OIDs are numeric, so no MIB files are
needed. Address: ``snmp://host[:port]`` (UDP port 161 by default). The SNMP plumbing (a
private loop for pysnmp's async engine, deadlines, errors) is :mod:`drivers.snmp_v2c`.
"""

from __future__ import annotations

from typing import Any

from drivers.network_switch.base import NetworkSwitch
from drivers.snmp_v2c import SnmpV2cSession

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
_UP, _DOWN = 1, 2


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
        self.snmp = SnmpV2cSession(
            address,
            community=community,
            write_community=write_community,
            timeout=timeout,
            retries=retries,
            error=self.error,
            device="switch",
            missing_hint="is that port an ifIndex of this switch?",
        )

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> None:
        """Start the SNMP session; check the agent answers (sysDescr)."""
        if self.snmp.is_open:
            return
        self.snmp.open("snmp")
        try:
            self.identify()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.snmp.close()

    # -- role API ------------------------------------------------------------------------

    def identify(self) -> str:
        (value,) = self.snmp.get([SYS_DESCR], "read sysDescr")
        return value.prettyPrint()

    def port_is_up(self, port: int) -> bool:
        """ifAdminStatus of ``port`` (= ifIndex) is up(1)."""
        return self._status(IF_ADMIN_STATUS, port, "ifAdminStatus") == _UP

    def oper_is_up(self, port: int) -> bool:
        """ifOperStatus of ``port`` is up(1): enabled and a link partner is there."""
        return self._status(IF_OPER_STATUS, port, "ifOperStatus") == _UP

    def set_port(self, port: int, up: bool) -> None:
        port = self._check_port(port)
        wanted = _UP if up else _DOWN
        what = f"set port {port} {'up' if up else 'down'} (ifAdminStatus.{port} = {wanted})"
        self.snmp.set_int(f"{IF_ADMIN_STATUS}.{port}", wanted, what)

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _check_port(port: int) -> int:
        if isinstance(port, bool) or int(port) != port or port < 1:
            raise ValueError(f"switch port must be an ifIndex >= 1, got {port!r}")
        return int(port)

    def _status(self, column: str, port: int, name: str) -> int:
        port = self._check_port(port)
        status = self.snmp.get_int(f"{column}.{port}", f"read {name}.{port}")
        if status not in range(1, 8):
            raise self.error(f"read {name}.{port}: invalid status {status}")
        return status

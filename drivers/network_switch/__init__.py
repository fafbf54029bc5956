"""Network switch role: take the station's switch port down and up (a pulled cable).

Abstract interface in :mod:`drivers.network_switch.base`; ``snmp_ifmib`` drives any managed
switch through SNMP v2c and the standard IF-MIB. pysnmp is imported only when it opens.
"""

from drivers.network_switch.base import NetworkSwitch

__all__ = ["NetworkSwitch"]

"""Power relay role: switch the station's mains supply off and on (a real power cycle).

Abstract interface in :mod:`drivers.power_relay.base`. ``snmp_pdu`` drives a switched PDU
outlet over SNMP v2c; ``modbus_relay`` a relay module's coil over Modbus TCP. Which OID or
coil does what is data (``maps/*.yaml``, read by :mod:`drivers.power_relay.relay_maps`).
pysnmp and pymodbus are imported only when a driver opens.
"""

from drivers.power_relay.base import PowerRelay

__all__ = ["PowerRelay"]

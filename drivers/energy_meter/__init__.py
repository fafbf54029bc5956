"""Energy meter role: a reference meter on the station's supply, read over Modbus.

One generic driver (:mod:`drivers.energy_meter.modbus`) reads any meter whose register map
is described as data (``maps/<model>.yaml``); the model modules only name their map.
"""

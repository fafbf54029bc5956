"""Power analyser role: a precision analyser on the station's output, read over SCPI (VISA).

One generic SCPI driver (:mod:`drivers.power_analyser.scpi`) follows a command set kept as
data (``command_sets/<model>.yaml``); the model modules only name their command set.
"""

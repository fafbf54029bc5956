"""Instrument drivers: one sub-package per bench role, one module per real model.

Drivers are looked up by ``(role, driver name)`` in :data:`drivers.registry.DRIVERS` and
imported lazily, so a bench without a VISA analyser never imports pyvisa.
"""

"""The abstract network switch: a port the station's network cable runs through."""

from __future__ import annotations

import abc

from drivers.base import Instrument


class NetworkSwitch(Instrument):
    """A managed switch. The lab config's ``port`` option names the station's port."""

    role = "network_switch"

    @property
    def station_port(self) -> int:
        """The switch port the station is wired to (lab config option ``port``)."""
        port = self.options.get("port")
        if port is None:
            raise self.error("no station port configured (set options.port in the lab config)")
        return int(port)

    @abc.abstractmethod
    def set_port(self, port: int, up: bool) -> None:
        """Enable (``up=True``) or disable a port; return once the switch confirmed it."""

    @abc.abstractmethod
    def port_is_up(self, port: int) -> bool:
        """Whether the port is administratively enabled."""

"""The abstract identification instrument: something that presents an idTag."""

from __future__ import annotations

import abc

from drivers.base import Instrument


class Identification(Instrument):
    """Presents an RFID tag (an OCPP idTag) to the station's reader."""

    role = "identification"

    @abc.abstractmethod
    def present(self, tag: str) -> None:
        """Present ``tag`` to the station; return once it has been presented."""

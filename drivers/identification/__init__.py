"""Identification role: present an idTag to the station (RFID reader, or an operator).

Abstract interface in :mod:`drivers.identification.base`; ``line_reader`` drives a reader
that speaks the small ``PRESENT <idTag>`` line protocol (the virtual station's reader),
``operator`` asks a human through Robot Framework's Dialogs.
"""

from drivers.identification.base import Identification

__all__ = ["Identification"]

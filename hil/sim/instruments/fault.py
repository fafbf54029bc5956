"""An instrument fault of the virtual bench: the instrument stops answering mid-run.

Set in the lab config (``virtual.instrument_faults``) to prove the lab notices a reference
instrument that hangs, the way a meter behind a dead Modbus gateway does: the connection
stays open, no answer ever comes.
"""

from __future__ import annotations

import logging

from hil.sim.physics import BenchPhysics

LOG = logging.getLogger("hil.sim")


class HangFault:
    """Strikes once the bench has delivered ``after_wh`` Wh (never when None), for good."""

    def __init__(self, physics: BenchPhysics, role: str, after_wh: float | None) -> None:
        self.physics = physics
        self.role = role
        self.after_wh = after_wh
        self.struck = False

    def check(self, address: str) -> bool:
        """True once the fault has struck (it stays so); logs the moment it does."""
        if not self.struck and self.after_wh is not None:
            delivered = self.physics.energy_wh()
            if delivered >= self.after_wh:
                self.struck = True
                LOG.warning(
                    "virtual %s at %s stops answering (instrument fault after %g Wh; the "
                    "bench has delivered %.1f Wh)",
                    self.role,
                    address,
                    self.after_wh,
                    delivered,
                )
        return self.struck

"""The EV side of the bench: :func:`make_ev_side` picks the implementation for the DUT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hil.lab.config import LabConfig
    from hil.lab.ev_side.base import EvSide


def ev_role(cfg: LabConfig) -> str:
    """The instrument role that plays the EV on this DUT's bench."""
    return "dc_ev_emulator" if cfg.dut.current_type == "DC" else "ev_simulator"


def make_ev_side(cfg: LabConfig, driver: Any) -> EvSide:
    """The EV side for ``dut.current_type``, driving ``driver`` (None: an operator)."""
    if cfg.dut.current_type == "DC":
        from hil.lab.ev_side.dc import DcEvSide

        assert cfg.dut.dc is not None  # never None on a DC station (hil.lab.config)
        return DcEvSide(driver, cfg.dut.dc.protocols[0], cfg.dut.dc.max_current_a)
    from hil.lab.ev_side.ac import AcEvSide

    return AcEvSide(driver)

"""The EV on the station's connector, as the checklist speaks of it.

The suites say "plug in the EV", "the EV requests charge", "the pilot offers current". An AC
bench does that with the EV simulator (IEC 61851-1 control pilot); a DC bench with the DC
EV emulator (the same pilot plus a DIN 70121 / ISO 15118-2 session). One interface, one
implementation per current type (:mod:`hil.lab.ev_side.ac`, :mod:`hil.lab.ev_side.dc`),
chosen by :func:`hil.lab.ev_side.make_ev_side` from ``dut.current_type`` — the suites never
ask which one they drive.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Offer:
    """What the station offers the EV now, as the EV receives it.

    AC: the pilot's PWM (``current_a`` per phase, no power). DC: the maximum current and
    power of the station's last CurrentDemand response."""

    current_a: float
    power_w: float | None
    shown: str  # how the EV received it, for logs and failure messages

    @property
    def nothing(self) -> bool:
        return self.current_a <= 0 or (self.power_w is not None and self.power_w <= 0)


class EvSide(abc.ABC):
    """The EV the bench plugs into the station: one instrument role (or an operator)."""

    #: the lab config's instrument role that plays the EV
    role: str
    #: what a human standing in for the instrument is asked to do, by action
    instructions: dict[str, str]
    #: the station monitors the insulation of the cable to this EV (DC, IEC 61851-23)
    insulation_monitored: bool = False
    #: the EV ends its charging session itself at its target SoC (DC high-level
    #: communication); an AC EV just stops drawing
    ends_its_session: bool = False

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    @abc.abstractmethod
    def plug_in(self) -> None:
        """Connect the EV; it does not ask for energy yet."""

    @abc.abstractmethod
    def request_charge(self) -> None:
        """The EV asks for energy (AC state C; DC: it starts its charging session)."""

    @abc.abstractmethod
    def stop_charging(self) -> None:
        """The EV stops asking for energy and stays connected (AC state B; DC: the EV ends
        its session)."""

    @abc.abstractmethod
    def unplug(self) -> None:
        """Disconnect the EV."""

    @abc.abstractmethod
    def inject_fault(self, kind: str) -> None:
        """Inject a fault on the EV side (``E``, ``F``, ``diode``; DC also ``insulation``)."""

    @abc.abstractmethod
    def clear_fault(self) -> None:
        """Remove the injected fault; the EV carries on as a real one would."""

    @abc.abstractmethod
    def read_offer(self) -> Offer:
        """What the station offers now."""

    @abc.abstractmethod
    def plugged(self) -> bool:
        """True while the EV is connected."""

    def prepare_short_session(self, wh: float) -> float:
        """Make the next session one the EV ends by itself after about ``wh`` (its target
        SoC that close); returns the target SoC (%). Only an EV that ends its sessions."""
        raise NotImplementedError(f"{type(self).__name__} does not end its sessions itself")

    def restore_battery(self) -> None:
        """Back to the battery the lab's sessions normally start from."""
        return None

    def read_soc(self) -> float | None:
        """The EV's state of charge (%) as it reports it (DC); None on AC."""
        return None

    def restart_session(self) -> None:
        """The EV tries again after its session failed (DC); nothing to do on AC, where
        the pilot simply carries on."""
        return None

    def request_limit_a(self) -> float | None:
        """The most current the EV asks for (A), when it says (DC); None on AC, where the
        EV simply draws what the pilot offers."""
        return None

    def delivery_problem(self, current_a: float, tolerance_a: float) -> str | None:
        """Why ``current_a`` measured on the output breaks what the EV asked for (None:
        it does not, or the EV asks nothing of the kind)."""
        return None

    def release(self) -> None:
        """Teardown: no fault, no session, unplugged — whatever the step left."""
        self.clear_fault()
        self.unplug()

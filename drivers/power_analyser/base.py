"""The power analyser role: what every analyser driver offers the lab."""

from __future__ import annotations

import abc

from drivers.base import Instrument


class PowerAnalyser(Instrument):
    """An analyser measuring the station's output.

    Voltage and current are per phase (the element wired to L1 unless configured); power and
    the integrated energy are totals over all elements (Sigma on a three-phase analyser).
    """

    role = "power_analyser"

    @abc.abstractmethod
    def read_voltage_v(self) -> float:
        """RMS voltage of the phase element (V)."""

    @abc.abstractmethod
    def read_current_a(self) -> float:
        """RMS current of the phase element (A)."""

    @abc.abstractmethod
    def read_power_w(self) -> float:
        """Total active power (W)."""

    @abc.abstractmethod
    def read_energy_wh(self) -> float:
        """Integrated active energy since the last integration reset (Wh)."""

    @abc.abstractmethod
    def integration_reset(self) -> None:
        """Zero the integrator (it must be stopped)."""

    @abc.abstractmethod
    def integration_start(self) -> None:
        """Start (or resume) integrating energy."""

    @abc.abstractmethod
    def integration_stop(self) -> None:
        """Stop integrating; the integral holds its value."""

    def read_sample(self) -> dict[str, float]:
        """The figures the lab samples: total power, the integral and the current of the
        element wired to L1."""
        return {
            "power_w": self.read_power_w(),
            "energy_wh": self.read_energy_wh(),
            "current_a": self.read_current_a(),
        }

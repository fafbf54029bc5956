"""The energy meter role: what every reference meter driver offers the lab."""

from __future__ import annotations

import abc

from drivers.base import Instrument


class EnergyMeter(Instrument):
    """A three-phase reference meter. Units are V, A, W and Wh whatever the meter uses."""

    role = "energy_meter"

    @abc.abstractmethod
    def read_energy_wh(self) -> float:
        """Total imported active energy register (Wh)."""

    @abc.abstractmethod
    def read_power_w(self) -> float:
        """Total active power over all phases (W)."""

    @abc.abstractmethod
    def read_voltages_v(self) -> tuple[float, float, float]:
        """Line-to-neutral voltages L1, L2, L3 (V)."""

    @abc.abstractmethod
    def read_currents_a(self) -> tuple[float, float, float]:
        """Phase currents L1, L2, L3 (A)."""

    def energy_resolution_wh(self, reading_wh: float) -> float:
        """The register's resolution near ``reading_wh``; energy comparisons allow it."""
        return 0.0

    def read_sample(self) -> dict[str, float]:
        """The figures the lab samples: energy register, total power and the phase currents
        (smart charging checks a limit per phase)."""
        l1, l2, l3 = self.read_currents_a()
        return {
            "energy_wh": self.read_energy_wh(),
            "power_w": self.read_power_w(),
            "current_l1_a": l1,
            "current_l2_a": l2,
            "current_l3_a": l3,
        }

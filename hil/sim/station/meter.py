"""The station's own (billing) meter and the sampled values it puts into MeterValues.

Its register is separate from the bench's true energy: it starts at an arbitrary reading
and a deviation can make it run fast, as a miscalibrated meter would.
"""

from __future__ import annotations

from typing import Any

from hil.sim.physics import BenchPhysics

REGISTER = "Energy.Active.Import.Register"


class StationMeter:
    def __init__(
        self, physics: BenchPhysics, start_wh: float = 1_250_000.0, skew: float = 1.0
    ) -> None:
        self.physics = physics
        self.start_wh = start_wh
        self.skew = skew

    def register_wh(self) -> float:
        return self.start_wh + self.physics.energy_wh() * self.skew

    def sampled_values(
        self, measurands: list[str], context: str, offered_a: float
    ) -> list[dict[str, Any]]:
        """SampledValue entries for ``measurands`` (OCPP 1.6 §7.43); unknown ones skipped."""
        out: list[dict[str, Any]] = []
        for m in measurands:
            if m == REGISTER:
                out.append(_sv(f"{self.register_wh():.1f}", context, m, "Wh"))
            elif m == "Power.Active.Import":
                out.append(_sv(f"{self.physics.power_w() * self.skew:.1f}", context, m, "W"))
            elif m == "Current.Offered":
                out.append(_sv(f"{offered_a:.1f}", context, m, "A"))
            elif m == "Current.Import":
                for phase, amps in zip(
                    ("L1", "L2", "L3"), self.physics.phase_currents_a(), strict=True
                ):
                    out.append(_sv(f"{amps:.2f}", context, m, "A", phase))
            elif m == "Voltage":
                for phase, volts in zip(
                    ("L1-N", "L2-N", "L3-N"), self.physics.phase_voltages_v(), strict=True
                ):
                    out.append(_sv(f"{volts:.1f}", context, m, "V", phase))
        return out


def _sv(
    value: str, context: str, measurand: str, unit: str, phase: str | None = None
) -> dict[str, Any]:
    sv = {
        "value": value,
        "context": context,
        "format": "Raw",
        "measurand": measurand,
        "location": "Outlet",
        "unit": unit,
    }
    if phase:
        sv["phase"] = phase
    return sv

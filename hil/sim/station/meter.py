"""The station's own (billing) meter and the sampled values it puts into MeterValues.

Its register is separate from the bench's true energy: it starts at an arbitrary reading
and a deviation can make it run fast, as a miscalibrated meter would. What it reads comes
from the station's power stage (:mod:`hil.sim.station.power_stage`): AC or DC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hil.sim.station.power_stage import REGISTER, PowerStage

#: a legal (Eichrecht) meter's register in Wh; None while it cannot be read
LegalRegister = Callable[[], "float | None"]


class StationMeter:
    def __init__(self, stage: PowerStage, start_wh: float = 1_250_000.0, skew: float = 1.0) -> None:
        self.stage = stage
        self.start_wh = start_wh
        self.skew = skew
        #: the register of a legal meter the station reads its register from (a DC
        #: station's signing DC meter, hil.sim.station.dc_eichrecht); None: its own
        self.legal_register: LegalRegister | None = None

    def register_wh(self) -> float:
        return self._register()[0]

    def _register(self) -> tuple[float, int]:
        """The register (Wh) and the decimals MeterValues give it: a legal meter's register
        is whole Wh (what it shows and signs), the station's own has a tenth."""
        legal = self.legal_register() if self.legal_register is not None else None
        if legal is not None:  # a skewed register (deviation) still runs fast
            return legal + self.stage.energy_wh() * (self.skew - 1), 0
        return self.start_wh + self.stage.energy_wh() * self.skew, 1

    def sampled_values(
        self, measurands: list[str], context: str, offered_a: float
    ) -> list[dict[str, Any]]:
        """SampledValue entries for ``measurands`` (OCPP 1.6 §7.43); unknown ones skipped."""
        out: list[dict[str, Any]] = []
        for m in measurands:
            if m == REGISTER:
                wh, digits = self._register()
                out.append(_sv(f"{wh:.{digits}f}", context, m, "Wh"))
            elif m == "Power.Active.Import":
                out.append(_sv(f"{self.stage.power_w() * self.skew:.1f}", context, m, "W"))
            else:
                for measurand, value, unit, phase, location in self.stage.readings([m], offered_a):
                    digits = 2 if unit == "A" and phase else 1
                    out.append(
                        _sv(f"{value:.{digits}f}", context, measurand, unit, phase, location)
                    )
        return out


def _sv(
    value: str,
    context: str,
    measurand: str,
    unit: str,
    phase: str | None = None,
    location: str = "Outlet",
) -> dict[str, Any]:
    sv = {
        "value": value,
        "context": context,
        "format": "Raw",
        "measurand": measurand,
        "location": location,
        "unit": unit,
    }
    if phase:
        sv["phase"] = phase
    return sv

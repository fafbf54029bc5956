"""Energy reconciliation: do all sources agree on what flowed in a session?

Sources are the station's own figures (``meterStop - meterStart``, the MeterValues energy
register) and the lab's references (the energy meter's register delta, the power
analyser's integral). Each is compared with the reference over the same window, allowing
``percent`` of the reference plus an absolute allowance plus each side's resolution.
Pure logic: the keywords collect the figures, this decides.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class EnergyFigure:
    source: str
    wh: float
    window: str  # what the figure covers, e.g. "StartTransaction to StopTransaction"
    resolution_wh: float = 0.0


@dataclass(frozen=True)
class EnergyComparison:
    source: str
    reference: str
    source_wh: float
    reference_wh: float
    allowed_wh: float
    window: str

    @property
    def diff_wh(self) -> float:
        return self.source_wh - self.reference_wh

    @property
    def diff_percent(self) -> float:
        return 100.0 * self.diff_wh / self.reference_wh if self.reference_wh else 0.0

    @property
    def ok(self) -> bool:
        return abs(self.diff_wh) <= self.allowed_wh

    def describe(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        return (
            f"{verdict}: {self.source} {self.source_wh:.2f} Wh vs {self.reference} "
            f"{self.reference_wh:.2f} Wh over {self.window}: diff {self.diff_wh:+.2f} Wh "
            f"({self.diff_percent:+.2f} %), allowed ±{self.allowed_wh:.2f} Wh"
        )


def compare(
    figure: EnergyFigure, reference: EnergyFigure, percent: float, absolute_wh: float
) -> EnergyComparison:
    """Compare one figure with a reference figure over the same window."""
    allowed = (
        abs(reference.wh) * percent / 100.0
        + absolute_wh
        + figure.resolution_wh
        + reference.resolution_wh
    )
    return EnergyComparison(
        figure.source, reference.source, figure.wh, reference.wh, allowed, figure.window
    )


def interpolate(points: Sequence[tuple[float, float]], t: float) -> float:
    """Linear interpolation of a cumulative quantity sampled at (time, value) points.

    Outside the sampled range the nearest end is used; that is exact when nothing flows
    there, which is how sessions are framed (no power before start, none after stop).
    """
    if not points:
        raise ValueError("no samples to interpolate")
    times = [p[0] for p in points]
    i = bisect.bisect_left(times, t)
    if i <= 0:
        return points[0][1]
    if i >= len(points):
        return points[-1][1]
    (t0, v0), (t1, v1) = points[i - 1], points[i]
    if t1 == t0:
        return v1
    return v0 + (v1 - v0) * (t - t0) / (t1 - t0)


def decimals_resolution(value: str) -> float:
    """The resolution a decimal text carries: ``"1250012.3"`` -> 0.1, ``"5"`` -> 1."""
    if "." in value:
        return 10.0 ** -len(value.split(".", 1)[1])
    return 1.0

"""The energy error over nights as a PNG data URI (matplotlib imported lazily, off-screen,
as hil/robot/plot.py does): one series per bench, the station's own register against the
reference meter, inside the band the checks allow."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

from hil.history.trends import STATION_SOURCES, EnergyPoint


@dataclass
class EnergySeries:
    """What the plot draws: per bench (night index, mean error %), and per night the
    tolerance (±%) of the strictest check that night (None: no tolerance known)."""

    benches: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    band: list[tuple[int, float]] = field(default_factory=list)


def energy_series(points: list[EnergyPoint], nights: list[str]) -> EnergySeries:
    """One series per bench: the mean error of the station's register (meterStop −
    meterStart, the MeterValues register) per night; the band: per night the smallest
    allowed error of those checks."""
    x_of = {n: i for i, n in enumerate(nights)}
    mine = [p for p in points if p.source in STATION_SOURCES and p.night in x_of]
    errors: dict[str, dict[int, list[float]]] = {}
    allowed: dict[int, float] = {}
    for p in mine:
        x = x_of[p.night]
        errors.setdefault(p.bench, {}).setdefault(x, []).append(p.diff_percent)
        if p.allowed_percent is not None:
            allowed[x] = min(p.allowed_percent, allowed.get(x, p.allowed_percent))
    series = EnergySeries()
    for bench in sorted(errors):
        by_x = errors[bench]
        series.benches[bench] = [(x, sum(by_x[x]) / len(by_x[x])) for x in sorted(by_x)]
    series.band = sorted(allowed.items())
    return series


def energy_error_plot(points: list[EnergyPoint], nights: list[str]) -> str | None:
    """The series of :func:`energy_series` as a PNG data URI; None when there is nothing
    to plot."""
    series = energy_series(points, nights)
    if not series.benches:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    try:
        if series.band:
            # each night's tolerance over its own slot, so one night still shows a band
            xs = [x + d for x, _ in series.band for d in (-0.45, 0.45)]
            ys = [tol for _, tol in series.band for _ in (0, 1)]
            ax.fill_between(
                xs,
                [-y for y in ys],
                ys,
                color="#2a9d2a",
                alpha=0.12,
                linewidth=0,
                label="allowed (strictest check)",
            )
        for bench, xy in series.benches.items():
            ax.plot([x for x, _ in xy], [y for _, y in xy], marker="o", label=bench)
        ax.axhline(0, color="#888", linewidth=0.8)
        ax.set_xticks(range(len(nights)), nights, rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.6, max(len(nights) - 0.4, 0.6))
        ax.set_ylabel("station register error\nvs reference (%)", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")

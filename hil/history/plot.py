"""The energy error over nights as a PNG data URI (matplotlib imported lazily, off-screen,
as hil/robot/plot.py does)."""

from __future__ import annotations

import base64
import io

from hil.history.trends import EnergyPoint


def energy_error_plot(points: list[EnergyPoint], nights: list[str]) -> str | None:
    """One line per bench and energy source: the error (%) against the reference meter on
    each night; None when there is nothing to plot."""
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from hil.report.build import SOURCE_NAMES  # the report's names for the sources

    series: dict[str, dict[str, list[float]]] = {}
    for p in points:
        series.setdefault(f"{p.bench}: {SOURCE_NAMES.get(p.source, p.source)}", {}).setdefault(
            p.night, []
        ).append(p.diff_percent)
    x_of = {n: i for i, n in enumerate(nights)}
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    try:
        for label, by_night in sorted(series.items()):
            xs = sorted(by_night, key=lambda n: x_of.get(n, 0))
            # several sessions a night: their mean (the table has every figure)
            ys = [sum(by_night[n]) / len(by_night[n]) for n in xs]
            ax.plot([x_of.get(n, 0) for n in xs], ys, marker="o", label=label)
        ax.axhline(0, color="#888", linewidth=0.8)
        ax.set_xticks(range(len(nights)), nights, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("error vs reference (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")

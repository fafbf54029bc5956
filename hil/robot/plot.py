"""Power-over-time plots for the Robot log: every source on one time axis.

matplotlib is imported lazily (it is slow to import) and drawn off-screen.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

Series = tuple[str, Sequence[float], Sequence[float]]  # label, seconds, values


def power_plot(
    path: Path,
    title: str,
    series: list[Series],
    markers: list[tuple[float, str]],
    limits: Series | None = None,
    quantity: str = "power (kW)",
    scale: float = 1000.0,
    xlabel: str = "s since session start",
) -> str:
    """Draw ``series`` (divided by ``scale``: W to kW by default) over seconds; save a PNG
    at ``path``; return an <img> tag for the log. ``limits`` go on a second axis in A."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    try:
        for label, xs, ys in series:
            if xs:
                style = "o" if len(xs) < 30 else "-"
                ax.plot(
                    list(xs),
                    [y / scale for y in ys],
                    style,
                    label=label,
                    markersize=3,
                    drawstyle="steps-post" if style == "-" else "default",
                )
        for x, text in markers:
            ax.axvline(x, color="grey", linestyle=":", linewidth=1)
            # x in data, y in axes units: the label stands at the bottom of the plot even
            # when the values never come near zero (a current limit of 6 A to 32 A)
            note = ax.annotate(
                text,
                (x, 0.02),
                xycoords=ax.get_xaxis_transform(),
                rotation=90,
                fontsize=7,
                va="bottom",
                ha="right",
            )
            note.set_in_layout(False)  # it sits inside the axes, not in a margin
        ax.set_xlabel(xlabel)
        ax.set_ylabel(quantity)
        if limits is not None and limits[1]:
            lim = ax.twinx()
            lim.step(
                list(limits[1]),
                list(limits[2]),
                where="post",
                color="red",
                linestyle="--",
                label=limits[0],
            )
            lim.set_ylabel("limit (A)")
            lim.legend(loc="upper right", fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.legend(loc="upper left", fontsize=7)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{title}" width="800">'

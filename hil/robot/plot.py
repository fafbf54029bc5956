"""Power-over-time plots for the Robot log: every source on one time axis, and a DC
session (power, voltage, current, SoC) as stacked panels on one time axis.

matplotlib is imported lazily (it is slow to import) and drawn off-screen.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
            _label_mark(ax, x, text)
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
        return _save(fig, path, title)
    finally:
        plt.close(fig)


#: The DC session panels, top to bottom: sample key, axis label, divisor (W to kW).
DC_PANELS: tuple[tuple[str, str, float], ...] = (
    ("power_w", "power (kW)", 1000.0),
    ("voltage_v", "voltage (V)", 1.0),
    ("current_a", "current (A)", 1.0),
    ("soc_pct", "SoC (%)", 1.0),
)

DcSample = tuple[float, Mapping[str, float]]  # seconds, {voltage_v, current_a, power_w, soc_pct}


def dc_session_plot(
    path: Path,
    title: str,
    samples: Sequence[DcSample],
    marks: Sequence[tuple[float, str]] = (),
    xlabel: str = "s since session start",
) -> str:
    """Draw a DC session as four stacked panels on one time axis (power in kW, voltage,
    current, SoC); save a PNG at ``path``; return an <img> tag for the log, as
    :func:`power_plot` does. One panel per quantity because their scales differ by orders
    of magnitude (400 V, 125 A, 50 kW, 20-80 %): on one axis the current and SoC would
    be flat lines. ``marks`` (seconds, text) are drawn on every panel, labelled on the
    bottom one.

    Raises ValueError for no samples (an empty plot would pass for a session with no
    energy) or a sample lacking one of the four values.
    """
    if not samples:
        raise ValueError(f"dc_session_plot {title!r}: no samples to plot")
    xs = [float(t) for t, _ in samples]
    columns: dict[str, list[float]] = {}
    for key, _label, scale in DC_PANELS:
        column = []
        for i, (_t, values) in enumerate(samples):
            if key not in values:
                raise ValueError(
                    f"dc_session_plot {title!r}: sample {i} (t={xs[i]:g} s) has no {key}; "
                    f"each sample needs {', '.join(k for k, _, _ in DC_PANELS)}"
                )
            column.append(float(values[key]) / scale)
        columns[key] = column

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    # power_plot's width and resolution; four of its panels' worth of height, less margins
    fig, axes = plt.subplots(len(DC_PANELS), 1, figsize=(8, 7.2), dpi=100, sharex=True)
    try:
        style = "o" if len(xs) < 30 else "-"
        for ax, (key, label, _scale) in zip(axes, DC_PANELS, strict=True):
            ax.plot(
                xs,
                columns[key],
                style,
                markersize=3,
                drawstyle="steps-post" if style == "-" else "default",
            )
            ax.set_ylabel(label, fontsize=8)
            ax.grid(True, alpha=0.3)
            for x, _text in marks:
                ax.axvline(x, color="grey", linestyle=":", linewidth=1)
        bottom = axes[-1]
        for x, text in marks:
            _label_mark(bottom, x, text)
        bottom.set_xlabel(xlabel)
        axes[0].set_title(title, fontsize=9)
        return _save(fig, path, title)
    finally:
        plt.close(fig)


def _label_mark(ax: Any, x: float, text: str) -> None:
    """Write a mark's label at ``x``: x in data, y in axes units, so the label stands at the
    bottom of the plot even when the values never come near zero (a current limit of 6 A
    to 32 A); it sits inside the axes, not in a margin."""
    note = ax.annotate(
        text,
        (x, 0.02),
        xycoords=ax.get_xaxis_transform(),
        rotation=90,
        fontsize=7,
        va="bottom",
        ha="right",
    )
    note.set_in_layout(False)


def _save(fig: Any, path: Path, title: str) -> str:
    """Lay out ``fig``, write it as PNG to ``path`` and return an <img> tag embedding it
    for the Robot log (``alt`` escaped: a test name may hold quotes)."""
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    alt = html.escape(title, quote=True)
    return f'<img src="data:image/png;base64,{data}" alt="{alt}" width="800">'

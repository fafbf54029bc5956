"""The power plot that goes into the Robot log and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure

from hil.robot.plot import power_plot

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Box, dict[str, Box]]]:
    """What power_plot saves: the axes' box and each text's box, measured as saved."""
    figures: list[tuple[Box, dict[str, Box]]] = []
    save = Figure.savefig

    def measure(self: Figure, *args: Any, **kwargs: Any) -> None:
        save(self, *args, **kwargs)
        renderer = self.canvas.get_renderer()
        ax = self.axes[0]
        texts = {t.get_text(): tuple(t.get_window_extent(renderer).extents) for t in ax.texts}
        figures.append((tuple(ax.get_window_extent(renderer).extents), texts))

    monkeypatch.setattr(Figure, "savefig", measure)
    return figures


@pytest.mark.parametrize("low", [0.0, 16.0])
def test_marker_labels_stand_inside_the_plot(tmp_path: Path, drawn: list, low: float):
    """A marker's label is readable whether or not the values come near zero (a current
    limit of 16 A to 22 A put them below the axes, out of sight)."""
    xs = [i * 0.5 for i in range(100)]
    ys = [low + i % 7 for i in range(100)]
    img = power_plot(
        tmp_path / "p.png",
        "current",
        [("L1", xs, ys)],
        [(1.0, "SetChargingProfile"), (20.0, "ClearChargingProfile")],
        quantity="current (A)",
        scale=1.0,
    )
    assert img.startswith('<img src="data:image/png;base64,')
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")
    [((x0, y0, x1, y1), texts)] = drawn
    assert sorted(texts) == ["ClearChargingProfile", "SetChargingProfile"]
    for text, (tx0, ty0, tx1, ty1) in texts.items():
        assert y0 <= ty0 and ty1 <= y1, (text, (tx0, ty0, tx1, ty1), (x0, y0, x1, y1))
        assert x0 <= tx0 and tx1 <= x1, (text, (tx0, ty0, tx1, ty1), (x0, y0, x1, y1))

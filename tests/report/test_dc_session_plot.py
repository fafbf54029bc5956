"""The DC session plot (power, voltage, current, SoC) for the Robot log and the report."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure

from hil.robot.plot import dc_session_plot


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """Every figure dc_session_plot saves, to inspect its axes afterwards."""
    figures: list[Figure] = []
    save = Figure.savefig

    def keep(self: Figure, *args: Any, **kwargs: Any) -> None:
        save(self, *args, **kwargs)
        figures.append(self)

    monkeypatch.setattr(Figure, "savefig", keep)
    return figures


def session(n: int = 60) -> list[tuple[float, dict[str, float]]]:
    """A DC session: 0.5 s samples, 400 V rising, 125 A, SoC from 20 %."""
    out = []
    for i in range(n):
        volts, amps = 380.0 + i * 0.2, 125.0 if i > 5 else 0.0
        out.append(
            (
                i * 0.5,
                {
                    "voltage_v": volts,
                    "current_a": amps,
                    "power_w": volts * amps,
                    "soc_pct": 20.0 + i * 0.01,
                },
            )
        )
    return out


def test_four_panels_on_one_time_axis_saved_as_png(tmp_path: Path, saved: list[Figure]):
    """Rule: power (kW), voltage (V), current (A) and SoC (%) each get a panel, top to
    bottom, sharing the time axis; the PNG is written and the log gets the same image."""
    samples = session()
    path = tmp_path / "plots" / "dc.png"  # the folder does not exist yet
    img = dc_session_plot(path, 'Step 6 "DC"', samples, marks=[(3.0, "PowerDelivery")])

    png = path.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    assert img.startswith('<img src="data:image/png;base64,') and img.endswith('width="800">')
    assert base64.b64decode(img.split("base64,")[1].split('"')[0]) == png
    assert 'alt="Step 6 &quot;DC&quot;"' in img  # a quote in a test name cannot break the tag

    [fig] = saved
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == [
        "power (kW)",
        "voltage (V)",
        "current (A)",
        "SoC (%)",
    ]
    # stacked: each panel below the previous one, all over the same x range
    tops = [ax.get_position().y0 for ax in axes]
    assert tops == sorted(tops, reverse=True)
    shared = axes[0].get_shared_x_axes()
    assert all(shared.joined(axes[0], ax) for ax in axes[1:])
    assert axes[-1].get_xlabel() == "s since session start"
    # each panel draws its own quantity (power in kW)
    keys = {"power (kW)": ("power_w", 1000.0), "voltage (V)": ("voltage_v", 1.0)}
    keys |= {"current (A)": ("current_a", 1.0), "SoC (%)": ("soc_pct", 1.0)}
    for ax in axes:
        key, scale = keys[ax.get_ylabel()]
        [line] = ax.get_lines()[:1]
        assert list(line.get_xdata()) == [t for t, _ in samples]
        assert list(line.get_ydata()) == pytest.approx([v[key] / scale for _, v in samples])
        assert any(m.get_xdata()[0] == 3.0 for m in ax.get_lines()[1:]), "mark on every panel"
    assert [t.get_text() for t in axes[-1].texts] == ["PowerDelivery"]


def test_no_samples_is_a_clear_error(tmp_path: Path):
    """Harm prevented: an empty plot in the report would look like a session with no
    power at all; no samples is the caller's error, said as such, and no file is left."""
    with pytest.raises(ValueError, match=r"dc_session_plot 'Step 7': no samples to plot"):
        dc_session_plot(tmp_path / "dc.png", "Step 7", [])
    assert not (tmp_path / "dc.png").exists()


def test_a_sample_without_soc_is_named(tmp_path: Path):
    """A sample lacking one of the four values (a source that does not report SoC) is
    named by index, time and key, not drawn as zero."""
    samples = session(3)
    del samples[1][1]["soc_pct"]
    with pytest.raises(ValueError, match=r"sample 1 \(t=0\.5 s\) has no soc_pct"):
        dc_session_plot(tmp_path / "dc.png", "Step 7", samples)


def test_a_dc_session_plot_appears_in_the_report(tmp_path: Path):
    """The report renders ``plot`` evidence records (hil/report/build.py), so a DC session
    plot recorded as one shows in the certification report: inlined in the HTML, copied
    beside the Markdown."""
    from hil.report.model import PlotEvidence
    from hil.report.render_html import render_html
    from hil.report.render_markdown import copy_plots, render_markdown
    from tests.report.sample import sample_report

    path = tmp_path / "plots" / "dc-step-6.png"
    dc_session_plot(path, "Step 6: DC session", session())
    report = sample_report(tmp_path)
    report.plots.append(PlotEvidence("6", "Step 6: DC session", path))

    page = render_html(report)
    png = base64.b64encode(path.read_bytes()).decode("ascii")
    assert f"data:image/png;base64,{png}" in page
    markdown = render_markdown(report)
    assert "report-plots/dc-step-6.png" in markdown
    copy_plots(report, tmp_path / "out")
    assert (tmp_path / "out" / "report-plots" / "dc-step-6.png").read_bytes() == path.read_bytes()

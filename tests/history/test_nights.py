"""Nights as ``hil nightly`` ends them (fake bench folders from tests/nightly/fakes.py, the
history completed from them, the summary written), on SQLite and PostgreSQL: a defect
switched on for one night is a new failure that says what changed; only a verdict that
keeps flipping with the same firmware and lab config is flaky."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hil.cli import main
from hil.history.compare import compare_night
from hil.history.db import open_engine
from hil.history.trends import history
from hil.nightly.run import _complete_history
from hil.nightly.summary import Morning, failed_steps_lines, write_morning_summary
from tests.nightly.fakes import bench, bench_folder, write_config

DEFECT = "trigger_boot_not_sent"


def night(tmp: Path, url: str, night_id: str, defect: bool) -> tuple[str, list[str], Morning]:
    """One night of two benches: step 23 fails on bench-a while the defect is on; bench-b
    fails step 5 every night. Returns the summary page, the failed-steps lines, the
    comparison."""
    a, b = bench(tmp, "bench-a"), bench(tmp, "bench-b")
    write_config(a, [DEFECT] if defect else [])
    write_config(b)
    results = tmp / night_id
    pr = results / "pabot_results"
    steps_a = [("1", "PASS"), ("23", "FAIL" if defect else "PASS")]
    folders = {
        "bench-a": bench_folder(pr, 1, a, steps_a, ended=True),
        "bench-b": bench_folder(pr, 2, b, [("1", "PASS"), ("5", "FAIL")], ended=True),
    }
    _complete_history(url, folders, night_id)  # what hil nightly does once pabot is over
    states = {"bench-a": "finished", "bench-b": "finished"}
    page, summaries, found = write_morning_summary(results, night_id, [a, b], folders, states, url)
    time.sleep(0.01)  # the next night starts later (nights are ordered by their runs)
    return page.read_text(), failed_steps_lines(summaries, found), found


def step23(url: str):  # type: ignore[no-untyped-def]
    engine = open_engine(url)
    try:
        (a,) = [b for b in history(engine, nights=7).benches if b.bench == "bench-a"]
        return {s.step: s for s in a.steps}["23"]
    finally:
        engine.dispose()


def test_a_defect_switched_on_is_a_new_failure_and_only_flipping_again_is_flaky(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The harm: the morning's reader sees a station defect that appeared last night
    buried among green rows, or labelled "flaky" after a single Y→N change, and so does not
    look at what changed (here: a deviation switched on in the lab config)."""
    night(tmp_path, db_url, "n1", defect=False)
    html, lines, found = night(tmp_path, db_url, "n2", defect=True)

    # the summary leads with the new failure and says what changed
    morning = html.index('id="morning"')
    assert morning < html.index("<h2>Benches</h2>") < html.index("<table>")
    news = html[morning : html.index("</ul>", morning)]
    assert "bench-a: step 23 TriggerMessage" in news
    assert "new failure (Y on n1; changed: deviations +trigger_boot_not_sent)" in news
    assert "bench-b" not in news  # step 5 of bench b fails since n1: not new
    assert "step 5 Heartbeat since\nn1 (firmware 1.2.3)" in html
    # hil nightly's last lines start with the failed steps, per bench, with the reason
    assert lines[:2] == ["bench-a (1.2.3):", "  step 23 TriggerMessage: N, new: Boom"]
    assert "  step 5 Heartbeat: N: Boom" in lines

    # the history calls it a new failure, not flaky
    s = step23(db_url)
    assert s.new_failure and s.flaky_on == [] and s.failing_since == "n2"
    assert s.changed == [f"deviations +{DEFECT}"]
    assert main(["history", "--db", db_url, "--failures"]) == 0
    out = capsys.readouterr().out
    assert "new failure" in out and "flaky" not in out

    # a third night flips back: fixed; a fourth flips again: flaky (same firmware and lab
    # config: the lab config's digest leaves the deviations out), no longer "new"
    html, _, found = night(tmp_path, db_url, "n3", defect=False)
    (a,) = [c for c in found.comparisons if c.bench == "bench-a"]
    assert [t.step for t in a.fixed] == ["23"] and a.changed == [f"deviations -{DEFECT}"]
    html, lines, found = night(tmp_path, db_url, "n4", defect=True)
    s = step23(db_url)
    assert s.flaky_on == ["1.2.3"] and not s.new_failure
    (a,) = [c for c in found.comparisons if c.bench == "bench-a"]
    assert a.new_failures == [] and [t.step for t in a.flaky] == ["23"]
    assert "  step 23 TriggerMessage: N, flaky: Boom" in lines
    assert 'id="new-failures"' not in html and "step 23 on firmware 1.2.3" in html


def test_a_change_with_another_lab_config_is_no_flakiness(db_url: str, tmp_path: Path) -> None:
    """The harm: a step that fails because the bench was rewired or retimed (its lab config
    changed) and passes once that is undone would be reported as the station's flakiness."""
    from tests.history.helpers import record_run

    def run(run_id: str, n: str, status: str, timeout: int) -> None:
        config = tmp_path / f"lab-{timeout}.yaml"
        config.write_text(f"lab: {{name: bench-a}}\ntimings: {{boot_timeout_s: {timeout}}}\n")
        record_run(db_url, tmp_path, run_id, n, "1.0", {"1": status}, lab_config=config)

    run("r1", "2026-11-01", "PASS", 15)
    run("r2", "2026-11-02", "FAIL", 1)
    run("r3", "2026-11-03", "PASS", 15)
    run("r4", "2026-11-04", "FAIL", 1)
    engine = open_engine(db_url)
    try:
        ((s,),) = [b.steps for b in history(engine).benches]
        assert s.flaky_on == []  # each flip came with a lab config change
        assert s.new_failure and s.changed and s.changed[0].startswith("lab config changed")
        (cmp,) = compare_night(engine, "2026-11-04")
        assert cmp.changed == s.changed
    finally:
        engine.dispose()

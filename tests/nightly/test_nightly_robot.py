"""``hil nightly`` for real: three virtual benches in parallel through pabot, and a night
with a bench whose preflight fails. Short selections (steps 1, 5, 23) keep them quick."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hil.lab.evidence import STEPS_FILE, read_json_lines
from hil.nightly.run import Night
from hil.nightly.status import bench_folders

pytestmark = pytest.mark.robot

REPO = Path(__file__).resolve().parents[2]
VIRTUAL_LAB = REPO / "lab_configs" / "virtual.yaml"


def write_bench(
    folder: Path, i: int, deviations: list[str] | None = None, **instruments: Any
) -> Path:
    data = yaml.safe_load(VIRTUAL_LAB.read_text())
    data["lab"]["name"] = f"Virtual bench {i}"
    data["dut"]["station_id"] = f"VIRTUAL-CP-{i:03d}"
    data["virtual"]["deviations"] = list(deviations or [])
    data["instruments"].update(instruments)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench{i}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def nightly(
    benches: Path,
    results: Path,
    *steps: str,
    timeout: float = 170,
    night: str = "test-night",
    history: str | None = None,
) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "hil", "nightly", "--benches", str(benches), "-d", str(results)]
    for step in steps:
        cmd += ["--include", f"step:{step}"]
    cmd += ["--no-live", "--night", night]
    if history:
        cmd += ["--history", history]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    return done.returncode, done.stdout + done.stderr


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_three_benches_in_parallel(tmp_path: Path) -> None:
    benches = tmp_path / "benches"
    for i in (1, 2):
        write_bench(benches, i)
    write_bench(benches, 3, ["trigger_boot_not_sent"])
    results = tmp_path / "results"
    started = time.monotonic()
    rc, out = nightly(benches, results, "1", "5", "23")
    wall = time.monotonic() - started
    assert rc == 1, out  # step 23 failed on bench 3
    # the last lines start with the failed steps, with their reason, before the counts
    failed = out.index("Failed steps:\n  Virtual bench 3 (1.0.0):\n    step 23 TriggerMessage: N")
    assert failed < out.index("Virtual bench 1: finished"), out
    assert (results / "history.html").is_file(), out  # docs/history.md: hil nightly writes it
    for name in ("output.xml", "log.html", "report.html", "nightly-summary.html"):
        assert (results / name).is_file(), f"{name} missing\n{out}"
    html = (results / "nightly-summary.html").read_text()
    top = html.split("</table>")[0]
    assert top.count("<tr>") == 4, top
    status = json.loads((results / "nightly-status.json").read_text())
    assert [r["state"] for r in status] == ["finished"] * 3, status
    assert [r["done"] for r in status] == [3, 3, 3]
    night, _ = Night.load(results)
    folders = bench_folders(results / "pabot_results", night.benches, night.since)
    assert sorted(folders) == ["Virtual bench 1", "Virtual bench 2", "Virtual bench 3"]
    assert len({f for f in folders.values()}) == 3  # each bench its own worker
    for name, folder in folders.items():
        verdicts = {r["step"]: r["status"] for r in read_json_lines(folder / STEPS_FILE)}
        expected = "FAIL" if name.endswith("3") else "PASS"
        assert verdicts["23"] == expected, (name, verdicts)
        assert (folder / "certification-report.html").is_file()
    try:
        import hil.history.recorder  # noqa: F401
    except ImportError:
        pass
    else:
        assert history_runs(results / "history.sqlite") == 3
    print(f"three benches, steps 1 5 23: {wall:.1f} s")

    # a second night with the defect gone: the history shows step 23 fixed on bench 3
    write_bench(benches, 3)
    db = f"sqlite:///{results / 'history.sqlite'}"
    rc, out = nightly(benches, tmp_path / "second", "23", night="second-night", history=db)
    assert rc == 0, out
    # the summary compares with the first night: fixed, and what changed
    second = (tmp_path / "second" / "nightly-summary.html").read_text()
    assert "Fixed: step 23" in second, second
    assert "changed: deviations -trigger_boot_not_sent" in second
    from hil.history.db import open_engine
    from hil.history.trends import history

    engine = open_engine(db)
    try:
        trends = {b.bench: b for b in history(engine, nights=7).benches}
    finally:
        engine.dispose()
    bench3 = {s.step: s for s in trends["Virtual bench 3"].steps}["23"]
    assert bench3.verdicts == {"test-night": "N", "second-night": "Y"}, bench3
    assert bench3.failing_since is None
    bench1 = {s.step: s for s in trends["Virtual bench 1"].steps}["23"]
    assert bench1.verdicts == {"test-night": "Y", "second-night": "Y"}, bench1


def history_runs(db: Path) -> int:
    """Runs in the history database (its table of runs, whatever the schema names it)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    tables = sqlalchemy.inspect(engine).get_table_names()
    name = next(t for t in tables if t in ("runs", "run", "bench_runs"))
    with engine.connect() as conn:
        return int(conn.execute(sqlalchemy.text(f"SELECT COUNT(*) FROM {name}")).scalar_one())


def test_a_bench_whose_preflight_fails_is_reported_and_the_other_runs(tmp_path: Path) -> None:
    benches = tmp_path / "benches"
    write_bench(benches, 1)
    meter = {"driver": "sdm630", "address": f"modbus-tcp://127.0.0.1:{refused_port()}"}
    write_bench(benches, 2, energy_meter={**meter, "options": {"unit_id": 1}})
    results = tmp_path / "results"
    rc, out = nightly(benches, results, "1")
    assert rc == 1, out
    status = {r["bench"]: r for r in json.loads((results / "nightly-status.json").read_text())}
    assert status["Virtual bench 1"]["state"] == "finished", status
    assert status["Virtual bench 2"]["state"] == "preflight-failed"
    assert "energy_meter" in status["Virtual bench 2"]["message"]
    html = (results / "nightly-summary.html").read_text()
    assert "preflight failed: energy_meter" in html


def test_a_night_stopped_halfway_keeps_finished_steps_and_says_interrupted(
    tmp_path: Path,
) -> None:
    """SIGTERM (the lab PC shutting down, Ctrl-C): every bench's finished steps stay in the
    history database and its step records; the unfinished benches say interrupted."""
    import os
    import signal

    benches = tmp_path / "benches"
    for i in (1, 2):
        write_bench(benches, i)
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "hil", "nightly", "--benches", str(benches), "-d", str(results)]
    for step in ("1", "2", "3", "4", "5", "10", "12"):
        cmd += ["--include", f"step:{step}"]
    proc = subprocess.Popen(
        [*cmd, "--no-live", "--night", "stopped-night"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    status_file = results / "nightly-status.json"
    try:
        deadline = time.monotonic() + 150
        while True:  # polling another process's status file; there is no event to wait on
            assert proc.poll() is None, "the night ended before every bench finished a step"
            assert time.monotonic() < deadline, "no bench finished a step within 150 s"
            try:
                status = json.loads(status_file.read_text())
            except (OSError, ValueError):
                status = []
            if len(status) == 2 and all(r["done"] >= 1 for r in status):
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    status = json.loads(status_file.read_text())
    assert {r["state"] for r in status} == {"interrupted"}, status
    assert all(1 <= r["done"] < r["total"] for r in status), status
    night, _ = Night.load(results)
    folders = bench_folders(results / "pabot_results", night.benches, night.since)
    finished = {
        name: {r["step"] for r in read_json_lines(folder / STEPS_FILE)}
        for name, folder in folders.items()
    }
    from hil.history.db import open_engine
    from hil.history.trends import history

    engine = open_engine(f"sqlite:///{results / 'history.sqlite'}")
    try:
        trends = {b.bench: b for b in history(engine, nights=7).benches}
    finally:
        engine.dispose()
    for name, steps in finished.items():
        stderr = folders[name] / "robot_stderr.out"
        said = stderr.read_text(errors="replace")[-2000:] if stderr.is_file() else ""
        assert name in trends, (name, sorted(trends), said)
        stored = {s.step for s in trends[name].steps if s.verdicts.get("stopped-night")}
        assert steps and steps <= stored, (name, steps, stored, said)
        assert {r.state for r in trends[name].runs.values()} == {"interrupted"}

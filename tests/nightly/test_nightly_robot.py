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


def nightly(benches: Path, results: Path, *steps: str, timeout: float = 170) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "hil", "nightly", "--benches", str(benches), "-d", str(results)]
    for step in steps:
        cmd += ["--include", f"step:{step}"]
    cmd += ["--no-live", "--night", "test-night"]
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

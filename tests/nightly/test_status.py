"""Where each bench is, from fake output folders (no pabot, no bench)."""

from __future__ import annotations

import json
from pathlib import Path

from hil.nightly.status import bench_folders, night_status, write_status
from tests.nightly.fakes import bench, bench_folder


def test_folders_are_found_by_the_lab_config_in_their_run_marker(tmp_path: Path) -> None:
    a, b = bench(tmp_path, "A"), bench(tmp_path, "B")
    results = tmp_path / "pabot_results"
    # pabot numbers folders by argument file; the value set decides the bench
    fb = bench_folder(results, 1, b, [])
    fa = bench_folder(results, 2, a, [])
    assert bench_folders(results, [a, b]) == {"A": fa, "B": fb}
    assert bench_folders(results, [a, b], since="2999") == {}  # an earlier night's folders
    assert bench_folders(tmp_path / "none", [a]) == {}


def test_running_finished_and_waiting_benches(tmp_path: Path) -> None:
    a, b, c = bench(tmp_path, "A"), bench(tmp_path, "B"), bench(tmp_path, "C")
    results = tmp_path / "pabot_results"
    bench_folder(results, 1, a, [("1", "PASS"), ("5", "FAIL")], current="23")
    bench_folder(
        results, 2, b, [("1", "PASS"), ("5", "SKIP"), ("22", "LAB"), ("23", "PASS")], ended=True
    )
    records = night_status([a, b, c], results, total=4)
    assert records[0] == {
        "bench": "A",
        "step": "23",
        "name": "Step 23",
        "done": 2,
        "total": 4,
        "verdicts": {"Y": 1, "N": 1, "N/A": 0, "E": 0},
        "failed": ["5"],  # the number of a step that ended N, as it happens
        "lab_errors": [],
        "state": "running",
    }
    assert records[1]["state"] == "finished"
    assert records[1]["failed"] == [] and records[1]["lab_errors"] == ["22"]
    assert records[1]["step"] == "" and records[1]["done"] == 4
    # a lab error counts as E, never as the station's N
    assert records[1]["verdicts"] == {"Y": 2, "N": 0, "N/A": 1, "E": 1}
    assert records[2]["state"] == "running" and records[2]["done"] == 0  # not started yet


def test_when_pabot_is_over_unfinished_benches_are_interrupted(tmp_path: Path) -> None:
    a, b, c = bench(tmp_path, "A"), bench(tmp_path, "B"), bench(tmp_path, "C")
    results = tmp_path / "pabot_results"
    bench_folder(results, 1, a, [("1", "PASS")], current="5")
    bench_folder(results, 2, b, [("1", "PASS")], ended=True)
    states = [r["state"] for r in night_status([a, b, c], results, total=3, over=True)]
    assert states == ["interrupted", "finished", "interrupted"]
    # a stopped night: Robot's graceful stop still wrote `ended`, but not every step ran
    states = [r["state"] for r in night_status([a, b], results, 3, over=True, stopped=True)]
    assert states == ["interrupted", "interrupted"]


def test_a_bench_that_failed_preflight(tmp_path: Path) -> None:
    bad = bench(tmp_path, "Bad", ["energy_meter (sdm630 at tcp://127.0.0.1:1): refused"])
    [record] = night_status([bad], tmp_path / "pabot_results", total=3)
    assert record["state"] == "preflight-failed"
    assert "refused" in record["message"]
    assert record["done"] == 0


def test_status_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "nightly-status.json"
    write_status(path, [{"bench": "A"}])
    write_status(path, [{"bench": "B"}])
    assert json.loads(path.read_text()) == [{"bench": "B"}]
    assert [p.name for p in tmp_path.iterdir()] == ["nightly-status.json"]


def test_status_of_a_killed_night_is_rebuilt_from_its_files(tmp_path: Path) -> None:
    from hil.nightly.run import Night, rebuild_status

    a, b = bench(tmp_path, "A"), bench(tmp_path, "B")
    night = Night(tmp_path, [a, b], 3, "n")
    night.save()
    # A's Robot process (pid 999999 in the fake marker) is gone without `ended`
    bench_folder(tmp_path / "pabot_results", 1, a, [("1", "PASS")], current="5")
    bench_folder(tmp_path / "pabot_results", 2, b, [("1", "PASS")] * 3, ended=True)
    records = rebuild_status(tmp_path)
    assert [r["state"] for r in records] == ["interrupted", "finished"]
    assert records[0]["done"] == 1
    assert json.loads((tmp_path / "nightly-status.json").read_text()) == records


def test_a_robot_process_that_outlived_a_killed_night_is_running(tmp_path: Path) -> None:
    import os

    from hil.lab.evidence import update_run
    from hil.nightly.run import Night, rebuild_status

    a = bench(tmp_path, "A")
    Night(tmp_path, [a], 3, "n").save()
    folder = bench_folder(tmp_path / "pabot_results", 1, a, [("1", "PASS")], current="5")
    update_run(folder, pid=os.getpid())  # this process stands in for the orphaned Robot
    assert [r["state"] for r in rebuild_status(tmp_path)] == ["running"]

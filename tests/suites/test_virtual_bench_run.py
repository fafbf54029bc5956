"""The whole checklist passes on a well-behaved virtual bench, and leaves its evidence."""

from __future__ import annotations

import json

import pytest

from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def test_all_steps_pass_on_the_virtual_bench(tmp_path):
    outcomes = run_steps(tmp_path, write_lab(tmp_path))
    failed = {s: o.message for s, o in outcomes.items() if o.status == "FAIL"}
    assert not failed, failed
    assert {"1", "2", "3", "4", "5", "EI1", "SC1", "SC2", "SC3"} <= set(outcomes)
    firmware_cache_trigger = {"17", "18", "19", "20", "21", "22", "23"}
    assert firmware_cache_trigger <= set(outcomes)
    assert {o.status for s, o in outcomes.items() if s in firmware_cache_trigger} == {"PASS"}
    journal = tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl"
    frames = [json.loads(line) for line in journal.read_text().splitlines()]
    assert frames[0]["kind"] == "connect"
    actions = {f["action"] for f in frames if f["dir"] == "rx" and f["kind"] == "CALL"}
    assert {"BootNotification", "StatusNotification", "Heartbeat"} <= actions
    assert all({"seq", "wall", "mono", "raw", "dir"} <= set(f) for f in frames)


def test_bad_lab_config_fails_suite_setup_with_one_clear_line(tmp_path):
    lab = write_lab(tmp_path, timings={"heartbeat_intervall_s": 3})
    outcomes = run_steps(tmp_path, lab, ["1"])
    message = outcomes["1"].message
    assert outcomes["1"].status == "FAIL"
    assert f"{lab}: field timings.heartbeat_intervall_s: unknown field (value 3)" in message

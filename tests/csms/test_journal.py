"""The journal on its own: it never fails to record a frame, whatever the frame is."""

from __future__ import annotations

import base64
import json
import time

import pytest

from hil.csms.findings import Finding, FindingLog
from hil.csms.journal import (
    CALL,
    CALLERROR,
    CALLRESULT,
    MALFORMED,
    MAX_NESTING,
    RX,
    TX,
    Journal,
    _too_deep,
    classify,
)

NOT_OCPPJ = [
    "",
    "{this is not json",
    '{"a": 1}',
    "null",
    "[]",
    "[[2]]",  # an unhashable MessageTypeId once crashed classify
    '[{"a": 1}, "x"]',
    '[true, "x", "Heartbeat", {}]',
    '[7, "u1", "Heartbeat", {}]',
    '[2, "id", "Heartbeat"]',
    '[2, "id", 5, {}]',
    '[4, "x"]',
    "[" * 1_000 + "]" * 1_000,
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 5_000 + "1" + "}" * 5_000,
    '[2, "id", "DataTransfer", ' + "[" * 40 + "]" * 40 + "]",
]


@pytest.mark.parametrize("raw", NOT_OCPPJ, ids=lambda r: r[:30])
def test_classify_never_raises_and_says_malformed(raw):
    assert classify(raw)[0] == MALFORMED


def test_classify_shapes():
    assert classify('[2,"1","Heartbeat",{}]') == (CALL, "1", "Heartbeat", {})
    assert classify('[3,"1",{"a":1}]') == (CALLRESULT, "1", None, {"a": 1})
    assert classify('[4,"1","NotSupported","no",{}]')[0:2] == (CALLERROR, "1")
    # nesting a real OCPP 1.6 message needs is well inside the limit
    deep_ok = '[2,"1","X",' + "[" * (MAX_NESTING - 2) + "]" * (MAX_NESTING - 2) + "]"
    assert classify(deep_ok)[0] == CALL
    # brackets inside strings are text, not nesting (also in a 2 MiB frame, quickly)
    data = "[{" * 2**20
    big = json.dumps([2, "1", "DataTransfer", {"vendorId": "x", "data": data}])
    started = time.monotonic()
    assert classify(big) == (CALL, "1", "DataTransfer", {"vendorId": "x", "data": data})
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("raw", "deeper"),
    [
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
        ('{"a":' * 32 + "1" + "}" * 32, False),
        ('{"a":' * 33 + "1" + "}" * 33, True),
        ('[{"a":' * 16 + "1" + "}]" * 16, False),
        ('[{"a":' * 16 + "[1]" + "}]" * 16, True),
        ("[[]," * 31 + "1" + "]" * 31, False),  # each level's [] sits one deeper
        ("[[]," * 32 + "1" + "]" * 32, True),
        ("[" + "[]," * 100_000 + "[]]", False),  # wide is not deep
        ('["' + "[" * 100 + '"]', False),  # brackets in strings are text
        ('["\\"' + "[" * 100 + '"]', False),  # ... also after escaped quotes
        ("[}" * 40, False),  # mismatched: left to the JSON parser
    ],
)
def test_nesting_depth_is_measured_exactly(raw, deeper):
    assert _too_deep(raw, MAX_NESTING) is deeper


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{this is not json", "not JSON"),
        ('{"a": 1}', "not an array"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[" * 1_000 + "]" * 1_000, "nested too deeply"),
        ('[7, "u1", "Heartbeat", {}]', "MessageTypeId 7"),
        ('[4, "x"]', "CALLERROR"),
        ("[[2]]", "MessageTypeId"),
    ],
)
def test_a_malformed_frame_is_journaled_with_its_problem(tmp_path, raw, problem):
    journal = Journal("CP", tmp_path / "CP.jsonl")
    frame = journal.record_frame(RX, raw)
    assert frame.kind == MALFORMED and problem in frame.info["problem"]
    (line,) = (json.loads(x) for x in (tmp_path / "CP.jsonl").read_text().splitlines())
    assert line["raw"] == raw and line["kind"] == MALFORMED
    assert problem in line["info"]["problem"]


def test_a_binary_frame_keeps_its_exact_bytes(tmp_path):
    data = b"\x00\xff\xfe[2,\x80 not text\n"
    journal = Journal("CP", tmp_path / "CP.jsonl")
    frame = journal.record_frame(RX, data)
    assert frame.kind == MALFORMED and frame.raw == "" and frame.raw_bytes == data
    assert "binary" in frame.describe()
    (line,) = (json.loads(x) for x in (tmp_path / "CP.jsonl").read_text().splitlines())
    assert line["raw"] == ""
    assert base64.b64decode(line["raw_b64"]) == data
    assert line["info"]["binary"] is True and line["info"]["bytes"] == len(data)


def test_a_binary_frame_holding_a_call_keeps_its_id_for_the_answer():
    frame = Journal("CP").record_frame(RX, b'[2,"b1","Heartbeat",{}]')
    assert frame.kind == MALFORMED
    assert frame.unique_id == "b1" and frame.info["type_id"] == 2


def test_responses_carry_the_action_of_the_call_they_answer():
    journal = Journal("CP")
    journal.record_frame(TX, '[2,"c1","ClearCache",{}]')
    assert journal.record_frame(RX, '[3,"c1",{"status":"Accepted"}]').action == "ClearCache"
    assert journal.record_frame(RX, '[3,"c1",{"status":"Accepted"}]').action is None  # twice
    assert journal.record_frame(RX, '[3,"nobody",{}]').action is None


def test_a_journal_starts_fresh_for_each_run(tmp_path):
    path = tmp_path / "CP.jsonl"
    path.write_text('{"seq": 1, "raw": "from the previous run"}\n')
    journal = Journal("CP", path)
    journal.record_frame(RX, '[2,"1","Heartbeat",{}]')
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["seq"] == 1 and lines[0]["kind"] == CALL
    journal.close()


def test_findings_since_can_filter_by_station():
    log = FindingLog()
    log.record(Finding("DUT", 1, "malformed-frame", "a"))
    mark = log.mark
    log.record(Finding("OTHER", 2, "malformed-frame", "b"))
    log.record(Finding("DUT", 3, "schema-violation", "c"))
    assert [f.seq for f in log.since(0)] == [1, 2, 3]
    assert [f.seq for f in log.since(mark)] == [2, 3]
    assert [f.seq for f in log.since(mark, station="DUT")] == [3]
    assert [f.seq for f in log.since(0, "OTHER")] == [2]
    assert log.since(0, station="NOBODY") == []

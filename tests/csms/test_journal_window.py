"""The journal's memory is bounded: the file is the record, memory a window and an index.

Every reader gives the same frames whether they are in the window or read back from the
file, and a frame read back equals the frame that was journaled.
"""

from __future__ import annotations

import gc
import json
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hil.csms.journal as journal_module
from hil.csms.journal import (
    CALL,
    EVENT,
    MALFORMED,
    RX,
    TX,
    Journal,
    JournalError,
    WaitTimeout,
    frame_from_line,
)


def _heartbeats(journal: Journal, n: int) -> list:
    """``n`` CALLs and their answers, alternating directions (2 n frames)."""
    frames = []
    for i in range(n):
        frames.append(journal.record_frame(RX, json.dumps([2, f"h{i}", "Heartbeat", {}])))
        frames.append(journal.record_frame(TX, json.dumps([3, f"h{i}", {"currentTime": str(i)}])))
    return frames


def _lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


# -- the window ------------------------------------------------------------------------


def test_the_window_keeps_the_newest_frames_by_count(tmp_path):
    journal = Journal("CP", tmp_path / "CP.jsonl", window_frames=10)
    sent = _heartbeats(journal, 20)
    frames, size = journal.in_memory
    assert frames == 10 and size > 0
    assert [f.seq for f in journal._window] == list(range(31, 41))
    assert journal.frames() == sent and journal.cursor == 40
    assert len(_lines(tmp_path / "CP.jsonl")) == 40
    journal.close()


def test_the_window_keeps_the_newest_frames_by_bytes(tmp_path):
    journal = Journal("CP", tmp_path / "CP.jsonl", window_bytes=1_000)
    sent = [
        journal.record_frame(RX, json.dumps([2, str(i), "DataTransfer", {"data": "x" * 100}]))
        for i in range(30)
    ]
    frames, size = journal.in_memory
    line = len(sent[0].to_json()) + 1
    assert size <= 1_000 and frames == 1_000 // line
    assert journal.frames() == sent
    # a frame bigger than the whole window is not kept in memory, and still read back
    big = journal.record_frame(RX, json.dumps([2, "big", "DataTransfer", {"data": "y" * 5_000}]))
    assert journal.in_memory == (0, 0)
    assert journal.frame(big.seq) == big and journal.frames(30) == [big]
    assert journal.find(lambda f: f.unique_id == "big") == [big]
    journal.close()


def test_memory_stays_bounded_over_twenty_thousand_frames():
    journal = Journal("CP")  # the default limits
    for i in range(10_000):
        journal.record_frame(RX, json.dumps([2, f"m{i}", "MeterValues", {"connectorId": 1}]))
        journal.record_frame(TX, json.dumps([2, f"t{i}", "GetConfiguration", {}]))  # unanswered
    frames, size = journal.in_memory
    assert frames <= journal_module.WINDOW_FRAMES and size <= journal_module.WINDOW_BYTES
    assert len(journal._window) == frames
    assert len(journal._offsets) == 20_000 and journal._offsets.itemsize == 8
    assert len(journal._pending_calls) == journal_module.PENDING_CALLS
    assert not journal._unwritten
    assert journal.frame(1).unique_id == "m0" and journal.frame(20_000).unique_id == "t9999"
    journal.close()


def test_pending_calls_are_capped_oldest_first():
    journal = Journal("CP", pending_calls=3)
    for i in range(5):
        journal.record_frame(TX, json.dumps([2, f"c{i}", f"Action{i}", {}]))
    assert list(journal._pending_calls) == [(TX, "c2"), (TX, "c3"), (TX, "c4")]
    answers = [journal.record_frame(RX, json.dumps([3, f"c{i}", {}])) for i in range(5)]
    assert [a.action for a in answers] == [None, None, "Action2", "Action3", "Action4"]
    # a CALL id used again is the newest, not dropped first
    for uid in ("a", "b", "c", "a", "d"):
        journal.record_frame(TX, json.dumps([2, uid, f"X{uid}", {}]))
    assert list(journal._pending_calls) == [(TX, "c"), (TX, "a"), (TX, "d")]


# -- reading beyond the window ---------------------------------------------------------


@pytest.fixture(params=["file", "temporary"])
def small(request, tmp_path, monkeypatch):
    """A journal with a 5-frame window and 300-byte read blocks, and its 60 frames (an
    event, 50 heartbeats, binary, not JSON, a CALLERROR, 4 heartbeats, 2 events)."""
    monkeypatch.setattr(journal_module, "READ_BLOCK", 300)
    path = tmp_path / "CP.jsonl" if request.param == "file" else None
    journal = Journal("CP", path, window_frames=5)
    sent = [journal.record_event("connect", remote="127.0.0.1:1")]
    sent += _heartbeats(journal, 25)
    sent.append(journal.record_frame(RX, b"\x00\xff binary"))
    sent.append(journal.record_frame(RX, "{not json"))
    sent.append(journal.record_frame(RX, '[4,"h3","InternalError","ü ✓ 😀",{}]'))
    sent += _heartbeats(journal, 2)
    sent.append(journal.record_event("disconnect", code=1000, reason="", closed_by="station"))
    sent.append(journal.record_event("note", text="ünïcode ✓"))
    assert len(sent) == 60 and journal.in_memory[0] == 5
    yield journal, sent
    journal.close()


@pytest.mark.parametrize(
    ("after", "until"),
    [(0, None), (3, None), (0, 10), (7, 30), (54, None), (55, 60), (30, 20), (59, 99)]
    + [(-3, None), (-70, None), (0, -2), (-10, -5), (60, None), (99, None), (10, 10)],
)
def test_frames_reads_beyond_the_window_as_a_list_slice(small, after, until):
    journal, sent = small
    assert journal.frames(after, until) == sent[after:until]


def test_every_reader_reads_beyond_the_window(small):
    journal, sent = small
    assert journal.cursor == 60
    for frame in sent:
        assert journal.frame(frame.seq) == frame
    assert journal.frame(0) == sent[-1] and journal.frame(-1) == sent[-2]  # as list items
    for seq in (61, -60):
        with pytest.raises(IndexError):
            journal.frame(seq)
    binary = journal.find(lambda f: f.raw_bytes is not None)
    assert binary == [sent[51]] and binary[0].raw_bytes == b"\x00\xff binary"
    assert journal.find(lambda f: f.kind == MALFORMED, after=52) == [sent[52]]
    assert journal.find(lambda f: f.kind == "CALLERROR") == [sent[53]]
    assert sent[53].payload["errorDescription"] == "ü ✓ 😀"
    assert journal.find(lambda f: f.dir == EVENT) == [sent[0], sent[58], sent[59]]
    assert journal.wait_for(lambda f: f.unique_id == "h2", 0, 0) == sent[5]
    assert journal.wait_for(lambda f: f.dir == EVENT, 1, 1) == sent[58]
    with pytest.raises(AssertionError, match="Expected no"):
        journal.expect_none(lambda f: f.unique_id == "h0", 0, 0.1)
    journal.expect_none(lambda f: f.unique_id == "h10", 23, 0.1)


def test_timeout_message_lists_what_came_also_from_the_file(small):
    journal, sent = small
    with pytest.raises(WaitTimeout) as caught:
        journal.wait_for(lambda f: False, 10, 0.05, "nothing")
    lines = str(caught.value).splitlines()
    assert lines[:3] == [
        "Timed out after 0.05 s waiting for nothing (after frame #10).",
        "Arrived instead (50 frame(s)):",
        "  ... 38 earlier frame(s) not shown",
    ]
    assert lines[3:] == ["  " + f.describe() for f in sent[-12:]]
    assert journal.timeout_message("x", 60, 1).endswith("Nothing arrived instead.")
    assert "(3 frame(s))" in journal.timeout_message("x", -3, 1)


def test_wait_for_from_before_the_window_waits_for_a_frame_to_come(small):
    journal, sent = small
    seen: list = []

    def wait() -> None:
        seen.append(journal.wait_for(lambda f: f.unique_id == "late", 0, 10, "the late one"))

    waiter = threading.Thread(target=wait)
    started = time.monotonic()
    waiter.start()
    time.sleep(0.2)
    assert not seen  # it read the file, found nothing and waits on the condition
    late = journal.record_frame(RX, '[2,"late","Heartbeat",{}]')
    waiter.join(5)
    assert seen == [late] and time.monotonic() - started < 5


def test_wait_for_after_the_cursor_waits_past_it(small):
    journal, sent = small
    for _ in range(3):
        journal.record_event("note")
    with pytest.raises(WaitTimeout, match="Nothing arrived instead"):
        journal.wait_for(lambda f: True, 70, 0.05)
    later = [journal.record_event("note") for _ in range(8)]
    assert journal.wait_for(lambda f: True, 70, 0) == later[-1]  # frame #71
    assert journal.wait_for(lambda f: True, -2, 0) == later[-2]  # as a list slice


def test_readers_and_a_writer_at_once_see_one_consistent_record(tmp_path):
    journal = Journal("CP", tmp_path / "CP.jsonl", window_frames=20, window_bytes=2_000)
    problems: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            frames = journal.frames()
            if [f.seq for f in frames] != list(range(1, len(frames) + 1)):
                problems.append("a gap")
            if frames and journal.frame(len(frames)) != frames[-1]:
                problems.append("a different frame")

    readers = [threading.Thread(target=read) for _ in range(2)]
    for r in readers:
        r.start()
    found = []
    waiter = threading.Thread(
        target=lambda: found.append(journal.wait_for(lambda f: f.unique_id == "h299", 0, 10))
    )
    waiter.start()
    sent = _heartbeats(journal, 300)
    waiter.join(10)
    done.set()
    for r in readers:
        r.join(10)
    assert not problems and found == [sent[598]]
    assert journal.frames() == sent
    journal.close()


def test_a_back_office_summary_reads_all_frames_from_the_file(back_office, monkeypatch):
    from websockets.sync.client import connect

    monkeypatch.setattr(journal_module, "WINDOW_FRAMES", 3)
    with connect(f"{back_office.url('CP-W')}", subprotocols=["ocpp1.6"]) as ws:
        for i in range(5):
            ws.send(json.dumps([2, f"hb{i}", "Heartbeat", {}]))
            assert json.loads(ws.recv())[0] == 3
    journal = back_office.session("CP-W").journal
    assert journal.in_memory[0] <= 3 and journal.cursor >= 11
    assert "5 other CALL(s): Heartbeat ×5" in back_office.connection_summary("CP-W")
    assert [f.unique_id for f in journal.find(lambda f: f.action == "Heartbeat")][:2] == [
        "hb0",
        "hb0",
    ]


# -- a frame read back equals the frame journaled -----------------------------------------

_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
_json_scalars |= st.floats(allow_nan=False)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_uids = st.text(max_size=12)
_frames = st.one_of(
    st.tuples(st.just(RX), st.builds(lambda u, a, p: [2, u, a, p], _uids, _uids, _json)),
    st.tuples(st.just(TX), st.builds(lambda u, p: [3, u, p], _uids, _json)),
    st.tuples(st.just(RX), st.builds(lambda u, d: [4, u, "GenericError", d, {}], _uids, _uids)),
    st.tuples(st.sampled_from([RX, TX]), _json),  # mostly MALFORMED: not [2|3|4, ...]
    st.tuples(st.sampled_from([RX, TX]), st.text(max_size=40)),  # text that is no JSON
    st.tuples(st.just(RX), st.binary(max_size=40)),
    st.tuples(st.just(EVENT), st.dictionaries(st.text(min_size=1, max_size=8), _json)),
)


def _record(journal: Journal, direction: str, body):
    if direction == EVENT:
        return journal.record_event("note", **body)
    if isinstance(body, (str, bytes)):
        return journal.record_frame(direction, body)
    return journal.record_frame(direction, json.dumps(body, ensure_ascii=False))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_frames, min_size=1, max_size=12))
def test_every_frame_read_back_equals_the_frame_journaled(bodies):
    journal = Journal("CP ✓", window_frames=0)  # nothing in memory: all from the file
    sent = [_record(journal, d, b) for d, b in bodies]
    assert journal.in_memory == (0, 0)
    assert journal.frames() == sent
    assert [journal.frame(f.seq) for f in sent] == sent
    kinds = {f.kind for f in sent}
    assert kinds <= {CALL, "CALLRESULT", "CALLERROR", MALFORMED, "note"}
    journal.close()


def test_read_back_covers_every_kind(tmp_path):
    journal = Journal("CP", tmp_path / "CP.jsonl", window_frames=0)
    sent = [
        journal.record_frame(TX, '[2,"1","ChangeAvailability",{"type":"Inoperative"}]'),
        journal.record_frame(RX, '[3,"1",{"status":"Accepted"}]'),
        journal.record_frame(RX, '[4,"2","NotSupported","nö",{"a":[1,2.5,null]}]'),
        journal.record_frame(RX, '[2,"3","Heartbeat"]'),
        journal.record_frame(RX, b'[2,"b1","Heartbeat",{}]'),
        journal.record_frame(RX, '["\\u2028 line separator, NUL \\u0000", "\u2028"]'),
        journal.record_event("disconnect", code=1006, reason="lost", closed_by="network"),
    ]
    assert [f.kind for f in sent] == [CALL, "CALLRESULT", "CALLERROR", MALFORMED] * 1 + [
        MALFORMED,
        MALFORMED,
        "disconnect",
    ]
    assert sent[1].action == "ChangeAvailability"
    assert journal.frames() == sent
    lines = (tmp_path / "CP.jsonl").read_bytes().splitlines()
    assert [frame_from_line(line) for line in lines] == sent
    journal.close()


def test_text_that_cannot_be_written_is_not_lost_silently(tmp_path):
    """A lone surrogate is no Unicode text a UTF-8 file can hold (a WebSocket text frame
    cannot carry one): the frame is kept in memory, and journaling it says so."""
    journal = Journal("CP", tmp_path / "CP.jsonl", window_frames=1)
    first = journal.record_frame(RX, '[2,"1","Heartbeat",{}]')
    with pytest.raises(JournalError, match=r"frame #2 cannot be written.*kept in memory"):
        journal.record_frame(TX, '[2,"2","DataTransfer",{"data":"\udc80"}]')
    third = journal.record_frame(RX, '[3,"2",{}]')
    kept = journal.frame(2)
    assert kept.seq == 2 and kept.raw.endswith('"\udc80"}]') and kept.action == "DataTransfer"
    assert third.action == "DataTransfer"
    assert journal.frames() == [first, kept, third] and journal.in_memory[0] == 1
    assert [line["seq"] for line in _lines(tmp_path / "CP.jsonl")] == [1, 3]
    journal.close()


# -- the file: temporary, or one journal's alone ------------------------------------------


def test_without_a_path_the_journal_is_an_anonymous_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    journal = Journal("CP", window_frames=2)
    sent = _heartbeats(journal, 5)
    assert journal.path is None and list(tmp_path.iterdir()) == []  # no name on disk
    assert journal.frames() == sent and journal.frame(1) == sent[0]
    journal.close()
    # closed: still readable; a frame journaled now is kept in memory only
    late = journal.record_event("disconnect", code=1000)
    assert journal.frames() == [*sent, late] and journal._unwritten == {11: late}
    for _ in range(3):
        journal.record_event("note")
    assert journal.frame(11) == late and journal.frame(1) == sent[0]
    journal.close()  # twice is fine


def test_a_journal_file_is_never_opened_twice_for_writing(tmp_path):
    path = tmp_path / "CP.jsonl"
    first = Journal("CP/1", path)
    with pytest.raises(JournalError) as caught:
        Journal("CP_1", tmp_path / "sub" / ".." / "CP.jsonl")
    assert str(path.resolve()) in str(caught.value) and "'CP/1'" in str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    first.record_frame(RX, '[2,"1","Heartbeat",{}]')
    assert len(_lines(path)) == 1  # the refused journal did not truncate it
    first.close()
    second = Journal("CP_1", path)  # closed: free again
    with pytest.raises(JournalError):
        Journal("CP/1", path)
    del second
    gc.collect()
    Journal("CP", path).close()  # a journal dropped unclosed frees its file too
    Journal("A", tmp_path / "A.jsonl").close()


def test_a_file_that_cannot_be_opened_is_not_held(tmp_path):
    path = tmp_path / "CP.jsonl"
    path.mkdir()
    for _ in range(2):
        with pytest.raises(IsADirectoryError):
            Journal("CP", path)


def test_a_file_changed_under_the_journal_is_reported(tmp_path):
    path = tmp_path / "CP.jsonl"
    journal = Journal("CP", path, window_frames=1)
    _heartbeats(journal, 3)
    with path.open("r+b") as f:
        f.truncate(10)
    with pytest.raises(JournalError, match="changed"):
        journal.frames()
    journal.close()


def test_find_last_finds_the_newest_match_in_the_window_and_on_disk(tmp_path):
    """The newest match is found without reading the whole file from the start (the
    latest status of a connector after a night's traffic)."""
    journal = Journal("CP", tmp_path / "j.jsonl", window_frames=10)
    for i in range(100):
        action = "StatusNotification" if i in (5, 42) else "Heartbeat"
        journal.record_frame(RX, json.dumps([2, str(i), action, {}]))
    status = lambda f: f.action == "StatusNotification"  # noqa: E731
    assert journal.find_last(status).unique_id == "42"  # on disk, behind the window
    assert journal.find_last(status, after=43) is None  # "42" is frame #43
    assert journal.find_last(status, after=42).unique_id == "42"
    journal.record_frame(RX, json.dumps([2, "new", "StatusNotification", {}]))
    assert journal.find_last(status).unique_id == "new"  # in the window
    assert journal.find_last(lambda f: f.unique_id == "5").seq == 6
    assert journal.find_last(lambda f: False) is None
    journal.close()

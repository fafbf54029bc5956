"""The journal: every OCPP frame both ways, as evidence and as the thing tests wait on.

Each station gets one journal per run: the file is opened afresh (never appended to a
previous run's), and by one journal only (opening a file that is open for writing raises
:class:`JournalError`). Frames are appended under a lock, written as one JSON line and
flushed at once (a crashed run keeps what it saw); keywords wait for "the next frame after
this cursor that matches" with a :class:`threading.Condition` — no polling.

The file is the record. Memory holds a window of the newest frames (:data:`WINDOW_FRAMES`,
:data:`WINDOW_BYTES`) and an index of where each frame's line starts (8 bytes a frame); a
frame older than the window is read back from the file when a reader asks for it, equal to
the frame journaled (its payload parsed again from ``raw``). A journal without a path
writes an anonymous temporary file, so its memory is bounded too. Only a frame that is not
in the file stays in memory whatever its age: one journaled after :meth:`Journal.close`,
or one that could not be written (text with a lone surrogate, a full disk — journaling it
raises :class:`JournalError`).

A frame is journaled whatever it holds: classifying it never raises. Text that is not an
OCPP-J message (not JSON, nested too deeply for the parser, not a [2|3|4, ...] array) is
journaled as MALFORMED with the ``problem`` in ``info``; a binary WebSocket frame keeps its
exact bytes (``raw_b64`` in the JSON line, ``raw`` empty).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import tempfile
import threading
import time
import weakref
from array import array
from bisect import bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any

RX = "rx"  # from the station to the back office
TX = "tx"  # from the back office to the station
EVENT = "event"  # connection events: connect, disconnect, refused

CALL, CALLRESULT, CALLERROR, MALFORMED = "CALL", "CALLRESULT", "CALLERROR", "MALFORMED"
_KINDS = {2: CALL, 3: CALLRESULT, 4: CALLERROR}
_TYPE_IDS = {kind: type_id for type_id, kind in _KINDS.items()}
_LENGTHS = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}
_SHAPES = {
    CALL: "[2, UniqueId, Action, Payload]",
    CALLRESULT: "[3, UniqueId, Payload]",
    CALLERROR: "[4, UniqueId, ErrorCode, ErrorDescription, ErrorDetails]",
}

#: Deepest nesting of arrays and objects a frame may have before it is MALFORMED without
#: being handed to a JSON parser (OCPP 1.6 messages nest 6 deep at most; the parser would
#: raise RecursionError somewhere near 1000, depending on the stack it runs on).
MAX_NESTING = 32
_JSON_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


@dataclass(frozen=True)
class Frame:
    """One journal entry: a frame as it crossed the wire, or a connection event."""

    seq: int
    wall: str
    mono: float
    station: str
    dir: str
    raw: str
    kind: str
    action: str | None = None
    unique_id: str | None = None
    payload: Any = None
    info: dict[str, Any] = field(default_factory=dict)
    raw_bytes: bytes | None = None  # a binary frame's exact bytes (``raw`` is then "")

    def to_json(self) -> str:
        record = {
            "seq": self.seq,
            "wall": self.wall,
            "mono": round(self.mono, 6),
            "station": self.station,
            "dir": self.dir,
            "kind": self.kind,
            "action": self.action,
            "unique_id": self.unique_id,
            "raw": self.raw,
        }
        if self.raw_bytes is not None:
            record["raw_b64"] = base64.b64encode(self.raw_bytes).decode("ascii")
        if self.info:
            record["info"] = self.info
        return json.dumps(record, ensure_ascii=False)

    def describe(self, width: int = 160) -> str:
        """A one-line rendering for failure messages: ``#12 rx CALL StatusNotification {...}``."""
        what = self.kind if self.action is None else f"{self.kind} {self.action}"
        if self.dir == EVENT:
            body = json.dumps(self.info, ensure_ascii=False)
        elif self.raw_bytes is not None:
            body = f"<binary frame, {len(self.raw_bytes)} bytes> {self.raw_bytes[:width]!r}"
        else:
            body = self.raw
        if len(body) > width:
            body = body[: width - 3] + "..."
        return f"#{self.seq} {self.dir} {what} {body}"


def classify(raw: str) -> tuple[str, str | None, str | None, Any]:
    """(kind, unique_id, action, payload) of an OCPP-J frame; MALFORMED if it is not one."""
    kind, uid, action, payload, _ = parse_frame(raw)
    return kind, uid, action, payload


def parse_frame(raw: str) -> tuple[str, str | None, str | None, Any, dict[str, Any]]:
    """(kind, unique_id, action, payload, info) of a text frame; never raises.

    For a MALFORMED frame, ``info`` says why (``problem``) and, where the frame is an array
    that starts with an integer, the ``type_id`` it claims — so that a broken CALL with a
    readable unique id can still be answered with a CALLERROR.
    """
    try:
        return _parse(raw)
    except Exception as exc:  # a frame must be journaled whatever breaks here
        return MALFORMED, None, None, None, {"problem": f"unparsable: {exc!r}"[:300]}


def _parse(raw: str) -> tuple[str, str | None, str | None, Any, dict[str, Any]]:
    if _too_deep(raw, MAX_NESTING):
        problem = f"nested too deeply (more than {MAX_NESTING} levels of arrays/objects)"
        return MALFORMED, None, None, None, {"problem": problem}
    try:
        msg = json.loads(raw)
    except RecursionError:
        return MALFORMED, None, None, None, {"problem": "nested too deeply for the JSON parser"}
    except ValueError as exc:
        return MALFORMED, None, None, None, {"problem": f"not JSON: {exc}"}
    if not isinstance(msg, list):
        problem = f"a JSON {json_type(msg)}, not an array [MessageTypeId, UniqueId, ...]"
        return MALFORMED, None, None, None, {"problem": problem}
    if not msg:
        return MALFORMED, None, None, None, {"problem": "an empty array"}
    type_id = msg[0]
    uid = msg[1] if len(msg) > 1 and isinstance(msg[1], str) else None
    if type(type_id) is not int or type_id not in _KINDS:
        shown = json.dumps(type_id)[:40]
        problem = f"MessageTypeId {shown} is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)"
        info: dict[str, Any] = {"problem": problem}
        if type(type_id) is int:
            info["type_id"] = type_id
        return MALFORMED, uid, None, None, info
    kind = _KINDS[type_id]
    action = msg[2] if kind == CALL and len(msg) > 2 and isinstance(msg[2], str) else None
    if len(msg) != _LENGTHS[kind]:
        problem = f"a {kind} must have {_LENGTHS[kind]} elements {_SHAPES[kind]}, got {len(msg)}"
        return MALFORMED, uid, action, None, {"problem": problem, "type_id": type_id}
    if kind == CALL:
        if action is None:
            problem = f"a CALL's Action must be a string, got a JSON {json_type(msg[2])}"
            return MALFORMED, uid, None, None, {"problem": problem, "type_id": type_id}
        return CALL, uid, action, msg[3], {}
    if kind == CALLRESULT:
        return CALLRESULT, uid, None, msg[2], {}
    return (
        CALLERROR,
        uid,
        None,
        {"errorCode": msg[2], "errorDescription": msg[3], "errorDetails": msg[4]},
        {},
    )


def _too_deep(raw: str, limit: int) -> bool:
    """True when arrays/objects nest deeper than ``limit`` (brackets in strings don't count).

    C-speed passes whatever the frame (a 10 MiB frame takes no longer than parsing it):
    strings are dropped, then everything but brackets, then each pass peels the innermost
    ``[]`` pairs (objects count as arrays here) — a pair peeled on pass k closes a nesting
    k deep. Mismatched brackets stop the peeling; the JSON parser reports those.
    """
    if raw.count("[") + raw.count("{") <= limit:
        return False
    if '"' in raw:
        raw = _JSON_STRINGS.sub("", raw)
    brackets = raw.encode("utf-8", "surrogatepass").translate(_AS_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        peeled = brackets.replace(b"[]", b"")
        if not peeled or len(peeled) == len(brackets):
            return False
        brackets = peeled
    return b"[]" in brackets


def _utf8_or_empty(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return ""


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages about malformed frames."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


class WaitTimeout(AssertionError):
    """A wait ran out; the message says what was awaited and what came instead."""


class JournalError(RuntimeError):
    """The journal file cannot be the record: opened twice, unwritable, or changed."""


#: The newest frames a journal keeps in memory, by count and by the bytes of their JSON
#: lines; any older frame is read back from the file when asked for.
WINDOW_FRAMES = 2_000
WINDOW_BYTES = 8 * 1024 * 1024
#: CALLs waiting for their answer that a journal remembers (to name a response's action);
#: beyond that the oldest is forgotten, and its late answer journaled without an action.
PENDING_CALLS = 10_000
#: How much of the file one read brings back when a reader walks frames on disk (a
#: frame's line is read whole, however long).
READ_BLOCK = 1024 * 1024

#: The journal files open for writing in this process (resolved path -> (station, owner)):
#: a second Journal on the same file would interleave two records into one.
_OPEN_FOR_WRITING: dict[Path, tuple[str, object]] = {}
_OPEN_LOCK = threading.Lock()


def _claim(path: Path, station: str, owner: object) -> None:
    with _OPEN_LOCK:
        holder = _OPEN_FOR_WRITING.get(path)
        if holder is not None:
            raise JournalError(
                f"journal file {path} is already open for writing by station "
                f"{holder[0]!r}'s journal; station {station!r} cannot write it too "
                f"(one file, one journal: close the other first)"
            )
        _OPEN_FOR_WRITING[path] = (station, owner)


def _release(path: Path | None, owner: object) -> None:
    if path is None:
        return
    with _OPEN_LOCK:
        if path in _OPEN_FOR_WRITING and _OPEN_FOR_WRITING[path][1] is owner:
            del _OPEN_FOR_WRITING[path]


def _finish(writer: IO[bytes] | None, reader: IO[bytes], path: Path | None, owner: object) -> None:
    """A journal dropped without close(): its files close, its path is free again."""
    for handle in (writer, reader):
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
    _release(path, owner)


def frame_from_line(line: bytes | str) -> Frame:
    """The :class:`Frame` a journal line records (the inverse of :meth:`Frame.to_json`).

    The payload is not in the line: it is parsed again from ``raw`` (None for events and
    binary frames, as when the frame was journaled).
    """
    record = json.loads(line)
    raw = record["raw"]
    raw_bytes = base64.b64decode(record["raw_b64"]) if "raw_b64" in record else None
    payload = None
    if record["dir"] != EVENT and raw_bytes is None:
        payload = parse_frame(raw)[3]
    return Frame(
        seq=record["seq"],
        wall=record["wall"],
        mono=record["mono"],
        station=record["station"],
        dir=record["dir"],
        raw=raw,
        kind=record["kind"],
        action=record["action"],
        unique_id=record["unique_id"],
        payload=payload,
        info=record.get("info", {}),
        raw_bytes=raw_bytes,
    )


class Journal:
    """Append-only, thread-safe record of one station's frames, as JSON lines in a file.

    The file is the record: memory holds only a window of the newest frames (at most
    ``window_frames`` of them and ``window_bytes`` of their lines) and an index of where
    each frame's line starts (8 bytes a frame). Without a ``path`` the file is an anonymous
    temporary file, so a journal's memory is bounded either way.
    """

    def __init__(
        self,
        station: str,
        path: Path | None = None,
        *,
        window_frames: int | None = None,
        window_bytes: int | None = None,
        pending_calls: int | None = None,
    ) -> None:
        self.station = station
        self.path = path
        # None: the module's limits as they are now (a test may lower them for a back office)
        self.window_frames = WINDOW_FRAMES if window_frames is None else window_frames
        self.window_bytes = WINDOW_BYTES if window_bytes is None else window_bytes
        self.pending_calls_limit = PENDING_CALLS if pending_calls is None else pending_calls
        self._cond = threading.Condition()
        self._count = 0  # frames journaled; the newest frame's seq
        self._window: deque[Frame] = deque()  # the newest frames, seqs up to _count
        self._offsets = array("q")  # where seq n's line starts: _offsets[n - 1]
        self._size = 0  # bytes written to the file
        #: frames that are not in the file (journaled after close(), or that could not be
        #: written): they stay in memory, whatever the window
        self._unwritten: dict[int, Frame] = {}
        self._pending_calls: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._owner = object()
        self._claimed: Path | None = None
        self._read_lock = threading.Lock()
        self._file: IO[bytes] | None
        if path is None:
            # an anonymous file (no name on disk), gone when its last handle closes
            self._file = tempfile.TemporaryFile("w+b", prefix="journal-")  # noqa: SIM115
            reader = os.dup(self._file.fileno())  # its own handle: reads use pread
            self._reader: IO[bytes] = open(reader, "rb", buffering=0)  # noqa: SIM115
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            claimed = path.resolve()
            _claim(claimed, station, self._owner)
            try:
                # "w": a journal is this run's; a re-run in the same folder never mixes with it
                self._file = path.open("wb")
                try:
                    self._reader = path.open("rb", buffering=0)
                except BaseException:
                    self._file.close()
                    raise
            except BaseException:
                _release(claimed, self._owner)
                raise
            self._claimed = claimed
        self._finalizer = weakref.finalize(
            self, _finish, self._file, self._reader, self._claimed, self._owner
        )

    # -- writing -------------------------------------------------------------------

    def record_frame(self, direction: str, raw: str | bytes) -> Frame:
        """Journal a frame that crossed the wire in ``direction`` (RX or TX).

        Never fails on the frame's content: whatever it holds, it is written (and flushed)
        before anyone acts on it. A binary frame is MALFORMED (OCPP-J uses text frames) and
        keeps its exact bytes; when those bytes hold a readable CALL, its unique id and
        ``type_id`` are kept so that the CALL can be answered with a CALLERROR.
        """
        raw_bytes: bytes | None = None
        if isinstance(raw, bytes):
            raw_bytes, text = raw, ""
            inner_kind, uid, action, _, inner = parse_frame(_utf8_or_empty(raw))
            type_id = _TYPE_IDS.get(inner_kind, inner.get("type_id"))
            kind, payload = MALFORMED, None
            info: dict[str, Any] = {
                "binary": True,
                "bytes": len(raw),
                "problem": "a binary WebSocket frame; OCPP-J messages are text frames",
            }
            if type_id is not None:
                info["type_id"] = type_id
        else:
            text = raw
            kind, uid, action, payload, info = parse_frame(raw)
        with self._cond:
            if kind == CALL and uid is not None:
                key = (direction, uid)
                self._pending_calls.pop(key, None)
                self._pending_calls[key] = action or ""
                while len(self._pending_calls) > self.pending_calls_limit:
                    self._pending_calls.popitem(last=False)
            elif kind in (CALLRESULT, CALLERROR) and uid is not None:
                other = TX if direction == RX else RX
                action = self._pending_calls.pop((other, uid), None)
            return self._append(direction, text, kind, action, uid, payload, info, raw_bytes)

    def record_event(self, event: str, **info: Any) -> Frame:
        """Journal a connection event (connect, disconnect, refused, finding, note)."""
        with self._cond:
            return self._append(EVENT, "", event, None, None, None, info, None)

    def _append(
        self,
        direction: str,
        raw: str,
        kind: str,
        action: str | None,
        uid: str | None,
        payload: Any,
        info: dict[str, Any],
        raw_bytes: bytes | None,
    ) -> Frame:
        frame = Frame(
            seq=self._count + 1,
            wall=datetime.now(UTC).isoformat(timespec="microseconds"),
            mono=round(time.monotonic(), 6),  # as the line has it: a frame read back is equal
            station=self.station,
            dir=direction,
            raw=raw,
            kind=kind,
            action=action,
            unique_id=uid,
            payload=payload,
            info=info,
            raw_bytes=raw_bytes,
        )
        failure = self._write(frame)
        self._count = frame.seq
        self._window.append(frame)
        while self._window and (
            len(self._window) > self.window_frames
            or self._size - self._offsets[self._window[0].seq - 1] > self.window_bytes
        ):
            self._window.popleft()
        self._cond.notify_all()
        if failure is not None:
            raise JournalError(failure)
        return frame

    def _write(self, frame: Frame) -> str | None:
        """Write ``frame``'s line and index it; why it is kept in memory only, if it is
        (None when written, or when the journal was closed and says so no more)."""
        self._offsets.append(self._size)
        if self._file is None:
            self._unwritten[frame.seq] = frame
            return None
        where = f"journal {self.path or '(temporary file)'} of station {self.station!r}"
        try:
            line = (frame.to_json() + "\n").encode("utf-8")
        except Exception as exc:  # text that is not Unicode (a lone surrogate), info not JSON
            self._unwritten[frame.seq] = frame
            return f"{where}: frame #{frame.seq} cannot be written ({exc!r}); kept in memory only"
        try:
            self._file.write(line)
            self._file.flush()
        except OSError as exc:
            # the file may now end in part of a line: write nothing more to it
            self._unwritten[frame.seq] = frame
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
            return (
                f"{where}: writing frame #{frame.seq} failed ({exc}); this and every later "
                f"frame are kept in memory only"
            )
        self._size += len(line)
        return None

    def close(self) -> None:
        """Stop writing the file and free its path for another journal. The record stays
        readable; a frame journaled after this is kept in memory only."""
        with self._cond:
            if self._file is not None:
                self._file.close()
                self._file = None
            _release(self._claimed, self._owner)
            self._claimed = None

    # -- reading -------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """The sequence number of the newest frame (0 when empty)."""
        with self._cond:
            return self._count

    @property
    def in_memory(self) -> tuple[int, int]:
        """(frames, bytes of their lines) in the window kept in memory."""
        with self._cond:
            if not self._window:
                return 0, 0
            return len(self._window), self._size - self._offsets[self._window[0].seq - 1]

    def frames(self, after: int = 0, until: int | None = None) -> list[Frame]:
        """The frames with ``after`` < seq <= ``until`` (as a slice of all frames)."""
        with self._cond:
            start, stop, _ = slice(after, until).indices(self._count)
        return list(self._iter(start, stop))

    def frame(self, seq: int) -> Frame:
        """The frame ``seq`` (IndexError when there is none, as for a list's item)."""
        with self._cond:
            index = seq - 1 if seq > 0 else seq - 1 + self._count
            if not 0 <= index < self._count:
                raise IndexError(f"no frame #{seq} in the journal (it has {self._count})")
            first = self._count - len(self._window)
            if index >= first:
                return self._window[index - first]
            if index + 1 in self._unwritten:
                return self._unwritten[index + 1]
            begin, end = self._offsets[index], self._line_end(index + 1)
        (frame,) = self._read(index + 1, index + 1, begin, end, {})
        return frame

    def _line_end(self, seq: int) -> int:
        """Where frame ``seq``'s line ends (under the lock)."""
        return self._offsets[seq] if seq < self._count else self._size

    def _unwritten_in(self, first: int, last: int) -> dict[int, Frame]:
        """The frames ``first``..``last`` kept in memory because they are not in the file
        (under the lock; there are none unless a write failed or came after close())."""
        if not self._unwritten:
            return {}
        return {s: self._unwritten[s] for s in range(first, last + 1) if s in self._unwritten}

    def find(self, predicate: Callable[[Frame], bool], after: int = 0) -> list[Frame]:
        """The frames after seq ``after`` that match; those on disk are read a block at a
        time, not all at once."""
        with self._cond:
            start, stop, _ = slice(after, None).indices(self._count)
        return [f for f in self._iter(start, stop) if predicate(f)]

    def find_last(self, predicate: Callable[[Frame], bool], after: int = 0) -> Frame | None:
        """The newest frame after seq ``after`` that matches, None when none does.

        The window first, then the file backwards a block of frames at a time: asking for
        a station's latest status costs the same early in a run and after a night.
        """
        with self._cond:
            count, window = self._count, list(self._window)
        for frame in reversed(window):
            if frame.seq <= after:
                return None
            if predicate(frame):
                return frame
        high = count - len(window)
        while high > after:
            low = max(after, high - WINDOW_FRAMES)
            for frame in reversed(list(self._iter(low, high))):
                if predicate(frame):
                    return frame
            high = low
        return None

    def _iter(self, start: int, stop: int) -> Iterator[Frame]:
        """Frames ``start`` < seq <= ``stop``: those older than the window from the file (a
        block at a time, no lock held while reading or yielding), then the window's."""
        seq = start + 1
        while seq <= stop:
            with self._cond:
                first = self._count - len(self._window) + 1  # the window's oldest seq
                if seq >= first:
                    window = list(islice(self._window, seq - first, stop - first + 1))
                else:
                    last = min(stop, first - 1)
                    begin = self._offsets[seq - 1]
                    # the frames whose lines start within a block (at least one)
                    last = bisect_right(self._offsets, begin + READ_BLOCK, seq - 1, last)
                    end = self._line_end(last)
                    unwritten = self._unwritten_in(seq, last)
            if seq >= first:
                yield from window
                return
            yield from self._read(seq, last, begin, end, unwritten)
            seq = last + 1

    def _read(
        self, first: int, last: int, begin: int, end: int, unwritten: dict[int, Frame]
    ) -> list[Frame]:
        """Frames ``first``..``last`` from the file's bytes ``begin``..``end`` (and those
        kept in memory because they are not in the file)."""
        with self._read_lock:
            data = os.pread(self._reader.fileno(), end - begin, begin) if end > begin else b""
        if len(data) != end - begin:
            raise JournalError(
                f"journal {self.path or '(temporary file)'} of station {self.station!r} "
                f"ends before frame #{last}'s line: the file was changed while it was written"
            )
        lines = iter(data.split(b"\n"))
        frames = []
        for seq in range(first, last + 1):
            if seq in unwritten:
                frames.append(unwritten[seq])
                continue
            frame = frame_from_line(next(lines))
            if frame.seq != seq:
                raise JournalError(
                    f"journal {self.path or '(temporary file)'} of station {self.station!r} "
                    f"has frame #{frame.seq} where #{seq} was written: the file was changed "
                    f"while it was written"
                )
            frames.append(frame)
        return frames

    def wait_for(
        self,
        predicate: Callable[[Frame], bool],
        after: int,
        timeout: float,
        what: str = "a matching frame",
    ) -> Frame:
        """The first frame after seq ``after`` that matches; WaitTimeout lists what came.

        Event-driven: the journal's condition wakes it when a frame comes. Frames are
        checked without the lock held (older ones are read from the file).
        """
        deadline = time.monotonic() + timeout
        checked = after
        if after < 0:  # as a list slice: the last -after frames
            with self._cond:
                checked = max(0, self._count + after)
        while True:
            with self._cond:
                stop = self._count
            for frame in self._iter(checked, stop):
                if predicate(frame):
                    return frame
            checked = max(checked, stop)
            with self._cond:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if self._count <= checked:
                    self._cond.wait(remaining)
        raise WaitTimeout(self.timeout_message(what, after, timeout))

    def expect_none(
        self,
        predicate: Callable[[Frame], bool],
        after: int,
        window: float,
        what: str = "a matching frame",
    ) -> None:
        """Fail at once if a matching frame arrives within ``window`` seconds."""
        try:
            frame = self.wait_for(predicate, after, window, what)
        except WaitTimeout:
            return
        raise AssertionError(f"Expected no {what} within {window:g} s, but got: {frame.describe()}")

    def timeout_message(self, what: str, after: int, timeout: float, limit: int = 12) -> str:
        with self._cond:
            start, stop, _ = slice(after, None).indices(self._count)
        came = max(0, stop - start)
        lines = [f"Timed out after {timeout:g} s waiting for {what} (after frame #{after})."]
        if not came:
            lines.append("Nothing arrived instead.")
        else:
            lines.append(f"Arrived instead ({came} frame(s)):")
            shown = self.frames(max(start, stop - limit), stop)
            if came > limit:
                lines.append(f"  ... {came - limit} earlier frame(s) not shown")
            lines.extend("  " + f.describe() for f in shown)
        return "\n".join(lines)


def _normalise(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def field_value(payload: Any, path: str) -> Any:
    """A value from a payload by dotted path (``idTagInfo.status``, ``meterValue.0``)."""
    node = payload
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(path)
    return node


def fields_match(payload: Any, fields: dict[str, Any]) -> bool:
    """True when every dotted field equals the expected value (compared as text)."""
    for path, expected in fields.items():
        try:
            actual = field_value(payload, path)
        except KeyError:
            if expected is None:
                continue
            return False
        if expected is None or _normalise(actual) != _normalise(expected):
            return False
    return True


def message_matcher(
    action: str | None = None,
    kinds: Iterable[str] = (CALL,),
    direction: str = RX,
    fields: dict[str, Any] | None = None,
) -> Callable[[Frame], bool]:
    """A predicate for frames of an action/kind/direction whose fields match."""
    kinds = tuple(kinds)
    wanted = dict(fields or {})

    def predicate(frame: Frame) -> bool:
        return (
            frame.dir == direction
            and frame.kind in kinds
            and (action is None or frame.action == action)
            and fields_match(frame.payload, wanted)
        )

    return predicate


def describe_expectation(
    action: str | None,
    fields: dict[str, Any] | None,
    direction: str = RX,
    kinds: Iterable[str] = (CALL,),
) -> str:
    who = "from the station" if direction == RX else "to the station"
    what = "/".join(kinds) + (f" {action}" if action else "")
    if fields:
        what += " with " + ", ".join(f"{k}={_normalise(v)}" for k, v in fields.items())
    return f"{what} {who}"

"""The journal: every OCPP frame both ways, as evidence and as the thing tests wait on.

Each station gets one journal per run: the file is opened afresh (never appended to a
previous run's). Frames are appended under a lock, written as one JSON line and flushed at
once (a crashed run keeps what it saw), and kept in memory so that keywords can wait for
"the next frame after this cursor that matches" with a :class:`threading.Condition` — no
polling.

A frame is journaled whatever it holds: classifying it never raises. Text that is not an
OCPP-J message (not JSON, nested too deeply for the parser, not a [2|3|4, ...] array) is
journaled as MALFORMED with the ``problem`` in ``info``; a binary WebSocket frame keeps its
exact bytes (``raw_b64`` in the JSON line, ``raw`` empty).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


class Journal:
    """Append-only, thread-safe record of one station's frames, mirrored to JSON lines."""

    def __init__(self, station: str, path: Path | None = None) -> None:
        self.station = station
        self.path = path
        self._frames: list[Frame] = []
        self._cond = threading.Condition()
        self._pending_calls: dict[tuple[str, str], str] = {}  # (dir of CALL, id) -> action
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # "w": a journal is this run's; a re-run in the same folder never mixes with it
            self._file = path.open("w", encoding="utf-8")

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
                self._pending_calls[(direction, uid)] = action or ""
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
            seq=len(self._frames) + 1,
            wall=datetime.now(UTC).isoformat(timespec="microseconds"),
            mono=time.monotonic(),
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
        self._frames.append(frame)
        if self._file is not None:
            self._file.write(frame.to_json() + "\n")
            self._file.flush()
        self._cond.notify_all()
        return frame

    def close(self) -> None:
        with self._cond:
            if self._file is not None:
                self._file.close()
                self._file = None

    # -- reading -------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """The sequence number of the newest frame (0 when empty)."""
        with self._cond:
            return len(self._frames)

    def frames(self, after: int = 0, until: int | None = None) -> list[Frame]:
        with self._cond:
            return list(self._frames[after:until])

    def frame(self, seq: int) -> Frame:
        with self._cond:
            return self._frames[seq - 1]

    def find(self, predicate: Callable[[Frame], bool], after: int = 0) -> list[Frame]:
        return [f for f in self.frames(after) if predicate(f)]

    def wait_for(
        self,
        predicate: Callable[[Frame], bool],
        after: int,
        timeout: float,
        what: str = "a matching frame",
    ) -> Frame:
        """The first frame after seq ``after`` that matches; WaitTimeout lists what came."""
        deadline = time.monotonic() + timeout
        checked = after
        with self._cond:
            while True:
                for frame in self._frames[checked:]:
                    if predicate(frame):
                        return frame
                checked = max(checked, len(self._frames))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
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
        came = self.frames(after)
        lines = [f"Timed out after {timeout:g} s waiting for {what} (after frame #{after})."]
        if not came:
            lines.append("Nothing arrived instead.")
        else:
            lines.append(f"Arrived instead ({len(came)} frame(s)):")
            shown = came[-limit:]
            if len(came) > limit:
                lines.append(f"  ... {len(came) - limit} earlier frame(s) not shown")
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

"""The journal: every OCPP frame both ways, as evidence and as the thing tests wait on.

Each station gets one journal per run. Frames are appended under a lock, written as one
JSON line and flushed at once (a crashed run keeps what it saw), and kept in memory so that
keywords can wait for "the next frame after this cursor that matches" with a
:class:`threading.Condition` — no polling.
"""

from __future__ import annotations

import json
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
        if self.info:
            record["info"] = self.info
        return json.dumps(record, ensure_ascii=False)

    def describe(self, width: int = 160) -> str:
        """A one-line rendering for failure messages: ``#12 rx CALL StatusNotification {...}``."""
        what = self.kind if self.action is None else f"{self.kind} {self.action}"
        body = self.raw if self.dir != EVENT else json.dumps(self.info, ensure_ascii=False)
        if len(body) > width:
            body = body[: width - 3] + "..."
        return f"#{self.seq} {self.dir} {what} {body}"


def classify(raw: str) -> tuple[str, str | None, str | None, Any]:
    """(kind, unique_id, action, payload) of an OCPP-J frame; MALFORMED if it is not one."""
    try:
        msg = json.loads(raw)
    except (ValueError, TypeError):
        return MALFORMED, None, None, None
    if not isinstance(msg, list) or not msg or msg[0] not in _KINDS:
        return MALFORMED, None, None, None
    kind = _KINDS[msg[0]]
    uid = msg[1] if len(msg) > 1 and isinstance(msg[1], str) else None
    if kind == CALL and len(msg) == 4 and isinstance(msg[2], str):
        return CALL, uid, msg[2], msg[3]
    if kind == CALLRESULT and len(msg) == 3:
        return CALLRESULT, uid, None, msg[2]
    if kind == CALLERROR and len(msg) == 5:
        return (
            CALLERROR,
            uid,
            None,
            {"errorCode": msg[2], "errorDescription": msg[3], "errorDetails": msg[4]},
        )
    return MALFORMED, uid, None, None


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
            self._file = path.open("a", encoding="utf-8")

    # -- writing -------------------------------------------------------------------

    def record_frame(self, direction: str, raw: str | bytes) -> Frame:
        """Journal a frame that crossed the wire in ``direction`` (RX or TX)."""
        if isinstance(raw, bytes):
            text = raw.decode("utf-8", errors="replace")
            info = {"binary": True}
        else:
            text, info = raw, {}
        kind, uid, action, payload = classify(text)
        with self._cond:
            if kind == CALL and uid is not None:
                self._pending_calls[(direction, uid)] = action or ""
            elif kind in (CALLRESULT, CALLERROR) and uid is not None:
                other = TX if direction == RX else RX
                action = self._pending_calls.pop((other, uid), None)
            return self._append(direction, text, kind, action, uid, payload, info)

    def record_event(self, event: str, **info: Any) -> Frame:
        """Journal a connection event (connect, disconnect, refused, finding, note)."""
        with self._cond:
            return self._append(EVENT, "", event, None, None, None, info)

    def _append(
        self,
        direction: str,
        raw: str,
        kind: str,
        action: str | None,
        uid: str | None,
        payload: Any,
        info: dict[str, Any],
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

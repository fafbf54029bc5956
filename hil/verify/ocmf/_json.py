"""A tolerant JSON reader for OCMF sections.

Why not ``json.loads``: the signature covers the payload exactly as written, so the
reader must find where the payload object ends without disturbing it, and real meters
write JSON that the standard library refuses (numbers with leading zeros, ``\\q``
escapes, raw control characters). Each such liberty is recorded as a finding instead
of failing the record; only structure that is not JSON at all is an error.

Numbers come back as :class:`JsonNumber`, which keeps the literal text so that the
exact decimal (and its resolution) survives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_CANONICAL_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WHITESPACE = " \t\r\n"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_MAX_DEPTH = 32


class JsonSyntaxError(ValueError):
    """The text is not JSON at all (as opposed to JSON with a tolerated liberty)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at byte {offset}")
        self.offset = offset


@dataclass(frozen=True)
class JsonNumber:
    """A JSON number as written; the caller decides how to read it."""

    text: str


@dataclass(frozen=True)
class Finding:
    """One tolerated liberty: ``kind`` is a deviation name, ``path`` where it was."""

    kind: str
    path: str
    detail: str = ""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.findings: list[Finding] = []
        self.whitespace = False

    def skip_ws(self, pos: int) -> int:
        text = self.text
        start = pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos != start:
            self.whitespace = True
        return pos

    def value(self, pos: int, path: str, depth: int) -> tuple[Any, int]:
        if depth > _MAX_DEPTH:
            raise JsonSyntaxError("nesting too deep", pos)
        pos = self.skip_ws(pos)
        if pos >= len(self.text):
            raise JsonSyntaxError("unexpected end of text", pos)
        ch = self.text[pos]
        if ch == "{":
            return self.obj(pos, path, depth)
        if ch == "[":
            return self.array(pos, path, depth)
        if ch == '"':
            return self.string(pos, path)
        if ch == "-" or ch.isdigit():
            return self.number(pos, path)
        for word, val in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, pos):
                return val, pos + len(word)
        raise JsonSyntaxError(f"unexpected character {ch!r}", pos)

    def obj(self, pos: int, path: str, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        pos = self.skip_ws(pos + 1)
        if pos < len(self.text) and self.text[pos] == "}":
            return result, pos + 1
        while True:
            pos = self.skip_ws(pos)
            if pos >= len(self.text) or self.text[pos] != '"':
                raise JsonSyntaxError("expected a member name", pos)
            key, pos = self.string(pos, path)
            pos = self.skip_ws(pos)
            if pos >= len(self.text) or self.text[pos] != ":":
                raise JsonSyntaxError("expected ':'", pos)
            child = f"{path}.{key}" if path else key
            val, pos = self.value(pos + 1, child, depth + 1)
            if key in result:
                self.findings.append(Finding("DuplicateKey", child, "the last value is used"))
                del result[key]  # keep the position of the value that wins
            result[key] = val
            pos = self.skip_ws(pos)
            if pos >= len(self.text):
                raise JsonSyntaxError("unterminated object", pos)
            if self.text[pos] == ",":
                pos += 1
                continue
            if self.text[pos] == "}":
                return result, pos + 1
            raise JsonSyntaxError("expected ',' or '}'", pos)

    def array(self, pos: int, path: str, depth: int) -> tuple[list[Any], int]:
        result: list[Any] = []
        pos = self.skip_ws(pos + 1)
        if pos < len(self.text) and self.text[pos] == "]":
            return result, pos + 1
        while True:
            val, pos = self.value(pos, f"{path}[{len(result)}]", depth + 1)
            result.append(val)
            pos = self.skip_ws(pos)
            if pos >= len(self.text):
                raise JsonSyntaxError("unterminated array", pos)
            if self.text[pos] == ",":
                pos += 1
                continue
            if self.text[pos] == "]":
                return result, pos + 1
            raise JsonSyntaxError("expected ',' or ']'", pos)

    def string(self, pos: int, path: str) -> tuple[str, int]:
        text = self.text
        out: list[str] = []
        pos += 1
        while True:
            if pos >= len(text):
                raise JsonSyntaxError("unterminated string", pos)
            ch = text[pos]
            if ch == '"':
                return "".join(out), pos + 1
            if ch == "\\":
                pos = self._escape(pos, path, out)
                continue
            if ord(ch) < 0x20:
                self.findings.append(
                    Finding("ControlCharacterInString", path, f"raw U+{ord(ch):04X}")
                )
            out.append(ch)
            pos += 1

    def _escape(self, pos: int, path: str, out: list[str]) -> int:
        text = self.text
        if pos + 1 >= len(text):
            raise JsonSyntaxError("unterminated escape", pos)
        esc = text[pos + 1]
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            return pos + 2
        if esc == "u":
            code = _hex4(text, pos + 2)
            if code is None:
                self.findings.append(Finding("InvalidStringEscape", path, "\\u without 4 hex"))
                out.append("u")
                return pos + 2
            if 0xD800 <= code < 0xDC00:
                low = _hex4(text, pos + 8) if text.startswith("\\u", pos + 6) else None
                if low is not None and 0xDC00 <= low < 0xE000:
                    out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                    return pos + 12
                code = 0xFFFD
                self.findings.append(Finding("InvalidStringEscape", path, "unpaired surrogate"))
            elif 0xDC00 <= code < 0xE000:
                code = 0xFFFD
                self.findings.append(Finding("InvalidStringEscape", path, "unpaired surrogate"))
            out.append(chr(code))
            return pos + 6
        # An escape RFC 8259 does not define: take the character, and say so.
        self.findings.append(Finding("InvalidStringEscape", path, f"\\{esc}"))
        out.append(esc)
        return pos + 2

    def number(self, pos: int, path: str) -> tuple[JsonNumber, int]:
        match = _NUMBER.match(self.text, pos)
        if not match:
            raise JsonSyntaxError("malformed number", pos)
        literal = match.group(0)
        if not _CANONICAL_NUMBER.fullmatch(literal):
            self.findings.append(Finding("NonCanonicalNumber", path, literal))
        return JsonNumber(literal), match.end()


def _hex4(text: str, pos: int) -> int | None:
    chunk = text[pos : pos + 4]
    if len(chunk) == 4 and all(c in "0123456789abcdefABCDEF" for c in chunk):
        return int(chunk, 16)
    return None


@dataclass
class ScannedObject:
    """An object read from ``text[start:end]``, plus what was tolerated on the way."""

    value: dict[str, Any]
    start: int
    end: int
    findings: list[Finding]
    whitespace: bool


def scan_object(text: str, pos: int) -> ScannedObject:
    """Read one JSON object starting at ``pos`` (leading whitespace allowed).

    Returns where the object ends, so a caller can check what follows it; raises
    :class:`JsonSyntaxError` when the text there is not a JSON object.
    """
    scanner = _Scanner(text)
    start = scanner.skip_ws(pos)
    if start >= len(text) or text[start] != "{":
        raise JsonSyntaxError("expected a JSON object", start)
    value, end = scanner.obj(start, "", 0)
    return ScannedObject(value, start, end, scanner.findings, scanner.whitespace)


def scan_value(text: str) -> Any:
    """Read a whole text as one JSON value (tolerantly); used for small side inputs."""
    scanner = _Scanner(text)
    value, end = scanner.value(0, "", 0)
    if scanner.skip_ws(end) != len(text):
        raise JsonSyntaxError("trailing characters", end)
    return value

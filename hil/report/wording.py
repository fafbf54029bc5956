"""Robot's raw test message, told as the report's Remarks sentence.

A Robot failure text is written for the person debugging the run: Robot's own prefixes,
exception names, whole OCPP frames quoted, instrument samples as Python dicts. The
certification report's Remarks column is read by the station maker and the lab's customer:
what was expected, what the station did, and the frame or measurement that shows it, in one
or two sentences. The raw text still goes to the report's evidence section unchanged; this
module only words the table cell, and it is pure so the report can be re-rendered offline.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

#: Last resort for a FAIL whose text is empty or nothing but noise: the cell must say
#: something, and the evidence section has the whole text.
FALLBACK = "Failed; see the failure details in the evidence"

# -- Robot's wrapping -----------------------------------------------------------------------

#: Robot's context prefixes (robot.running.status), outermost first, and how a person
#: would open the sentence instead. "Setup failed" gets its lead only when the setup was
#: not about N/A (see _ABOUT_NA).
_CONTEXTS: tuple[tuple[str, str], ...] = (
    ("Parent suite setup failed:\n", "The run could not start: "),
    ("Suite setup failed:\n", "The run could not start: "),
    ("Parent suite teardown failed:\n", "Cleaning up after the run failed: "),
    ("Suite teardown failed:\n", "Cleaning up after the run failed: "),
    ("Setup failed:\n", "Before the step, the bench was not at rest: "),
    ("Keyword teardown failed:\n", "Cleaning up after the step failed: "),
    ("Teardown failed:\n", "Cleaning up after the step failed: "),
)
_SETUP = "Setup failed:\n"

#: A setup that failed because the step cannot run on this bench (an instrument missing
#: or lost): the bench was at rest, it just lacks something.
_ABOUT_NA = re.compile(r"\bN/A\b|\bthis step needs\b", re.IGNORECASE)

#: Robot's prefixes of a skip raised in a setup or teardown, and the earlier message it
#: appends when a teardown skips.
_SKIP_CONTEXT = re.compile(r"^Skipped in (?:parent suite |suite )?(?:setup|teardown):\n")
_EARLIER_MESSAGE = re.compile(r"\n\nEarlier message:\n.*", re.DOTALL)

#: "...\n\nAlso teardown failed:\n..." appended to a body failure: the body failure is the
#: story; the cleanup is a footnote.
_ALSO_TEARDOWN = re.compile(
    r"\n\nAlso (?:parent suite |suite |keyword )?teardown failed:\n.*", re.DOTALL
)

#: "Several failures occurred:\n\n1) first\n\n2) second" (robot.errors.MultipleErrors).
_SEVERAL = re.compile(r"^Several failures occurred:\s*")
_NUMBERED_ITEM = re.compile(r"\n\n(?=\d+\) )")
_ITEM_NUMBER = re.compile(r"^\d+\) ")

#: The exception's class name Robot puts before its text: "WaitTimeout: ",
#: "AssertionError: ". A person does not care which class carried the message.
_EXCEPTION_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*(?:Error|Exception|Timeout|Failure): ")

# -- what the lab's listener and keywords add -----------------------------------------------

#: A protocol defect the back office saw (hil.csms.findings.Finding.describe):
#: "Finding: <station>: <kind> (frame #12): <detail>"; the station is the DUT, so it goes.
_FINDING = re.compile(
    r"^Finding: (?:[^\n]*?): (?P<kind>[a-z][a-z0-9-]*)(?: \(frame #(?P<seq>\d+)\))?: "
    r"(?P<detail>[^\n]*)$"
)
_FINDINGS_SHOWN = 3

#: A passing step's remark (hil.robot.listener): "Remark: <text>", one a line.
_REMARK = re.compile(r"^Remark: (?P<text>.*)$")
#: Some remarks repeat their step id ("EI1: the bench has ..."), which the Step column
#: already shows.
_STEP_ID_LEAD = re.compile(r"^[A-Z]{0,3}\d{1,3}: ")

#: The SKIP reasons' prefixes (hil.robot: N/A by DUT capability / by the bench).
_NA_PREFIX = re.compile(r"^N/A(?: by DUT capability)?:\s*")
_NA_BY_DUT = "N/A by DUT capability"

# -- journal frames -------------------------------------------------------------------------

#: The head of a journal frame description (hil.csms.journal.Frame.describe):
#: "#43 rx CALLRESULT SetChargingProfile [3,...]" or "#29 event connect {...}". The body
#: after it is scanned by hand (_body_end): regexes cannot balance brackets.
_FRAME_HEAD = re.compile(
    r"#(?P<seq>\d{1,9}) (?:rx|tx|event) (?P<kind>[A-Za-z][\w-]*)(?: (?P<action>[A-Za-z][\w.-]*))?"
)
#: A binary frame's body: "<binary frame, 12 bytes> b'\x00...'".
_BINARY_BODY = re.compile(r"<binary frame[^>\n]*>(?: b)?")
#: Where the journal cut a long body (``body[: width - 3] + "..."``).
_CUT = "..."

#: Frame references to merge: "frame #16, frame #22" -> "frames #16, #22".
_FRAME_REF_RUN = re.compile(r"\bframes? #\d+(?:(?:, |; |\s*\n\s*)frames? #\d+)+")
_FRAME_NUMBER = re.compile(r"#(\d+)")
#: A line that is only a frame reference (the frames a failure lists under its colon).
_FRAME_REF_LINE = re.compile(r"^\s*frames? #\d+(?:, #\d+)*\s*$")
#: A frame reference closing a sentence, "(frame #41)", "(signed values from frames #16,
#: #22)": kept when the sentence has to be cut, as it is what shows the failure.
_TRAILING_REF = re.compile(r"\s*\((?:[^()\n]{0,40} )?frames? #\d+(?:, #\d+)*\)$")

# -- waits ----------------------------------------------------------------------------------

#: hil.csms.journal.Journal.timeout_message's first line.
_TIMEOUT = re.compile(
    r"Timed out after (?P<secs>\d+(?:\.\d+)?) s waiting for (?P<what>[^\n]{0,300}?)"
    r" \(after frame #(?P<after>\d+)\)\.?"
)
#: The same, continuing a sentence that already said what was missing:
#: "... but never sent BootNotification : Timed out after 8 s waiting for ...".
_TIMEOUT_AFTER_LEAD = re.compile(r"^(?P<lead>[^\n]*\S)\s*:\s*" + _TIMEOUT.pattern, re.MULTILINE)
#: What the wait was for (hil.csms.journal.describe_expectation): message types, the
#: action with its fields, and the direction.
_EXPECTATION = re.compile(
    r"^(?:(?P<kinds>(?:CALL|CALLRESULT|CALLERROR)(?:/(?:CALL|CALLRESULT|CALLERROR))*)\b ?)?"
    r"(?P<what>.*?)(?: (?P<who>from|to) the station)?$"
)

# -- measurements and other dumps -----------------------------------------------------------

#: An instrument sample the lab quotes as a Python dict:
#: "no energy_meter sample met the condition within 2 s (last sample {...} at <time>)".
_NO_SAMPLE = re.compile(
    r"no (?P<inst>\w+) sample met the condition within (?P<secs>\d+(?:\.\d+)?) s"
    r" \(last sample (?P<sample>\{[^{}\n]*\}) at [^\s)]+\)"
)
#: The same sample without the sentence around it.
_LAST_SAMPLE = re.compile(r"\(last sample (?P<sample>\{[^{}\n]*\}) at [^\s)]+\)")
#: A lost instrument's last reading as key=value pairs (hil.lab instruments).
_LAST_GOOD = re.compile(r"last good reading (?P<pairs>\w+=[-+\d.eE]+(?:, \w+=[-+\d.eE]+)*)")
_PAIR = re.compile(r"(\w+)=([-+\d.eE]+)")
#: "energy_meter at modbus-tcp://...: instrument lost: no good reading ...".
_INSTRUMENT_LOST = re.compile(r"\b(?P<inst>\w+) at (?P<addr>\S+): instrument lost: no good reading")

#: Where a raw dump starts that survived the rewrites above: a Python dict, a JSON object
#: or an OCPP-J message array. The whole bracketed dump is dropped.
_DUMP_START = re.compile(r"\{'|\{\"|\[[234],\"")
_FORBIDDEN = ('[2,"', '[3,"', '[4,"', '{"', "{'")

# -- small print ----------------------------------------------------------------------------

#: A config file the test harness wrote to a temporary folder: the path means nothing to
#: the reader; "the lab config" says what it is.
_TMP_CONFIG = re.compile(r"(?:the lab config )?/tmp/\S{0,300}?\.ya?ml\b(?:(?P<field>: field) )?")
#: Any other temporary path: its file name is what a person can relate to.
_TMP_PATH = re.compile(r"/tmp/(?:[^\s/:]+/)*(?P<name>[^\s/:]+)")
#: An ISO timestamp alone in parentheses: "+6 s (2026-11-30T09:00:30.020000Z)" - noise
#: next to the offset it spells out.
_PAREN_TIMESTAMP = re.compile(r" \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?\)")
#: Any other ISO timestamp: the report is dated, the time of day is what matters.
_TIMESTAMP = re.compile(r"\b\d{4}-\d\d-\d\dT(?P<hms>\d\d:\d\d:\d\d)(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
#: A number with four or more decimals (float noise: 31.99799919128418).
_LONG_DECIMAL = re.compile(r"(?<![\w.])(?P<num>\d{1,15}\.\d{4,})(?![\w.])")
#: What dropping a dump leaves behind: doubled spaces, a space before punctuation
#: ("BootNotification : Timed out"), empty parentheses.
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE = re.compile(r" +(?=[:;,.)])")
_EMPTY_PARENS = re.compile(r" ?\(\s*\)")
#: Where a sentence may be cut when it has to be shortened: after a full stop, else at a
#: clause ("; ", or " | " between the signed-meter checks).
_SENTENCE_END = re.compile(r"[.?!](?= )")
_CLAUSE_END = re.compile(r";(?= )| (?=\| )")
#: After a colon the sentence goes on: "Period from +1 s: The current" -> "the current".
_THE_AFTER_COLON = re.compile(r"(?<=: )The\b")
#: A lost instrument's "no error yet" says nothing to a reader.
_NO_ERROR_YET = re.compile(r"; last error: none yet")
#: A full stop closing the cell: the Remarks column's sentences go without.
_FINAL_STOP = re.compile(r"(?<![.])\.$")
#: A first word that is a plain word ("The", "station"), not a name ("StopTransaction",
#: "EV", "energy_meter"): only such words change case.
_PLAIN_CAPITAL = re.compile(r"^[A-Z][a-z]+\b(?![_\-.])")
_PLAIN_LOWER = re.compile(r"^[a-z]+\b(?![_\-.])")
_IDENTIFIER_LEAD = re.compile(r"^[a-z][a-z0-9]*_\w*")


def person_summary(status: str, message: str, limit: int = 240) -> list[str]:
    """The Remarks cell for a Robot test: its sentences, each at most ``limit`` characters.

    FAIL: what went wrong (never empty); SKIP: why the step is N/A; PASS: the step's
    remarks (usually none). Other statuses (NOT RUN) have nothing to say.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    text = message.replace("\r\n", "\n").replace("\r", "\n").removeprefix("*HTML* ")
    if status == "FAIL":
        return _fail(text, limit)
    if status == "SKIP":
        reason = _skip(text)
        return [_cut(reason, limit)] if reason else []
    if status == "PASS":
        return _remarks(text, limit)
    return []


def is_na_by_dut(message: str) -> bool:
    """The skip is by the DUT's design (counts as achieved), not a gap in the bench."""
    return _NA_BY_DUT in message


# -- per status -----------------------------------------------------------------------------


def _fail(text: str, limit: int) -> list[str]:
    """The failure's sentence, then the protocol defects the back office saw."""
    lines = text.split("\n")
    findings = [m for m in map(_FINDING.match, lines) if m]
    body = "\n".join(line for line in lines if not _FINDING.match(line)).strip()
    sentences = []
    if body:
        sentences.append(_failure(body, limit))
    for finding in findings[:_FINDINGS_SHOWN]:
        where = f" in frame #{finding['seq']}" if finding["seq"] else ""
        detail = _first_line(_tidy(finding["detail"]))
        said = f"Protocol defect{where}: {finding['kind']}" + (f" — {detail}" if detail else "")
        sentences.append(_cut(said, limit))
    if len(findings) > _FINDINGS_SHOWN:
        more = len(findings) - _FINDINGS_SHOWN
        sentences.append(_cut(f"{more} more protocol defect(s); see the evidence", limit))
    sentences = _unique(s for s in sentences if s)
    return sentences or [_cut(FALLBACK, limit)]


def _failure(text: str, limit: int) -> str:
    """One failure (possibly Robot-wrapped) as one sentence; "" if it says nothing."""
    cleanup_failed = bool(_ALSO_TEARDOWN.search(text))
    text = _ALSO_TEARDOWN.sub("", text)
    lead = ""
    for prefix, opening in _CONTEXTS:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            if prefix != _SETUP or not _ABOUT_NA.search(text):
                lead = opening
            break
    more = 0
    if _SEVERAL.match(text):
        items = [_ITEM_NUMBER.sub("", item, count=1) for item in _NUMBERED_ITEM.split(text)[1:]]
        items = [item for item in items if item.strip()]
        if items:
            text, more = items[0], len(items) - 1
    tail = ""
    if more:
        tail += f" (and {more} more failure{'s' if more > 1 else ''})"
    if cleanup_failed:
        tail += " (cleaning up afterwards failed too)"
    sentence = _summarise_failure(text)
    if not sentence:
        return ""  # only noise: the findings, or the fallback, speak instead
    if lead:
        sentence = lead + _lower_first(sentence)
    room = max(limit - len(tail), limit // 2)
    return _cut(_cut(sentence, room) + tail, limit)


def _summarise_failure(text: str) -> str:
    """The first line of one failure, its frames, waits and samples in plain words."""
    text = _EXCEPTION_NAME.sub("", text.strip(), count=1)
    text = _replace_frames(text)
    text = _TIMEOUT_AFTER_LEAD.sub(_continued_timeout, text)
    text = _TIMEOUT.sub(_timeout, text)
    return _capitalise(_tidy(_first_line(text)))


def _skip(text: str) -> str:
    """The N/A reason, as a sentence that stands on its own."""
    text = _EARLIER_MESSAGE.sub("", _SKIP_CONTEXT.sub("", text.strip()))
    text = _NA_PREFIX.sub("", text.strip(), count=1)
    return _capitalise(_tidy(_first_line(_replace_frames(text))))


def _remarks(text: str, limit: int) -> list[str]:
    """A passing step's remarks, one sentence each, without repeats."""
    said = []
    for match in filter(None, map(_REMARK.match, text.split("\n"))):
        remark = _STEP_ID_LEAD.sub("", match["text"].strip(), count=1)
        remark = _capitalise(_tidy(_replace_frames(remark)))
        if remark:
            said.append(_cut(remark, limit))
    return _unique(said)


# -- frames ---------------------------------------------------------------------------------


def _replace_frames(text: str) -> str:
    """Every journal frame description in ``text`` becomes "frame #<seq>"."""
    out: list[str] = []
    pos = 0
    while (head := _FRAME_HEAD.search(text, pos)) is not None:
        end = _description_end(text, head)
        out.append(text[pos : head.start()] + f"frame #{head['seq']}")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _description_end(text: str, head: re.Match[str]) -> int:
    """Where the description that ``head`` starts ends (exclusive)."""
    pos = head.end()
    if text.startswith(" ", pos) and pos + 1 < len(text) and text[pos + 1] in "[{":
        return _body_end(text, pos + 1, quotes='"')
    if binary := _BINARY_BODY.match(text, pos + 1):
        after = binary.end()
        if after < len(text) and text[after] in "'\"":
            return _string_end(text, after, text[after])
        return after
    if head["kind"] == "MALFORMED":  # whatever the station sent; one line of it
        newline = text.find("\n", pos)
        return len(text) if newline < 0 else newline
    return pos  # only the head survived (a cut-off text): the head is the reference


def _body_end(text: str, start: int, quotes: str) -> int:
    """End of the bracketed dump at ``start``: where its brackets close, the journal's
    "..." cut, or the end of the text. Brackets inside strings do not count."""
    depth = 0
    pos = start
    while pos < len(text):
        if text.startswith(_CUT, pos):
            return _after_dots(text, pos)
        char = text[pos]
        if char in quotes:
            pos = _string_end(text, pos, char)
            if text.startswith(_CUT, pos - len(_CUT)) and text[pos - 1] != char:
                return pos  # the cut fell inside the string
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth <= 0:
                return pos + 1
        elif char == "\n":
            return pos  # a description is one line; an unclosed one ends with it
        pos += 1
    return pos


def _string_end(text: str, start: int, quote: str) -> int:
    """End (exclusive) of the string literal opening at ``start``; the journal's "..." cut
    or a line end inside it ends it too."""
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "." and (cut := _cut_end(text, pos, quote)):
            return cut
        if char == "\\":
            if cut := _cut_end(text, pos + 1, quote):
                return cut  # the cut fell right after a backslash
            pos += 2
            continue
        if char == quote:
            return pos + 1
        if char == "\n":
            return pos
        pos += 1
    return len(text)


def _cut_end(text: str, pos: int, quote: str) -> int:
    """If the journal cut the body at ``pos`` inside a string, where its "..." ends; else 0.

    A string of the frame may itself hold "..." ("Connecting..."); the cut is told apart
    by what follows it: the string's closing quote follows only a real "...". A body that
    ended in "." before the cut shows "....": all the dots go.
    """
    if not text.startswith(_CUT, pos):
        return 0
    end = pos
    while end < len(text) and text[end] == ".":
        end += 1
    return 0 if text.startswith(quote, end) else end


def _after_dots(text: str, pos: int) -> int:
    """End of the journal's "..." cut at ``pos``, outside a string (where JSON has no
    dots of its own), with any dots of the body before it."""
    while pos < len(text) and text[pos] == ".":
        pos += 1
    return pos


def _merge_frame_refs(match: re.Match[str]) -> str:
    numbers = _FRAME_NUMBER.findall(match.group())
    return "frames " + ", ".join(f"#{n}" for n in numbers)


# -- waits ----------------------------------------------------------------------------------


def _timeout(match: re.Match[str]) -> str:
    """A wait that timed out, said as what the station did not do."""
    who, what = _expectation(match["what"])
    return f"{who} sent no {what} within {match['secs']} s (journal after frame #{match['after']})"


def _continued_timeout(match: re.Match[str]) -> str:
    """A wait that timed out after a sentence that already says what was missing: only
    how long the lab waited and where, in the journal, to look."""
    lead = match["lead"]
    within = "" if " within " in lead else f" within {match['secs']} s"
    return f"{lead}{within} (journal after frame #{match['after']})"


def _expectation(what: str) -> tuple[str, str]:
    """Who did not send what, from describe_expectation's wording."""
    match = _EXPECTATION.match(what.strip())
    assert match is not None  # every part of the pattern is optional
    who = "The back office" if match["who"] == "to" else "The station"
    kinds = (match["kinds"] or "CALL").split("/")
    thing = match["what"].strip()
    if "CALL" not in kinds:
        thing = f"answer to {thing}" if thing else "answer"
    return who, thing or "CALL"


# -- measurements ---------------------------------------------------------------------------


def _no_sample(match: re.Match[str]) -> str:
    reading = _reading(_parse_sample(match["sample"]))
    if not reading:
        return f"no {match['inst']} sample met the condition within {match['secs']} s"
    return f"{match['inst']} still read {reading} after {match['secs']} s"


def _last_sample(match: re.Match[str]) -> str:
    reading = _reading(_parse_sample(match["sample"]))
    return f"(last reading {reading})" if reading else ""


def _last_good(match: re.Match[str]) -> str:
    values = {key: _number(value) for key, value in _PAIR.findall(match["pairs"])}
    reading = _reading({k: v for k, v in values.items() if v is not None})
    return f"last good reading {reading}" if reading else "last good reading"


def _parse_sample(text: str) -> dict[str, float]:
    """The numbers of a sample dict; anything unreadable is left out."""
    try:
        sample = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return {}
    if not isinstance(sample, dict):
        return {}
    return {
        str(key): float(value)
        for key, value in sample.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _reading(sample: dict[str, float]) -> str:
    """What a technician reads off the meter: the phase currents and the power."""
    currents = [v for k, v in sample.items() if k.startswith("current") and k.endswith("_a")]
    parts = []
    if currents:
        shown = _unique(_format_number(v) for v in currents)
        if len(shown) == 1:
            parts.append(f"{shown[0]} A" + (" per phase" if len(currents) > 1 else ""))
        else:
            parts.append("/".join(shown) + " A")
    if "power_w" in sample:
        parts.append(f"{_format_number(sample['power_w'])} W")
    return ", ".join(parts)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _format_number(value: float) -> str:
    """At most two decimals, no trailing zeros: 31.997999 -> "32", 22078.6191 -> "22078.62"."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _short_decimal(match: re.Match[str]) -> str:
    value = _number(match["num"])
    return match["num"] if value is None else _format_number(value)


# -- tidying --------------------------------------------------------------------------------


def _tidy(text: str) -> str:
    """Samples summarised, dumps dropped, paths, times and numbers made readable."""
    text = _NO_SAMPLE.sub(_no_sample, text)
    text = _LAST_SAMPLE.sub(_last_sample, text)
    text = _LAST_GOOD.sub(_last_good, text)
    text = _INSTRUMENT_LOST.sub(r"\g<inst> (\g<addr>) gave no good reading", text)
    text = _NO_ERROR_YET.sub("", text)
    text = _drop_dumps(text)
    text = _TMP_CONFIG.sub(_lab_config, text)
    text = _TMP_PATH.sub(r"\g<name>", text)
    text = _PAREN_TIMESTAMP.sub("", text)
    text = _TIMESTAMP.sub(r"\g<hms>", text)
    text = _LONG_DECIMAL.sub(_short_decimal, text)
    text = _FRAME_REF_RUN.sub(_merge_frame_refs, text)
    text = _EMPTY_PARENS.sub("", text)
    text = _THE_AFTER_COLON.sub("the", text)
    text = _SPACE_BEFORE.sub("", _SPACES.sub(" ", text)).strip()
    return _FINAL_STOP.sub("", text)


def _lab_config(match: re.Match[str]) -> str:
    """ "/tmp/.../lab.yaml: field x: ..." -> "the lab config field x: ..."."""
    return "the lab config field " if match["field"] else "the lab config"


def _drop_dumps(text: str) -> str:
    """Remove every raw dict, JSON or OCPP-J array left; dropping one may join two
    halves into a new one, so repeat until none is left."""
    while (start := _DUMP_START.search(text)) is not None:
        end = _body_end(text, start.start(), quotes="'\"")
        end = max(end, start.end())
        text = text[: start.start()] + text[end:]
    return text


def _first_line(text: str) -> str:
    """The first line, with what completes it: a line ending in ":" takes the frames
    listed under it, or a short line that finishes its thought ("(none)")."""
    lines = text.strip().split("\n")
    first = lines[0].strip()
    if not first.endswith(":") or len(lines) < 2:
        return first
    refs = []
    for line in lines[1:]:
        if not _FRAME_REF_LINE.match(line):
            break
        refs.extend(_FRAME_NUMBER.findall(line))
    if refs:
        which = "frame" if len(refs) == 1 else "frames"
        return f"{first[:-1]} ({which} " + ", ".join(f"#{n}" for n in refs) + ")"
    following = lines[1].strip()
    if following and len(following) <= 60:
        return f"{first} {following}"
    return first[:-1]


def _capitalise(text: str) -> str:
    """Start like a sentence, without touching names: "energy_meter" gets an article."""
    if _IDENTIFIER_LEAD.match(text):
        return "The " + text
    if _PLAIN_LOWER.match(text):
        return text[0].upper() + text[1:]
    return text


def _lower_first(text: str) -> str:
    """Continue a sentence: "The station ..." -> "the station ...", names unchanged."""
    if _PLAIN_CAPITAL.match(text):
        return text[0].lower() + text[1:]
    return text


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters: at a sentence end, else a clause or word end with
    "…"; a frame reference closing the text is kept, as it is what shows the failure."""
    text = text.strip()
    if len(text) <= limit:
        return _clean_of_raw(text)
    ref = _TRAILING_REF.search(text)
    tail = ""
    if ref and len(ref.group()) + 20 <= limit:
        text, tail = text[: ref.start()], " " + ref.group().strip()
    room = limit - len(tail)
    cut = _shorten(text, room)
    return _clean_of_raw((cut + tail)[:limit])


def _shorten(text: str, room: int) -> str:
    """``text`` in ``room`` characters, cut where a reader expects it."""
    if len(text) <= room:
        return text
    window = text[: room - 1]
    depth = _paren_depths(window)
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if depth[m.end()] == 0]
    if ends and ends[-1] >= room * 0.6:
        return _FINAL_STOP.sub("", window[: ends[-1]])
    clauses = [m.start() for m in _CLAUSE_END.finditer(window) if depth[m.start()] == 0]
    if clauses and clauses[-1] >= room * 0.6:
        return window[: clauses[-1]] + "…"
    space = window.rfind(" ")
    if space >= room * 0.5:
        window = window[:space]
    window = window.rstrip(" ,;:(")
    closing = ")" * _paren_depths(window)[-1]  # "(after: A -> …)": the aside stays closed
    return (window[: room - 1 - len(closing)] + "…" + closing)[:room]


def _paren_depths(text: str) -> list[int]:
    """How many parentheses are open before each position of ``text`` (and at its end)."""
    depths = [0]
    for char in text:
        step = 1 if char == "(" else -1 if char == ")" else 0
        depths.append(max(depths[-1] + step, 0))
    return depths


def _clean_of_raw(text: str) -> str:
    """A last guard: cutting may leave the opening of a dump; never show one."""
    return _drop_dumps(text) if any(token in text for token in _FORBIDDEN) else text


def _unique(items: Iterable[str]) -> list[str]:
    """``items`` in order, each once (a step may remark the same thing per period)."""
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


#: What a failing row's Remarks cell may hold before the rest goes to the failure details.
CELL_LIMIT = 420


def full_failure(message: str) -> list[str]:
    """A FAIL's sentences as :func:`person_summary` words them, but never shortened: the
    failure details carry the remark in full when the cell cannot."""
    return person_summary("FAIL", message, limit=1_000_000)


def fit_cell(sentence: str, pointer: str, limit: int = CELL_LIMIT) -> str:
    """``sentence`` for a Remarks cell of at most ``limit`` characters, never cut inside a
    clause: whole when it fits, else its first clauses ("…; …") that fit and a pointer to
    where the whole stands ("(see failure details, step 7)"), else the words before its
    first colon with the pointer. The caller puts the whole sentence in the details."""
    if len(sentence) <= limit:
        return sentence
    tail = f" ({pointer})"
    depth = _paren_depths(sentence)
    ends = [m.start() for m in _CLAUSE_END.finditer(sentence) if depth[m.start()] == 0]
    fitting = [e for e in ends if e + len("; and more") + len(tail) <= limit]
    if fitting:
        return sentence[: fitting[-1]] + "; and more" + tail
    colon = sentence.find(": ")
    if colon > 0 and colon + len(tail) <= limit and depth[colon] == 0:
        return sentence[:colon] + tail
    return "The remark is too long for this table" + tail

"""The tester's word: remarks a person adds or rewrites, and verdicts a person overrides,
read from a YAML file next to the run (``tester-remarks.yaml``) or ``hil report --remarks``.

The report shows each of them as the person's, with who and when, and never hides what
the lab said: an overridden verdict shows as ``N → Y`` with the override's reason, a
rewritten remark quotes the lab's. docs/report.md describes the file::

    tester: A. Technician          # who wrote the file: each entry's default ``by``
    date: 2026-12-01               # when: each entry's default ``at``
    report_number: CR-2026-0042    # optional: the lab config's report.number otherwise
    authorised_by: Dr. B. Head     # optional: the lab config's report.authorised_by
    steps:
      "7":
        - remark: Checked by hand too.
        - replaces: never sent BootNotification   # a part of the lab's remark
          remark: It sent BootNotification 31 s later, as its manual says.
          by: C. Other
          at: 2026-12-02 09:15
        - verdict: Y
          reason: The 31 s are the maker's documented reboot delay.

A file that cannot be used is one :class:`TesterFileError` line naming the file, the
field and the value, as a bad lab config is (hil.lab.config).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, Field, ValidationError

from hil.checklist import BY_ID
from hil.lab.config import (
    _describe,
    _DuplicateKey,
    _not_utf8,
    _Strict,
    _UniqueKeyLoader,
    _yaml_problem,
)
from hil.report.model import NA, NOT_RUN, InstrumentEntry, Report, StepRow
from hil.report.sources import ReportInputError, RunData

#: the tester's file the report reads from the output folder when no --remarks is given
REMARKS_FILE = "tester-remarks.yaml"

_VERDICTS = ("Y", "N", "N/A")


class TesterFileError(ReportInputError):
    """A tester's file the report cannot use; the message names file, field and value."""


def _when(value: Any) -> str:
    """A date or a date and time as the report prints it (YAML reads ``2026-12-01`` and
    ``2026-12-01 09:15:00`` as such; a quoted one is parsed here)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value.strip()) if value.strip() else value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    raise ValueError("give a date (2026-12-01) or a date and time (2026-12-01 09:15)")


#: ``at`` and ``date``: a date, or a date and time, shown as written
_When = Annotated[str, BeforeValidator(_when)]


class _Entry(_Strict):
    """One thing a person says about a step: a remark (added, or in place of a lab remark
    it ``replaces``), or a verdict override with its reason."""

    remark: str | None = Field(None, min_length=1)
    replaces: str | None = Field(None, min_length=1)
    verdict: Literal["Y", "N", "N/A"] | None = None
    reason: str | None = Field(None, min_length=1)
    by: str | None = Field(None, min_length=1)
    at: _When | None = None


class _File(_Strict):
    tester: str | None = Field(None, min_length=1)
    date: _When | None = None
    report_number: str | None = Field(None, min_length=1, max_length=64)
    authorised_by: str | None = Field(None, min_length=1, max_length=100)
    steps: dict[str, list[_Entry]] = {}


@dataclass
class Entry:
    """An entry with its person and time resolved."""

    field: str  # "steps.7[1]": where it is in the file, for messages
    by: str
    at: str
    remark: str = ""
    replaces: str = ""
    verdict: str = ""
    reason: str = ""


@dataclass
class TesterWord:
    path: Path
    tester: str = ""
    report_number: str = ""
    authorised_by: str = ""
    steps: dict[str, list[Entry]] = field(default_factory=dict)


def load_tester_file(path: Path) -> TesterWord:
    """Read and check a tester's file; every problem names the file, field and value."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TesterFileError(path, f"cannot read the tester's file: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TesterFileError(path, str(_not_utf8(path, data, exc)).split(": ", 1)[1]) from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except _DuplicateKey as exc:
        raise TesterFileError(path, exc.describe()) from None
    except yaml.YAMLError as exc:
        raise TesterFileError(path, _yaml_problem(exc)) from None
    if not isinstance(raw, dict):
        raise TesterFileError(
            path, "a tester's file is a mapping (tester, date, steps: …), got " + repr(raw)
        )
    if isinstance(raw.get("steps"), dict):  # `7:` is a number in YAML; steps are named
        raw = {**raw, "steps": {str(k): v for k, v in raw["steps"].items()}}
    try:
        checked = _File.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        hint = ""
        if isinstance(errors[0].get("input"), bool):  # YAML 1.1 reads yes/no/on/off so
            hint = "; YAML reads yes, no, on, off as true or false: write Y, N or 'N/A'"
        raise TesterFileError(path, _describe(errors[0], raw) + hint + more) from None
    word = TesterWord(
        path,
        checked.tester or "",
        checked.report_number or "",
        checked.authorised_by or "",
    )
    for step, entries in checked.steps.items():
        if step not in BY_ID:
            raise TesterFileError(
                path,
                f"field steps.{step}: not a step of the checklist (value {step!r}); steps "
                "are 1 … 23, SC1 … SC3, EI1",
            )
        overrides = 0
        for i, e in enumerate(entries):
            where = f"steps.{step}.{i}"
            if e.verdict is None and e.remark is None:
                raise TesterFileError(
                    path,
                    f"field {where}: says nothing; give remark (a remark, with replaces to "
                    f"rewrite one of the lab's) or verdict and reason (value {_raw(e)!r})",
                )
            if e.verdict is not None and not (e.reason or "").strip():
                raise TesterFileError(
                    path,
                    f"field {where}.reason: a verdict override needs the reason the tester "
                    f"gives for it (value {e.reason!r})",
                )
            if e.reason is not None and e.verdict is None:
                raise TesterFileError(
                    path,
                    f"field {where}.reason: a reason belongs to a verdict override; give "
                    f"verdict (Y, N or N/A) too, or write it as a remark (value {e.reason!r})",
                )
            if e.replaces is not None and e.remark is None:
                raise TesterFileError(
                    path,
                    f"field {where}.replaces: gives the lab's remark to rewrite but no remark "
                    f"to put in its place (value {e.replaces!r})",
                )
            overrides += e.verdict is not None
            if overrides > 1:
                raise TesterFileError(
                    path,
                    f"field {where}.verdict: a second verdict override of step {step}; one "
                    f"step has one verdict (value {e.verdict!r})",
                )
            by = e.by or checked.tester
            if not by:
                raise TesterFileError(
                    path,
                    f"field {where}.by: who said this is missing; give by here or tester at "
                    "the top of the file",
                )
            at = e.at or checked.date
            if at is None:
                raise TesterFileError(
                    path,
                    f"field {where}.at: when this was said is missing; give at here or date "
                    "at the top of the file",
                )
            word.steps.setdefault(step, []).append(
                Entry(
                    where,
                    by,
                    at,
                    e.remark or "",
                    e.replaces or "",
                    e.verdict or "",
                    e.reason or "",
                )
            )
    return word


def _raw(entry: _Entry) -> dict[str, Any]:
    return entry.model_dump(exclude_none=True)


def find_tester_file(out_dir: Path, runs: list[RunData], given: Path | None) -> Path | None:
    """``given`` (``hil report --remarks``), else ``tester-remarks.yaml`` in the report's
    folder, else in the folder of the latest run; None when there is none."""
    if given is not None:
        return Path(given)
    for folder in [out_dir, *(r.folder for r in reversed(runs))]:
        candidate = Path(folder) / REMARKS_FILE
        if candidate.is_file():
            return candidate
    return None


def apply_tester_word(word: TesterWord | None, rows: dict[str, StepRow]) -> None:
    """Put the person's remarks and overrides on the rows (before the levels are decided:
    an override counts). A remark to replace that is not the lab's, or an override of a
    step no run decided, is an error naming the field."""
    if word is None:
        return
    for step, entries in word.steps.items():
        row = rows[step]
        for e in entries:
            if e.remark and e.replaces:
                hits = [r for r in row.remarks if e.replaces in r]
                if len(hits) != 1:
                    found = "none" if not hits else f"{len(hits)}"
                    raise TesterFileError(
                        word.path,
                        f"field {e.field}.replaces: {found} of the lab's remarks on step "
                        f"{step} contain this; give a part of exactly one (value "
                        f"{e.replaces!r}); the remarks: {row.remarks}",
                    )
                row.remarks.remove(hits[0])
                row.tester.append(
                    f"Remark by {e.by}, {e.at}, in place of the lab's remark "
                    f"“{hits[0]}”: {e.remark}"
                )
            elif e.remark:
                row.tester.append(f"Remark by {e.by}, {e.at}: {e.remark}")
            if e.verdict:
                if row.verdict == NOT_RUN:
                    raise TesterFileError(
                        word.path,
                        f"field {e.field}.verdict: step {step} was not run, so there is no "
                        f"verdict of the lab to override (value {e.verdict!r})",
                    )
                if row.verdict == e.verdict:
                    raise TesterFileError(
                        word.path,
                        f"field {e.field}.verdict: the lab's verdict on step {step} is "
                        f"already {e.verdict}; nothing to override (value {e.verdict!r})",
                    )
                row.lab_verdict = row.verdict
                row.verdict = e.verdict
                # a person's N/A: the step does not apply to this station (by its design)
                row.na_by_dut = e.verdict == NA
                row.tester.append(override_text(row.lab_verdict, e))


def override_text(lab_verdict: str, e: Entry) -> str:
    return f"{lab_verdict} → {e.verdict} (override by {e.by}, {e.at}: {e.reason})"


# -- who signs, and warnings ------------------------------------------------------------------


def sign_report(
    report: Report,
    runs: list[RunData],
    word: TesterWord | None,
    tester_option: str | None,
) -> None:
    """Report number, tester and authoriser (the tester's file first, then the lab
    config), and the warnings the reader must see."""
    settings = next((r.facts["report"] for r in reversed(runs) if r.facts.get("report")), {})
    if word is not None:
        report.tester_file = word.path.name
        if word.tester and not tester_option:
            report.tester = word.tester
    report.report_number = (word and word.report_number) or str(settings.get("number") or "")
    report.authorised_by = (word and word.authorised_by) or str(settings.get("authorised_by") or "")
    report.warnings += report_warnings(report, runs)
    if word is not None:
        report.warnings += _older_than_runs(word, runs)


def report_warnings(report: Report, runs: list[RunData]) -> list[str]:
    out = []
    where = f"in the tester's file ({REMARKS_FILE}) or the lab config's report section"
    if not report.report_number:
        out.append(f"The report has no number: give report_number {where} (report.number).")
    if report.tester in ("", "—"):
        out.append(
            "The report names no tester: give tester in the tester's file, lab.tester in the "
            "lab config or hil report --tester."
        )
    if not report.authorised_by:
        out.append(
            f"No one has authorised this report: give authorised_by {where} (report.authorised_by)."
        )
    for run, info in zip(runs, report.runs, strict=True):
        day = (run.ended or run.started or "")[:10]
        for e in run.evidence:
            if e.get("kind") != "instruments":
                continue
            for item in e.get("items", []):
                due = str(item.get("calibration_due") or "")
                if due and day and due < day:
                    serial = f" (serial {item['serial']})" if item.get("serial") else ""
                    line = (
                        f"Calibration overdue: the {item.get('role')} {item.get('driver', '')}"
                        f"{serial} was due for calibration on {due}, but {info.label} used it "
                        f"on {day}."
                    )
                    if line not in out:
                        out.append(line)
    return out


def _older_than_runs(word: TesterWord, runs: list[RunData]) -> list[str]:
    """A person's word dated before a run it is applied to began was written about an
    earlier run (a run folder is reused, a file copied along): say so, on page one."""
    out = []
    for run, info in zip(runs, [f"run {i}" for i in range(1, len(runs) + 1)], strict=True):
        day = (run.started or "")[:10]
        said = sorted({e.at[:10] for entries in word.steps.values() for e in entries})
        if day and said and said[0] < day:
            out.append(
                f"The tester's file {word.path.name} has an entry of {said[0]}, before "
                f"{info} started ({day}): check that it is about these runs."
            )
    return out


def instrument_facts(entry: InstrumentEntry, item: dict[str, Any]) -> InstrumentEntry:
    """The lab config's serial and calibration date on an instrument row."""
    entry.serial = str(item.get("serial") or "")
    entry.calibration_due = str(item.get("calibration_due") or "")
    return entry

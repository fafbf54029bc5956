"""From one or more runs to the certification report's model.

Several runs of the same DUT merge the way ``rebot --merge`` does: the latest verdict of a
step wins (by the time the step started), a step a run did not include keeps its earlier
verdict, and every row says which run it comes from — so a Core run and a later smart-
charging run make one report. Evidence (energy, plots, Eichrecht, configuration) comes
from the run whose verdict a step shows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hil.checklist import LEVELS, STEPS, Level, Step, action_title, level_title, steps_of
from hil.lab.evidence import STEPS_FILE
from hil.report import tester as tester_word
from hil.report.model import (
    ACHIEVED,
    LAB_ERROR,
    NA,
    NO,
    NOT_ACHIEVED,
    NOT_DECIDED,
    NOT_RUN,
    NOT_SHOWN,
    YES,
    CheckRow,
    ConfigurationEntry,
    EichrechtEvidence,
    EnergyRow,
    FailureDetail,
    InstrumentEntry,
    LabNotOpened,
    LevelResult,
    ManualStep,
    PlotEvidence,
    Report,
    RunInfo,
    SessionEvidence,
    StepRow,
    VersionTables,
)
from hil.report.portable import make_portable
from hil.report.sources import (
    VERDICT_STATUSES,
    ReportInputError,
    RunData,
    StepRecord,
    quote_frames,
    read_output_xml,
    read_step_records,
)
from hil.report.wording import fit_cell, full_failure, is_na_by_dut, person_summary
from hil.verdict import first_failure

#: The DUT facts two runs must agree on to make one report.
#: The OCPP version is not one of them: it belongs to the run (a station run on 1.6 and on
#: 2.0.1 gets one certificate with the levels and tables of both).
IDENTITY = ("vendor", "model", "firmware", "serial")

#: Energy sources as a lab technician names them.
SOURCE_NAMES = {
    "meterStop - meterStart": "Station register (meterStop − meterStart)",
    "MeterValues register": "Station MeterValues register",
    "energy_meter delta": "Reference meter",
    "power_analyser delta": "Power analyser (integral)",
    "energy_meter interpolated": "Reference meter",
    "power_analyser interpolated": "Power analyser (integral)",
}


def report_for_output_dir(output_dir: Path, tester: str | None = None) -> Report:
    """The report of the run in ``output_dir`` from the lab's step records (used at the
    end of a run, before Robot has written ``output.xml``). A tester's file there is not
    read: at the end of a run no person has seen it yet, so a file in its folder is about
    an earlier run (``hil report`` reads it)."""
    return build_report([read_step_records(output_dir)], output_dir, tester, read_remarks=False)


def report_from_outputs(
    paths: Sequence[Path], out_dir: Path, tester: str | None = None, remarks: Path | None = None
) -> Report:
    """The report of one or more ``output.xml`` files (merged, latest verdict wins);
    ``remarks``: the tester's file (hil.report.tester), default ``tester-remarks.yaml``
    beside the report or the latest run."""
    return build_report([read_output_xml(p) for p in paths], out_dir, tester, remarks)


def build_report(
    runs: list[RunData],
    out_dir: Path,
    tester: str | None = None,
    remarks: Path | None = None,
    read_remarks: bool = True,
) -> Report:
    runs = sorted(runs, key=lambda r: r.started)
    _same_dut(runs)
    labels = {id(run): f"run {i}" for i, run in enumerate(runs, 1)}
    by_version = _runs_by_version(runs)
    several = len(by_version) > 1
    tables: list[VersionTables] = []
    version_rows: dict[str, dict[str, StepRow]] = {}
    failures: list[FailureDetail] = []
    evidence: list[dict[str, Any]] = []
    for ocpp, version_runs in by_version.items():
        chosen = _latest_records(version_runs)
        rows: dict[str, StepRow] = {}
        for step in STEPS:
            found = chosen.get(step.id)
            if found is None:
                rows[step.id] = _row(step, NOT_RUN, ocpp)
                continue
            run, record = found
            row = rows[step.id] = _record_row(step, record, labels[id(run)], ocpp)
            if record.status == "FAIL":  # N and lab errors: their whole text is evidence
                failures.append(
                    FailureDetail(
                        step.id,
                        action_title(step, ocpp),
                        record.message,
                        ocpp if several else "",
                        remark=_full_remark(row, record),
                        frames=quote_frames(
                            run.folder,
                            str(_dut_fact(run, "station_id") or ""),
                            _frame_refs(record.message),
                        ),
                    )
                )
        version_rows[ocpp] = rows
        tables.append(
            VersionTables(
                ocpp,
                checklist=[rows[s.id] for s in STEPS if s.level == "ocpp16"],
                smart_charging=[rows[s.id] for s in STEPS if s.level == "smart16"],
                eichrecht=[rows[s.id] for s in STEPS if s.level == "eichrecht"],
            )
        )
        evidence += [{**e, "_ocpp": ocpp if several else ""} for e in _evidence_of_chosen(chosen)]
    found_file = tester_word.find_tester_file(out_dir, runs, remarks) if read_remarks else None
    word = tester_word.load_tester_file(found_file) if found_file else None
    # before the levels: an override counts; on a report of both versions, an entry is
    # for the newest version that ran its step
    tester_word.apply_tester_word(word, _rows_for_the_tester(version_rows))
    facts = _facts(runs)
    dut, lab = facts.get("dut", {}), facts.get("lab", {})
    levels, certified = _levels(version_rows)
    first = tables[0]
    last = runs[-1]
    report = Report(
        platform=str(lab.get("platform") or "the charging platform"),
        manufacturer=str(dut.get("vendor") or "unknown"),
        model=str(dut.get("model") or "unknown"),
        firmware=str(dut.get("firmware") or "unknown"),
        serial=str(dut.get("serial") or "—"),
        current_type=str(dut.get("current_type") or "AC"),
        tester=tester or str(lab.get("tester") or "—"),
        date=(last.ended or last.started or "")[:10],
        lab_name=str(lab.get("name") or "—"),
        certified=certified,
        ocpp=first.ocpp,
        levels=levels,
        checklist=first.checklist,
        smart_charging=first.smart_charging,
        eichrecht=first.eichrecht,
        versions=tables,
        runs=[_run_info(run, labels[id(run)], out_dir) for run in runs],
        sessions=_sessions(evidence),
        plots=[
            PlotEvidence(e["step"], str(e.get("title", "")), e["_folder"] / e["plot"], e["_ocpp"])
            for e in evidence
            if e["kind"] == "plot"
        ],
        eichrecht_evidence=[_eichrecht(e) for e in evidence if e["kind"] == "eichrecht"],
        configuration=[
            entry
            for ocpp, version_runs in by_version.items()
            for entry in _configuration(
                [e for e in evidence if e["_ocpp"] in ("", ocpp)], version_runs
            )
        ],
        instruments=_instruments(runs),
        failures=failures,
        lab_not_opened=_lab_not_opened(runs, labels),
        manual_steps=[_manual_step(e) for e in evidence if e["kind"] == "manual"],
    )
    tester_word.sign_report(report, runs, word, tester)
    make_portable(report, runs, out_dir)
    return report


def _rows_for_the_tester(version_rows: dict[str, dict[str, StepRow]]) -> dict[str, StepRow]:
    """Each step's row a tester's entry is about: the newest version's that ran the step
    (the newest version's when none did)."""
    newest_first = list(reversed(version_rows.values()))
    return {
        step.id: next(
            (rows[step.id] for rows in newest_first if rows[step.id].verdict != NOT_RUN),
            newest_first[0][step.id],
        )
        for step in STEPS
    }


def _runs_by_version(runs: list[RunData]) -> dict[str, list[RunData]]:
    """The runs per OCPP version, oldest version first. The version belongs to the run,
    not to the station: one station run on 1.6 and on 2.0.1 gets one certificate. A run
    that recorded no version (a bare output.xml) counts as the version of the others when
    they agree, else as 1.6."""
    known = {str(_dut_fact(run, "ocpp")) for run in runs if _dut_fact(run, "ocpp")}
    default = next(iter(known)) if len(known) == 1 else "1.6"
    grouped: dict[str, list[RunData]] = {}
    for run in runs:
        grouped.setdefault(str(_dut_fact(run, "ocpp") or default), []).append(run)
    return dict(sorted(grouped.items(), key=lambda kv: _version_key(kv[0])))


def _version_key(version: str) -> tuple[int | str, ...]:
    return tuple(int(p) if p.isdigit() else p for p in version.split("."))


def _levels(version_rows: dict[str, dict[str, StepRow]]) -> tuple[list[LevelResult], bool]:
    """The certificate's level rows, level by level and within a level version by version
    ("OCPP 1.6 JSON, OCPP 2.0.1 Core, Smart Charging 1.6 JSON, …"), and whether the station
    is certified (the Core level achieved on some version). A level whose title is the
    same on every version (Eichrecht: the meter signs, whatever carries the values) is one
    row, from the versions that ran its steps (_merged_level)."""
    levels: list[LevelResult] = []
    certified = False
    for level in LEVELS:
        per_version = {
            ocpp: _level(level, level_title(level, ocpp), rows)
            for ocpp, rows in version_rows.items()
        }
        if level.key == LEVELS[0].key:
            certified = any(lv.achieved for lv in per_version.values())
        titles = {lv.title for lv in per_version.values()}
        if len(per_version) > 1 and len(titles) == 1:
            levels.append(_merged_level(level, per_version, version_rows))
        else:
            levels += per_version.values()
    return levels, certified


def _merged_level(
    level: Level, per_version: dict[str, LevelResult], version_rows: dict[str, dict[str, StepRow]]
) -> LevelResult:
    """One row for a level shown the same way on every version: an N on any version makes
    it not achieved; else it is achieved when some version achieved it; else the versions
    that ran its steps say why not (each reason naming its version)."""
    ran = {
        ocpp: lv
        for ocpp, lv in per_version.items()
        if any(version_rows[ocpp][s.id].verdict != NOT_RUN for s in steps_of(level.key))
    } or per_version
    failed = {o: lv for o, lv in ran.items() if lv.state == NOT_ACHIEVED}
    if not failed and (done := [lv for lv in ran.values() if lv.achieved]):
        return done[0]
    why = failed or ran
    state = NOT_ACHIEVED if failed else next(iter(why.values())).state
    blocking = [f"OCPP {ocpp}: {b}" for ocpp, lv in why.items() for b in lv.blocking]
    return LevelResult(next(iter(ran.values())).title, False, blocking, state)


def _lab_not_opened(runs: list[RunData], labels: dict[int, str]) -> list[LabNotOpened]:
    """The runs that could not open the lab, after the last run that did (an earlier
    failure that a later run mended is history, not news)."""
    failed: list[LabNotOpened] = []
    for run in reversed(runs):
        if not run.lab_not_opened:
            break
        failed.insert(0, LabNotOpened(labels[id(run)], run.lab_not_opened))
    return failed


# -- verdicts ------------------------------------------------------------------------------


def _same_dut(runs: list[RunData]) -> None:
    """Runs of different stations (or firmware) must not make one certificate."""
    first = runs[0]
    for run in runs[1:]:
        for key in IDENTITY:
            a = _dut_fact(first, key)
            b = _dut_fact(run, key)
            if a and b and a != b:
                raise ReportInputError(
                    run.source,
                    f"a run of another DUT: dut.{key} is {b!r} here but {a!r} in {first.source}",
                )


def _dut_fact(run: RunData, key: str) -> Any:
    value = run.facts.get("dut", {}).get(key)
    return value or ("1.6" if key == "ocpp" and run.facts else value)  # before 2.0.1 existed


def _latest_records(runs: list[RunData]) -> dict[str, tuple[RunData, StepRecord]]:
    chosen: dict[str, tuple[RunData, StepRecord]] = {}
    for run in runs:
        for record in run.steps:
            if record.status not in VERDICT_STATUSES:
                continue
            held = chosen.get(record.step)
            if held is None or (record.started or run.started) >= (
                held[1].started or held[0].started
            ):
                chosen[record.step] = (run, record)
    return chosen


def _row(step: Step, verdict: str, ocpp: str | None = None) -> StepRow:
    return StepRow(step.id, step.number, step.profile, action_title(step, ocpp), verdict)


def _record_row(step: Step, record: StepRecord, run_label: str, ocpp: str | None = None) -> StepRow:
    row = _row(step, record.verdict, ocpp)
    row.run = run_label
    row.test_name = record.name
    row.detail = record.message
    remarks = [_remark_sentence(r) for r in record.remarks]
    if record.status == "PASS":
        row.remarks = remarks or person_summary("PASS", record.message)
    elif row.verdict == LAB_ERROR:  # the cause, said as the lab's, never as the station's
        row.remarks = person_summary("FAIL", first_failure(record.message)) + [
            "Not the station's verdict: the step is to be run again once the lab is mended"
        ]
    elif record.status == "FAIL":  # in full: a long sentence points to the failure details
        pointer = f"see failure details, step {step.id}"
        full = full_failure(record.message) + [f"Remark: {r}" for r in remarks]
        row.remarks = [fit_cell(r, pointer) for r in full]
    else:
        row.remarks = person_summary("SKIP", record.message)
        row.na_by_dut = is_na_by_dut(record.message)
    return row


#: A frame number in a failure message: "frame #12", "frames #16, #22", "(#14)",
#: "StopTransaction #32" (every "#<n>" of a keyword's failure is a journal frame).
_FRAME_REF = re.compile(r"(?<![\w&#])#(\d{1,9})\b")


def _frame_refs(message: str) -> list[int]:
    return sorted({int(n) for n in _FRAME_REF.findall(message)})


def _full_remark(row: StepRow, record: StepRecord) -> str:
    """The N row's remark in full when its cell holds only part of it (else "")."""
    if row.verdict != NO:
        return ""
    full = full_failure(record.message) + [f"Remark: {r}" for r in record.remarks]
    return "\n".join(full) if full != row.remarks else ""


def _remark_sentence(text: str) -> str:
    """A recorded remark worded like the message's ``Remark:`` lines (frames referenced)."""
    return next(iter(person_summary("PASS", f"Remark: {text}")), text)


def _level(level: Level, title: str, rows: dict[str, StepRow]) -> LevelResult:
    """What ``level`` came to (hil.checklist.Level): not achieved on an N; not decided on a
    lab error, a step not run or N/A on this bench; not shown when a step that shows it was
    N/A by the DUT's design; else achieved."""
    blocking: list[str | tuple[str, list[str]]] = []
    not_run: list[str] = []
    failed = undecided = False
    not_shown: dict[str, list[str]] = {}  # why -> steps: one line per reason
    na_groups: dict[str, list[str]] = {}  # N/A on this bench, one line per reason
    for step in steps_of(level.key):
        row = rows[step.id]
        why = row.remarks[0] if row.remarks else ""
        if row.verdict == YES:
            continue
        if row.verdict == NA and row.na_by_dut:
            if step.id in level.shown_by:
                not_shown.setdefault(why or "the station cannot do it", []).append(step.id)
            continue
        if row.verdict == NOT_RUN:
            undecided = True
            not_run.append(step.id)
        elif row.verdict == NA:
            undecided = True
            why = why or "not applicable on this bench"
            if why not in na_groups:
                na_groups[why] = []
                blocking.append((why, na_groups[why]))
            na_groups[why].append(step.id)
        elif row.verdict == LAB_ERROR:
            undecided = True
            blocking.append(f"step {step.id} lab error: {why or 'the lab failed'}")
        else:
            failed = True
            blocking.append(f"step {step.id} N: {why or 'failed'}")
    lines = [
        b
        if isinstance(b, str)
        else (
            f"step {b[1][0]} N/A on this bench: {b[0]}"
            if len(b[1]) == 1
            else f"steps {_ranges(b[1])} N/A on this bench: {b[0]}"
        )
        for b in blocking
    ]
    if not_run:
        lines.append(
            f"step {not_run[0]} was not run"
            if len(not_run) == 1
            else f"steps {_ranges(not_run)} were not run"
        )
    if not (failed or undecided):
        lines += [
            f"not shown: {_lower_first(why)} (step{'s' if len(ids) > 1 else ''} {_ranges(ids)} N/A)"
            for why, ids in not_shown.items()
        ]
    if failed:
        state = NOT_ACHIEVED
    elif undecided:
        state = NOT_DECIDED
    elif not_shown:
        state = NOT_SHOWN
    else:
        state = ACHIEVED
    return LevelResult(title, state == ACHIEVED, lines, state)


def _lower_first(text: str) -> str:
    """ "The DUT does not…" -> "the DUT does not…" after "not shown: "."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _ranges(step_ids: list[str]) -> str:
    """``1, 2, 3, 5, SC1`` -> ``1–3, 5, SC1``: consecutive checklist steps as ranges."""
    order = {s.id: i for i, s in enumerate(STEPS)}
    parts: list[list[str]] = []
    for sid in step_ids:
        if parts and order[sid] == order[parts[-1][-1]] + 1:
            parts[-1].append(sid)
        else:
            parts.append([sid])
    return ", ".join(", ".join(p) if len(p) < 3 else f"{p[0]}–{p[-1]}" for p in parts)


# -- run facts -----------------------------------------------------------------------------


def _facts(runs: list[RunData]) -> dict[str, Any]:
    """The latest run's facts that are known (a bare output.xml knows none)."""
    for run in reversed(runs):
        if run.facts.get("dut"):
            return run.facts
    return {}


def _relative(target: Path, out_dir: Path) -> str:
    try:
        return os.path.relpath(target.resolve(), out_dir.resolve())
    except ValueError:  # another drive
        return str(target.resolve())


def _run_info(run: RunData, label: str, out_dir: Path) -> RunInfo:
    links = []
    # at the end of a run the report comes first and Robot writes its files right after
    robot_follows = run.source.name == STEPS_FILE and not run.interrupted
    for name, target in (
        ("Robot log", run.folder / "log.html"),
        ("Robot output", run.folder / "output.xml"),
    ):
        if target.is_file() or robot_follows:
            links.append((name, _relative(target, out_dir)))
    for journal in sorted((run.folder / "journal").glob("*.jsonl")):
        links.append((f"OCPP journal {journal.stem}", _relative(journal, out_dir)))
    return RunInfo(
        label=label,
        run_id=run.run_id,
        source=str(run.source),
        started=run.started,
        ended=run.ended,
        interrupted=run.interrupted,
        links=links,
    )


# -- evidence ------------------------------------------------------------------------------


def _evidence_of_chosen(chosen: dict[str, tuple[RunData, StepRecord]]) -> list[dict[str, Any]]:
    """The evidence records of the runs whose verdicts the report shows, step by step."""
    out = []
    for step in STEPS:
        if step.id not in chosen:
            continue
        run = chosen[step.id][0]
        for record in run.evidence:
            if record.get("step") == step.id:
                out.append({**record, "_folder": run.folder})
    return out


def _sessions(evidence: Iterable[dict[str, Any]]) -> list[SessionEvidence]:
    sessions: list[SessionEvidence] = []
    for e in evidence:
        if e["kind"] == "energy":
            ref = e["reference"]
            rows, windows_note = _energy_rows(ref, e.get("checks", []))
            rows += [
                EnergyRow(SOURCE_NAMES.get(f"{role} delta", role), None, note=f"N/A — {why}")
                for role, why in e.get("missing", {}).items()
            ]
            plot = e["_folder"] / e["plot"] if e.get("plot") else None
            sessions.append(
                SessionEvidence(
                    e["step"],
                    e["transaction_id"],
                    SOURCE_NAMES.get(ref["source"], ref["source"]),
                    str(e.get("tolerance", "")),
                    rows,
                    plot,
                    ocpp=e.get("_ocpp", ""),
                    windows_note=windows_note,
                )
            )
        elif e["kind"] == "eichrecht" and e.get("signed_energy_wh") is not None:
            sessions.append(_signed_session(e))
    return sessions


def _energy_rows(ref: dict[str, Any], checks: list[dict[str, Any]]) -> tuple[list[EnergyRow], str]:
    """The reference and every source, grouped by the window they cover: a source compared
    over another window than the reference's (the MeterValues register between two
    readings) follows the reference over that same window, so that every figure stands
    beside the one it was compared with; and a sentence saying plainly that the windows
    differ, with each window (empty when all cover the same)."""
    ref_name = SOURCE_NAMES.get(ref["source"], ref["source"])
    main = _window_text(ref)
    rows = [EnergyRow(ref_name, ref["wh"], window=main, note="reference")]
    others: dict[str, list[EnergyRow]] = {}
    for c in checks:
        row = EnergyRow(
            SOURCE_NAMES.get(c["source"], c["source"]),
            c["wh"],
            deviation_wh=c["diff_wh"],
            deviation_percent=c["diff_percent"],
            allowed_wh=c["allowed_wh"],
            ok=c["ok"],
            window=_window_text(c),
        )
        if row.window == main or not row.window:
            rows.append(row)
            continue
        if row.window not in others:
            name = SOURCE_NAMES.get(str(c.get("reference") or ""), ref_name)
            others[row.window] = [
                EnergyRow(
                    name,
                    c.get("reference_wh"),
                    window=row.window,
                    note="reference over this window",
                )
            ]
        others[row.window].append(row)
    if not others:
        return rows, ""
    names = [r.source for r in rows]
    parts = [f"{_and(names)} {_cover(names)} {main or 'the session'}"]
    for window, group in others.items():
        names = [r.source for r in group[1:]]
        parts.append(f"{_and(names)} {_cover(names)} {window}")
    note = (
        "The windows differ: "
        + "; ".join(parts)
        + ". Each deviation is against the reference over the source's own window (the "
        "reference row above it), so figures of different windows are not comparable."
    )
    for group in others.values():
        rows += group
    return rows, note


def _window_text(figure: dict[str, Any]) -> str:
    """ "StartTransaction to StopTransaction, 10:00:01.2 to 10:02:03.4 UTC (122.2 s)": the
    window's name and, when recorded, its start, end and length."""
    name = str(figure.get("window") or "")
    start, end = figure.get("window_start"), figure.get("window_end")
    if not (start and end):
        return name
    try:
        t0 = datetime.fromisoformat(str(start)).astimezone(UTC)
        t1 = datetime.fromisoformat(str(end)).astimezone(UTC)
    except ValueError:
        return name
    span = f"{_clock(t0)} to {_clock(t1)} UTC ({(t1 - t0).total_seconds():.1f} s)"
    return f"{name}, {span}"


def _clock(t: datetime) -> str:
    return f"{t:%H:%M:%S}.{t.microsecond // 100_000}"


def _cover(items: list[str]) -> str:
    return "covers" if len(items) == 1 else "cover"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _signed_session(e: dict[str, Any]) -> SessionEvidence:
    """The signed readings (OCMF) of a session against the reference meter."""
    signed, ref = float(e["signed_energy_wh"]), e.get("reference_wh")
    pct, extra = float(e.get("tolerance_percent", 0)), float(e.get("tolerance_wh", 0))
    rows = []
    if ref is None:
        rows.append(EnergyRow("Reference meter", None, note="N/A — no reference energy meter"))
        rows.append(EnergyRow("Signed readings (OCMF end − begin)", signed, note="not compared"))
    else:
        allowed = abs(ref) * pct / 100 + extra
        diff = signed - ref
        rows.append(EnergyRow("Reference meter", ref, note="reference"))
        rows.append(
            EnergyRow(
                "Signed readings (OCMF end − begin)",
                signed,
                deviation_wh=diff,
                deviation_percent=100 * diff / ref if ref else 0.0,
                allowed_wh=allowed,
                ok=abs(diff) <= allowed,
            )
        )
    return SessionEvidence(
        e["step"],
        e["transaction_id"],
        "Reference meter",
        f"{pct:g} % + {extra:g} Wh",
        rows,
        ocpp=e.get("_ocpp", ""),
    )


def _eichrecht(e: dict[str, Any]) -> EichrechtEvidence:
    return EichrechtEvidence(
        e["step"],
        e["transaction_id"],
        str(e.get("title", "")),
        [
            CheckRow(
                c["name"],
                c["status"] != "FAIL",
                ("remark: " if c["status"] == "REMARK" else "") + str(c.get("detail", "")),
            )
            for c in e.get("checks", [])
        ],
        ocpp=e.get("_ocpp", ""),
    )


def _configuration(evidence: list[dict[str, Any]], runs: list[RunData]) -> list[ConfigurationEntry]:
    """The configuration as read in step 3 (else the last full read of any run)."""
    reads = [e for e in evidence if e["kind"] == "configuration" and e.get("step") == "3"]
    if not reads:
        reads = [e for run in runs for e in run.evidence if e["kind"] == "configuration"]
    if not reads:
        return []
    return [
        ConfigurationEntry(str(c.get("key")), c.get("value"), c.get("readonly"))
        for c in reads[-1].get("entries", [])
    ]


def _instruments(runs: list[RunData]) -> list[InstrumentEntry]:
    seen: dict[tuple[str, str], InstrumentEntry] = {}
    for run in runs:
        for e in run.evidence:
            if e["kind"] != "instruments":
                continue
            for item in e.get("items", []):
                entry = InstrumentEntry(
                    str(item["role"]),
                    str(item.get("driver", "")),
                    str(item.get("address", "")),
                    str(item.get("identity", "")),
                )
                tester_word.instrument_facts(entry, item)
                seen[(entry.role, entry.identity)] = entry
    return list(seen.values())


# -- steps done by hand ----------------------------------------------------------------------


def _manual_step(e: dict[str, Any]) -> ManualStep:
    """A ``manual`` evidence record (what the operator was asked, the answer, when)."""
    answer = str(e.get("answer") or "")
    if answer == "done":
        said = "Done"
    elif answer == "cannot":
        said = f"Cannot do: {e.get('reason') or 'no reason given'}"
    else:
        said = f"No answer within {float(e.get('timeout_s') or 0):g} s (lab error)"
    return ManualStep(
        str(e.get("step", "")),
        str(e.get("prompt", "")),
        said,
        _utc_text(e.get("asked")),
        _utc_text(e.get("answered")),
    )


def _utc_text(value: Any) -> str:
    """``2025-06-01T18:52:26.123+00:00`` -> ``2025-06-01 18:52:26 UTC`` ("" for none)."""
    text = str(value or "")
    return f"{text[:10]} {text[11:19]} UTC" if len(text) >= 19 else text

"""What the certification report says, independent of how it is rendered.

Built from a run's results (``hil.report.collect``), rendered to HTML, Markdown and PDF
(``hil.report.render_*``). Plain data: the renderers decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hil.verdict import LAB_ERROR, NA, NO, NOT_RUN, YES  # noqa: F401  (the renderers' marks)

#: What a certification level came to (hil.checklist.Level says when it is shown).
ACHIEVED = "achieved"
NOT_ACHIEVED = "not achieved"  # a step of it is N: the station broke a rule
NOT_DECIDED = "not decided"  # a lab error, a step not run or N/A on this bench
NOT_SHOWN = "not shown"  # the station cannot do what would show it (N/A by DUT)


@dataclass
class StepRow:
    """One row of a report table: Step · OCPP Profile · Action · Pass · Remarks."""

    step: str  # checklist id: "7", "SC1", "EI1"
    number: str  # as the table numbers it: "7", "1" for SC1
    profile: str
    action: str
    verdict: str  # YES, NO, NA, LAB_ERROR or NOT_RUN
    #: sentences for a person: remarks of a passing step, what went wrong, why N/A
    remarks: list[str] = field(default_factory=list)
    #: N/A because the DUT cannot do it by design (counts as achieved), not the bench
    na_by_dut: bool = False
    #: the run the verdict comes from (RunInfo.label); empty when not run
    run: str = ""
    #: Robot's own failure or skip text, for the evidence section
    detail: str = ""
    test_name: str = ""
    #: the tester's word on this step (hil.report.tester): remarks and a verdict override,
    #: each saying who and when; shown after the lab's remarks, marked as a person's
    tester: list[str] = field(default_factory=list)
    #: the lab's own verdict when a person overrode it (``verdict`` is then theirs)
    lab_verdict: str = ""


@dataclass
class LevelResult:
    title: str  # "OCPP 1.6 JSON"
    achieved: bool
    #: why not: "step 7 (N)", "step 15 not run"
    blocking: list[str] = field(default_factory=list)
    #: ACHIEVED, NOT_ACHIEVED, NOT_DECIDED or NOT_SHOWN
    state: str = ""

    @property
    def mark(self) -> str:
        """The certificate's Achieved cell: yes, no, not decided, not shown."""
        if self.achieved:
            return "yes"
        return {NOT_DECIDED: "not decided", NOT_SHOWN: "not shown"}.get(self.state, "no")


@dataclass
class EnergyRow:
    """One source of a session's energy reconciliation against the reference."""

    source: str  # "station register (meterStop - meterStart)", "MeterValues", ...
    wh: float | None  # None: not available on this bench (see note)
    deviation_wh: float | None = None
    deviation_percent: float | None = None
    allowed_wh: float | None = None
    ok: bool | None = None  # None: the reference itself, or not compared
    window: str = ""
    note: str = ""  # "no power analyser on this bench", "reference"


@dataclass
class SessionEvidence:
    step: str
    transaction_id: int | str
    reference: str  # which source the others were compared with
    tolerance: str  # "0.5 % + 0 Wh + resolutions"
    rows: list[EnergyRow] = field(default_factory=list)
    plot: Path | None = None  # PNG, absolute path
    #: the OCPP version of the run, when the report certifies several
    ocpp: str = ""
    #: "The windows differ: …" when the rows cover different windows (empty: the same)
    windows_note: str = ""


@dataclass
class PlotEvidence:
    step: str
    title: str
    plot: Path  # PNG, absolute path
    ocpp: str = ""  # the run's OCPP version, when the report certifies several


@dataclass
class CheckRow:
    name: str
    ok: bool
    detail: str


@dataclass
class EichrechtEvidence:
    step: str
    transaction_id: int | str
    title: str
    checks: list[CheckRow] = field(default_factory=list)
    ocpp: str = ""  # the run's OCPP version, when the report certifies several


@dataclass
class ConfigurationEntry:
    key: str
    value: str | None
    readonly: bool | None


@dataclass
class InstrumentEntry:
    role: str
    driver: str
    address: str
    identity: str  # model and serial as the instrument reports them, or why not known
    serial: str = ""  # instruments.<role>.serial of the lab config
    calibration_due: str = ""  # instruments.<role>.calibration_due, YYYY-MM-DD


@dataclass
class ManualStep:
    """What an operator was asked to do by hand for a missing instrument, and answered
    (a ``manual`` evidence record; docs/operator-prompts.md)."""

    step: str
    prompt: str  # "Present the card VALID-TAG-01 at the station's reader"
    answer: str  # "Done", "Cannot do: <reason>", "No answer within 300 s (lab error)"
    asked: str  # "2025-06-01 18:52:20 UTC"
    answered: str  # "" when nobody answered


@dataclass
class FailureDetail:
    step: str
    action: str
    message: str  # Robot's raw failure / skip text
    ocpp: str = ""  # the run's OCPP version, when the report certifies several
    #: the row's remark in full, when the Remarks cell could hold only part of it
    remark: str = ""
    #: the frames the failure names ("frame #12", "(#14)"), quoted from the run's journal
    frames: list[str] = field(default_factory=list)


@dataclass
class LabNotOpened:
    """A run whose `Open Lab` failed (a bad lab config, a server that could not start): no
    step ran, and the report must say why rather than show rows that were never run."""

    run: str  # RunInfo.label
    message: str  # the lab's one line: file, field and value for a bad config


@dataclass
class RunInfo:
    label: str  # "run 1", shown in the rows' run column
    run_id: str
    source: str  # the output.xml or steps file it was read from
    started: str
    ended: str
    interrupted: bool = False
    #: links to Robot's log and the journal, relative to the report's folder when possible
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class VersionTables:
    """The step tables of one OCPP version the station was certified on."""

    ocpp: str  # "1.6", "2.0.1"
    checklist: list[StepRow]
    smart_charging: list[StepRow]
    eichrecht: list[StepRow]


@dataclass
class Report:
    platform: str
    manufacturer: str
    model: str
    firmware: str
    serial: str
    current_type: str  # "AC" or "DC"
    tester: str
    date: str  # the certification date (the last run's end), YYYY-MM-DD
    lab_name: str
    certified: bool
    levels: list[LevelResult]
    #: the three tables, rows in checklist order (of the first version in ``versions``)
    checklist: list[StepRow]
    smart_charging: list[StepRow]
    eichrecht: list[StepRow]
    runs: list[RunInfo]
    sessions: list[SessionEvidence] = field(default_factory=list)
    plots: list[PlotEvidence] = field(default_factory=list)
    eichrecht_evidence: list[EichrechtEvidence] = field(default_factory=list)
    configuration: list[ConfigurationEntry] = field(default_factory=list)
    instruments: list[InstrumentEntry] = field(default_factory=list)
    failures: list[FailureDetail] = field(default_factory=list)
    #: the OCPP version the station spoke ("1.6", "2.0.1")
    ocpp: str = "1.6"
    #: runs that could not open the lab (none later did): shown above everything else
    lab_not_opened: list[LabNotOpened] = field(default_factory=list)
    #: steps done by hand (an operator stood in for a missing instrument), in step order
    manual_steps: list[ManualStep] = field(default_factory=list)
    #: the step tables per OCPP version, oldest version first: one certificate for a
    #: station run on 1.6 and on 2.0.1 (empty: only the three tables above)
    versions: list[VersionTables] = field(default_factory=list)

    @property
    def ocpp_versions(self) -> list[str]:
        """Every OCPP version the report certifies, oldest first."""
        return [v.ocpp for v in self.versions] or [self.ocpp]

    #: the report's number and who authorised it (lab config ``report:`` or the tester's
    #: file); empty when not given, and then a warning says so
    report_number: str = ""
    authorised_by: str = ""
    #: the tester's file the person's remarks and overrides come from (its name), if any
    tester_file: str = ""
    #: what the reader must know before trusting the report: a missing authoriser, an
    #: overdue calibration (hil.report.tester.report_warnings)
    warnings: list[str] = field(default_factory=list)
    #: files outside the report's folder that its links point at: (source, path relative
    #: to the report's folder), copied there when the report is written
    attachments: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        spoken = " and ".join(f"OCPP{v}" for v in self.ocpp_versions)
        return (
            "OCPP Integration Test Report for Charge Stations connected to "
            f"{self.platform} using {spoken} via JSON"
        )

    @property
    def interrupted(self) -> bool:
        return any(r.interrupted for r in self.runs)

    @property
    def verdict_line(self) -> str:
        achieved = [lv.title for lv in self.levels if lv.achieved]
        if self.certified:
            return f"Certified: {', '.join(achieved)}"
        return "Not certified"

"""A realistic report model for the renderer tests: what a two-run certification of an AC
station with one failed, one N/A and one unrun step looks like, with text that needs
escaping in every format (``<``, ``&``, ``|``, ``≥``, ``—``) and real PNG plots."""

from __future__ import annotations

from pathlib import Path

from hil.checklist import STEPS, steps_of
from hil.report.model import (
    NA,
    NO,
    NOT_RUN,
    YES,
    CheckRow,
    ConfigurationEntry,
    EichrechtEvidence,
    EnergyRow,
    FailureDetail,
    InstrumentEntry,
    LevelResult,
    PlotEvidence,
    Report,
    RunInfo,
    SessionEvidence,
    StepRow,
)
from hil.robot.plot import power_plot

N_REMARK = "Accepted TriggerMessage BootNotification but never sent it (frame #625)"
NA_REASON = "the DUT has a tethered cable; nothing to unlock"
NA_STEP, N_STEP, NOT_RUN_STEP = "15", "23", "21"
#: a remark with every character that needs escaping somewhere
TRICKY_REMARK = "HeartbeatInterval <300> & MeterValueSampleInterval ≥ 60 s | both Accepted — ok"
PIPE_REMARK = "TxDefaultProfile stack levels 0 | 1 applied in order"
SCRIPT_REMARK = "<script>alert('not escaped')</script>"
FAILURE_MESSAGE = (
    "TriggerMessage BootNotification was Accepted but no BootNotification arrived within "
    "30 s.\n    frames: #620 -> TriggerMessage {'requestedMessage': 'BootNotification'}\n"
    "            #625 <- {'status': 'Accepted'}\n"
    "    waited for: BootNotification & StatusNotification <none arrived>\n"
    + "x"
    * 160  # one long unbroken line: it must wrap, not run off the page
)
NO_ANALYSER = "N/A — no power analyser on this bench"


def _session_plot(path: Path, title: str, kw: float) -> Path:
    seconds = [float(s) for s in range(0, 120, 2)]
    ramp = [min(kw * 1000.0, 400.0 * s) for s in seconds]
    power_plot(
        path,
        title,
        [
            ("reference meter", seconds, ramp),
            ("MeterValues", seconds[::10], [p * 1.003 for p in ramp[::10]]),
        ],
        [(2.0, "StartTransaction"), (110.0, "StopTransaction")],
    )
    return path


def _current_plot(path: Path) -> Path:
    seconds = [float(s) for s in range(0, 90)]
    amps = [16.0 if s < 30 else (10.0 if s < 60 else 6.0) for s in seconds]
    power_plot(
        path,
        "SC1: offered current follows the charging profiles",
        [("Current.Offered", seconds, amps)],
        [(30.0, "profile 1"), (60.0, "profile 2")],
        limits=("profile limit", [0.0, 30.0, 60.0], [16.0, 10.0, 6.0]),
        quantity="current (A)",
        scale=1.0,
    )
    return path


def _row(step_id: str, verdict: str, remarks: list[str], run: str, **kw: object) -> StepRow:
    s = next(s for s in STEPS if s.id == step_id)
    return StepRow(
        step=s.id,
        number=s.number,
        profile=s.profile,
        action=s.action,
        verdict=verdict,
        remarks=remarks,
        run=run,
        test_name=s.action,
        **kw,  # type: ignore[arg-type]
    )


def _checklist() -> list[StepRow]:
    rows = []
    for s in steps_of("ocpp16"):
        run = "run 2" if int(s.id) >= 17 else "run 1"
        if s.id == N_STEP:
            rows.append(
                _row(
                    s.id,
                    NO,
                    [N_REMARK, "No BootNotification within 30 s."],
                    run,
                    detail=FAILURE_MESSAGE,
                )
            )
        elif s.id == NA_STEP:
            rows.append(_row(s.id, NA, [NA_REASON], run, na_by_dut=True))
        elif s.id == NOT_RUN_STEP:
            rows.append(_row(s.id, NOT_RUN, [], ""))
        elif s.id == "4":
            rows.append(_row(s.id, YES, [TRICKY_REMARK, SCRIPT_REMARK], run))
        elif s.id == "6":
            rows.append(
                _row(s.id, YES, ["Energy agrees with the reference within 0.5 % + 0 Wh."], run)
            )
        else:
            rows.append(_row(s.id, YES, [], run))
    return rows


def sample_report(tmp_path: Path) -> Report:
    """The model of a two-run certification; plots are written under ``tmp_path``."""
    plots = tmp_path / "plots"
    s6 = _session_plot(plots / "step6" / "energy.png", "Step 6: power during the session", 7.4)
    # the same file name in another folder: the Markdown copy must keep both
    s14 = _session_plot(plots / "step14" / "energy.png", "Step 14: power during the session", 11)
    sc1 = _current_plot(plots / "sc1" / "current.png")
    return Report(
        platform="ChargeCloud <CSMS> & Partners",
        manufacturer="Volt & Co GmbH",
        model="Wallbox W22 | AC",
        firmware="2.4.1-rc<3>",
        serial="W22-000123",
        current_type="AC",
        tester="A. Müller",
        date="2025-03-02",
        lab_name="HIL OCPP Lab — Bench 2",
        certified=False,
        levels=[
            LevelResult(
                "OCPP 1.6 JSON", False, [f"step {N_STEP} (N)", f"step {NOT_RUN_STEP} not run"]
            ),
            LevelResult("Smart Charging 1.6 JSON", True),
            LevelResult("Eichrecht", True),
        ],
        checklist=_checklist(),
        smart_charging=[
            _row("SC1", YES, ["Current.Offered followed both profiles within 2 s."], "run 2"),
            _row("SC2", YES, [PIPE_REMARK], "run 2"),
            _row("SC3", YES, [], "run 2"),
        ],
        eichrecht=[
            _row("EI1", YES, ["OCMF signature valid; reading ≥ reference − 0.5 %."], "run 1")
        ],
        runs=[
            RunInfo(
                label="run 1",
                run_id="20250301-101500-ab12",
                source="results/run-1/output.xml",
                started="2025-03-01 10:15:00",
                ended="2025-03-01 12:40:12",
                links=[("log", "run-1/log.html"), ("journal", "run-1/journal.jsonl")],
            ),
            RunInfo(
                label="run 2",
                run_id="20250302-090000-cd34",
                source="results/run-2/output.xml",
                started="2025-03-02 09:00:00",
                ended="2025-03-02 09:47:30",
                interrupted=True,
                links=[("log", "run-2/log.html"), ("journal", "run-2/journal.jsonl")],
            ),
        ],
        sessions=[
            SessionEvidence(
                step="6",
                transaction_id=1,
                reference="reference meter",
                tolerance="0.5 % + 0 Wh + resolutions",
                rows=[
                    EnergyRow("reference meter", 7345.12, note="reference"),
                    EnergyRow(
                        "station register (meterStop - meterStart)",
                        7348.0,
                        2.88,
                        0.04,
                        37.73,
                        True,
                        "StartTransaction to StopTransaction",
                    ),
                    EnergyRow("MeterValues", 7366.5, 21.38, 0.29, 37.73, True, "first to last"),
                    EnergyRow("power analyser", None, note=NO_ANALYSER),
                ],
                plot=s6,
            ),
            SessionEvidence(
                step="14",
                transaction_id="17",
                reference="reference meter",
                tolerance="0.5 % + 0 Wh + resolutions",
                rows=[
                    EnergyRow("reference meter", 10210.0, note="reference"),
                    EnergyRow(
                        "station register (meterStop - meterStart)",
                        10600.0,
                        390.0,
                        3.82,
                        52.05,
                        False,
                        "StartTransaction to StopTransaction",
                    ),
                ],
                plot=s14,
            ),
        ],
        plots=[PlotEvidence("SC1", "Offered current against the charging profiles", sc1)],
        eichrecht_evidence=[
            EichrechtEvidence(
                step="EI1",
                transaction_id=3,
                title="OCMF signed meter values",
                checks=[
                    CheckRow("signature valid (ECDSA secp256r1)", True, "both readings"),
                    CheckRow(
                        "public key matches step 3",
                        True,
                        "key from configuration key 'MeterPublicKey'",
                    ),
                    CheckRow("reading ≥ reference − 0.5 %", True, "7346.0 Wh vs 7345.12 Wh"),
                    CheckRow("pagination contiguous", False, "T1 then T3 — T2 missing <gap>"),
                ],
            )
        ],
        configuration=[
            ConfigurationEntry("HeartbeatInterval", "300", False),
            ConfigurationEntry("NumberOfConnectors", "1", True),
            ConfigurationEntry(
                "SupportedFeatureProfiles",
                "Core,FirmwareManagement,RemoteTrigger,SmartCharging",
                True,
            ),
            ConfigurationEntry("AuthorizationKey", None, None),
        ],
        instruments=[
            InstrumentEntry(
                "energy_meter", "sdm630", "modbus-tcp://192.168.10.20:502", "SDM630 s/n 2207001"
            ),
            InstrumentEntry("ev_simulator", "hil-evsim", "/dev/ttyUSB0", "HIL-EVSIM v1.3 s/n 42"),
            InstrumentEntry(
                "identification",
                "operator",
                "operator",
                "not known: the operator presents the card",
            ),
        ],
        failures=[FailureDetail(N_STEP, "TriggerMessage", FAILURE_MESSAGE)],
    )

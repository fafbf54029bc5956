"""The lab's certification checklist: every step's number, OCPP profile, Action wording and
certification level, in checklist order.

The one place these live. The suites' tests carry the step number as a ``step:<n>`` tag
and the profile as a ``profile:<tag>`` tag (tags select what runs, so they sit in the
suite files); the listener checks every test it runs against this table and the report
takes its Step, OCPP Profile and Action columns from here, so a rename happens here and
nowhere else goes stale unnoticed (tests/test_checklist.py reads the suites too).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    """A certification level.

    Achieved only when it was *shown*: every step of it is Y or N/A by DUT capability, and
    every step in ``shown_by`` is Y. A level whose demonstrating steps were N/A because the
    station cannot do it by design (it does not sign its meter values, it has no smart
    charging) is "not shown", never achieved; a level with a lab error, a step not run or a
    step N/A on this bench is "not decided"; one with an N is "not achieved". docs/report.md
    lists each level's steps and why.
    """

    key: str
    title: str
    #: the report table its steps appear in
    table: str
    #: the steps that must be Y for the level to be shown (the others may be N/A by DUT)
    shown_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    id: str
    #: the OCPP profile as the lab's checklist writes it
    profile: str
    #: the ``profile:<tag>`` tag the suites use to select it
    profile_tag: str
    action: str
    level: str
    #: the number the step has in its report table (1-23; SC1 is 1 in the smart-charging table)
    number: str


#: The Core profile every station implements (OCPP 1.6 §3 "Feature Profiles": Core is the
#: profile of every charge point; 2.0.1 Part 0 §3: the Core certification profile is
#: required): its steps that no DUT capability makes optional. Step 15 needs a socket (a
#: tethered cable has nothing to unlock), 22 an authorization cache (1.6 §3.5.4 and 2.0.1
#: C10-C12: optional), 17-21 the Firmware Management profile and 23 Remote Trigger, both
#: optional profiles: those may be N/A by DUT on a certified station.
CORE_SHOWN_BY = tuple(str(n) for n in range(1, 15)) + ("16",)
OCPP16 = Level("ocpp16", "OCPP 1.6 JSON", "checklist", CORE_SHOWN_BY)
#: Smart Charging is shown by all three of its steps (1.6 §3.13 / 2.0.1 K01, K08, K10).
SMART16 = Level("smart16", "Smart Charging 1.6 JSON", "smart_charging", ("SC1", "SC2", "SC3"))
#: Eichrecht is shown only by signed readings that verify (EI1).
EICHRECHT = Level("eichrecht", "Eichrecht", "eichrecht", ("EI1",))
LEVELS: tuple[Level, ...] = (OCPP16, SMART16, EICHRECHT)
#: The certificate's name of each level for a station of another OCPP version (the steps
#: are the same; the platform's certificate names the version the station speaks).
LEVEL_TITLES_BY_VERSION: dict[str, dict[str, str]] = {
    "1.6": {},
    "2.0.1": {OCPP16.key: "OCPP 2.0.1 Core", SMART16.key: "Smart Charging 2.0.1"},
}


def level_title(level: Level, ocpp: str | None) -> str:
    """``level``'s title for a station speaking OCPP ``ocpp`` (1.6 when not recorded)."""
    return LEVEL_TITLES_BY_VERSION.get(ocpp or "1.6", {}).get(level.key, level.title)


_PROFILE_TAGS = {
    "Core": "Core",
    "Firmware Management": "FirmwareManagement",
    "Remote Trigger": "RemoteTrigger",
    "Smart Charging": "SmartCharging",
    "Eichrecht": "Eichrecht",
}

_ROWS: tuple[tuple[str, str, str, Level], ...] = (
    ("1", "Core", "Boot charging station", OCPP16),
    ("2", "Core", "Change availability", OCPP16),
    ("3", "Core", "Get Configuration", OCPP16),
    ("4", "Core", "Change Configuration", OCPP16),
    ("5", "Core", "Heartbeat", OCPP16),
    ("6", "Core", "Charging Session - Local - Plugin first", OCPP16),
    ("7", "Core", "Charging Session - Local - Identification first - Connection Loss", OCPP16),
    ("8", "Core", "Charging session - Local - Identification first - Connection TimeOut", OCPP16),
    ("9", "Core", "Hard Reset - During Charging session", OCPP16),
    ("10", "Core", "Hard Reset - No charging session", OCPP16),
    ("11", "Core", "Soft Reset - During Charging session", OCPP16),
    ("12", "Core", "Soft Reset - No charging session", OCPP16),
    ("13", "Core", "Charging session - Local - Unauthorized", OCPP16),
    (
        "14",
        "Core",
        "Charging session - Remote Start and Stop Transaction - Cable first",
        OCPP16,
    ),
    (
        "15",
        "Core",
        "Charging session - Remote Start Transaction - Request first - Unlock Connector",
        OCPP16,
    ),
    ("16", "Core", "Hardware related notification / error condition", OCPP16),
    ("17", "Firmware Management", "Remote Firmware update - Download failed", OCPP16),
    ("18", "Firmware Management", "Remote Firmware update - Installation failed", OCPP16),
    ("19", "Firmware Management", "Remote Firmware update - Download & install", OCPP16),
    ("20", "Firmware Management", "Remote get diagnostics report", OCPP16),
    ("21", "Firmware Management", "Remote get diagnostics - fail", OCPP16),
    ("22", "Core", "Clear cache", OCPP16),
    ("23", "Remote Trigger", "TriggerMessage", OCPP16),
    ("SC1", "Smart Charging", "Send 2 Charging Profiles & Validate Metervalues", SMART16),
    ("SC2", "Smart Charging", "Verify TxDefaultProfiles", SMART16),
    ("SC3", "Smart Charging", "Clear ChargingProfiles", SMART16),
    ("EI1", "Eichrecht", "Signed meter values verify and match the reference meter", EICHRECHT),
)


def _number(step_id: str) -> str:
    return step_id.lstrip("SCEI") or step_id


STEPS: tuple[Step, ...] = tuple(
    Step(sid, profile, _PROFILE_TAGS[profile], action, level.key, _number(sid))
    for sid, profile, action, level in _ROWS
)
BY_ID: dict[str, Step] = {s.id: s for s in STEPS}
LEVEL_BY_KEY: dict[str, Level] = {level.key: level for level in LEVELS}


#: A step's Action as the checklist of another OCPP version words it, where that version
#: names the action differently (OCPP 2.0.1 Part 2: B05 SetVariables, B06/B07
#: GetVariables/GetBaseReport, B11/B12 Reset Immediate/OnIdle, F01-F03
#: RequestStart/StopTransaction, N01 GetLog). The suites' tests keep the 1.6 wording (one
#: test per step, whatever the version); the report's 2.0.1 tables use these.
ACTIONS_BY_VERSION: dict[str, dict[str, str]] = {
    "1.6": {},
    "2.0.1": {
        "3": "Get Variables and Base Report",
        "4": "Set Variables",
        "9": "Reset Immediate - During Charging session",
        "10": "Reset Immediate - No charging session",
        "11": "Reset OnIdle - During Charging session",
        "12": "Reset OnIdle - No charging session",
        "14": "Charging session - Request Start and Stop Transaction - Cable first",
        "15": "Charging session - Request Start Transaction - Request first - Unlock Connector",
        "20": "GetLog - Diagnostics log upload",
        "21": "GetLog - Upload failure",
    },
}


def action_title(step: Step, ocpp: str | None) -> str:
    """``step``'s Action for a station speaking OCPP ``ocpp`` (1.6 when not recorded)."""
    return ACTIONS_BY_VERSION.get(ocpp or "1.6", {}).get(step.id, step.action)


def step(step_id: str) -> Step:
    """The checklist step ``step_id`` (``"7"``, ``"SC2"``); KeyError names the known ones."""
    try:
        return BY_ID[step_id]
    except KeyError:
        raise KeyError(
            f"step {step_id!r} is not in the checklist (hil/checklist.py); known: "
            + ", ".join(BY_ID)
        ) from None


def steps_of(level: str) -> list[Step]:
    return [s for s in STEPS if s.level == level]


def same_wording(a: str, b: str) -> bool:
    """Test names and Action wording match ignoring case and spacing (Robot's own rule for
    names)."""
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def mismatch(step_id: str, test_name: str, tags: list[str]) -> str | None:
    """Why a test tagged ``step:<step_id>`` disagrees with the checklist, or None."""
    if step_id not in BY_ID:
        return f"step:{step_id} is not in the checklist (hil/checklist.py)"
    s = BY_ID[step_id]
    if not same_wording(test_name, s.action):
        return f"test name {test_name!r} is not the checklist's Action {s.action!r}"
    profiles = [t[len("profile:") :] for t in tags if t.startswith("profile:")]
    if profiles != [s.profile_tag]:
        return f"profile tags {profiles} are not the checklist's profile:{s.profile_tag}"
    return None

"""Which failures are the lab's (hil.verdict): the rule every reader of a run applies."""

from __future__ import annotations

from hil.verdict import LAB_ERROR, LAB_ERROR_TAG, NA, NO, NOT_RUN, YES, LabFault, verdict_of

FAULT = str(LabFault("energy_meter at modbus-tcp://10.0.0.9:502: instrument lost"))


def test_robot_statuses_map_to_the_pass_column() -> None:
    assert [verdict_of(s) for s in ("PASS", "FAIL", "SKIP", "NOT RUN")] == [YES, NO, NA, NOT_RUN]


def test_a_lab_fault_is_e_by_its_tag_or_its_message() -> None:
    assert FAULT.startswith("Lab error: ")
    assert verdict_of("FAIL", [LAB_ERROR_TAG]) == LAB_ERROR
    assert verdict_of("FAIL", [], FAULT) == LAB_ERROR
    # Robot's prefixes for failures outside the body: still the lab's
    for prefix in ("Setup failed:\n", "Parent suite setup failed:\n"):
        assert verdict_of("FAIL", [], prefix + FAULT) == LAB_ERROR
    assert verdict_of("FAIL", [], f"Teardown failed:\n{FAULT}") == LAB_ERROR
    assert verdict_of("FAIL", [], f"Several failures occurred:\n\n1) {FAULT}\n\n2) x") == LAB_ERROR
    assert verdict_of("PASS", [LAB_ERROR_TAG]) == YES  # a passed step is the station's Y


def test_the_station_s_failure_decides_when_it_came_first_or_beside_a_finding() -> None:
    station = "Station did not answer Reset within 5 s"
    assert verdict_of("FAIL", [], station) == NO
    assert verdict_of("FAIL", [], f"{station}\n\nAlso teardown failed:\n{FAULT}") == NO
    assert verdict_of("FAIL", [], f"Several failures occurred:\n\n1) {station}\n\n2) {FAULT}") == NO
    assert verdict_of("FAIL", [], f"{FAULT}\nFinding: #12 rx CALL bad frame") == NO
    assert verdict_of("FAIL", [], f"the station said {FAULT}") == NO  # not at the start

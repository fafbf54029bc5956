"""Run the public OCMF conformance suite (hupe1980/ocmf, 162 cases) against our reader.

Every case's ``parses``, ``verifies``, ``readings``, ``round_trips`` and
``billable_readings`` must hold, and the deviation multiset must equal the suite's.
A case on a curve ``cryptography`` cannot check is skipped -- and only its
``verifies`` is skipped: everything else about it is still asserted.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from hil.verify.ocmf import SignatureStatus, parse_record, verify_signature

_SHARED = Path(__file__).resolve().parents[2].parent / "shared/vectors/ocmf/suite.json"
_BUNDLED = Path(__file__).resolve().parent / "data/ocmf_suite.json"
SUITE_PATH = _SHARED if _SHARED.is_file() else _BUNDLED
_CASES = json.loads(SUITE_PATH.read_text(encoding="utf-8"))["cases"] if SUITE_PATH.is_file() else []
_VERIFIES = {
    SignatureStatus.VALID: True,
    SignatureStatus.INVALID: False,
    SignatureStatus.NO_KEY: None,
}


def _run_case(case: dict) -> tuple[str, list[str]]:
    """('passed'|'skipped', problems) for one case."""
    expect = case["expect"]
    problems: list[str] = []
    result = parse_record(case["record"])
    if result.ok != expect["parses"]:
        problems.append(f"parses: expected {expect['parses']}, got {result.ok} ({result.error})")
    if result.record is None:
        if expect["parses"] is False and result.error is None:
            problems.append("refused without a reason")
        return "passed", problems
    record = result.record
    verdict = verify_signature(record, case.get("key"))
    outcome = "passed"
    if verdict.status is SignatureStatus.CANNOT_CHECK:
        outcome = "skipped"
    elif _VERIFIES[verdict.status] != expect["verifies"]:
        problems.append(f"verifies: expected {expect['verifies']}, got {verdict.status}")
    if (record.to_text() == case["record"]) != expect["round_trips"]:
        problems.append("round_trips differs")
    if len(record.readings) != expect["readings"]:
        problems.append(f"readings: expected {expect['readings']}, got {len(record.readings)}")
    if len(record.billable_readings) != expect["billable_readings"]:
        problems.append(
            f"billable: expected {expect['billable_readings']}, got {len(record.billable_readings)}"
        )
    seen = collections.Counter(d.kind for d in record.deviations + verdict.deviations)
    wanted = collections.Counter(expect["deviations"])
    if seen != wanted:
        problems.append(f"deviations: expected {dict(wanted)}, got {dict(seen)}")
    return outcome, problems


@pytest.mark.skipif(not _CASES, reason=f"OCMF conformance suite not found at {SUITE_PATH}")
@pytest.mark.parametrize("case", _CASES, ids=[c["id"] for c in _CASES])
def test_conformance_case(case: dict) -> None:
    outcome, problems = _run_case(case)
    assert not problems, problems
    if outcome == "skipped":
        pytest.skip(f"{case['id']}: curve not supported by cryptography (everything else checked)")


@pytest.mark.skipif(not _CASES, reason=f"OCMF conformance suite not found at {SUITE_PATH}")
def test_conformance_summary() -> None:
    """Runs the whole suite again in one go, prints the tally and pins the counts."""
    tally: collections.Counter[str] = collections.Counter()
    failures = []
    for case in _CASES:
        outcome, problems = _run_case(case)
        tally["failed" if problems else outcome] += 1
        if problems:
            failures.append((case["id"], problems))
    print(
        f"\n{len(_CASES)} cases: {tally['passed']} passed, {tally['failed']} failed, "
        f"{tally['skipped']} skipped"
    )
    assert not failures, failures
    assert len(_CASES) == 162
    # Only secp192k1 is beyond cryptography; anything more skipped is a regression.
    assert tally["skipped"] == 1
    assert tally["passed"] == 161


def test_bundled_copy_matches_shared_suite() -> None:
    """CI runs from a clean clone on the bundled copy: it must be the same data."""
    if not _SHARED.is_file():
        pytest.skip("shared vectors not present (clean clone); the bundled copy is used")
    assert _BUNDLED.read_bytes() == _SHARED.read_bytes()
    assert (_BUNDLED.parent / "NOTICE").is_file()

"""Step EI1 on the virtual DC bench (OCPP 1.6 and 2.0.1): a clean DC station passes; each
DC Eichrecht defect fails the step, naming the violated check.

The DC station's signing DC meter (LEM DCBM) holds the legal record; EI1 verifies the OCMF
the station forwards with the meter's key, checks ``RT`` DC and holds the record and its
registers against the meter's own (read through the ``dc_meter`` driver), and the signed
energy against the power analyser (a DC bench's reference).
"""

from __future__ import annotations

import pytest

from hil.verdict import LAB_ERROR_TAG
from tests.suites.runner import (
    VIRTUAL_DC_201_LAB,
    VIRTUAL_DC_LAB,
    assert_step_fails,
    run_steps,
    write_lab,
)

pytestmark = pytest.mark.robot

DC_LABS = {"1.6": VIRTUAL_DC_LAB, "2.0.1": VIRTUAL_DC_201_LAB}
#: A shorter session: the defects do not depend on the energy delivered.
SHORT = {"min_session_wh": 40}

CASES = [
    # the meter signs AC: Eichrecht / PTB-A 50.7, OCMF RT
    ("ocmf_rt_ac", r"reading current type \(RT\): RT=AC on a DC station"),
    # the station forwards an earlier (empty) legal transaction's record
    (
        "ocmf_registers_disagree",
        r"record = DC meter's record: the forwarded record \(PG=T\d+ .*\) is not the "
        r"meter's record of .*registers = DC meter's: forwarded signed end",
    ),
]


@pytest.mark.parametrize("version", sorted(DC_LABS))
def test_a_clean_dc_station_passes_ei1(tmp_path, version):
    lab = write_lab(tmp_path, base=DC_LABS[version], energy=SHORT)
    outcome = run_steps(tmp_path, lab, ["EI1"])["EI1"]
    assert outcome.status == "PASS", outcome.message
    assert "requires:power_source" in outcome.tags


@pytest.mark.parametrize("version", sorted(DC_LABS))
@pytest.mark.parametrize(("deviation", "violation"), CASES, ids=[c[0] for c in CASES])
def test_a_dc_eichrecht_defect_fails_ei1(tmp_path, deviation, violation, version):
    outcome = assert_step_fails(
        tmp_path, deviation, "EI1", violation, base=DC_LABS[version], energy=SHORT
    )
    assert outcome.message.startswith("Signed meter values of transaction"), outcome.message


def test_an_unreachable_dc_meter_is_a_lab_error_naming_it(tmp_path):
    """The DC meter is the lab's window on the station's legal record: when it cannot be
    read, EI1 is a lab error naming role and address, never the station's N."""
    address = "http://127.0.0.1:9"
    lab = write_lab(
        tmp_path,
        base=DC_LABS["1.6"],
        energy=SHORT,
        instruments={"dc_meter": {"driver": "lem-dcbm", "address": address}},
    )
    outcome = run_steps(tmp_path, lab, ["EI1"])["EI1"]
    assert outcome.status == "FAIL" and LAB_ERROR_TAG in outcome.tags, outcome.message
    assert outcome.message.startswith("Lab error: "), outcome.message
    assert "dc_meter" in outcome.message and "127.0.0.1:9" in outcome.message, outcome.message

"""Which steps a station's OCPP version gets: a step tagged ``ocpp:<version>`` for other
versions only is N/A by the station's design; a step the lab does not check on the version
yet is N/A on the bench (the report then withholds that version's level); the others run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from robot.api.exceptions import SkipExecution

from hil.protocol import adapter_for
from hil.report.wording import is_na_by_dut
from hil.robot.keywords.step import StepKeywords


def keywords(version: str) -> StepKeywords:
    ctx = SimpleNamespace(protocol=adapter_for(version))
    return StepKeywords(ctx, instruments=None)  # type: ignore[arg-type]


def test_a_step_of_another_version_only_is_n_a_by_the_station_design():
    with pytest.raises(SkipExecution) as skipped:
        keywords("1.6")._step_should_exist_in_the_station_version(["step:3", "ocpp:2.0.1"])
    assert "exists in OCPP 2.0.1 only; the station speaks OCPP 1.6" in str(skipped.value)
    assert is_na_by_dut(str(skipped.value))
    with pytest.raises(SkipExecution):
        keywords("2.0.1")._step_should_exist_in_the_station_version(["step:3", "ocpp:1.6"])


def test_a_step_of_the_station_version_or_of_both_runs():
    keywords("2.0.1")._step_should_exist_in_the_station_version(["step:3", "ocpp:2.0.1"])
    keywords("1.6")._step_should_exist_in_the_station_version(["step:7"])
    keywords("1.6")._step_should_exist_in_the_station_version(["step:3", "ocpp:1.6", "ocpp:2.0.1"])


def test_a_step_not_checked_on_the_version_yet_is_n_a_on_the_bench():
    checked = adapter_for("2.0.1").checked_steps or frozenset()
    unchecked = next(s for s in ("8", "15", "16", "22", "EI1") if s not in checked)
    with pytest.raises(SkipExecution) as skipped:
        keywords("2.0.1")._step_should_exist_in_the_station_version([f"step:{unchecked}"])
    assert "does not yet check this step on OCPP 2.0.1" in str(skipped.value)
    assert not is_na_by_dut(str(skipped.value))

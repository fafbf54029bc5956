"""Which steps a station's OCPP version gets: a step tagged ``ocpp:<version>`` for other
versions only is N/A by the station's design; a step the lab does not check on the version
yet is N/A on the bench (the report then withholds that version's level); the others run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from robot.api.exceptions import SkipExecution

from hil.protocol import adapter_for
from hil.protocol.v201 import Ocpp201
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


class PartlyChecked201(Ocpp201):
    """A 2.0.1 adapter of a lab version that checks only step 1 (as this lab was while its
    2.0.1 steps were being built)."""

    checked_steps = frozenset({"1"})


def test_a_step_not_checked_on_the_version_yet_is_n_a_on_the_bench():
    ctx = SimpleNamespace(protocol=PartlyChecked201())
    step = StepKeywords(ctx, instruments=None)  # type: ignore[arg-type]
    step._step_should_exist_in_the_station_version(["step:1"])
    with pytest.raises(SkipExecution) as skipped:
        step._step_should_exist_in_the_station_version(["step:7"])
    assert "does not yet check this step on OCPP 2.0.1" in str(skipped.value)
    assert not is_na_by_dut(str(skipped.value))

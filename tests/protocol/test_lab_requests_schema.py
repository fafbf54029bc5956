"""Every request the lab can send, on each OCPP version, is valid against that version's
schema (issue 18, item 1).

A request of the lab's own that breaks the schema is never sent (the ``ocpp`` library
refuses it) and the step ends as a lab error; before the adapters built every request, a
bench without a power relay restarted a 2.0.1 station with 1.6's ``Reset Hard`` and steps
1, 2 and 23 failed as if the station had. Three guards:

- no keyword names an action itself: every ``call`` in ``hil/robot`` takes what an
  adapter built (the source is read, so a new hard-coded request fails here);
- every request builder of the adapter interface is exercised below with the arguments the
  lab's keywords give it, on both versions, and the wire payload is validated with the
  ``ocpp`` library's own schemas (a new builder without a case fails the coverage test);
- the requests the adapters send through ``call`` themselves (settings, the meter key)
  are validated as they are sent.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ocpp.messages import Call as OcppCall
from ocpp.messages import validate_payload

from hil.ocppj import build_request, result_to_dict
from hil.protocol import ADAPTERS
from hil.protocol.base import LAB_SETTINGS, ProtocolAdapter

ROBOT_CODE = Path(__file__).resolve().parents[2] / "hil" / "robot"
VERSIONS = sorted(ADAPTERS)
Request = tuple[str, dict[str, Any]]


def validate(version: str, action: str, payload: dict[str, Any]) -> None:
    """As the back office sends it: the library's dataclass, serialised, then validated
    against the version's JSON schema (raises the library's error on a violation)."""
    wire = result_to_dict(build_request(action, payload, version))
    asyncio.run(validate_payload(OcppCall(str(uuid.uuid4()), action, wire), version))


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _profile(purpose: str, kind: str = "Absolute", unit: str = "A", **more: Any) -> dict:
    """A profile shaped as `Set Charging Profile` builds it (1.6's csChargingProfiles)."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.0},
            {"startPeriod": 6, "limit": 10.0, "numberPhases": 1},
        ],
    }
    if kind != "Relative":
        schedule["startSchedule"] = _in(1)
    body = {
        "chargingProfileId": 301,
        "stackLevel": 1,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **more,
    }
    if kind == "Recurring":
        body["recurrencyKind"] = "Daily"
    return body


#: the lab's arguments for each request builder, as its keywords give them
CASES: dict[str, Callable[[ProtocolAdapter], Iterator[Request]]] = {
    "availability_request": lambda a: (
        a.availability_request(c, op) for c in (0, 1, 2) for op in (True, False)
    ),
    "reset_request": lambda a: (a.reset_request(kind) for kind in ("Hard", "Soft")),
    "trigger_request": lambda a: (
        a.trigger_request(message, connector)
        for message in (
            "BootNotification",
            "Heartbeat",
            "StatusNotification",
            "MeterValues",
            "FirmwareStatusNotification",
            "DiagnosticsStatusNotification",
        )
        for connector in (None, 1)
    ),
    "firmware_request": lambda a: (
        a.firmware_request("ftp://lab:pw@127.0.0.1:2121/fw.bin", _in(2), 42, *retry)
        for retry in ((None, None), (3, 5))
    ),
    "diagnostics_request": lambda a: (
        a.diagnostics_request("ftp://lab:pw@127.0.0.1:2121/up/", 43, *more)
        for more in ((None, None, None), (2, 4, _in(-600)))
    ),
    "remote_stop_request": lambda a: iter([a.remote_stop_request(a.unknown_transaction_id([]))]),
    "remote_start_request": lambda a: (a.remote_start_request("VALID-TAG-01", c) for c in (1, 2)),
    "clear_cache_request": lambda a: iter([a.clear_cache_request()]),
    "unlock_request": lambda a: (a.unlock_request(c) for c in (1, 2)),
    "full_report_request": lambda a: iter([a.full_report_request(7)]),
    "set_profile_request": lambda a: (
        a.set_profile_request(connector, profile)
        for connector, profile in (
            (1, _profile("TxDefaultProfile")),
            (1, _profile("TxDefaultProfile", "Relative", "W")),
            (0, _profile("TxDefaultProfile", "Recurring")),
            (0, _profile("ChargePointMaxProfile")),
            (1, _profile("TxProfile", transactionId=a.unknown_transaction_id([]))),
        )
    ),
    "clear_profile_requests": lambda a: (
        request
        for criteria in (
            {},
            {"profile_id": 301},
            {"connector": 1, "purpose": "TxDefaultProfile", "stack_level": 1},
            {"purpose": "ChargePointMaxProfile"},
        )
        for request in a.clear_profile_requests(**criteria)
    ),
    "composite_request": lambda a: (
        a.composite_request(connector, 60, unit)
        for connector in (0, 1)
        for unit in (None, "A", "W")
    ),
}
#: builders that make no request of their own, or one sent without validation on purpose
NOT_SENT_AS_IS = {
    # step 23 asks for a message no station knows, to see it refused: sent unvalidated
    "unknown_trigger_request",
}


def test_every_request_builder_of_the_adapter_interface_has_a_case() -> None:
    builders = {
        name
        for name in dir(ProtocolAdapter)
        if name.endswith(("_request", "_requests")) and callable(getattr(ProtocolAdapter, name))
    }
    assert builders - NOT_SENT_AS_IS == set(CASES), (
        "a request builder without a schema case (add it to CASES): "
        f"{sorted(builders - NOT_SENT_AS_IS - set(CASES))}; stale cases: "
        f"{sorted(set(CASES) - builders)}"
    )


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("builder", sorted(CASES))
def test_every_request_the_lab_builds_is_valid_in_the_stations_version(
    version: str, builder: str
) -> None:
    adapter = ADAPTERS[version]
    requests = list(CASES[builder](adapter))
    assert requests, f"{builder} built nothing"
    for action, payload in requests:
        validate(version, action, payload)


class _Sent(Exception):
    """Stops an adapter after its first request was validated (no station to answer)."""


def _validating_call(version: str, sent: list[Request]) -> Callable[..., dict[str, Any]]:
    def call(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        validate(version, action, payload)
        sent.append((action, payload))
        raise _Sent

    return call


@pytest.mark.parametrize("version", VERSIONS)
def test_the_requests_adapters_send_themselves_are_valid(version: str) -> None:
    adapter = ADAPTERS[version]
    sent: list[Request] = []
    call = _validating_call(version, sent)
    names = [*LAB_SETTINGS, *adapter.unknown_settings(2)]
    for name in names:
        with pytest.raises(_Sent):
            adapter.read_settings(call, [name])
        with pytest.raises(_Sent):
            adapter.change_setting(call, name, "30")
    with pytest.raises(_Sent):
        adapter.read_settings(call, LAB_SETTINGS)
    # 1.6 reads MeterPublicKey[n]; 2.0.1 sends nothing (the key comes with the value)
    with contextlib.suppress(_Sent):
        adapter.meter_public_key(call, 1)
    assert len(sent) >= 2 * len(names) + 1


def _hard_coded_calls(path: Path) -> list[str]:
    """``….call("Action", …)`` in ``path``: a request that bypasses the adapters."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "call"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(f"{path.name}:{node.lineno} call({node.args[0].value!r}, …)")
    return found


def test_no_keyword_names_an_ocpp_action_itself() -> None:
    found = [hit for path in sorted(ROBOT_CODE.rglob("*.py")) for hit in _hard_coded_calls(path)]
    assert found == [], "requests that bypass the protocol adapter: " + "; ".join(found)


def test_the_guard_finds_a_hard_coded_request(tmp_path: Path) -> None:
    """The guard above can fail: the restart's old Reset is found."""
    source = tmp_path / "old_lab.py"
    source.write_text('answer = lab.call("Reset", {"type": "Hard"})\n')
    assert _hard_coded_calls(source) == ["old_lab.py:1 call('Reset', …)"]


def test_the_old_restart_request_is_refused_by_the_201_schema() -> None:
    """What a relay-less 2.0.1 bench sent before: the validation here would have caught it."""
    validate("1.6", "Reset", {"type": "Hard"})
    with pytest.raises(Exception, match="'Hard' is not one of"):
        validate("2.0.1", "Reset", {"type": "Hard"})

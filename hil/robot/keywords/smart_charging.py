"""Smart charging (SC1-SC3; OCPP 1.6 §3.13, OCPP 2.0.1 Part 2 K01, K08, K10): charging
profiles set, cleared, reported, and every limit verified three ways — at the pilot, in the
current the meter and the analyser measure, and in the station's own readings (1.6
MeterValues, 2.0.1 TransactionEvent Updated).

The lab speaks 1.6's words (ChargePointMaxProfile, a connector, csChargingProfiles); the
version's adapter (``ctx.protocol``) puts them in its messages (2.0.1 SetChargingProfile
with evseId and chargingProfile, ChargingStationMaxProfile, ...), reads the answers, and
gives the copy of the station's profiles that follows the version's rules.

The lab keeps its own copy of what the station must have installed (a
:class:`~hil.verify.charging_profiles.ProfileStore` fed with every profile the station
accepted), so it predicts every answer and every limit from the specification, and
compares what the station reports (GetCompositeSchedule) and does with that prediction.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import CALL, WaitTimeout
from hil.lab.sampler import SamplerTimeout
from hil.robot.context import LabContext
from hil.robot.keywords.capabilities import require_capability
from hil.robot.keywords.instruments import InstrumentKeywords
from hil.robot.keywords.session import transaction_matcher
from hil.robot.plot import power_plot
from hil.verify.charging_profiles import (
    DEFAULT_PHASES,
    LAB_READING,
    CompositeSchedule,
    Reading,
    compare_with_readings,
    composite,
    format_datetime,
    limit_at,
    parse_profile,
)

#: Below this a station offers no PWM at all (IEC 61851-1 Annex A).
MIN_PWM_CURRENT_A = 6.0
#: What the meter reports per phase, and the analyser for the element wired to L1.
CURRENT_FIELDS = {
    "energy_meter": ("current_l1_a", "current_l2_a", "current_l3_a"),
    "power_analyser": ("current_a",),
}


def sampled_values(payload: dict[str, Any]) -> dict[str, float]:
    """Raw sampled values of a readings payload (1.6 MeterValues, 2.0.1 TransactionEvent or
    MeterValues) by measurand (``.L1`` … for a phase), in A and W (kW and kA converted;
    2.0.1's unitOfMeasure multiplier applied)."""
    out: dict[str, float] = {}
    for mv in payload.get("meterValue", []):
        for sv in mv.get("sampledValue", []):
            if sv.get("format", "Raw") != "Raw":
                continue
            try:
                value = float(sv["value"])
            except (KeyError, TypeError, ValueError):
                continue
            measure = sv.get("unitOfMeasure") or {}
            value *= 10 ** int(measure.get("multiplier", 0))
            if str(sv.get("unit") or measure.get("unit") or "").startswith("k"):
                value *= 1000.0
            key = sv.get("measurand", "Energy.Active.Import.Register")
            out[key + (f".{sv['phase']}" if sv.get("phase") else "")] = value
    return out


@dataclass(frozen=True)
class OutputLimit:
    """The limit the output must show: ``A`` per phase on AC; on DC ``A`` of DC current or
    ``W`` of DC power, in the unit of the profile that sets it."""

    value: float
    unit: str
    why: str
    #: DC: the EV asks for less than the station may offer; the station offers at least
    #: ``value`` (its own maximum, say) and delivers ``value``
    ev_limited: bool = False

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


def _numbers(text: str) -> list[float]:
    return [float(x) for x in str(text).replace(";", ",").split(",") if x.strip()]


class SmartChargingKeywords:
    def __init__(self, ctx: LabContext, instruments: InstrumentKeywords) -> None:
        self.ctx = ctx
        self.instruments = instruments

    # -- the lab's copy of the station's profiles -------------------------------------

    def _sc(self) -> dict[str, Any]:
        """This test's smart-charging state: the lab's profile store and the limits set."""
        sc = self.ctx.state.get("smart_charging")
        if sc is None:
            # the station's limits (1.6 ChargeProfileMaxStackLevel, ...; 2.0.1
            # SmartChargingCtrlr.ProfileStackLevel, ...)
            settings = self.ctx.protocol.profile_limit_settings
            values = {
                name: None if setting is None else self.ctx.configuration_value(setting)
                for name, setting in settings.items()
            }

            def number(name: str) -> int | None:
                value = values.get(name)
                return int(value) if value is not None and value.isdigit() else None

            store = self.ctx.protocol.profile_store(
                self.ctx.cfg.dut.connectors,
                max_stack_level=number("max_stack_level"),
                max_periods=number("max_periods"),
                max_profiles=number("max_profiles"),
            )
            sc = {"store": store, "next_id": 100, "changes": [], "set": False}
            self.ctx.state["smart_charging"] = sc
        return sc

    def _running_transaction(self, connector: int) -> tuple[int | str | None, datetime | None]:
        session = self.ctx.running_session(connector)
        if session is None:
            return None, None
        return session["transaction_id"], datetime.fromisoformat(session["start_wall"])

    def _tx_start(self, connector: int) -> datetime | None:
        return self._running_transaction(connector)[1]

    def _tx_starts(self) -> dict[int, datetime]:
        """The running transactions' starts by connector (connector 0's composite sums
        the connectors, each limited by its own transaction's profiles)."""
        starts = {c: self._tx_start(c) for c in range(1, self.ctx.cfg.dut.connectors + 1)}
        return {c: t for c, t in starts.items() if t is not None}

    def _voltage(self) -> float:
        dc = self.ctx.cfg.dut.dc
        return dc.nominal_voltage_v if dc is not None else self.ctx.cfg.smart_charging.voltage_v

    def _tolerance(self) -> float:
        return self.ctx.cfg.smart_charging.current_tolerance_a

    def _reaction(self) -> float:
        return self.ctx.cfg.smart_charging.reaction_time_s

    # -- setting and clearing profiles --------------------------------------------------

    @keyword
    def set_charging_profile(
        self,
        purpose: str = "TxDefaultProfile",
        connector: int = 1,
        limits: str = "16",
        unit: str = "A",
        stack_level: int = 0,
        kind: str = "Absolute",
        start_in: float = 0,
        period: float | None = None,
        duration: str | int | None = None,
        number_phases: int | None = None,
        recurrency: str | None = None,
        profile_id: int | None = None,
        transaction_id: int | str | None = None,
        expect: str | None = None,
    ) -> int:
        """SetChargingProfile (OCPP 1.6 §5.16; 2.0.1 K01) and check the answer the
        specification requires; returns the chargingProfileId (2.0.1: the profile's id).

        ``limits`` are the periods' limits in ``unit`` (A per phase, W total), one per
        ``period`` seconds (default ``smart_charging.period_s``): ``16, 10, 20``;
        ``duration`` in seconds or as ``2 periods``. The
        schedule starts ``start_in`` seconds from now (``startSchedule``, whole seconds;
        for ``kind=Recurring`` the start of the daily cycle). A TxProfile on a connector
        with a running session gets its transactionId (2.0.1: the station's string,
        K01.FR.03). The expected answer is what the lab's own copy of the profiles predicts
        (§3.13: ChargePointMaxProfile only on connector 0, TxProfile only with a running
        transaction, the station's limits from its configuration keys; 2.0.1 K01: the
        ChargingStationMaxProfile only on EVSE 0 and never Relative (K01.FR.38), a TxProfile
        only for the EVSE's running transaction (K01.FR.03, .09, .16, .33), a second profile
        of the same purpose and stack level on the same EVSE Rejected rather than replacing
        (K01.FR.06), the limits of the SmartChargingCtrlr variables); ``expect`` overrides
        it. The lab keeps a profile the station accepted, to predict every limit after
        it."""
        require_capability(self.ctx.cfg, "smart_charging")
        sc = self._sc()
        connector = int(connector)
        step = float(period) if period is not None else float(self.ctx.cfg.smart_charging.period_s)
        values = _numbers(limits)
        if not values:
            raise ValueError(f"limits: give at least one limit, e.g. '16, 10' (got {limits!r})")
        pid = int(profile_id) if profile_id is not None else sc["next_id"]
        sc["next_id"] = max(sc["next_id"], pid) + 1
        start = (datetime.now(UTC) + timedelta(seconds=float(start_in))).replace(microsecond=0)
        if kind == "Recurring":
            start -= timedelta(days=1)  # the cycle began yesterday at this time of day
        periods: list[dict[str, Any]] = []
        for i, value in enumerate(values):
            entry: dict[str, Any] = {"startPeriod": int(round(i * step)), "limit": value}
            if number_phases is not None:
                entry["numberPhases"] = int(number_phases)
            periods.append(entry)
        schedule: dict[str, Any] = {
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        }
        if kind != "Relative":
            schedule["startSchedule"] = format_datetime(start)
        if duration is not None:
            text = str(duration).strip()
            if text.endswith(("periods", "period")):
                count = float(text.split()[0])
                schedule["duration"] = int(round(count * step))
            else:
                schedule["duration"] = int(text)
        body: dict[str, Any] = {
            "chargingProfileId": pid,
            "stackLevel": int(stack_level),
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind,
            "chargingSchedule": schedule,
        }
        if recurrency or kind == "Recurring":
            body["recurrencyKind"] = recurrency or "Daily"
        tx_running, _ = self._running_transaction(connector)
        if purpose == "TxProfile" and (transaction_id is not None or tx_running is not None):
            body["transactionId"] = transaction_id if transaction_id else tx_running
        profile = parse_profile(body)
        predicted_store = sc["store"].copy()
        predicted = predicted_store.install(connector, profile, tx_running)
        want = expect or str(predicted)
        sc["set"] = True  # whatever the answer, the teardown clears the station's profiles
        protocol = self.ctx.protocol
        action, payload = protocol.set_profile_request(connector, body)
        status = self.ctx.lab.call(action, payload)["status"]
        logger.info(f"{action}({payload}) -> {status}")
        if status == "Accepted":
            sc["store"] = predicted_store if predicted == "Accepted" else sc["store"]
            sc["changes"].append((time.monotonic(), f"profile {pid} set"))
        if status != want:
            why = f" ({predicted.reason})" if expect is None and predicted.reason else ""
            raise AssertionError(
                f"The station answered {action} {protocol.purpose_name(purpose)} {pid} (stack "
                f"level {stack_level}, connector {connector}) with {status}, expected "
                f"{want}{why} ({self._last_answer(action)})"
            )
        return pid

    @keyword
    def clear_charging_profile(
        self,
        profile_id: int | None = None,
        connector: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
        expect: str | None = None,
    ) -> str:
        """ClearChargingProfile (OCPP 1.6 §5.5; 2.0.1 K10): by ``profile_id``, or by
        ``connector``, ``purpose`` and ``stack_level`` together (AND), or everything when
        none is given (2.0.1 K10.FR.02 wants an id or a criterion: one request per purpose).
        The answer must be what the lab's copy predicts: Accepted when something matched,
        Unknown when nothing did (``expect`` overrides). Returns the status."""
        require_capability(self.ctx.cfg, "smart_charging")
        sc = self._sc()
        criteria = {
            "id": None if profile_id is None else int(profile_id),
            "connector_id": None if connector is None else int(connector),
            "purpose": purpose,
            "stack_level": None if stack_level is None else int(stack_level),
        }
        predicted = sc["store"].clear(**criteria)
        requests = self.ctx.protocol.clear_profile_requests(
            criteria["id"], criteria["connector_id"], purpose, criteria["stack_level"]
        )
        status, asked = self._clear(requests)
        logger.info(f"{requests[0][0]} {asked} -> {status} (the lab predicts {predicted})")
        sc["changes"].append((time.monotonic(), f"cleared {asked}"))
        want = expect or str(predicted)
        if status != want:
            action = requests[0][0]
            raise AssertionError(
                f"The station answered {action} {asked} with {status}, "
                f"expected {want} ({predicted.reason}; {self._last_answer(action)})"
            )
        return status

    def _clear(self, requests: list[tuple[str, dict[str, Any]]]) -> tuple[str, str]:
        """Send the clear request(s); (the status they say together, what was asked). More
        than one request clears everything: Accepted when one cleared something, Unknown
        when none did, else the first other answer."""
        statuses = [self.ctx.lab.call(action, payload)["status"] for action, payload in requests]
        asked = " + ".join(str(payload or "(all)") for _, payload in requests)
        odd = [s for s in statuses if s not in ("Accepted", "Unknown")]
        if odd:
            return odd[0], asked
        return ("Accepted" if "Accepted" in statuses else "Unknown"), asked

    @keyword
    def clear_all_charging_profiles(self) -> None:
        """ClearChargingProfile of every profile (OCPP 1.6 §5.5: without arguments; 2.0.1
        K10: one request per purpose, K10.FR.02), Accepted or Unknown; the lab's copy is
        emptied too. Used to start and end a step without profiles."""
        if not self.ctx.cfg.dut.capabilities.smart_charging:
            return
        status, asked = self._clear(self.ctx.protocol.clear_profile_requests())
        logger.info(f"ClearChargingProfile (all) {asked} -> {status}")
        if status not in ("Accepted", "Unknown"):
            raise AssertionError(f"ClearChargingProfile (all) was answered {status}")
        sc = self.ctx.state.get("smart_charging")
        if sc is not None:
            sc["store"].clear()
            sc["set"] = False

    # -- what the station reports ---------------------------------------------------------

    @keyword
    def composite_schedule_should_be_as_predicted(
        self, connector: int = 1, duration: int | None = None, unit: str | None = None
    ) -> None:
        """GetCompositeSchedule (OCPP 1.6 §5.7; 2.0.1 K08) for ``connector`` (2.0.1: the
        EVSE) over ``duration`` seconds (default: four periods) in ``unit`` (A or W; none:
        the station's choice) is Accepted and matches the lab's own composite of the same
        profiles over the same window, each limit within the lab's tolerance and each
        boundary within a second. On 2.0.1 the answer's ``schedule`` must be the EVSE's
        (its evseId).

        The lab's composite (MUST, a difference fails): the minimum of ChargePointMaxProfile
        / ChargingStationMaxProfile and TxProfile, else TxDefaultProfile, the highest valid
        stack level within a purpose (1.6 §3.13.2-§3.13.3, K08), taken as **current per
        phase** — A is per phase, W the total over the period's numberPhases (§7.12
        ChargingRateUnitType), so W counts as W / (V x numberPhases) — on the fewest phases
        any merged period allows (§7.14 numberPhases, 3 where absent), in the unit asked
        for. Connector 0 (EVSE 0) is the station's total: the cap and the sum of what each
        connector's own profiles allow (1.6 GetCompositeSchedule.req connectorId 0, "the
        expected consumption for the grid connection"; K08 evseId 0). A Relative
        TxDefaultProfile on a connector without a transaction is predicted as a session
        started at the request would be limited, not "no limit".

        Where the specification is open the station may read it otherwise; an answer that
        matches one of these readings passes with a remark naming it, never silently:
        an idle connector without a profile left out of connector 0's sum (the lab counts
        it as unlimited: neither §5.7 nor K08 says how an idle connector counts); a Relative
        TxDefaultProfile on an idle connector reported as no limit (§7.13 Relative counts
        from "a situation-specific start point (such as the start of a session)", which
        §5.7 / K08 do not name for a connector without one); a TxDefaultProfile of
        connector 0 stacked with the connector's own, so that one installed later or at a
        higher stack level wins (§3.13.2 ranks by stack level alone, §5.16 replaces the
        same purpose and stack level "on the Charge Point"; the lab lets the connector's
        own lead)."""
        require_capability(self.ctx.cfg, "smart_charging")
        sc = self._sc()
        connector = int(connector)
        window = int(duration) if duration is not None else 4 * self.ctx.cfg.smart_charging.period_s
        action, body = self.ctx.protocol.composite_request(connector, window, unit)
        asked = datetime.now(UTC)
        answer = self.ctx.lab.call(action, body)
        frame = self._last_answer(action)
        logger.info(f"{action} {body} -> {answer}")
        if answer.get("status") != "Accepted":
            raise AssertionError(
                f"The station answered {action} {body} with {answer.get('status')}, "
                f"expected Accepted ({frame})"
            )
        try:
            reported = self.ctx.protocol.composite_schedule(answer, connector)
        except ValueError as exc:
            raise AssertionError(f"Unreadable {action} answer: {exc} ({frame})") from None
        start = reported.start or asked
        tx_starts = self._tx_starts()
        voltage = self._voltage()

        def predict(reading: Reading) -> CompositeSchedule:
            return composite(
                sc["store"],
                connector,
                start,
                window,
                unit or reported.unit,
                None,
                voltage,
                DEFAULT_PHASES,  # numberPhases where a period leaves it out (§7.14)
                tx_starts=tx_starts,
                reading=reading,
            )

        expected = predict(LAB_READING)
        tol = self._tolerance()
        unlimited = self.ctx.cfg.dut.max_current_a
        dc = self.ctx.cfg.dut.dc
        if dc is not None:  # a DC station's maximum in the unit asked for
            unlimited = dc.max_power_w if expected.unit == "W" else dc.max_current_a
            if expected.unit == "W":
                tol = tol * voltage
        elif expected.unit == "W":
            tol = tol * voltage * self.ctx.cfg.dut.phases
            unlimited *= voltage * self.ctx.cfg.dut.phases
        problems, remarks = compare_with_readings(
            predict,
            reported,
            tol,
            time_tolerance_s=1.0,
            unlimited=unlimited,
            voltage_v=voltage,
            phases=self.ctx.cfg.dut.phases,
        )
        logger.info(f"Expected composite: {expected.to_json(no_limit=unlimited)}")
        if problems:
            raise AssertionError(
                f"{action} differs from the composite of the profiles the station "
                f"accepted: {'; '.join(problems)} ({frame})"
            )
        for remark in remarks:
            BuiltIn().run_keyword(
                "Record Remark", f"{action} for connector {connector}: {remark} ({frame})"
            )

    def _last_answer(self, action: str) -> str:
        found = self.ctx.journal.find(lambda f: f.action == action and f.kind != CALL)
        return found[-1].describe(300) if found else "no answer journaled"

    # -- the limit on the output, three ways ----------------------------------------------

    def _dc(self) -> bool:
        return self.ctx.cfg.dut.current_type == "DC"

    def _limit(self, connector: int, at: datetime) -> OutputLimit:
        """The limit the output must show at ``at``. AC: the current per phase the station
        must offer — the limit in force (a W limit converted with the period's
        numberPhases), its own maximum, and nothing below 6 A. DC: the limit in force in
        its own unit (W as DC power, A as DC current), capped by the station's maximum
        and what the EV asks for."""
        applied = limit_at(
            self._sc()["store"],
            connector,
            at,
            None if self._dc() else "A",
            self._tx_start(connector),
            self._voltage(),
            DEFAULT_PHASES,  # numberPhases where a period leaves it out (§7.14)
        )
        if self._dc():
            return self._offer_dc(applied.limit, applied.unit or "A", applied.describe())
        return self._offer(applied.limit, applied.describe())

    def _offer(self, limit: float | None, why: str) -> OutputLimit:
        maximum = float(self.ctx.cfg.dut.max_current_a)
        if limit is None:
            return OutputLimit(maximum, "A", f"no profile: the station's maximum {maximum:g} A")
        amps = min(limit, maximum)
        if amps < MIN_PWM_CURRENT_A:
            return OutputLimit(0.0, "A", f"{why}: below 6 A, no current may be offered")
        return OutputLimit(amps, "A", why)

    def _offer_dc(self, limit: float | None, unit: str, why: str) -> OutputLimit:
        dc = self.ctx.cfg.dut.dc
        assert dc is not None  # never None on a DC station
        ev = self.instruments.ev_side()
        asked = ev.request_limit_a() if ev is not None else None
        amps = min(dc.max_current_a, asked) if asked is not None else dc.max_current_a
        whose = (
            "the EV's request"
            if asked is not None and asked < dc.max_current_a
            else ("the station's maximum")
        )
        by_ev = asked is not None and asked < dc.max_current_a
        if limit is None:
            return OutputLimit(amps, "A", f"no profile: {whose} {amps:g} A", by_ev)
        if unit == "W":
            return OutputLimit(min(limit, dc.max_power_w), "W", why)
        if limit > amps:
            return OutputLimit(amps, "A", f"{why}, above {whose} {amps:g} A", by_ev)
        return OutputLimit(limit, "A", why)

    def _next_change(self, connector: int, start: datetime) -> datetime | None:
        """When the limit in force at ``start`` next changes (None: not within a day)."""
        plan = composite(
            self._sc()["store"],
            connector,
            start,
            86_400,
            "A",
            self._tx_start(connector),
            self._voltage(),
            DEFAULT_PHASES,
        )
        later = [p for p in plan.periods if p.start_period > 0]
        return start + timedelta(seconds=later[0].start_period) if later else None

    def _tolerance_in(self, unit: str) -> float:
        """The lab's tolerance in ``unit``: A as configured, W at the conversion voltage."""
        tol = self._tolerance()
        return tol * self._voltage() if unit == "W" else tol

    def _verify(self, connector: int, expected: OutputLimit, until: datetime | None) -> None:
        """The limit ``expected`` on the output before ``until``: measured (AC: meter per
        phase, analyser; DC: the analyser's DC current or power), as the EV receives it
        (AC the pilot, DC the station's CurrentDemand limits), and in the station's
        readings."""
        value, unit, why = expected.value, expected.unit, expected.why
        tol = self._tolerance_in(unit)
        reaction = self._reaction()
        if until is not None:
            reaction = min(reaction, max(0.5, (until - datetime.now(UTC)).total_seconds()))
        since = time.monotonic()
        readings = self._current_readings(unit)
        for source, fields in readings:
            try:
                sample = self.instruments.wait_for_sample(
                    source,
                    lambda v, f=fields: all(abs(v.get(x, 0.0) - value) <= tol for x in f),
                    reaction,
                    since_mono=since,
                )
            except SamplerTimeout as exc:
                raise AssertionError(
                    f"The {'power' if unit == 'W' else 'current'} measured by {source} did not "
                    f"come to the limit {expected} ± {tol:g} {unit} within {reaction:g} s "
                    f"({why}): {exc}"
                ) from None
            shown = ", ".join(f"{x} {sample.values[x]:.1f} {unit}" for x in fields)
            logger.info(f"{source}: {shown} (limit {expected})")
        if not readings:
            logger.info(
                "No reference instrument: the limit is checked where the EV receives it and "
                "in MeterValues"
            )
        offer = self.instruments.offer_reading()
        offered = offer.power_w if unit == "W" else offer.current_a
        logger.info(f"EV: {offer.shown}; limit {expected}")
        if expected.ev_limited and offered is not None and offered >= value - tol:
            pass  # the EV asks for less than the station offers: at least the EV's request
        elif offered is None or abs(offered - value) > tol:
            raise AssertionError(f"The limit in force is {expected} ({why}), but {offer.shown}")
        self._meter_values_report(connector, expected, until)

    def _meter_values_report(
        self, connector: int, expected: OutputLimit, until: datetime | None
    ) -> None:
        """The transaction's next readings (1.6 MeterValues; 2.0.1 TransactionEvent
        Updated with meterValue) report the limit."""
        protocol = self.ctx.protocol
        readings = protocol.update_label
        session = self.ctx.running_session(connector)
        if session is None:
            logger.info(f"No session on the connector: no {readings} to check the limit in")
            return
        mark = self.ctx.mark()
        wait = self.ctx.cfg.timings.meter_sample_interval_s + self.ctx.cfg.timings.message_timeout_s
        if until is not None:
            left = (until - datetime.now(UTC)).total_seconds()
            if left < wait:
                wait = left

        update = transaction_matcher(
            protocol,
            lambda t: t.event == "updated" and t.transaction_id == session["transaction_id"],
        )

        def is_reading(f: Any) -> bool:
            return update(f) and bool((f.payload or {}).get("meterValue"))

        try:
            frame = self.ctx.journal.wait_for(
                is_reading,
                mark,
                max(wait, 0.0),
                f"{readings} of transaction {session['transaction_id']}",
            )
        except WaitTimeout as exc:
            if until is not None:
                logger.info(
                    f"No {readings} arrived before the limit changed again; this period is "
                    "checked at the pilot and in the measured current"
                )
                return
            raise AssertionError(f"No {readings} to check the limit in: {exc}") from None
        if self._dc():
            self._check_dc_meter_values(frame, expected)
        else:
            self._check_meter_values(frame, expected.value, expected.why)

    def _check_meter_values(self, frame: Any, expected: float, why: str) -> None:
        tol = self._tolerance()
        readings = self.ctx.protocol.update_label
        values = sampled_values(frame.payload)
        offered = values.get("Current.Offered")
        problems = []
        if offered is None:
            BuiltIn().run_keyword(
                "Record Remark",
                f"{readings} carry no Current.Offered: the limit is checked on "
                "Power.Active.Import only",
            )
        elif abs(offered - expected) > tol:
            problems.append(f"Current.Offered {offered:g} A, the limit in force is {expected:g} A")
        currents = {k: v for k, v in values.items() if k.startswith("Current.Import")}
        over = {k: v for k, v in currents.items() if v > expected + tol}
        if over:
            shown = ", ".join(f"{k} {v:g} A" for k, v in over.items())
            problems.append(f"{shown} above the limit {expected:g} A")
        power = values.get("Power.Active.Import")
        allowed_w = (expected + tol) * self._voltage() * self.ctx.cfg.dut.phases
        if power is not None and power > allowed_w:
            problems.append(f"Power.Active.Import {power:g} W exceeds {allowed_w:g} W")
        if problems:
            raise AssertionError(
                f"{readings} do not match the limit in force ({why}): "
                + "; ".join(problems)
                + f" ({frame.describe(300)})"
            )
        logger.info(f"{readings} agree with the limit {expected:g} A: {frame.describe(300)}")

    def _check_dc_meter_values(self, frame: Any, expected: OutputLimit) -> None:
        """A DC station's readings report the limit (MUST: a limit in force is what the
        station offers, OCPP 1.6 §3.13 / 2.0.1 K01): Current.Offered for a limit in A,
        Power.Offered for one in W (absent: a remark, the sampled measurands are the
        station's configuration), and neither the offered nor the measured current or
        power above it (the other unit through the reading's own Voltage)."""
        readings = self.ctx.protocol.update_label
        values = sampled_values(frame.payload)
        value, unit = expected.value, expected.unit
        tol_a, tol_w = self._tolerance_in("A"), self._tolerance_in("W")
        volts = values.get("Voltage")
        offered_name, offered_unit = (
            ("Power.Offered", "W") if unit == "W" else ("Current.Offered", "A")
        )
        problems = []
        offered = values.get(offered_name)
        tol = tol_w if unit == "W" else tol_a
        if offered is None:
            BuiltIn().run_keyword(
                "Record Remark",
                f"{readings} carry no {offered_name}: the limit {expected} is checked on the "
                "measured values only",
            )
        elif expected.ev_limited:
            if offered < value - tol:
                problems.append(f"{offered_name} {offered:g} {offered_unit}, below {expected.why}")
        elif abs(offered - value) > tol:
            problems.append(
                f"{offered_name} {offered:g} {offered_unit}, the limit in force is {expected}"
            )
        if unit == "W":
            caps = {"Power.Active.Import": value + tol_w, "Power.Offered": value + tol_w}
            if volts:
                amps = (value + tol_w) / volts + tol_a
                caps |= {"Current.Import": amps, "Current.Offered": amps}
        else:
            caps = {"Current.Import": value + tol_a, "Current.Offered": value + tol_a}
            if volts:
                watts = (value + tol_a) * volts + tol_w
                caps |= {"Power.Active.Import": watts, "Power.Offered": watts}
        if expected.ev_limited:  # the station may offer more than the EV takes
            caps = {k: v for k, v in caps.items() if not k.endswith(".Offered")}
        for name, cap in caps.items():
            seen = values.get(name)
            if seen is not None and seen > cap and name != offered_name:
                problems.append(f"{name} {seen:g} exceeds {cap:.0f} under the limit {expected}")
        if problems:
            raise AssertionError(
                f"{readings} do not match the limit in force ({expected.why}): "
                + "; ".join(problems)
                + f" ({frame.describe(300)})"
            )
        logger.info(f"{readings} agree with the limit {expected}: {frame.describe(300)}")

    def _current_readings(self, unit: str = "A") -> list[tuple[str, tuple[str, ...]]]:
        """The sampled references and the fields that show a limit in ``unit``: the
        current per phase on AC; on DC the DC current, or the DC power for W."""
        sources = self.instruments.power_sources()
        if self._dc():
            field = "power_w" if unit == "W" else "current_a"
            return [(s, (field,)) for s in sources]
        return [(s, CURRENT_FIELDS[s]) for s in sources]

    @keyword
    def charging_limit_should_be_applied(self, connector: int = 1) -> None:
        """The limit in force now (OCPP 1.6 §3.13, 2.0.1 K01/K08: the output follows the
        composite schedule) is on the output, checked three ways: within
        ``smart_charging.reaction_time_s`` the current the reference meter measures on
        every phase and the analyser on its element comes to it (the lab's EV draws what it
        is offered), the pilot's duty cycle (IEC 61851-1 Annex A, read by the EV simulator)
        offers it, and the station's next readings (1.6 MeterValues, 2.0.1 TransactionEvent
        Updated) report it as Current.Offered (no Current.Offered: a remark, since which
        measurands are sampled is the station's configuration, and Power.Active.Import must
        not exceed it). Each within
        ``smart_charging.current_tolerance_a``; more breaks the limit, less means the
        schedule is not followed while the EV asks for more."""
        connector = int(connector)
        now = datetime.now(UTC)
        self._verify(connector, self._limit(connector, now), self._next_change(connector, now))

    @keyword
    def charging_limit_should_follow_the_schedule(
        self, connector: int = 1, periods: int = 4
    ) -> None:
        """Through the next ``periods`` periods of the lab's test schedules, from each change
        of the composite limit to the next, the limit is on the output three ways (as in
        `Charging Limit Should Be Applied`) within ``smart_charging.reaction_time_s`` of the
        change. A stretch shorter than the reaction time is not judged. Waits for each
        change on the instrument samples; logs a plot of current and limit."""
        sc = self._sc()
        connector = int(connector)
        step = float(self.ctx.cfg.smart_charging.period_s)
        start = datetime.now(UTC).replace(microsecond=0)  # boundaries fall on whole seconds
        plan = composite(
            sc["store"],
            connector,
            start,
            max(int(step * int(periods)), 1),
            "A",
            self._tx_start(connector),
            self._voltage(),
            DEFAULT_PHASES,
        )
        logger.info(
            "Periods to verify: "
            + ", ".join(
                f"+{p.start_period} s: {'no limit' if p.limit is None else f'{p.limit:g} A'}"
                for p in plan.periods
            )
        )
        end = start + timedelta(seconds=plan.duration or 0)
        for index, period in enumerate(plan.periods):
            begin = start + timedelta(seconds=period.start_period)
            until = (
                start + timedelta(seconds=plan.periods[index + 1].start_period)
                if index + 1 < len(plan.periods)
                else end
            )
            self._wait_until(begin)
            left = (until - datetime.now(UTC)).total_seconds()
            if left < self._reaction():
                logger.info(f"+{period.start_period} s: {left:.1f} s left, too short to judge")
                continue
            if self._dc():  # the limit in its own unit, in the middle of the period
                expected = self._limit(connector, begin + (until - begin) / 2)
            else:
                expected = self._offer(period.limit, f"{period.limit} A from the composite")
            try:
                self._verify(connector, expected, until)
            except AssertionError as exc:
                raise AssertionError(f"Period from +{period.start_period} s: {exc}") from None
        self.plot_current_and_limit(connector)

    def _wait_until(self, moment: datetime) -> None:
        """Wait for ``moment`` on the sampler's clock: the samples arrive as time passes."""
        sources = self.instruments.power_sources()
        remaining = (moment - datetime.now(UTC)).total_seconds()
        if remaining <= 0:
            return
        deadline = time.monotonic() + remaining
        if not sources:
            # no instruments to wait on: the journal's heartbeats and MeterValues pass time
            self.ctx.journal.expect_none(lambda f: False, self.ctx.mark(), remaining)
            return
        with contextlib.suppress(SamplerTimeout):
            self.instruments.wait_for_sample(
                sources[0], lambda v: time.monotonic() >= deadline, remaining + 2.0
            )

    @keyword
    def charging_limit_should_be_released(self, connector: int = 1) -> None:
        """With no profile left the output returns to the station's maximum within the
        reaction time: measured, at the pilot and in the station's readings (1.6 §5.5,
        2.0.1 K10: cleared profiles no longer limit the output, not just in the
        messages)."""
        self.charging_limit_should_be_applied(connector)

    # -- evidence ---------------------------------------------------------------------------

    @keyword
    def plot_current_and_limit(self, connector: int = 1) -> None:
        """Log a plot of the measured current per phase, the pilot's limit as the lab
        predicts it, and the moments profiles were set or cleared (also in ``plots/``)."""
        sc = self._sc()
        sources = self.instruments.power_sources()
        sampler = self.ctx.lab.sampler
        if not sources or sampler is None:
            return
        t0 = sc["changes"][0][0] if sc["changes"] else time.monotonic() - 60
        series = []
        for source in sources:
            field = CURRENT_FIELDS[source][0]
            pts = [s for s in sampler.samples(source) if s.mono >= t0 - 2]
            xs = [s.mono - t0 for s in pts]
            series.append((f"{source} {field}", xs, [s.values.get(field, 0.0) for s in pts]))
        now, wall_now = time.monotonic(), datetime.now(UTC)
        steps = int(max(1, (now - t0) * 2))
        moments = [t0 + i * (now - t0) / steps for i in range(steps + 1)]
        limits = [
            self._limit(int(connector), wall_now - timedelta(seconds=now - m)) for m in moments
        ]
        limit = [x.value if x.unit == "A" else x.value / self._voltage() for x in limits]
        series.append(("limit (lab's prediction)", [m - t0 for m in moments], limit))
        marks = [(m - t0, what) for m, what in sc["changes"]]
        out = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        test = BuiltIn().get_variable_value("${TEST NAME}", "smart-charging")
        name = "current-" + "".join(c if c.isalnum() else "-" for c in test).strip("-") + ".png"
        img = power_plot(
            out / "plots" / name,
            f"{test}: current per phase and the limit",
            series,
            marks,
            quantity="current (A)",
            scale=1.0,
            xlabel="s since the first profile change",
        )
        logger.info(img, html=True)
        self.ctx.record_evidence(
            "plot", title=f"{test}: current per phase and the limit", plot=f"plots/{name}"
        )

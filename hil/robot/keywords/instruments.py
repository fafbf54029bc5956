"""The physical side: the EV, the tag reader, and whether energy really flows.

Power is judged from the reference meter (and the analyser, if present), sampled in the
background for the whole run; waits are on those samples, never fixed sleeps. A role the
bench lacks makes the step SKIP, or, where the lab config asks for it and a human can do
it (plugging, presenting a card), an operator is prompted through the lab's operator
channel (web page, console or Tk dialog; docs/operator-prompts.md): *Done* goes on,
*Cannot do* ends the step N/A with the operator's reason, no answer within
``operator.timeout_s`` is a lab error (the operator failed, not the station).

Instruments that stop working:

- *Unreachable* when the lab opened: the run goes on without it; a step that needs it
  ends as a lab error in `Require Instrument`, naming role and address.
- *Lost* mid-run (no good reading for ``timings.instrument_grace_s``): the running step
  ends as a lab error (never the station's N) with the loss (role, address, last good
  reading and its time, last error) as soon as it waits on that instrument, or at the end
  of its current keyword otherwise; before it ends the lab stops the energy (EV to state
  B, RemoteStopTransaction of the running session). Afterwards power is judged from the
  working references only, and a step that requires the lost role is N/A. A lost
  instrument stays lost for the rest of the run.
"""

from __future__ import annotations

import time
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.lab.bench import SAMPLED_ROLES
from hil.lab.ev_side import ev_role, make_ev_side
from hil.lab.ev_side.base import EvSide, Offer
from hil.lab.evidence import now
from hil.lab.sampler import InstrumentLost, Loss, Predicate, Sample, SamplerTimeout
from hil.operator import HUMAN_ROLES, Outcome, Prompt
from hil.robot.context import LabContext
from hil.verdict import LAB_ERROR_PREFIX, LabFault

#: the lab config's instrument roles, as a step's failure names them
ROLE_NAMES = {
    "ev_simulator": "an EV simulator",
    "dc_ev_emulator": "a DC EV emulator",
    "dc_meter": "the station's DC meter, read directly",
    "energy_meter": "a reference energy meter",
    "power_analyser": "a power analyser",
    "network_switch": "a managed network switch",
    "identification": "an automated tag reader",
    "power_relay": "a power relay",
}
#: a role a step may name for whichever instrument plays it on the bench
EV_ALIAS = "ev"  # the EV simulator on an AC station, the DC EV emulator on a DC one

#: Below this the EV is taken to draw nothing (standby, measurement noise).
POWER_FLOWING_W = 100.0


class InstrumentKeywords:
    #: Also a library listener (robotlibcore registers it): it knows when each test starts,
    #: and fails the running keyword when an instrument was lost during the test.
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx
        self._test_started: float | None = None  # monotonic start of the running test
        self._handled: set[str] = set()  # roles whose loss already failed a test
        self._ev_side: EvSide | None = None

    # -- listener ----------------------------------------------------------------------

    def start_test(self, data: Any, result: Any) -> None:
        self._test_started = time.monotonic()

    def end_test(self, data: Any, result: Any) -> None:
        self._test_started = None

    def end_keyword(self, data: Any, result: Any) -> None:
        """Fail the keyword that was running when an instrument was lost during the test
        (one that waited on the instrument has failed already), after stopping the energy.
        """
        if result.status not in ("PASS", "FAIL"):
            return
        loss = self._unhandled_loss()
        if loss is None:
            return
        text = LAB_ERROR_PREFIX + self._handle_loss(loss)
        if result.status == "PASS":
            result.status = "FAIL"
            result.message = text
        elif loss.reason not in (result.message or ""):
            result.message = f"{text}\nThe keyword failed with: {result.message}"

    # -- lost and unreachable instruments ----------------------------------------------

    def _unhandled_loss(self) -> Loss | None:
        """The first instrument lost during the running test whose loss has not failed it
        yet (a loss outside any test only takes the instrument out of use)."""
        bench = self.ctx.bench
        if bench is None or self._test_started is None:
            return None
        for role, loss in bench.lost_instruments().items():
            if role not in self._handled and loss.mono >= self._test_started:
                return loss
        return None

    def _handle_loss(self, loss: Loss) -> str:
        """Stop the energy (once per loss) and return the failure message."""
        self._handled.add(loss.source)
        done = self._stop_energy()
        summary = "; ".join(done) if done else "nothing to stop"
        logger.warn(f"{loss.message}\nThe lab stopped the energy: {summary}")
        return f"{loss.message}. The lab stopped the energy: {summary}"

    def _lost(self, exc: InstrumentLost) -> LabFault:
        """The failure of a keyword whose wait found its instrument lost: the lab's
        instrument failed, so the step is a lab error, not the station's N."""
        if exc.loss.source in self._handled:  # failed an earlier test: now just out of use
            return LabFault(f"{exc.loss.message} (earlier in the run)")
        return LabFault(self._handle_loss(exc.loss))

    def _fail_on_loss_in_this_test(self) -> None:
        loss = self._unhandled_loss()
        if loss is not None:
            raise LabFault(self._handle_loss(loss))

    def _stop_energy(self) -> list[str]:
        """Best effort: the EV stops asking for energy (state B) and the running session
        is stopped through OCPP. Returns what was done, for the log and the failure."""
        done: list[str] = []
        lab = self.ctx.lab
        ev = self.ev_side()
        if ev is not None:
            try:
                ev.stop_charging()
                done.append(f"EV: {ev.instructions['stop_charging']}")
            except Exception as exc:  # best effort: the OCPP stop may still work
                done.append(f"could not stop the EV's charge request: {exc}")
        session = self.ctx.running_session()
        if session is not None:
            tx = session["transaction_id"]
            try:
                action, payload = self.ctx.protocol.remote_stop_request(tx)
                answer = lab.call(action, payload)
                done.append(f"{action}({tx}) -> {answer.get('status')}")
            except Exception as exc:
                done.append(f"Remote stop of transaction {tx} failed: {exc}")
        return done

    def wait_for_sample(
        self, source: str, predicate: Predicate, timeout: float, since_mono: float | None = None
    ) -> Sample:
        """``sampler.wait_for``, but a lost ``source`` fails the step as a lost instrument
        (the energy stopped first) rather than raising :class:`InstrumentLost` (not a
        keyword; other keyword libraries should wait on samples through it)."""
        try:
            return self.ctx.lab.sampler.wait_for(source, predicate, timeout, since_mono)
        except InstrumentLost as exc:
            raise self._lost(exc) from None

    # -- roles -----------------------------------------------------------------------

    def _prompting(self, role: str) -> bool:
        return self.ctx.cfg.lab.missing_instrument == "prompt" and role in HUMAN_ROLES

    @keyword
    def require_instrument(self, *roles: str) -> None:
        """SKIP the test (N/A in the report) when the bench lacks one of ``roles``, unless
        the lab config lets an operator stand in for it. A role lost earlier in the run
        (no good reading for ``timings.instrument_grace_s``) is N/A too, naming the loss;
        a configured role that was unreachable when the lab opened is a lab error."""
        self._fail_on_loss_in_this_test()
        lab = self.ctx.lab
        for role in map(self.role, roles):
            if role in lab.unreachable:
                raise LabFault(f"This step needs {ROLE_NAMES[role]}, but {lab.unreachable[role]}")
            loss = lab.instrument_loss(role)
            if loss is not None:
                BuiltIn().skip(
                    f"N/A: this step needs {ROLE_NAMES[role]}, but it was lost at "
                    f"{loss.wall}: {loss.message}"
                )
            if lab.instrument(role) is None and not self._prompting(role):
                BuiltIn().skip(
                    f"N/A: this step needs {ROLE_NAMES[role]} (instruments.{role}), "
                    f"which the lab config {self.ctx.cfg.source} does not have"
                )

    def role(self, role: str) -> str:
        """``role`` itself, or for ``ev`` the role that plays the EV on this bench (the EV
        simulator on an AC station, the DC EV emulator on a DC one); not a keyword."""
        if role == EV_ALIAS:
            return ev_role(self.ctx.cfg)
        if role not in ROLE_NAMES:
            known = ", ".join([EV_ALIAS, *ROLE_NAMES])
            raise ValueError(f"unknown instrument role {role!r}; known: {known}")
        return role

    @keyword
    def bench_has_instruments(self, *roles: str) -> bool:
        """True when the bench has every one of ``roles`` (``ev``: the EV simulator on AC,
        the DC EV emulator on DC) and each of them works (for optional parts of a step):
        one unreachable or lost is a warning and False."""
        lab = self.ctx.lab
        for role in map(self.role, roles):
            problem = lab.instrument_problem(role)
            if problem is not None:
                logger.warn(f"Not using {role}: {problem}")
                return False
            if lab.instrument(role) is None:
                return False
        return True

    def _driver(self, role: str) -> Any:
        lab = self.ctx.lab
        problem = lab.instrument_problem(role)
        if problem is not None:
            raise LabFault(f"Cannot use {ROLE_NAMES[role]}: {problem}")
        driver = lab.instrument(role)
        if driver is None and not self._prompting(role):
            raise LabFault(
                f"The bench has no {role} ({ROLE_NAMES[role]}); add "
                f"'Require Instrument    {role}' to the test"
            )
        return driver

    def _manual(self, role: str, instruction: str) -> None:
        """Ask the operator (``operator`` channel of the lab config) to stand in for
        ``role``: DONE goes on, CANNOT ends the step N/A with the operator's reason, no
        answer within ``operator.timeout_s`` is a lab error. What was asked, the answer and
        when are a ``manual`` evidence record (the report's "Steps done by hand"; an N of
        this step quotes a DONE)."""
        channel = self.ctx.lab.operator
        if channel is None:  # the bench starts one whenever the config asks for prompts
            raise LabFault(f"No operator channel is open to ask: {instruction}")
        prompt = Prompt(
            instruction,
            self.ctx.cfg.operator.timeout_s,
            step=self.ctx.step,
            name=str(BuiltIn().get_variable_value("${TEST NAME}", self.ctx.test)),
            role=ROLE_NAMES[role],
        )
        logger.info(f"Asking the operator ({channel.name}): {instruction}")
        if channel.name != "console":  # the console channel prints the prompt itself
            where = f"answer at {channel.url}" if channel.url else f"the {channel.name} dialog"
            step = f"step {prompt.step}" if prompt.step else prompt.title
            logger.console(
                f"Operator needed ({step}): {instruction} — {where} (within {prompt.timeout_s:g} s)"
            )
        asked = now()
        answer = channel.ask(prompt)
        self.ctx.record_evidence(
            "manual",
            role=role,
            prompt=instruction,
            answer=answer.outcome.value,
            reason=answer.reason,
            asked=asked,
            answered=None if answer.outcome is Outcome.TIMEOUT else now(),
            channel=channel.name,
            timeout_s=prompt.timeout_s,
        )
        if answer.outcome is Outcome.CANNOT:
            what = instruction[:1].lower() + instruction[1:]
            BuiltIn().skip(f"N/A: the operator could not {what}: {answer.reason}")
        if answer.outcome is Outcome.TIMEOUT:
            raise LabFault(prompt.timeout_message())
        logger.info(f"The operator did: {instruction}")

    def ev_side(self) -> EvSide | None:
        """The EV of this bench (:mod:`hil.lab.ev_side`: the EV simulator on AC, the DC EV
        emulator on DC), or None when no instrument plays it (not a keyword)."""
        driver = self.ctx.lab.instrument(ev_role(self.ctx.cfg))
        if driver is None:
            return None
        if self._ev_side is None or self._ev_side.driver is not driver:
            self._ev_side = make_ev_side(self.ctx.cfg, driver)
        return self._ev_side

    def ev_action(self, action: str, *args: Any) -> None:
        """Have the EV (or the operator standing in for it) do ``action`` of
        :class:`~hil.lab.ev_side.base.EvSide` (not a keyword; for other libraries)."""
        self._ev(action, *args)

    def _ev(self, action: str, *args: Any) -> None:
        role = ev_role(self.ctx.cfg)
        self._driver(role)  # a lost or unreachable EV is a lab error, named
        ev = self.ev_side()
        side = ev or make_ev_side(self.ctx.cfg, None)
        instruction = side.instructions[action].format(kind=args[0] if args else "")
        if ev is None:
            self._manual(role, instruction)
        else:
            getattr(ev, action)(*args)
        logger.info(f"EV: {instruction}")

    # -- the EV ----------------------------------------------------------------------

    @keyword
    def plug_in_ev(self) -> None:
        """Connect the EV (AC: pilot state B; DC: the DC EV emulator's CCS plug), not yet
        asking for energy."""
        self.ctx.state["plug_mark"] = self.ctx.mark()
        self._ev("plug_in")
        self.ctx.state["ev_plugged"] = True

    @keyword
    def ev_requests_charge(self) -> None:
        """The EV asks for energy (AC: state C; DC: the EV starts its DIN 70121 / ISO
        15118-2 session with the first of ``dut.dc.protocols``); it draws current once the
        station offers some."""
        self._ev("request_charge")

    @keyword
    def ev_pauses_charging(self) -> None:
        """The EV stops asking for energy but stays connected (AC: back to state B; DC: the
        EV ends its session)."""
        self._ev("stop_charging")

    @keyword
    def unplug_ev(self) -> None:
        """Disconnect the EV (state A)."""
        self._ev("unplug")
        self.ctx.state["ev_plugged"] = False

    @keyword
    def inject_pilot_fault(self, kind: str = "E") -> None:
        """Inject a pilot fault: ``E`` (CP shorted to PE), ``diode`` (diode fault) or ``F``
        (on DC the emulator forces the pilot; its session ends, as a real EV's does)."""
        self._ev("inject_fault", kind)

    @keyword
    def clear_pilot_fault(self) -> None:
        """Remove the injected pilot fault; the EV returns to the state it was in (on DC an
        EV still asking for energy starts a new session: a new cable check)."""
        self._ev("clear_fault")

    @keyword
    def pilot_should_offer(self, amps: float | None = None, tolerance: float = 0.5) -> float:
        """The station offers current to the EV: ``amps`` (any current when not given).
        AC: the pilot's duty cycle read by the EV simulator (IEC 61851-1 Annex A); DC: the
        EVSEMaximumCurrentLimit of the station's CurrentDemand responses (DIN 70121 /
        ISO 15118-2) read by the DC EV emulator. Returns the offered current."""
        offer = self.offer_reading()
        logger.info(f"EV: {offer.shown}")
        if amps is None:
            if offer.nothing:
                raise AssertionError(f"The station offers nothing: {offer.shown}")
        elif abs(offer.current_a - float(amps)) > float(tolerance):
            raise AssertionError(f"Expected {amps} A to be offered, but {offer.shown}")
        return offer.current_a

    def offer_reading(self) -> Offer:
        """What the station offers the EV now (not a keyword; for other libraries)."""
        ev = self.ev_side()
        if ev is None:
            self._driver(ev_role(self.ctx.cfg))  # names the missing role
            raise LabFault(f"The bench has no {ev_role(self.ctx.cfg)} to read the offer")
        return ev.read_offer()

    @keyword
    def pilot_should_offer_no_current(self) -> None:
        """The station does not allow charging: AC no PWM, or a duty cycle that offers
        nothing; DC no current or power in its session's responses."""
        offer = self.offer_reading()
        if not offer.nothing:
            raise AssertionError(f"The station must offer nothing, but {offer.shown}")

    # -- identification ----------------------------------------------------------------

    @keyword
    def present_tag(self, tag: str) -> None:
        """Present an RFID card with ``tag`` at the station's reader."""
        reader = self._driver("identification")
        if reader is None:
            self._manual("identification", f"Present the card {tag} at the station's reader")
        else:
            reader.present(tag)
        logger.info(f"Tag {tag} presented")

    @keyword
    def lab_tag(self, kind: str = "valid", index: int = 0) -> str:
        """An idTag of the lab config: ``valid``, ``invalid``, ``blocked`` or ``expired``."""
        tags = getattr(self.ctx.cfg.tags, kind)
        if len(tags) <= int(index):
            BuiltIn().skip(f"N/A: the lab config has no {kind} tag #{index} (tags.{kind})")
        return tags[int(index)]

    # -- energy flow -------------------------------------------------------------------

    def power_sources(self) -> list[str]:
        """The sampled instruments that measure power on this bench and still work — never
        one that was unreachable or has been lost (not a keyword)."""
        lab = self.ctx.lab
        sampler = lab.sampler
        if sampler is None:
            return []
        sampled = sampler.sources
        return [r for r in SAMPLED_ROLES if r in sampled and lab.instrument_works(r)]

    def require_power_source(self) -> list[str]:
        """:meth:`power_sources`, or, when none works: SKIP (N/A) if the bench has none or
        every one was lost mid-run, a lab error if one was unreachable when the lab opened
        (not a keyword)."""
        self._fail_on_loss_in_this_test()
        sources = self.power_sources()
        if sources:
            return sources
        lab = self.ctx.lab
        unreachable = [lab.unreachable[r] for r in SAMPLED_ROLES if r in lab.unreachable]
        if unreachable:
            raise LabFault(
                "This check needs a reference energy meter or a power analyser, but "
                + "; ".join(unreachable)
            )
        lost = [loss.message for r, loss in lab.lost_instruments().items() if r in SAMPLED_ROLES]
        if lost:
            BuiltIn().skip(
                "N/A: this check needs a reference energy meter or a power analyser, but "
                "every one was lost: " + "; ".join(lost)
            )
        BuiltIn().skip(
            "N/A: this check needs a reference energy meter or a power analyser "
            "(instruments.energy_meter / power_analyser)"
        )
        return []

    @keyword
    def energy_should_flow(self, timeout: float | None = None) -> float:
        """Power really flows: every working reference instrument sees it within
        ``timeout``. Returns the power (W) the first one saw."""
        wait = self.ctx.cfg.timings.message_timeout_s if timeout is None else float(timeout)
        seen = []
        powers = []
        for source in self.require_power_source():
            try:
                sample = self.wait_for_sample(
                    source,
                    lambda v: v["power_w"] > POWER_FLOWING_W,
                    wait,
                    since_mono=time.monotonic() - 0.5,
                )
            except SamplerTimeout as exc:
                raise AssertionError(f"No energy flows: {exc}") from None
            seen.append(f"{source} {sample.values['power_w']:.0f} W")
            powers.append(float(sample.values["power_w"]))
        logger.info("Energy flows: " + ", ".join(seen))
        self._delivery_should_follow_the_ev()
        return powers[0]

    def _delivery_should_follow_the_ev(self) -> None:
        """DC: once the current has ramped up, the station delivers no more than the EV asks
        for (DIN 70121 / ISO 15118-2 CurrentDemand: the EVSE follows EVTargetCurrent, MUST).
        Watched on every working reference for ``smart_charging.reaction_time_s`` (at
        most 5 s: the current ramps up within that)."""
        ev = self.ev_side()
        limit = ev.request_limit_a() if ev is not None else None
        if ev is None or limit is None:
            return
        tol = self.ctx.cfg.smart_charging.current_tolerance_a
        since = time.monotonic()
        for source in self.power_sources():
            try:
                sample = self.wait_for_sample(
                    source,
                    lambda v: v.get("current_a", 0.0) > limit + tol,
                    min(self.ctx.cfg.smart_charging.reaction_time_s, 5.0),
                    since_mono=since,
                )
            except SamplerTimeout:
                continue
            problem = ev.delivery_problem(sample.values["current_a"], tol)
            raise AssertionError(f"{source} at {sample.wall}: {problem}")

    @keyword
    def energy_should_stop(
        self, within: float | None = None, hold: float | None = None, after: str = ""
    ) -> None:
        """Power stops within ``within`` seconds and stays off for ``hold`` seconds, on every
        working reference instrument. ``after`` names the event, for the failure message."""
        t = self.ctx.cfg.timings
        limit = t.energy_stop_s if within is None else float(within)
        keep = t.silence_window_s if hold is None else float(hold)
        since = time.monotonic()
        event = f" after {after}" if after else ""
        sources = self.require_power_source()
        for source in sources:
            try:
                self.wait_for_sample(
                    source, lambda v: v["power_w"] <= POWER_FLOWING_W, limit, since_mono=since
                )
            except SamplerTimeout as exc:
                raise AssertionError(f"Energy keeps flowing{event}: {exc}") from None
        stopped = time.monotonic()
        for source in sources:
            try:
                sample = self.wait_for_sample(
                    source, lambda v: v["power_w"] > POWER_FLOWING_W, keep, since_mono=stopped
                )
            except SamplerTimeout:
                continue
            raise AssertionError(
                f"Energy flows again{event}: {source} read "
                f"{sample.values['power_w']:.0f} W at {sample.wall}"
            )
        logger.info(f"Energy stopped{event} and stayed off for {keep:g} s")

    @keyword
    def energy_should_not_flow(self, hold: float | None = None) -> None:
        """No power at all for ``hold`` seconds (e.g. for a refused tag)."""
        self.energy_should_stop(within=self.ctx.cfg.timings.instrument_poll_s * 4 + 1, hold=hold)

    @keyword
    def energy_should_keep_flowing_for(self, seconds: float) -> None:
        """Power flows without a break for ``seconds`` (fails as soon as it stops)."""
        since = time.monotonic()
        for source in self.require_power_source():
            try:
                sample = self.wait_for_sample(
                    source,
                    lambda v: v["power_w"] <= POWER_FLOWING_W,
                    float(seconds) - (time.monotonic() - since),
                    since_mono=since,
                )
            except SamplerTimeout:
                continue
            raise AssertionError(
                f"Energy stopped: {source} read {sample.values['power_w']:.0f} "
                f"W at {sample.wall}, {sample.mono - since:.1f} s into the "
                f"{float(seconds):g} s it had to keep flowing"
            )
        logger.info(f"Energy kept flowing for {float(seconds):g} s")

    @keyword
    def wait_until_energy_delivered(
        self, wh: float | None = None, since: float | None = None, timeout: float | None = None
    ) -> float:
        """Wait until the reference meter (else the analyser; a working one) counted ``wh``
        (default: the lab's ``energy.min_session_wh``) since the monotonic time ``since``
        (default: now). Returns the energy counted."""
        target = self.ctx.cfg.energy.min_session_wh if wh is None else float(wh)
        source = self.require_power_source()[0]
        start = time.monotonic() if since is None else float(since)
        base = self._energy_at(source, start)
        # default: long enough for the target at 1 kW, the least any EV draws when charging
        limit = (
            float(timeout)
            if timeout is not None
            else target * 3.6 + self.ctx.cfg.timings.message_timeout_s
        )
        try:
            sample = self.wait_for_sample(source, lambda v: v["energy_wh"] - base >= target, limit)
        except SamplerTimeout as exc:
            raise AssertionError(f"{target:g} Wh were not delivered: {exc}") from None
        delivered = sample.values["energy_wh"] - base
        logger.info(f"{source} counted {delivered:.1f} Wh")
        return delivered

    def _energy_at(self, source: str, mono: float) -> float:
        from hil.verify.energy import interpolate

        points = [(s.mono, s.values["energy_wh"]) for s in self.ctx.lab.sampler.samples(source)]
        return interpolate(points, mono)

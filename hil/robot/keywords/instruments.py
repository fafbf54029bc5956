"""The physical side: the EV, the tag reader, and whether energy really flows.

Power is judged from the reference meter (and the analyser, if present), sampled in the
background for the whole run; waits are on those samples, never fixed sleeps. A role the
bench lacks makes the step SKIP, or, where the lab config asks for it and a human can do
it (plugging, presenting a card), an operator is prompted.
"""

from __future__ import annotations

import time
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.lab.sampler import SamplerTimeout
from hil.robot.context import LabContext

ROLE_NAMES = {
    "ev_simulator": "an EV simulator",
    "energy_meter": "a reference energy meter",
    "power_analyser": "a power analyser",
    "network_switch": "a managed network switch",
    "identification": "an automated tag reader",
    "power_relay": "a power relay",
}
#: Roles an operator can stand in for when the lab config says missing_instrument: prompt.
HUMAN_ROLES = ("ev_simulator", "identification")
#: Below this the EV is taken to draw nothing (standby, measurement noise).
POWER_FLOWING_W = 100.0


class InstrumentKeywords:
    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx

    # -- roles -----------------------------------------------------------------------

    def _prompting(self, role: str) -> bool:
        return self.ctx.cfg.lab.missing_instrument == "prompt" and role in HUMAN_ROLES

    @keyword
    def require_instrument(self, *roles: str) -> None:
        """SKIP the test (N/A in the report) when the bench lacks one of ``roles``, unless
        the lab config lets an operator stand in for it."""
        for role in roles:
            if role not in ROLE_NAMES:
                raise ValueError(
                    f"unknown instrument role {role!r}; known: {', '.join(ROLE_NAMES)}"
                )
            if self.ctx.lab.instrument(role) is None and not self._prompting(role):
                BuiltIn().skip(
                    f"N/A: this step needs {ROLE_NAMES[role]} (instruments.{role}), "
                    f"which the lab config {self.ctx.cfg.source} does not have"
                )

    @keyword
    def bench_has_instruments(self, *roles: str) -> bool:
        """True when the bench has every one of ``roles`` (for optional parts of a step)."""
        return all(self.ctx.lab.instrument(role) is not None for role in roles)

    def _driver(self, role: str) -> Any:
        driver = self.ctx.lab.instrument(role)
        if driver is None and not self._prompting(role):
            raise AssertionError(
                f"The bench has no {role} ({ROLE_NAMES[role]}); add "
                f"'Require Instrument    {role}' to the test"
            )
        return driver

    def _manual(self, instruction: str) -> None:
        from robot.libraries.Dialogs import execute_manual_step

        execute_manual_step(instruction, f"Could not: {instruction}")

    def _ev(self, action: str, instruction: str, *args: Any) -> None:
        ev = self._driver("ev_simulator")
        if ev is None:
            self._manual(instruction)
        else:
            getattr(ev, action)(*args)
        logger.info(f"EV: {instruction}")

    # -- the EV ----------------------------------------------------------------------

    @keyword
    def plug_in_ev(self) -> None:
        """Connect the EV (pilot state B: connected, not yet asking for energy)."""
        self._ev("plug_in", "Plug the EV into connector 1 (state B)")

    @keyword
    def ev_requests_charge(self) -> None:
        """The EV asks for energy (state C); it draws current once the pilot offers some."""
        self._ev("request_charge", "Let the EV request charging (state C)")

    @keyword
    def ev_pauses_charging(self) -> None:
        """The EV stops asking for energy but stays connected (back to state B)."""
        self._ev("stop_charge_request", "Let the EV pause charging (state B)")

    @keyword
    def unplug_ev(self) -> None:
        """Disconnect the EV (state A)."""
        self._ev("unplug", "Unplug the EV (state A)")

    @keyword
    def inject_pilot_fault(self, kind: str = "E") -> None:
        """Inject a pilot fault: ``E`` (CP shorted to PE), ``diode`` (diode fault) or ``F``."""
        self._ev("inject_fault", f"Inject pilot fault {kind} on the EV side", kind)

    @keyword
    def clear_pilot_fault(self) -> None:
        """Remove the injected pilot fault; the EV returns to the state it was in."""
        self._ev("clear_fault", "Clear the pilot fault")

    @keyword
    def pilot_should_offer(self, amps: float | None = None, tolerance: float = 0.5) -> float:
        """The pilot's duty cycle (read by the EV simulator, IEC 61851-1) offers ``amps``
        (any current when not given). Returns the offered current."""
        reading = self._driver("ev_simulator").read_pilot()
        logger.info(
            f"Pilot: state {reading.state}, duty {reading.duty_percent} %, offers "
            f"{reading.offered_current_a} A"
        )
        if amps is None:
            if reading.offered_current_a <= 0:
                raise AssertionError(f"The pilot offers no current (duty {reading.duty_percent})")
        elif abs(reading.offered_current_a - float(amps)) > float(tolerance):
            raise AssertionError(
                f"The pilot offers {reading.offered_current_a} A (duty "
                f"{reading.duty_percent} %), expected {amps} A"
            )
        return reading.offered_current_a

    @keyword
    def pilot_should_offer_no_current(self) -> None:
        """No PWM, or a duty cycle that offers nothing: the station does not allow charging."""
        reading = self._driver("ev_simulator").read_pilot()
        if reading.offered_current_a > 0:
            raise AssertionError(
                f"The pilot offers {reading.offered_current_a} A (duty "
                f"{reading.duty_percent} %) although it must offer nothing"
            )

    # -- identification ----------------------------------------------------------------

    @keyword
    def present_tag(self, tag: str) -> None:
        """Present an RFID card with ``tag`` at the station's reader."""
        reader = self._driver("identification")
        if reader is None:
            self._manual(f"Present the card with idTag {tag} at the station's reader")
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
        """The sampled instruments that measure power on this bench (not a keyword)."""
        sampler = self.ctx.lab.sampler
        if sampler is None:
            return []
        return [r for r in ("energy_meter", "power_analyser") if r in self.ctx.lab.instruments]

    def require_power_source(self) -> list[str]:
        """:meth:`power_sources`, or SKIP the test when there is none (not a keyword)."""
        sources = self.power_sources()
        if not sources:
            BuiltIn().skip(
                "N/A: this check needs a reference energy meter or a power analyser "
                "(instruments.energy_meter / power_analyser)"
            )
        return sources

    @keyword
    def energy_should_flow(self, timeout: float | None = None) -> float:
        """Power really flows: every reference instrument sees it within ``timeout``.
        Returns the power (W) the first one saw."""
        wait = self.ctx.cfg.timings.message_timeout_s if timeout is None else float(timeout)
        sampler = self.ctx.lab.sampler
        seen = []
        for source in self.require_power_source():
            try:
                sample = sampler.wait_for(
                    source,
                    lambda v: v["power_w"] > POWER_FLOWING_W,
                    wait,
                    since_mono=time.monotonic() - 0.5,
                )
            except SamplerTimeout as exc:
                raise AssertionError(f"No energy flows: {exc}") from None
            seen.append(f"{source} {sample.values['power_w']:.0f} W")
        logger.info("Energy flows: " + ", ".join(seen))
        return float(sampler.latest(self.power_sources()[0]).values["power_w"])

    @keyword
    def energy_should_stop(
        self, within: float | None = None, hold: float | None = None, after: str = ""
    ) -> None:
        """Power stops within ``within`` seconds and stays off for ``hold`` seconds, on every
        reference instrument. ``after`` names the event, for the failure message."""
        t = self.ctx.cfg.timings
        limit = t.energy_stop_s if within is None else float(within)
        keep = t.silence_window_s if hold is None else float(hold)
        sampler = self.ctx.lab.sampler
        since = time.monotonic()
        event = f" after {after}" if after else ""
        for source in self.require_power_source():
            try:
                sampler.wait_for(
                    source, lambda v: v["power_w"] <= POWER_FLOWING_W, limit, since_mono=since
                )
            except SamplerTimeout as exc:
                raise AssertionError(f"Energy keeps flowing{event}: {exc}") from None
        stopped = time.monotonic()
        for source in self.power_sources():
            try:
                sample = sampler.wait_for(
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
        sampler = self.ctx.lab.sampler
        since = time.monotonic()
        for source in self.require_power_source():
            try:
                sample = sampler.wait_for(
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
        """Wait until the reference meter (else the analyser) counted ``wh`` (default: the
        lab's ``energy.min_session_wh``) since the monotonic time ``since`` (default: now).
        Returns the energy counted."""
        target = self.ctx.cfg.energy.min_session_wh if wh is None else float(wh)
        source = self.require_power_source()[0]
        sampler = self.ctx.lab.sampler
        start = time.monotonic() if since is None else float(since)
        base = self._energy_at(source, start)
        # default: long enough for the target at 1 kW, the least any EV draws when charging
        limit = (
            float(timeout)
            if timeout is not None
            else target * 3.6 + self.ctx.cfg.timings.message_timeout_s
        )
        try:
            sample = sampler.wait_for(source, lambda v: v["energy_wh"] - base >= target, limit)
        except SamplerTimeout as exc:
            raise AssertionError(f"{target:g} Wh were not delivered: {exc}") from None
        delivered = sample.values["energy_wh"] - base
        logger.info(f"{source} counted {delivered:.1f} Wh")
        return delivered

    def _energy_at(self, source: str, mono: float) -> float:
        from hil.verify.energy import interpolate

        points = [(s.mono, s.values["energy_wh"]) for s in self.ctx.lab.sampler.samples(source)]
        return interpolate(points, mono)

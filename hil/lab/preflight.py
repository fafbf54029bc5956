"""``hil lab check``: reach every configured instrument before a run, and say which fail.

Each instrument is opened with its real driver, asked for its identity and one reading
that proves the link works end to end; nothing that changes the bench (no plug, no tag,
no port change) is sent. On a virtual bench the virtual bench process is started first.

With ``lab.missing_instrument: prompt`` it also says which roles an operator will stand in
for (those configured null or absent), and refuses a virtual bench that would prompt:
nobody stands at a virtual bench, and no hand can plug an EV into a virtual station or
hold a card to its reader, so an operator's "Done" there would be untrue and the step
that follows it would blame the station (docs/operator-prompts.md).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.base import InstrumentError
from drivers.registry import create_driver
from hil.lab.config import LabConfig
from hil.lab.launcher import VirtualBenchProcess
from hil.operator.base import HUMAN_ROLES

#: One harmless reading per role, to prove more than a TCP connect.
PROBES: dict[str, Callable[[Any], str]] = {
    "ev_simulator": lambda d: _pilot(d.read_pilot()),
    "energy_meter": lambda d: f"{d.read_energy_wh():.1f} Wh, {d.read_power_w():.0f} W",
    "power_analyser": lambda d: f"{d.read_power_w():.0f} W",
    "network_switch": lambda d: (
        f"port {d.station_port} {'up' if d.port_is_up(d.station_port) else 'DOWN'}"
    ),
    # read the outlet / coil only: switching it would power the station off
    "power_relay": lambda d: f"station supply {'on' if d.is_on() else 'OFF'}",
    "dc_ev_emulator": lambda d: (
        f"pilot state {d.read_pilot_state()}, session {d.read_status().state}"
    ),
    "dc_meter": lambda d: _dc_meter(d.read_measurement()),
}


def _dc_meter(reading: Any) -> str:
    return f"{reading.energy_import_wh} Wh imported, {reading.voltage_v:.0f} V"


def _pilot(reading: Any) -> str:
    pwm = "no PWM" if reading.duty_percent is None else f"{reading.duty_percent} % duty"
    return f"pilot state {reading.state}, {pwm}"


@dataclass(frozen=True)
class CheckResult:
    role: str
    driver: str
    address: str
    ok: bool
    detail: str


def check_instrument(
    role: str, driver_name: str, address: str, options: dict[str, Any]
) -> CheckResult:
    try:
        driver = create_driver(role, driver_name, address, options)
    except ValueError as exc:
        return CheckResult(role, driver_name, address, False, str(exc))
    try:
        driver.open()
        identity = driver.identify()
        probe = PROBES.get(role)
        reading = probe(driver) if probe else ""
        return CheckResult(
            role, driver_name, address, True, f"{identity}{' | ' + reading if reading else ''}"
        )
    except InstrumentError as exc:
        return CheckResult(role, driver_name, address, False, str(exc))
    except Exception as exc:  # a driver bug still must not hide the other instruments
        return CheckResult(
            role, driver_name, address, False, f"{role} at {address}: {type(exc).__name__}: {exc}"
        )
    finally:
        with contextlib.suppress(InstrumentError):
            driver.close()


def check_lab(cfg: LabConfig) -> list[CheckResult]:
    """Check every configured instrument; start the virtual bench first if needed."""
    results: list[CheckResult] = []
    virtual: VirtualBenchProcess | None = None
    addresses: dict[str, str] = {}
    wanted = [(role, inst) for role, inst in cfg.instruments if inst is not None]
    try:
        if cfg.is_virtual and any(inst.address == "virtual" for _, inst in wanted):
            log = Path(tempfile.mkdtemp(prefix="hil-lab-check-")) / "virtual-bench.log"
            # no back office is needed to reach the instruments: the station just retries
            virtual = VirtualBenchProcess(Path(cfg.source), "ws://127.0.0.1:9", log)
            addresses = virtual.start()
        for role, inst in wanted:
            address = (
                addresses.get(role, inst.address) if inst.address == "virtual" else inst.address
            )
            results.append(check_instrument(role, inst.driver, address, dict(inst.options)))
    finally:
        if virtual is not None:
            virtual.stop()
    return results


def operator_roles(cfg: LabConfig) -> list[str]:
    """The roles an operator will stand in for: with ``lab.missing_instrument: prompt``,
    each role a person can do (HUMAN_ROLES) that the bench has no instrument for."""
    if cfg.lab.missing_instrument != "prompt":
        return []
    return [role for role in HUMAN_ROLES if getattr(cfg.instruments, role) is None]


def operator_refusal(cfg: LabConfig) -> str | None:
    """Why ``hil lab check`` refuses this bench for operator prompts, or None."""
    roles = operator_roles(cfg)
    if not (cfg.is_virtual and roles):
        return None
    return (
        f"{cfg.source}: lab.missing_instrument is 'prompt' on a virtual bench (lab.bench: "
        f"virtual), but nobody can act at a virtual station for {', '.join(roles)}: an "
        "operator's 'Done' would be untrue and the station blamed for what follows; set "
        "missing_instrument: skip (those steps become N/A) or configure the instrument(s)"
    )


def operator_text(cfg: LabConfig) -> str | None:
    """What ``hil lab check`` says about operator prompts (None without them)."""
    if cfg.lab.missing_instrument != "prompt":
        return None
    roles = operator_roles(cfg)
    op = cfg.operator
    if not roles:
        return (
            "operator prompts (lab.missing_instrument: prompt): none expected; the bench has "
            "an instrument for every role an operator could stand in for "
            f"({', '.join(HUMAN_ROLES)})"
        )
    where = f"channel {op.channel}"
    if op.channel in ("web", "auto"):
        port = op.port or "<port chosen at run time>"
        when = " when there is no display" if op.channel == "auto" else ""
        where += f" (the web page listens on {op.host}:{port}{when})"
    return (
        f"operator prompts (lab.missing_instrument: prompt): an operator stands in for "
        f"{', '.join(roles)} (configured null or absent); {where}, timeout {op.timeout_s:g} s"
    )


def station_url_text(cfg: LabConfig) -> str:
    """The URL a station must be given, with its security profile, for ``hil lab check``.

    The subprotocol is the one of the station's configured version (``dut.ocpp``): OCPP-J 1.6
    §3.1.2 names ``ocpp1.6``, OCPP-J 2.0.1 (Part 4) §3.1.2 ``ocpp2.0.1``; a station offering
    the other one is refused at the handshake.
    """
    from hil.csms.security import PROFILE_NAMES
    from hil.csms.server import SUBPROTOCOLS

    sec = cfg.back_office.security
    scheme = "wss" if sec.profile in (2, 3) else "ws"
    port = cfg.back_office.port or "<port chosen at run time>"
    lines = [
        f"station URL: {scheme}://{cfg.back_office.host}:{port}/{cfg.dut.station_id} "
        f"(subprotocol {SUBPROTOCOLS[cfg.dut.ocpp]}; security profile {sec.profile}: "
        f"{PROFILE_NAMES[sec.profile]})"
    ]
    if sec.profile in (1, 2):
        lines.append(
            f"  Basic auth: user {cfg.dut.station_id}, password = the station's AuthorizationKey "
            "(back_office.security.basic_auth)"
        )
    if sec.profile in (2, 3):
        where = (
            "made afresh with a lab CA in <output>/certs at each run (certificate: auto)"
            if sec.auto
            else sec.certificate
        )
        lines.append(
            f"  TLS >= 1.2; back office certificate: {where}; the station must trust its CA"
        )
    if sec.profile == 3:
        lines.append(
            f"  client certificate required, CN={cfg.dut.station_id}, signed by the lab CA"
        )
    return "\n".join(lines)


def render(results: list[CheckResult]) -> str:
    rows = [("ROLE", "DRIVER", "ADDRESS", "RESULT")]
    rows += [
        (r.role, r.driver, r.address, ("OK    " if r.ok else "FAIL  ") + r.detail) for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row))
        for row in rows
    )

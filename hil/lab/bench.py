"""A lab opened for one run: back office, virtual bench (if any), instruments.

This is the only place that decides *which* implementation serves a role: the lab config
names a driver and an address; on the virtual bench the launcher fills in the addresses the
virtual instruments listen on. Everything above it (keywords, suites) sees drivers only.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path
from typing import Any

from drivers.base import Instrument, InstrumentError
from drivers.registry import create_driver
from hil.csms.loop import BackgroundLoop
from hil.csms.policy import ResponsePolicy
from hil.csms.security import ServerSecurity
from hil.csms.server import BackOffice
from hil.csms.session import StationSession
from hil.lab.certs import DEFAULT_HOSTS, make_lab_certs
from hil.lab.config import LabConfig, LabConfigError
from hil.lab.fileserver import LabFileServer
from hil.lab.firmware_image import write_test_images
from hil.lab.launcher import VirtualBenchProcess
from hil.lab.sampler import Loss, Sampler
from hil.operator import ChannelUnavailable, OperatorChannel, choose_channel

LOG = logging.getLogger("hil.lab")

#: The instruments sampled for the whole run (evidence, energy flow, loss detection).
SAMPLED_ROLES = ("energy_meter", "power_analyser")
#: sampled for the evidence (plots, SoC), never taken as a reference for energy
CONTEXT_ROLES = ("dc_ev_emulator",)


def make_policy(cfg: LabConfig) -> ResponsePolicy:
    """The back office's answers as the lab config sets them up: tags and boot interval."""
    policy = ResponsePolicy(cfg.back_office.heartbeat_interval_s)
    for status, tags in (
        ("Accepted", cfg.tags.valid),
        ("Invalid", cfg.tags.invalid),
        ("Blocked", cfg.tags.blocked),
        ("Expired", cfg.tags.expired),
    ):
        for tag in tags:
            policy.set_tag(tag, status)
    return policy


def new_firmware_version(cfg: LabConfig) -> str:
    """The version of the good test image: configured, or the DUT's with its last number
    counted up (``1.0.0`` -> ``1.0.1``; ``R5`` -> ``R6``; ``beta`` -> ``beta.1``)."""
    if cfg.file_server.new_firmware_version:
        return cfg.file_server.new_firmware_version
    current = cfg.dut.firmware
    match = re.search(r"(\d+)(\D*)$", current)
    if match is None:
        return f"{current}.1"[-50:]
    bumped = str(int(match.group(1)) + 1).zfill(len(match.group(1)))
    return current[: match.start()] + bumped + match.group(2)


def back_office_security(cfg: LabConfig, output_dir: Path) -> tuple[ServerSecurity, Path | None]:
    """What the back office enforces (``back_office.security``, paths resolved against the
    lab config file) and, for ``certificate: auto``, the folder of this run's lab CA, server
    and client certificates (``<output>/certs``; None otherwise)."""
    sec = cfg.back_office.security
    security = ServerSecurity(profile=sec.profile, passwords=cfg.passwords())
    tls_dir = None
    if sec.profile in (2, 3):
        if sec.auto:
            tls_dir = output_dir / "certs"
            hosts = [
                h for h in (cfg.back_office.host, *DEFAULT_HOSTS) if h not in ("0.0.0.0", "::")
            ]
            certs = make_lab_certs(tls_dir, cfg.dut.station_id, hosts, cfg.lab.name)
            security.certificate, security.key = certs.server_cert, certs.server_key
            security.ca = cfg.lab_path(sec.ca) if sec.ca else certs.ca
        else:
            assert sec.certificate is not None and sec.key is not None  # validated
            security.certificate = cfg.lab_path(sec.certificate)
            security.key = cfg.lab_path(sec.key)
            security.ca = cfg.lab_path(sec.ca) if sec.ca else None
        for what, path in (
            ("certificate", security.certificate),
            ("key", security.key),
            ("ca", security.ca),
        ):
            if path is not None and not path.is_file():
                raise LabConfigError(
                    f"{cfg.source}: field back_office.security.{what}: no such file {path} "
                    f"(value {getattr(sec, what)!r})"
                )
    return security, tls_dir


def _identity(driver: Instrument) -> str:
    """What the instrument says it is (model, serial), for the report; never fails the
    bench — an instrument that answers its readings but not its identity is still used."""
    try:
        return str(driver.identify())
    except Exception as exc:  # any driver: the identity is evidence, not a requirement
        return f"identity not reported ({type(exc).__name__}: {exc})"


class Bench:
    def __init__(self, cfg: LabConfig, output_dir: Path) -> None:
        self.cfg = cfg
        self.output_dir = output_dir
        self.loop = BackgroundLoop()
        self.policy = make_policy(cfg)
        self.back_office = BackOffice(
            self.policy,
            journal_dir=output_dir / "journal",
            host=cfg.back_office.host,
            port=cfg.back_office.port,
            call_timeout=cfg.back_office.call_timeout_s,
            ping_interval=cfg.back_office.ping_interval_s,
            versions=(cfg.dut.ocpp,),  # the lab config pins the DUT's OCPP version
            refusals_path=output_dir / "refusals.jsonl",
        )
        self.virtual: VirtualBenchProcess | None = None
        #: the run's lab CA and certificates (``back_office.security.certificate: auto``)
        self.tls_dir: Path | None = None
        self.instruments: dict[str, Instrument] = {}
        #: role -> the address its driver uses (the virtual bench's when configured so)
        self.addresses: dict[str, str] = {}
        #: role -> why it could not be opened (the error names role and address); such a
        #: role is absent from :attr:`instruments`, and steps needing it fail
        self.unreachable: dict[str, str] = {}
        #: role -> the model and serial the instrument reported when the lab opened
        self.identities: dict[str, str] = {}
        #: the lab's firmware / diagnostics server (steps 17-21), files under <output>/files
        self.file_server = LabFileServer.from_config(
            cfg.file_server, output_dir / "files", output_dir / "transfers.jsonl"
        )
        self.new_firmware_version = new_firmware_version(cfg)
        self.firmware_images: dict[str, Path] = {}  # "good" / "corrupt" -> served file
        self.sampler: Sampler | None = None
        #: how an operator is asked (``lab.missing_instrument: prompt``), else None
        self.operator: OperatorChannel | None = None

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        """Start everything; on any failure close what was started and re-raise."""
        try:
            self.loop.start()
            self.back_office.security, self.tls_dir = back_office_security(
                self.cfg, self.output_dir
            )
            self.loop.run(self.back_office.start(), timeout=10)
            self.file_server.start()
            self.firmware_images = write_test_images(
                self.file_server.root / "firmware", self.new_firmware_version
            )
            self.station  # noqa: B018 - create the DUT's journal before it connects
            addresses: dict[str, str] = {}
            if self.cfg.is_virtual:
                self.virtual = VirtualBenchProcess(
                    Path(self.cfg.source),
                    self.back_office.url(),
                    self.output_dir / "virtual-bench.log",
                    self.tls_dir,
                )
                addresses = self.virtual.start()
            self._open_instruments(addresses)
            self._start_sampler()
            self._start_operator()
        except BaseException:
            self.close()
            raise

    def _open_instruments(self, virtual_addresses: dict[str, str]) -> None:
        for role, inst in self.cfg.instruments:
            if inst is None:
                continue
            address = inst.address
            if address == "virtual":
                if role not in virtual_addresses:
                    raise LabConfigError(
                        f"{self.cfg.source}: field instruments.{role}.address: the virtual "
                        f"bench has no virtual {role} (value 'virtual')"
                    )
                address = virtual_addresses[role]
            try:
                driver = create_driver(role, inst.driver, address, dict(inst.options))
            except ValueError as exc:
                raise LabConfigError(
                    f"{self.cfg.source}: field instruments.{role}.driver: {exc} "
                    f"(value {inst.driver!r})"
                ) from None
            self.addresses[role] = address
            try:
                driver.open()
            except InstrumentError as exc:  # the message names role and address
                self._set_unreachable(role, driver, exc)
                continue
            self.instruments[role] = driver
            self.identities[role] = _identity(driver)
            LOG.info("%s: %s at %s (%s)", role, inst.driver, address, self.identities[role])

    def _set_unreachable(self, role: str, driver: Instrument, exc: InstrumentError) -> None:
        """A configured instrument that does not answer: the run goes on without it, and
        every step that needs it fails naming it."""
        self.unreachable[role] = f"{role} unreachable when the lab opened: {exc}"
        self.instruments.pop(role, None)
        LOG.warning("%s; steps that need it will fail", self.unreachable[role])
        try:
            driver.close()
        except InstrumentError as close_exc:
            LOG.warning("closing %s: %s", role, close_exc)

    def _start_sampler(self) -> None:
        """Poll the reference meter and the analyser for the whole run, as evidence.

        The analyser integrates from the start of the run, so any window's energy is the
        difference of two samples, like the meter's register.
        """
        analyser = self.instruments.get("power_analyser")
        if analyser is not None:
            try:
                analyser.integration_reset()  # type: ignore[attr-defined]
                analyser.integration_start()  # type: ignore[attr-defined]
            except InstrumentError as exc:
                self._set_unreachable("power_analyser", analyser, exc)
        sources = {
            role: self.instruments[role]
            for role in (*SAMPLED_ROLES, *CONTEXT_ROLES)
            if role in self.instruments
        }
        if not sources:
            return
        timings = self.cfg.timings
        self.sampler = Sampler(
            self.output_dir / "samples.jsonl",
            timings.instrument_poll_s,
            grace_s=timings.instrument_grace_s,
        )
        for role, driver in sources.items():
            self.sampler.add_source(
                role,
                driver.read_sample,  # type: ignore[attr-defined]
                address=self.addresses.get(role, driver.address),
            )
        self.sampler.start()

    def _start_operator(self) -> None:
        """The operator channel (web page, console or Tk) when the lab config asks for
        prompts; a channel that cannot work here is a config error."""
        if self.cfg.lab.missing_instrument != "prompt":
            return
        try:
            self.operator = choose_channel(
                self.cfg.operator, bench=self.cfg.lab.name, station=self.cfg.dut.station_id
            )
        except ChannelUnavailable as exc:
            raise LabConfigError(
                f"{self.cfg.source}: field operator.channel: {exc} "
                f"(value {self.cfg.operator.channel!r})"
            ) from None
        self.operator.start()

    def close(self) -> None:
        """Stop everything that was started; safe to call more than once."""
        operator, self.operator = self.operator, None
        if operator is not None:
            operator.close()
        if self.sampler is not None:
            self.sampler.stop()
            self.sampler = None
        for role, driver in list(self.instruments.items()):
            try:
                driver.close()
            except InstrumentError as exc:
                LOG.warning("closing %s: %s", role, exc)
        self.instruments.clear()
        if self.virtual is not None:
            self.virtual.stop()
            self.virtual = None
        self.file_server.stop()
        with contextlib.suppress(RuntimeError):  # the loop never started
            self.loop.run(self.back_office.stop(), timeout=10)
        self.loop.stop()

    # -- access ----------------------------------------------------------------------

    @property
    def station(self) -> StationSession:
        """The DUT's session in the back office."""
        return self.back_office.session(self.cfg.dut.station_id)

    def instrument(self, role: str) -> Instrument | None:
        """The driver of ``role``, or None when the bench lacks it or it was unreachable
        when the lab opened. A lost instrument's driver is still returned: ask
        :meth:`instrument_loss`."""
        return self.instruments.get(role)

    def instrument_loss(self, role: str) -> Loss | None:
        """How the sampled instrument ``role`` was lost mid-run, or None."""
        if self.sampler is None or role not in self.sampler.sources:
            return None
        return self.sampler.loss(role)

    def lost_instruments(self) -> dict[str, Loss]:
        """Every sampled instrument lost so far (role -> :class:`Loss`)."""
        return {} if self.sampler is None else self.sampler.losses()

    def instrument_problem(self, role: str) -> str | None:
        """Why a configured ``role`` cannot be used: unreachable at the start, or lost
        mid-run (the message names role and address); None when it works or is absent."""
        if role in self.unreachable:
            return self.unreachable[role]
        loss = self.instrument_loss(role)
        return loss.message if loss is not None else None

    def instrument_works(self, role: str) -> bool:
        """The bench has ``role``, it opened, and it has not been lost."""
        return role in self.instruments and self.instrument_loss(role) is None

    def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """A back-office CALL to the DUT from Robot's thread."""
        limit = timeout or self.cfg.back_office.call_timeout_s + 5
        return self.loop.run(self.station.call(action, payload), timeout=limit)

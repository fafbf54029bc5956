"""The lab config: which bench, which station, which instruments, which timings.

A lab config is YAML validated with pydantic. Every model forbids unknown fields, so a typo
is an error, and :func:`load_lab_config` turns pydantic's report into one line that names the
file, the field and the offending value.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from drivers.registry import driver_spec, options_model


class LabConfigError(ValueError):
    """A lab config that cannot be used; the message names file, field and value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Capabilities(_Strict):
    """What the station can do by design; a step it cannot do ends as SKIP (N/A)."""

    firmware_update: Literal["ocpp", "maker_cloud", "none"] = "ocpp"
    diagnostics: bool = True
    smart_charging: bool = True
    signed_meter_values: bool = False
    authorization_cache: bool = True
    trigger_message: bool = True
    reservation: bool = False


class StationMeter(_Strict):
    """The station's own (billing) meter."""

    accuracy_class_percent: float = Field(1.0, gt=0, le=10)
    register_resolution_wh: float = Field(1.0, gt=0)
    public_key: str | None = None  # hex SPKI of the Eichrecht meter, if known up front


#: The connector standards of DC stations the lab supports (CHAdeMO: not yet).
DC_CONNECTORS = ("CCS2", "CCS1")
#: The high-level (EV to station) protocols of a DC station the lab knows.
DC_PROTOCOLS = ("DIN70121", "ISO15118-2")


#: a 400 V-class EV battery: where the lab compares DC limits in W and in A
NOMINAL_DC_VOLTAGE_V = 400.0


class DcLimits(_Strict):
    """A DC station's rating, read as ``cfg.dut.dc`` (docs/lab-config.md, "DC stations").

    ``cfg.dut.dc`` is None on an AC station and never None on a DC station
    (``dut.current_type: DC``): every field has a default, a typical 150 kW CCS2 station's.
    Checked when the file loads: the voltage range is not empty, and ``max_power_w`` is no
    more than ``max_voltage_v`` x ``max_current_a`` (a station cannot deliver more).
    """

    #: The highest output power of one EVSE (W), as it offers it to the EV
    #: (EVSEMaximumPowerLimit); a station sharing its power between two EVSEs gives what
    #: one delivers with the other idle. Likewise the current and the voltages below.
    max_power_w: float = Field(150_000.0, gt=0)
    #: The highest output current (A DC).
    max_current_a: float = Field(375.0, gt=0, le=1000)
    #: The output voltage range (V DC): the EV's battery voltage must lie inside it.
    min_voltage_v: float = Field(150.0, gt=0)
    max_voltage_v: float = Field(920.0, gt=0, le=1000)
    connector: Literal["CCS2", "CCS1"] = "CCS2"
    #: The high-level protocols it speaks with the EV over the CCS power line.
    protocols: list[Literal["DIN70121", "ISO15118-2"]] = Field(
        default_factory=lambda: list(DC_PROTOCOLS), min_length=1
    )
    #: How many EVSEs (outputs that can charge an EV at the same time) it has.
    evses: int = Field(1, ge=1, le=2)

    @property
    def nominal_voltage_v(self) -> float:
        """The DC voltage at which a limit in W and one in A are compared (a composite
        schedule mixing both): 400 V, the usual battery of a 400 V-class EV, or the nearer
        end of the station's output range when 400 V lies outside it."""
        return min(max(NOMINAL_DC_VOLTAGE_V, self.min_voltage_v), self.max_voltage_v)

    @field_validator("connector", mode="before")
    @classmethod
    def _supported_connector(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in DC_CONNECTORS:
            raise ValueError(
                f"unsupported connector {value!r}; the lab supports "
                f"{', '.join(sorted(DC_CONNECTORS))}"
            )
        return value

    @field_validator("protocols", mode="before")
    @classmethod
    def _supported_protocols(cls, value: Any) -> Any:
        if isinstance(value, list):
            for name in value:
                if isinstance(name, str) and name not in DC_PROTOCOLS:
                    raise ValueError(
                        f"unsupported high-level protocol {name!r}; the lab supports "
                        f"{', '.join(DC_PROTOCOLS)}"
                    )
            twice = sorted({str(n) for n in value if value.count(n) > 1})
            if twice:
                raise ValueError(f"{', '.join(twice)} is listed more than once")
        return value

    @model_validator(mode="after")
    def _physically_possible(self) -> DcLimits:
        """An empty voltage range, or more power than voltage x current can give, is
        refused at the field that is wrong (its file, field and value named)."""
        problems: list[InitErrorDetails] = []
        given = self.model_fields_set

        def shown(field: str, unit: str) -> str:
            value = f"{getattr(self, field):g} {unit}"
            return value if field in given else f"{value} (the default)"

        if self.min_voltage_v >= self.max_voltage_v:
            msg = (
                f"the output voltage range is empty: min_voltage_v must be below "
                f"max_voltage_v, which is {shown('max_voltage_v', 'V')}"
            )
            problems.append(
                _problem(("min_voltage_v",), "dc_voltage_range", msg, self.min_voltage_v)
            )
        possible = self.max_voltage_v * self.max_current_a
        if self.max_power_w > possible:
            msg = (
                f"a station cannot deliver more than max_voltage_v x max_current_a = "
                f"{shown('max_voltage_v', 'V')} x {shown('max_current_a', 'A')} = "
                f"{possible:g} W"
            )
            problems.append(_problem(("max_power_w",), "dc_power", msg, self.max_power_w))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


def _problem(loc: tuple[str | int, ...], kind: str, msg: str, value: Any) -> InitErrorDetails:
    """One error at ``loc`` (relative to the model that raises it) with ``msg`` as is."""
    error = PydanticCustomError(kind, "{reason}", {"reason": msg})
    return InitErrorDetails(type=error, loc=loc, input=value)


#: What the lab asks a DC station to sample unless ``dut.measurands`` says otherwise.
DC_MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Power.Offered",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "SoC",
)

#: The ``dut`` fields that describe an AC station only: what a DC station is told.
AC_ONLY_DUT_FIELDS = {
    "phases": (
        "dut.phases applies to AC stations; a DC station (dut.current_type: DC) has no phases"
    ),
    "max_current_a": (
        "dut.max_current_a (the current per phase) applies to AC stations; a DC station "
        "(dut.current_type: DC) gives its output current as dut.dc.max_current_a"
    ),
}


class Dut(_Strict):
    """The device under test."""

    station_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    vendor: str = Field(min_length=1, max_length=20)
    model: str = Field(min_length=1, max_length=20)
    firmware: str = Field(min_length=1, max_length=50)
    serial: str | None = Field(None, max_length=25)
    connectors: int = Field(1, ge=1, le=8)
    cable: Literal["socket", "tethered"] = "socket"
    #: AC or DC charging, as the certificate states it.
    current_type: Literal["AC", "DC"] = "AC"
    #: AC only: the rating per phase, and how many phases. A DC station refuses both.
    max_current_a: float = Field(32.0, ge=6, le=80)
    phases: int = Field(3, ge=1, le=3)
    #: DC only: the DC station's rating; None on an AC station, never None on a DC
    #: station (filled with the defaults when left out).
    dc: DcLimits | None = None
    #: The OCPP version the station speaks (the virtual station's front-end follows it).
    ocpp: Literal["1.6", "2.0.1"] = "1.6"
    capabilities: Capabilities = Capabilities()
    meter: StationMeter = StationMeter()
    #: Measurands the lab asks for in MeterValuesSampledData (step 4); a DC station's
    #: default adds what DC steps check: the offered power, the voltage and the EV's SoC.
    measurands: list[str] = [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Offered",
        "Current.Import",
    ]

    @model_validator(mode="before")
    @classmethod
    def _ac_or_dc(cls, data: Any) -> Any:
        """Fields of one current type given on a station of the other are refused.

        Only what the file gives is checked (a default never contradicts), before the
        fields are, so a DC station's ``max_current_a: 375`` is named as an AC field, not
        as more than 80 A. A DC station without ``dut.dc`` gets the defaults, and its
        cable is ``tethered`` unless given: DC charging has no socket on the station.
        """
        if not isinstance(data, dict):
            return data
        kind = data.get("current_type", "AC")
        problems: list[InitErrorDetails] = []
        if kind == "DC":
            for field, reason in AC_ONLY_DUT_FIELDS.items():
                if field in data:
                    problems.append(_problem((field,), "ac_field_on_dc", reason, data[field]))
            if data.get("cable") == "socket":
                msg = (
                    "a DC station (dut.current_type: DC) has a tethered cable: a DC charging "
                    "cable is permanently attached to the station (connection case C), there "
                    "is no socket to unlock; leave dut.cable out or give tethered"
                )
                problems.append(_problem(("cable",), "socket_on_dc", msg, data["cable"]))
            data = {"cable": "tethered", "measurands": list(DC_MEASURANDS), **data}
            if data.get("dc") is None:
                data["dc"] = {}
        elif kind == "AC" and data.get("dc") is not None:
            stated = "dut.current_type: AC" if "current_type" in data else "AC by default"
            msg = (
                f"dut.dc applies to DC stations; this station is AC ({stated}); give "
                "dut.current_type: DC for a DC station"
            )
            problems.append(_problem(("dc",), "dc_on_ac", msg, data["dc"]))
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return data

    @model_validator(mode="after")
    def _evses_have_connectors(self) -> Dut:
        """Every EVSE has at least one connector: ``dut.dc.evses`` <= ``dut.connectors``."""
        if self.dc is not None and self.dc.evses > self.connectors:
            given = "" if "connectors" in self.model_fields_set else " (the default)"
            msg = (
                f"each EVSE has at least one connector, but dut.connectors is "
                f"{self.connectors}{given}"
            )
            problem = _problem(("dc", "evses"), "dc_evses", msg, self.dc.evses)
            raise ValidationError.from_exception_data(type(self).__name__, [problem])
        return self


#: The OCPP 1.6 Security Whitepaper's AuthorizationKey length (the Basic auth password).
AUTHORIZATION_KEY_LENGTH = (16, 40)


class Security(_Strict):
    """OCPP 1.6 security profile of the back office (Security Whitepaper, edition 2/3).

    0: plain ``ws://``, no auth (the default). 1: HTTP Basic auth over ``ws://``. 2: TLS
    (``wss://``, the back office's certificate) + Basic auth. 3: TLS with a client
    certificate verified against ``ca``; no Basic auth. Paths are relative to the lab
    config file. ``certificate: auto`` makes a lab CA, a server certificate and a client
    certificate for the station in the run's output folder (``certs/``) at every run.
    """

    profile: Literal[0, 1, 2, 3] = 0
    certificate: str | None = Field(None, min_length=1)  # PEM, or "auto"
    key: str | None = Field(None, min_length=1)
    ca: str | None = Field(None, min_length=1)  # verifies client certificates (profile 3)
    #: station id -> password (AuthorizationKey), or one password for the DUT
    basic_auth: str | dict[str, str] | None = None

    @property
    def auto(self) -> bool:
        return self.certificate == "auto"


class BackOffice(_Strict):
    """Where the simulated central system listens. Port 0 picks a free port."""

    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    heartbeat_interval_s: int = Field(10, ge=1)  # returned in BootNotification.conf
    call_timeout_s: float = Field(10.0, gt=0)
    ping_interval_s: float | None = Field(5.0, gt=0)
    security: Security = Security()


class Tags(_Strict):
    """idTags the lab presents; the back office answers Authorize accordingly."""

    valid: list[str] = Field(min_length=1)
    invalid: list[str] = []
    blocked: list[str] = []
    expired: list[str] = []

    @field_validator("valid", "invalid", "blocked", "expired")
    @classmethod
    def _max_len(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not 1 <= len(tag) <= 20:
                raise ValueError(f"idTag {tag!r} must be 1-20 characters (OCPP IdToken)")
        return tags


class Timings(_Strict):
    """Intervals and tolerances; real benches use longer ones than the virtual bench."""

    boot_timeout_s: float = Field(60.0, gt=0)
    message_timeout_s: float = Field(15.0, gt=0)
    heartbeat_interval_s: int = Field(60, ge=1)
    heartbeat_tolerance_s: float = Field(2.0, ge=0)
    heartbeat_count: int = Field(3, ge=2)
    boot_retry_interval_s: int = Field(10, ge=1)  # interval sent with Pending / Rejected
    meter_sample_interval_s: int = Field(10, ge=1)
    offline_duration_s: float = Field(60.0, gt=0)
    connection_timeout_s: int = Field(60, ge=1)
    silence_window_s: float = Field(3.0, gt=0)  # how long "nothing arrives" is watched
    instrument_poll_s: float = Field(1.0, gt=0)  # reference meter / analyser sampling
    energy_stop_s: float = Field(5.0, gt=0)  # how soon power must stop (after stop, fault)
    #: An instrument that gives no good reading for this long is lost: the running step
    #: fails, the lab stops the energy, later steps needing that role are N/A.
    instrument_grace_s: float = Field(3.0, gt=0)
    #: How long the power relay keeps the station off in a power cycle (step 1): long
    #: enough for its supply to drain, or the "power cycle" is only a brown-out.
    power_off_s: float = Field(5.0, ge=0)


class Energy(_Strict):
    """Tolerance of the energy reconciliation: percent of the reference plus an absolute.

    Each figure's own resolution (the DUT's register resolution for meterStart/meterStop,
    the decimals of MeterValues, the reference meter's register) is allowed on top.
    """

    tolerance_percent: float | None = Field(None, gt=0)  # default: DUT accuracy class
    tolerance_wh: float = Field(0.0, ge=0)  # extra absolute allowance
    min_session_wh: float = Field(100.0, gt=0)


class SmartCharging(_Strict):
    """How the lab verifies charging limits (SC1-SC3): timings and tolerances.

    A limit is verified three ways: in the station's MeterValues, at the pilot (duty read by
    the EV simulator) and in the current the meter and the analyser measure.
    """

    #: Nominal voltage (phase to neutral) to convert A per phase and W total. On a DC
    #: station: the DC voltage at which the lab and the station compare a limit in W with
    #: one in A in a composite schedule (set it near the EV's battery voltage, e.g. 400).
    voltage_v: float = Field(230.0, gt=0)
    #: How long after a limit changes the output may take to follow it.
    reaction_time_s: float = Field(60.0, gt=0)
    #: Length of each period of the lab's test schedules.
    period_s: int = Field(120, ge=1)
    #: Allowed difference between a limit and the current offered or measured (A per phase).
    current_tolerance_a: float = Field(1.0, gt=0)


class Instrument(_Strict):
    """One instrument role on the bench: which driver, at which address, with which options.

    ``address`` is a URL or VISA resource string (``socket://host:port``,
    ``/dev/ttyUSB0``, ``modbus-tcp://host:502``, ``TCPIP0::host::port::SOCKET``,
    ``snmp://host:161``). On the virtual bench it may be ``virtual``: the bench launcher
    fills in the address the virtual instrument listens on.

    ``driver`` must be one :data:`drivers.registry.DRIVERS` lists for the role, and
    ``options`` only the options that driver declares there, of the declared types: the
    lab config checks both when it loads and keeps the typed values (see
    ``LabConfig._virtual_addresses_only_on_virtual_bench``), so a bad option stops the run
    at once, not when the driver is created.
    """

    driver: str = Field(min_length=1)
    address: str = Field(min_length=1)
    options: dict[str, Any] = {}
    #: For the report's instrument table: the serial number on the calibration
    #: certificate, and when the next calibration is due (the report warns when a run
    #: used the instrument after that date).
    serial: str | None = Field(None, min_length=1, max_length=64)
    calibration_due: date | None = None


class Instruments(_Strict):
    """Instrument roles. Each is optional: a step needing a missing role is skipped."""

    ev_simulator: Instrument | None = None
    energy_meter: Instrument | None = None
    power_analyser: Instrument | None = None
    network_switch: Instrument | None = None
    identification: Instrument | None = None
    power_relay: Instrument | None = None
    #: DC stations: the EV emulator that speaks DIN 70121 / ISO 15118-2 to the station
    #: (docs/dc-ev-emulator-protocol.md), and the station's own signing DC meter read
    #: directly (docs/instruments-dc-meter.md)
    dc_ev_emulator: Instrument | None = None
    dc_meter: Instrument | None = None


class FileServer(_Strict):
    """The lab's own firmware / diagnostics server. Port 0 picks a free port."""

    host: str = "127.0.0.1"
    advertised_host: str | None = None  # the address the station uses to reach the lab
    http_port: int = Field(0, ge=0, le=65535)
    ftp_port: int = Field(0, ge=0, le=65535)
    ftp_user: str = "hil"
    ftp_password: str = "hil"
    #: Version of the good test image (steps 18, 19); default: dut.firmware with its last
    #: number counted up (1.0.0 -> 1.0.1).
    new_firmware_version: str | None = Field(None, min_length=1, max_length=50)
    #: How long the lab waits for each next firmware / diagnostics status (a download,
    #: an installation, an upload) before the step fails.
    transfer_timeout_s: float = Field(180.0, gt=0)


class StationSettings(_Strict):
    """Behaviours of the virtual station that OCPP 1.6 (or 2.0.1) allows either way.

    Real stations differ here without breaking a rule, so the lab must pass each of them
    (with a remark where the lab should know); these settings let the virtual station show
    them. They are not deviations: a step must PASS with any of them.
    """

    #: Measurands its meter can sample; None = every one the virtual meter has.
    supported_measurands: list[str] | None = None
    #: The lowest ConnectionTimeOut it accepts (some stations refuse anything under 60 s).
    min_connection_timeout_s: int = Field(0, ge=0)
    #: Report connectors Unavailable before a Hard reset cuts the power (a SHOULD).
    unavailable_before_hard_reset: bool = False
    #: Send every status notification twice (OCPP 1.6 does not forbid repeats).
    repeat_statuses: bool = False
    #: Report StatusNotification Finishing before StopTransaction (the order is not fixed).
    finishing_before_stop: bool = False
    #: Already registered before the lab started: its first connection carries no
    #: BootNotification (allowed for a reconnect), until it is reset or power-cycled.
    registered_before: bool = False
    #: Connectors left Inoperative in its non-volatile memory when the bench starts.
    inoperative_connectors: list[int] = []
    #: OCPP 2.0.1 (L01): report InstallRebooting before rebooting into a new image.
    install_rebooting: bool = False
    #: OCPP 2.0.1 (L01): a corrupt image ends in InstallVerificationFailed, without
    #: Installing (instead of Installing, InstallationFailed).
    verification_failure: bool = False
    #: OCPP 2.0.1 (N07): name a fault in a NotifyEvent (Problem true, the technical code);
    #: false leaves it to the connector's Faulted status alone (a remark, not a failure).
    notify_problems: bool = True
    #: OCPP 2.0.1 (E01, TxCtrlr.TxStartPoint): when a transaction starts. PowerPathClosed:
    #: once the EV is plugged in and authorized (as 1.6). EVConnected: at the plug, with no
    #: idToken; the authorization comes in a later TransactionEvent of the same transaction.
    tx_start_point: Literal["PowerPathClosed", "EVConnected"] = "PowerPathClosed"
    #: DC: when the EV ends its charging session (SessionStop at its target SoC) while
    #: still plugged, end the transaction at once (1.6 reason Other, 2.0.1 StoppedByEV)
    #: instead of keeping it, SuspendedEV, until the user stops it or unplugs.
    stop_transaction_when_ev_ends: bool = False


class InstrumentFault(_Strict):
    """A virtual instrument that stops answering mid-run (it hangs, like a meter whose
    Modbus gateway lost power), so tests can prove the lab notices."""

    role: Literal["energy_meter", "power_analyser"]
    #: Once the bench has delivered this much energy (Wh, counted from the bench's start).
    after_wh: float = Field(0.0, ge=0)


class StationSecurity(_Strict):
    """How the virtual station connects under back_office.security; each setting left out
    follows the back office (so it connects). Set one to see the lab refuse it."""

    #: The Basic auth password it sends; default: back_office.security's for the DUT.
    password: str | None = None
    #: The CA (PEM) it trusts for the back office's certificate; default: the lab CA
    #: (``auto``) or back_office.security.ca.
    ca: str | None = Field(None, min_length=1)
    #: Its client certificate (profile 3): a PEM path, ``none`` to send none; default: the
    #: ``auto`` client certificate.
    client_certificate: str | None = Field(None, min_length=1)
    client_key: str | None = Field(None, min_length=1)


class Virtual(_Strict):
    """Settings of the virtual bench only: its timings and the deviations switched on."""

    deviations: list[str] = []
    boot_delay_s: float = Field(0.3, ge=0)
    websocket_ping_interval_s: float = Field(1.0, gt=0)
    #: The virtual station's socket timeout for firmware downloads and diagnostics uploads.
    transfer_timeout_s: float = Field(3.0, gt=0)
    deviation_options: dict[str, Any] = {}
    station: StationSettings = StationSettings()
    station_security: StationSecurity = StationSecurity()
    instrument_faults: list[InstrumentFault] = []

    @field_validator("deviations")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        from hil.lab.deviations import KNOWN_DEVIATIONS

        for name in names:
            if name not in KNOWN_DEVIATIONS:
                known = ", ".join(sorted(KNOWN_DEVIATIONS))
                raise ValueError(f"unknown deviation {name!r}; known: {known}")
        return names


class Lab(_Strict):
    name: str = "unnamed lab"
    #: The charging platform the station is certified for (the report's title names it).
    platform: str = Field("the charging platform", min_length=1)
    #: Who ran the tests, for the report (``hil report --tester`` overrides it).
    tester: str | None = None
    bench: Literal["virtual", "real"] = "virtual"
    #: What a step does when it needs an instrument the bench lacks: skip, or ask an operator
    #: (through the ``operator`` section's channel).
    missing_instrument: Literal["skip", "prompt"] = "skip"


class Operator(_Strict):
    """How an operator is asked when ``lab.missing_instrument`` is ``prompt``
    (docs/operator-prompts.md). ``auto``: a Tk dialog when the lab PC has a display, else
    the web page; ``web``: a page the run serves on ``host``:``port`` (0 = a free port;
    ``0.0.0.0`` to reach it from a tablet); ``console``: the terminal; ``tk``: a dialog."""

    channel: Literal["auto", "web", "console", "tk"] = "auto"
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(0, ge=0, le=65535)
    #: How long the lab waits for the operator's answer; then the step fails.
    timeout_s: float = Field(300.0, gt=0)


class ReportSettings(_Strict):
    """What the certification report says of itself (docs/report.md). The tester's file
    (``tester-remarks.yaml``) may give both instead; the report warns when either is
    missing."""

    #: The report's number, as the lab files it (e.g. ``CR-2026-0042``).
    number: str | None = Field(None, min_length=1, max_length=64)
    #: Who authorised (signs off) the report.
    authorised_by: str | None = Field(None, min_length=1, max_length=100)


class LabConfig(_Strict):
    """A whole lab config file."""

    lab: Lab = Lab()
    dut: Dut
    back_office: BackOffice = BackOffice()
    tags: Tags
    timings: Timings = Timings()
    energy: Energy = Energy()
    smart_charging: SmartCharging = SmartCharging()
    instruments: Instruments = Instruments()
    file_server: FileServer = FileServer()
    operator: Operator = Operator()
    virtual: Virtual = Virtual()
    report: ReportSettings = ReportSettings()
    source: str = Field("", exclude=True)  # the file it came from, for messages

    @model_validator(mode="after")
    def _virtual_addresses_only_on_virtual_bench(self) -> LabConfig:
        """Check every instrument against the bench and its driver; type its options.

        ``address: virtual`` needs the virtual bench; ``driver`` must be one the registry
        knows for the role; ``options`` must be ones that driver declares, of the declared
        type (they are replaced by the typed values). Every problem is reported at its own
        field (``instruments.<role>.address`` ...), so the message names field and value.
        """
        problems: list[InitErrorDetails] = []

        def problem(loc: tuple[str | int, ...], kind: str, msg: str, value: Any) -> None:
            where: tuple[str | int, ...] = ("instruments", *loc)
            error = PydanticCustomError(kind, "{reason}", {"reason": msg})
            problems.append(InitErrorDetails(type=error, loc=where, input=value))

        for role, inst in self.instruments:
            if inst is None:
                continue
            if inst.address == "virtual" and self.lab.bench != "virtual":
                problem(
                    (role, "address"),
                    "virtual_address_on_real_bench",
                    f"'virtual' is an address only the virtual bench fills in, but lab.bench "
                    f"is {self.lab.bench!r}; give the instrument's real address",
                    inst.address,
                )
            try:
                spec = driver_spec(role, inst.driver)
            except ValueError as exc:
                problem((role, "driver"), "unknown_driver", str(exc), inst.driver)
                continue
            try:
                typed = options_model(role, inst.driver).model_validate(inst.options)
            except ValidationError as exc:
                takes = ", ".join(sorted(spec.options)) or "no options"
                for err in exc.errors():
                    loc = (role, "options", *err["loc"])
                    if err["type"] == "extra_forbidden":
                        msg = f"unknown option for driver {inst.driver}; it takes: {takes}"
                        problem(loc, "unknown_option", msg, err["input"])
                    else:
                        problem(loc, err["type"], err["msg"], err["input"])
                continue
            inst.options = typed.model_dump(exclude_unset=True)
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _security_combinations(self) -> LabConfig:
        """back_office.security: what each profile needs, and AuthorizationKey lengths.

        Every problem is reported at its own field, so the message names field and value.
        """
        sec = self.back_office.security
        problems: list[InitErrorDetails] = []

        def problem(field: str | tuple[str, ...], msg: str, value: Any) -> None:
            error = PydanticCustomError("security", "{reason}", {"reason": msg})
            if isinstance(field, str):
                field = ("back_office", "security", field)
            problems.append(InitErrorDetails(type=error, loc=field, input=value))

        profile = sec.profile
        if profile in (2, 3):
            if sec.certificate is None:
                problem(
                    "certificate",
                    f"security profile {profile} (TLS) needs the back office's certificate: "
                    "a PEM path or 'auto'",
                    None,
                )
            elif not sec.auto and sec.key is None:
                problem("key", f"security profile {profile} needs the certificate's key", None)
        if profile == 3 and sec.ca is None and not sec.auto:
            problem(
                "ca",
                "security profile 3 needs the CA that signed the stations' client certificates",
                None,
            )
        if profile in (0, 1) and sec.certificate is not None:
            problem(
                "certificate",
                f"security profile {profile} is plain ws:// (no TLS); use profile 2 or 3 for a "
                "certificate",
                sec.certificate,
            )
        if profile in (1, 2) and ":" in self.dut.station_id:
            problem(
                ("dut", "station_id"),
                f"security profile {profile} logs the station in with HTTP Basic auth, whose "
                "user name is the station id; Basic auth (RFC 7617) splits user and password "
                "at the first ':', so a station id containing ':' could never be the user "
                "name; use a station id without ':' or security profile 0 or 3",
                self.dut.station_id,
            )
        if profile in (1, 2):
            passwords = self.passwords()
            if self.dut.station_id not in passwords:
                problem(
                    "basic_auth",
                    f"security profile {profile} needs a password (AuthorizationKey) for the "
                    f"DUT {self.dut.station_id!r}",
                    sec.basic_auth,
                )
        if sec.basic_auth is not None and profile in (0, 3):
            problem(
                "basic_auth",
                f"security profile {profile} uses no Basic auth; use profile 1 or 2",
                sec.basic_auth,
            )
        low, high = AUTHORIZATION_KEY_LENGTH
        here = ("back_office", "security", "basic_auth")
        entries: list[tuple[tuple[str, ...], str | None]] = []
        if isinstance(sec.basic_auth, str):
            entries.append((here, sec.basic_auth))
        elif isinstance(sec.basic_auth, dict):
            entries += [((*here, sid), pw) for sid, pw in sec.basic_auth.items()]
        station_pw = self.virtual.station_security.password
        entries.append((("virtual", "station_security", "password"), station_pw))
        for loc, password in entries:
            if password is not None and not low <= len(password) <= high:
                msg = (
                    f"a password (AuthorizationKey) must be {low}-{high} characters "
                    f"(OCPP 1.6 Security Whitepaper); this one has {len(password)}"
                )
                problem(loc, msg, password)
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _no_ac_voltage_on_dc(self) -> LabConfig:
        """``smart_charging.voltage_v`` (the AC phase-to-neutral voltage) given for a DC
        station is refused: its output voltage is a range, ``dut.dc``."""
        if self.dut.current_type == "DC" and "voltage_v" in self.smart_charging.model_fields_set:
            msg = (
                "smart_charging.voltage_v is the AC voltage (phase to neutral) and applies to "
                "AC stations; a DC station (dut.current_type: DC) has an output voltage "
                "range instead, dut.dc.min_voltage_v to dut.dc.max_voltage_v"
            )
            where = ("smart_charging", "voltage_v")
            problem = _problem(where, "ac_field_on_dc", msg, self.smart_charging.voltage_v)
            raise ValidationError.from_exception_data(type(self).__name__, [problem])
        return self

    @model_validator(mode="after")
    def _deviations_fit_the_station(self) -> LabConfig:
        """A deviation of DC stations only (``Deviation.current_type``) switched on for an
        AC station is refused: the virtual station could not show it, so a step would pass
        with the defect said to be on."""
        from hil.lab.deviations import KNOWN_DEVIATIONS

        kind = self.dut.current_type
        for i, name in enumerate(self.virtual.deviations):
            deviation = KNOWN_DEVIATIONS[name]
            if not deviation.applies_to(kind):
                msg = (
                    f"deviation {name!r} applies to {deviation.current_type} stations only; "
                    f"this station is dut.current_type: {kind}"
                )
                where = ("virtual", "deviations", i)
                problem = _problem(where, "deviation_not_for_station", msg, name)
                raise ValidationError.from_exception_data(type(self).__name__, [problem])
        return self

    def passwords(self) -> dict[str, str]:
        """back_office.security.basic_auth as station id -> password (a single password is
        the DUT's)."""
        auth = self.back_office.security.basic_auth
        if auth is None:
            return {}
        if isinstance(auth, str):
            return {self.dut.station_id: auth}
        return dict(auth)

    def lab_path(self, path: str) -> Path:
        """A path from the lab config, relative to the lab config file."""
        base = Path(self.source).parent if self.source else Path.cwd()
        return base / Path(path).expanduser()

    @property
    def is_virtual(self) -> bool:
        return self.lab.bench == "virtual"

    def energy_tolerance(self) -> tuple[float, float]:
        """(percent, absolute Wh) allowed between energy sources."""
        pct = self.energy.tolerance_percent
        if pct is None:
            pct = self.dut.meter.accuracy_class_percent
        return pct, self.energy.tolerance_wh


def _locate(data: Any, loc: tuple[Any, ...]) -> Any:
    """The raw value at ``loc`` (a pydantic error location), or None if there is none."""
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _describe(err: Any, raw: Any) -> str:
    """One pydantic error as ``field <dotted.path>: <what is wrong> (value <value>)``."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    field = ".".join(str(p) for p in loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"field {field}: unknown field (value {err.get('input')!r}); check the spelling"
    if err["type"] == "missing":
        return f"field {field}: required field is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if not loc:  # a whole-config check: its "value" would be the whole file
        return f"field {field}: {msg}"
    return f"field {field}: {msg} (value {_locate(raw, loc)!r})"


_KINDS = {
    list: "a list",
    str: "a single value",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


def parse_lab_config(raw: Any, source: str = "<memory>") -> LabConfig:
    """Validate an already-parsed YAML document."""
    if raw is None:
        raise LabConfigError(f"{source}: the lab config is empty")
    if not isinstance(raw, dict):
        kind = _KINDS.get(type(raw), type(raw).__name__)
        raise LabConfigError(f"{source}: a lab config must be a mapping of sections, got {kind}")
    try:
        cfg = LabConfig.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = _describe(errors[0], raw)
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise LabConfigError(f"{source}: {first}{more}") from None
    cfg.source = source
    return cfg


def _not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> LabConfigError:
    """Where the first byte that is not UTF-8 sits: line, column (characters), byte offset."""
    start = exc.start
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
    where = f"line {line}, column {column} (byte {start})"
    return LabConfigError(
        f"{path}: {where}: not UTF-8 (byte 0x{data[start]:02x}); a lab config must be saved "
        "as UTF-8"
    )


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's report on one line: where, what, and in which construct."""

    def at(mark: Any) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}"

    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if problem is None:  # not a marked error: PyYAML's own text, joined onto one line
        return "is not valid YAML: " + " ".join(str(exc).split())
    where = f"{at(mark)} " if mark is not None else ""
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        problem += f" ({context} at {at(context_mark)})"
    elif context:
        problem += f" ({context})"
    return f"{where}is not valid YAML: {problem}"


class _DuplicateKey(yaml.YAMLError):
    """A key given twice in one mapping: where both are, and the dotted path to it."""

    def __init__(self, field: str, first_line: int, second_line: int, section: bool) -> None:
        super().__init__(field)
        self.field = field
        self.first_line = first_line
        self.second_line = second_line
        self.section = section

    def describe(self) -> str:
        kind = "section" if self.section else "field"
        return (
            f"{kind} {self.field} is given twice (line {self.first_line} and line "
            f"{self.second_line}); the second would silently win"
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, but a key given twice in one mapping (at any depth) is an error.

    Plain ``yaml.safe_load`` keeps the last of two equal keys without a word, so a lab config
    with ``ping_interval_s`` (or a whole ``virtual:`` section) given twice silently loses the
    first. Merge keys (``<<: *anchor``) still work: a key the mapping sets itself overrides a
    merged one, as YAML intends; only keys written twice in the same mapping are refused.

    The keys are checked as written: :meth:`construct_document` notes each mapping's own
    key/value pairs and its path before anything is constructed, because merging
    (``flatten_mapping``) rewrites a merged mapping's pairs in place, possibly before that
    mapping is itself constructed.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        self._as_written: dict[int, tuple[list[Any], list[tuple[yaml.Node, yaml.Node]]]] = {}
        stack: list[tuple[yaml.Node, list[Any]]] = [(node, [])]
        while stack:
            item, path = stack.pop()
            if id(item) in self._as_written:  # an alias: the same node again
                continue
            if isinstance(item, yaml.MappingNode):
                self._as_written[id(item)] = (path, list(item.value))
                for key_node, value_node in item.value:
                    key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                    stack.append((value_node, [*path, key]))
            elif isinstance(item, yaml.SequenceNode):
                self._as_written[id(item)] = (path, [])
                stack.extend((child, [*path, i]) for i, child in enumerate(item.value))
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        path, pairs = getattr(self, "_as_written", {}).get(id(node), ([], node.value))
        seen: dict[Any, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in pairs:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                key_node, yaml.ScalarNode
            ):
                continue
            key = self.construct_object(key_node, deep=False)
            try:
                first_key, first_value = seen.setdefault(key, (key_node, value_node))
            except TypeError:  # unhashable: the base constructor reports it
                continue
            if first_key is not key_node:
                raise _DuplicateKey(
                    ".".join(str(part) for part in (*path, key)),
                    first_key.start_mark.line + 1,
                    key_node.start_mark.line + 1,
                    isinstance(first_value, yaml.MappingNode)
                    or isinstance(value_node, yaml.MappingNode),
                )
        return super().construct_mapping(node, deep=deep)


def load_lab_config(path: str | Path) -> LabConfig:
    """Read and validate a lab config file; errors name the file, field and value."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LabConfigError(f"{path}: cannot read lab config: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, data, exc) from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except _DuplicateKey as exc:
        raise LabConfigError(f"{path}: {exc.describe()}") from None
    except yaml.YAMLError as exc:
        raise LabConfigError(f"{path}: {_yaml_problem(exc)}") from None
    return parse_lab_config(raw, str(path))

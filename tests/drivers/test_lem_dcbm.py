"""The LEM DCBM 400/600 driver against the virtual LEM DCBM, over real HTTP on loopback.

The DC meter inside a DC charger is the legal register: its signed OCMF is what the lab
holds against the record the station forwards in OCPP. These tests prove the driver reads
it faithfully (units, API version, the signed record byte for byte) and that every way a
meter can fail reaches the lab as an ``InstrumentError`` naming role, address and cause.
Every server here listens on 127.0.0.1 and is stopped by its test.
"""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from drivers.base import InstrumentError
from drivers.dc_meter.base import DcTransactionRequest, DcTransactionState
from drivers.dc_meter.lem_dcbm import LemDcbm, api_version
from hil.sim.instruments.lem_dcbm import VirtualLemDcbm
from hil.verify.ocmf import (
    CheckStatus,
    SignatureStatus,
    parse_record,
    tamper_signature,
    verify_session,
    verify_signature,
)
from hil.verify.ocmf.session import SIGNATURES

CLIENT = "04A1B2C3"


def driver_for(meter: VirtualLemDcbm, **options: object) -> LemDcbm:
    driver = LemDcbm(meter.address, timeout_s=2.0, **options)  # type: ignore[arg-type]
    driver.open()
    return driver


def request(tid: str = "tx-1") -> DcTransactionRequest:
    return DcTransactionRequest(evse_id="DE*HIL*E1", transaction_id=tid, client_id=CLIENT)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- reading the meter ----------------------------------------------------------------------


def test_status_identity_and_time_sync(virtual_dcbm: VirtualLemDcbm) -> None:
    """The lab identifies the meter it certifies against and sees whether its clock is set:
    a signed reading from an unsynchronised meter must not pass as synchronised."""
    meter = driver_for(virtual_dcbm)
    assert meter.identify() == f"LEM DCBM 400/600 {virtual_dcbm.meter_id} fw 1.1.0.0"
    status = meter.read_status()
    assert (status.transaction_ongoing, status.time_synchronised) == (False, False)
    assert meter.read_public_key() == virtual_dcbm.public_key_hex
    meter.set_time(datetime.now(UTC))
    assert meter.read_status().time_synchronised is True


def test_live_measurement_is_in_v_a_w_and_wh(virtual_dcbm: VirtualLemDcbm) -> None:
    """LEM reports power in kW and energy in kWh; the lab compares W and Wh. A driver that
    passed kWh through would understate the station's energy a thousandfold."""
    virtual_dcbm.add_energy(12345.6, voltage_v=800.0, current_a=125.5)
    m = driver_for(virtual_dcbm).read_measurement()
    assert (m.voltage_v, m.current_a) == (800.0, 125.5)
    assert m.power_w == pytest.approx(100_400.0)
    assert m.energy_import_wh == Decimal(12345)  # whole Wh: what the meter signs
    assert m.energy_export_wh == 0
    assert m.timestamp.tzinfo is not None
    assert abs(m.timestamp - datetime.now(UTC)) < timedelta(seconds=5)


def test_legal_transaction_ocmf_verifies_is_dc_and_matches_livemeasure(
    virtual_dcbm: VirtualLemDcbm,
) -> None:
    """The meter's own OCMF for a transaction verifies with the project's verifier, is a DC
    record, and signs exactly the registers the meter showed at start and stop: the figures
    the lab later holds against the station's OCPP meterStart/meterStop. The meter names
    the running and last transaction, the key to fetch its OCMF by."""
    virtual_dcbm.add_energy(50_000, 0, 0)
    meter = driver_for(virtual_dcbm)
    meter.set_time(datetime.now(UTC))
    at_start = meter.read_measurement().energy_import_wh
    assert meter.read_last_transaction().transaction_id == ""
    started = meter.start_transaction(request())
    assert started.running and meter.read_status().transaction_ongoing
    assert meter.read_last_transaction() == DcTransactionState("tx-1", running=True)
    for _ in range(5):
        virtual_dcbm.add_energy(1234.5, voltage_v=750.0, current_a=200.0)
    at_stop = meter.read_measurement().energy_import_wh
    stopped = meter.stop_transaction("tx-1")
    assert (stopped.energy_import_start_wh, stopped.energy_import_stop_wh) == (at_start, at_stop)
    assert not meter.read_status().transaction_ongoing
    assert meter.read_last_transaction() == DcTransactionState("tx-1", running=False)

    signed = meter.read_ocmf("tx-1")
    assert signed.current_types == {"DC"}
    assert signed.begin is not None and signed.end is not None
    assert (signed.begin.value_wh, signed.end.value_wh) == (at_start, at_stop)
    verdict = verify_session(
        [signed.text],
        meter.read_public_key(),
        id_tag=CLIENT,
        meter_start_wh=at_start,
        meter_stop_wh=at_stop,
        reference_wh=at_stop - at_start,
    )
    assert verdict.passed and not verdict.remarks, verdict.render()
    assert verdict.signed_energy_wh == Decimal(6172)


@pytest.mark.parametrize("api", [1, 2])
def test_firmware_above_major_1_uses_the_v2_paths(api: int) -> None:
    """Firmware with major version above 1 takes /v2 (with the v2 transaction fields), older
    firmware /v1: a driver on the wrong paths gets 404s or a transaction without its fields."""
    with VirtualLemDcbm(api_version=api) as meter:
        driver = driver_for(meter)
        assert driver.api == api
        driver.read_measurement()
        driver.start_transaction(request())
        driver.stop_transaction("tx-1")
        driver.read_ocmf("tx-1")
        versioned = [
            (method, path, body)
            for method, path, body in meter.requests
            if not path.startswith(("/v1/status", "/v1/settings"))
        ]
    assert len(versioned) == 4
    assert all(path.startswith(f"/v{api}/") for _, path, _ in versioned), versioned
    post = next(body for method, _, body in versioned if method == "POST")
    assert ("TT" in post) == (api == 2)


@pytest.mark.parametrize(
    ("firmware", "api"),
    [("0.1.2.3", 1), ("1.1.0.0", 1), ("1.2.0.0", 2), ("1.10.4.0", 2), ("2.0.1", 2), ("1.9", 1)],
)
def test_api_version_from_the_firmware_string(firmware: str, api: int) -> None:
    """LEM writes four numbers with the major second (EVerest's reading); compared as numbers,
    so 1.10 is not taken for older than 1.2."""
    assert api_version(firmware) == api


# -- failures -------------------------------------------------------------------------------


def test_unreachable_meter_names_role_and_address() -> None:
    """A meter nobody answers for (wrong IP, station off) must say which instrument, where."""
    address = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(InstrumentError) as caught:
        LemDcbm(address, timeout_s=1.0).open()
    err = caught.value
    assert (err.role, err.address) == ("dc_meter", address)
    assert "GET /v1/status: cannot connect" in str(err)
    assert str(err).startswith(f"dc_meter at {address}:")


def test_silent_meter_times_out() -> None:
    """A meter that accepts the connection and never answers must not hang the lab."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        address = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(InstrumentError, match=r"no answer within 0\.2 s"):
            LemDcbm(address, timeout_s=0.2).open()


def test_malformed_json_is_a_clear_error(virtual_dcbm: VirtualLemDcbm) -> None:
    """A reply that is not JSON is reported as such, with what the meter sent."""
    virtual_dcbm.malformed_json = True
    with pytest.raises(InstrumentError) as caught:
        driver_for(virtual_dcbm)
    text = str(caught.value)
    assert "GET /v1/status: reply is not JSON" in text
    assert 'body \'{"status"' in text


def test_reply_missing_a_field_names_it(virtual_dcbm: VirtualLemDcbm) -> None:
    """A firmware that renames or drops a field must fail loudly, not read as zero energy."""
    meter = driver_for(virtual_dcbm)
    virtual_dcbm.omit_fields = {"energyImportTotal"}
    with pytest.raises(InstrumentError, match=r"livemeasure: reply lacks energyImportTotal: body"):
        meter.read_measurement()


def test_http_error_status_shows_the_body(virtual_dcbm: VirtualLemDcbm) -> None:
    """A non-2xx answer is an error whose message carries the meter's own explanation."""
    meter = driver_for(virtual_dcbm)
    virtual_dcbm.http_status = 500
    with pytest.raises(InstrumentError, match=r"HTTP 500 .*virtual meter told to fail"):
        meter.read_measurement()


def test_ocmf_that_does_not_parse_is_a_clear_error(virtual_dcbm: VirtualLemDcbm) -> None:
    """What the meter hands out as its signed record must be one; otherwise the lab says
    so at the source instead of failing a verification later for an unclear reason."""
    meter = driver_for(virtual_dcbm)
    meter.start_transaction(request())
    meter.stop_transaction("tx-1")
    virtual_dcbm.ocmf_garbage = True
    with pytest.raises(InstrumentError) as caught:
        meter.read_ocmf("tx-1")
    assert "GET /v1/ocmf?transactionId=tx-1: not an OCMF record" in str(caught.value)
    assert "this is no OCMF record" in str(caught.value)


def test_meter_refusing_the_time_mid_transaction(virtual_dcbm: VirtualLemDcbm) -> None:
    """The meter refuses a clock change during a legal transaction (result 0): the lab
    must know its time sync did not happen."""
    meter = driver_for(virtual_dcbm)
    meter.start_transaction(request())
    with pytest.raises(InstrumentError, match="refused the time"):
        meter.set_time(datetime.now(UTC))


def test_client_id_longer_than_the_meter_takes_is_refused() -> None:
    """LEM's clientId holds at most 37 characters; a longer one is the caller's error."""
    with pytest.raises(ValueError, match="at most 37"):
        DcTransactionRequest(evse_id="E", transaction_id="t", client_id="x" * 38)


# -- what the lab does with the record ------------------------------------------------------


def test_tampered_ocmf_fails_verification(virtual_dcbm: VirtualLemDcbm) -> None:
    """An energy value changed after signing (or a damaged signature) fails the project's
    verifier: the meter's record is evidence only while its signature holds."""
    meter = driver_for(virtual_dcbm)
    meter.start_transaction(request())
    virtual_dcbm.add_energy(10_000, 800.0, 100.0)
    meter.stop_transaction("tx-1")
    signed = meter.read_ocmf("tx-1")
    key = meter.read_public_key()
    assert verify_signature(signed.record, key).valid

    raised = re.sub(r'("TX":"E","RV":)(\d+)\.', r"\g<1>9\2.", signed.text)
    assert raised != signed.text
    for forged in (raised, tamper_signature(signed.text)):
        record = parse_record(forged).record
        assert record is not None
        assert verify_signature(record, key).status is SignatureStatus.INVALID
        assert verify_session([forged], key).check(SIGNATURES).status is CheckStatus.FAIL


def test_an_ac_reading_from_the_dc_meter_is_passed_on_not_hidden(
    virtual_dcbm: VirtualLemDcbm,
) -> None:
    """The driver hands out what the meter signed: a record with RT AC from a DC meter
    reaches the lab as such (its signature is valid), so the lab's check can fail it."""
    virtual_dcbm.current_type = "AC"
    meter = driver_for(virtual_dcbm)
    meter.start_transaction(request())
    meter.stop_transaction("tx-1")
    signed = meter.read_ocmf("tx-1")
    assert signed.current_types == {"AC"}
    assert verify_signature(signed.record, meter.read_public_key()).valid


def test_unknown_option_is_refused() -> None:
    """A mistyped lab-config option must not be ignored silently."""
    with pytest.raises(InstrumentError, match="unknown option"):
        LemDcbm("http://127.0.0.1", timout_s=1)


# -- HTTPS with the meter's pinned self-signed certificate ----------------------------------


def self_signed(directory: Path, name: str) -> tuple[str, str]:
    """A self-signed certificate on a 1024-bit RSA key, as the LEM DCBM ships one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_https_with_the_pinned_certificate(tmp_path: Path) -> None:
    """Over HTTPS the driver trusts exactly the meter's own certificate (a 1024-bit RSA,
    self-signed, naming no lab address): with it pinned, the meter is read; with another
    certificate pinned, the connection is refused; without a pin, https is refused outright
    instead of switching verification off."""
    tls = self_signed(tmp_path, "meter")
    other, _ = self_signed(tmp_path, "impostor")
    with VirtualLemDcbm(tls=tls) as meter:
        assert meter.address.startswith("https://127.0.0.1:")
        driver = driver_for(meter, tls_certificate=tls[0])
        assert driver.read_identity().meter_id == meter.meter_id
        with pytest.raises(InstrumentError, match="TLS: the meter's certificate does not verify"):
            LemDcbm(meter.address, timeout_s=2.0, tls_certificate=other).open()
    with pytest.raises(InstrumentError, match="https needs the meter's certificate"):
        LemDcbm("https://127.0.0.1:8443")

"""OCPP 1.6 security profiles 1-3 over real WebSockets: Basic auth, TLS, client certificates.

Every server listens on 127.0.0.1 and is stopped by the test that started it. Certificates
come from ``hil lab certs`` at test time (nothing secret is committed).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import ssl
import warnings
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from hil.checklist import STEPS
from hil.cli import main as hil_main
from hil.csms.journal import EVENT
from hil.csms.security import ServerSecurity, basic_auth_header, client_context
from hil.lab.certs import LabCerts
from hil.lab.config import LabConfigError, load_lab_config
from hil.sim.station.security import connect_options
from tests.suites.runner import REPO, run_steps

STATION = "CP-SEC-1"
PASSWORD = "lab-test-key-0123456789"  # 23 characters: a valid AuthorizationKey
BOOT = {"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "1"}


def make_certs(out: Path, *extra: str) -> LabCerts:
    assert hil_main(["lab", "certs", "--out", str(out), "--station-id", STATION, *extra]) == 0
    return LabCerts.in_dir(out)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory):
    """A second lab CA: nobody else trusts it."""
    return make_certs(tmp_path_factory.mktemp("other-certs"))


@pytest.fixture
def office_with(start_office):
    """Start a back office with a given security; stopped after the test."""
    return lambda security: start_office(STATION, security=security)


def security(profile: int, certs: LabCerts) -> ServerSecurity:
    return ServerSecurity(
        profile=profile,
        certificate=certs.server_cert if profile >= 2 else None,
        key=certs.server_key if profile >= 2 else None,
        ca=certs.ca if profile == 3 else None,
        passwords={STATION: PASSWORD} if profile in (1, 2) else {},
    )


async def register(url: str, **options) -> dict:
    """Connect as a station, send BootNotification, return its answer's payload."""
    async with connect(url, subprotocols=["ocpp1.6"], open_timeout=5, **options) as ws:
        await ws.send(json.dumps([2, "1", "BootNotification", BOOT]))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert reply[0] == 3, reply
    return reply[2]


def refused(office, timeout: float = 5.0):
    """The first ``refused`` event in the DUT's journal (waits for it)."""
    journal = office.session(STATION).journal
    return journal.wait_for(
        lambda f: f.dir == EVENT and f.kind == "refused", 0, timeout, "a refused connection"
    )


def connected(office):
    return [
        f
        for f in office.session(STATION).journal.frames()
        if f.dir == EVENT and f.kind == "connect"
    ]


# -- certificates ------------------------------------------------------------------------


def test_hil_lab_certs_writes_a_ca_server_and_client_set(tmp_path, capsys):
    files = make_certs(tmp_path, "--host", "lab-pc.local", "--host", "192.0.2.10")
    out = capsys.readouterr().out
    for path in (files.ca, files.server_cert, files.server_key, files.client_cert):
        assert path.is_file() and str(path) in out
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    client = x509.load_pem_x509_certificate(files.client_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["lab-pc.local"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.10")]
    assert server.issuer == ca.subject and client.issuer == ca.subject
    cn = client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == STATION
    assert "CN=CP-SEC-1" in out


def test_default_server_certificate_names_loopback(certs):
    server = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


# -- profiles that let the station in -----------------------------------------------------


@pytest.mark.parametrize("profile", [1, 2, 3])
def test_station_registers_over_each_profile(profile, certs, office_with):
    office = office_with(security(profile, certs))
    url = office.url(STATION)
    assert url.startswith("wss://" if profile >= 2 else "ws://")
    options: dict = {}
    if profile in (1, 2):
        options["additional_headers"] = {"Authorization": basic_auth_header(STATION, PASSWORD)}
    if profile >= 2:
        client = (certs.client_cert, certs.client_key) if profile == 3 else (None, None)
        options["ssl"] = client_context(certs.ca, *client)
    answer = asyncio.run(register(url, **options))
    assert answer["status"] == "Accepted"
    (event,) = connected(office)
    assert event.info["security_profile"] == profile
    if profile == 3:
        assert event.info["client_certificate_cn"] == STATION


def test_virtual_station_connect_options_follow_the_lab_config(certs, office_with, tmp_path):
    """The virtual station's own connect code (Basic auth + lab CA + client certificate)."""
    cfg = load_lab_config(REPO / "lab_configs" / "virtual-security-profile-3.yaml")
    cfg.dut.station_id = STATION
    office = office_with(security(3, certs))
    options = connect_options(cfg, certs.ca.parent)
    assert asyncio.run(register(office.url(STATION), **options))["status"] == "Accepted"
    cfg2 = load_lab_config(REPO / "lab_configs" / "virtual-security-profile-2.yaml")
    options2 = connect_options(cfg2, certs.ca.parent)
    assert options2["additional_headers"]["Authorization"].startswith("Basic ")


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [1, 2])
def test_wrong_password_is_401_and_journaled(profile, certs, office_with):
    office = office_with(security(profile, certs))
    options: dict = {"additional_headers": {"Authorization": basic_auth_header(STATION, "x" * 20)}}
    if profile == 2:
        options["ssl"] = client_context(certs.ca)
    with pytest.raises(InvalidStatus) as info:
        asyncio.run(register(office.url(STATION), **options))
    response = info.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    event = refused(office)
    assert event.info["reason"] == f"wrong password for station {STATION}"
    assert not connected(office)
    summary = office.connection_summary(STATION)
    assert f"wrong password for station {STATION}" in summary
    # it reached the back office: the summary must not also say it "never connected"
    assert "never connected" not in summary, summary
    where = f"(at {office.url(STATION)}, security profile {profile}"
    assert summary.startswith(f"'{STATION}' tried to connect 1 time {where}"), summary
    assert f"it was refused: wrong password for station {STATION}." in summary


def test_hex_authorization_key_may_be_sent_as_text_or_as_its_octets(certs, office_with):
    """1.6 Security Whitepaper: the AuthorizationKey is hex; its octets are the password."""
    key = "00112233445566778899aabbccddeeff01020304"  # 40 hex digits, 20 octets
    sec = security(1, certs)
    sec.passwords = {STATION: key}
    office = office_with(sec)
    octets = base64.b64encode(STATION.encode() + b":" + bytes.fromhex(key)).decode()
    for header in (basic_auth_header(STATION, key), f"Basic {octets}"):
        answer = asyncio.run(
            register(office.url(STATION), additional_headers={"Authorization": header})
        )
        assert answer["status"] == "Accepted"
    assert len(connected(office)) == 2


def test_missing_authorization_header_is_401_and_journaled(certs, office_with):
    office = office_with(security(1, certs))
    with pytest.raises(InvalidStatus) as info:
        asyncio.run(register(office.url(STATION)))
    assert info.value.response.status_code == 401
    assert "WWW-Authenticate" in info.value.response.headers
    assert refused(office).info["reason"].startswith("no Authorization header")


def test_station_that_does_not_trust_the_lab_ca_refuses_the_back_office(
    certs, other_certs, office_with
):
    office = office_with(security(2, certs))
    options = {
        "ssl": client_context(other_certs.ca),
        "additional_headers": {"Authorization": basic_auth_header(STATION, PASSWORD)},
    }
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        asyncio.run(register(office.url(STATION), **options))
    # the station's alert reaches the back office: it journals the failed TLS handshake
    reason = refused(office).info["reason"]
    # a station that sends an alert: "... does not trust the lab CA"; one that hangs up
    # (Python's asyncio clients do): "... may not trust the back office's certificate"
    assert reason.startswith("TLS handshake failed") and "trust" in reason, reason
    assert reason.endswith("(before the HTTP handshake)")
    assert not connected(office)


def test_profile_3_without_client_certificate_is_refused_and_journaled(certs, office_with):
    office = office_with(security(3, certs))
    with pytest.raises((ssl.SSLError, ConnectionClosed, InvalidMessage, OSError)):
        asyncio.run(register(office.url(STATION), ssl=client_context(certs.ca)))
    reason = refused(office).info["reason"]
    assert reason.startswith("no client certificate"), reason
    assert not connected(office)


def test_profile_3_client_certificate_from_another_ca_is_refused(certs, other_certs, office_with):
    office = office_with(security(3, certs))
    ctx = client_context(certs.ca, other_certs.client_cert, other_certs.client_key)
    with pytest.raises((ssl.SSLError, ConnectionClosed, InvalidMessage, OSError)):
        asyncio.run(register(office.url(STATION), ssl=ctx))
    reason = refused(office).info["reason"]
    assert reason.startswith("certificate verify failed: "), reason
    assert not connected(office)


def test_tls_below_1_2_is_refused(certs, office_with):
    office = office_with(security(2, certs))
    ctx = client_context(certs.ca)
    with warnings.catch_warnings():  # deprecated versions, on purpose
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, OSError)):
        asyncio.run(register(office.url(STATION), ssl=ctx))
    # refused by the back office ("offers no TLS 1.2 or higher"), or by the client's own
    # OpenSSL before it sends anything: then the back office sees a hang-up
    assert "no TLS 1.2 or higher" in refused(office).info["reason"]


def test_plain_ws_to_the_tls_port_is_refused_and_journaled(certs, office_with):
    office = office_with(security(2, certs))
    plain = office.url(STATION).replace("wss://", "ws://")
    with pytest.raises((InvalidMessage, ConnectionClosed, OSError)):
        asyncio.run(register(plain))
    assert "plain HTTP (ws://) to the TLS port" in refused(office).info["reason"]


def test_tls_refusals_go_to_the_dut_journal_only_from_the_dut_address(certs, office_with):
    """A TLS refusal has no URL, so no station id: it is in the DUT's journal when it
    comes from the host the DUT last connected from (or before the DUT connected at all),
    and in the refusals log always — a stranger's TLS noise never fills the DUT's journal.
    """
    office = office_with(security(2, certs))
    plain = office.url(STATION).replace("wss://", "ws://")

    def plain_from(host: str) -> None:
        with pytest.raises((InvalidMessage, ConnectionClosed, OSError)):
            asyncio.run(register(plain, local_addr=(host, 0)))

    def dut_refusals() -> int:
        journal = office.session(STATION).journal
        return sum(1 for f in journal.frames() if f.dir == EVENT and f.kind == "refused")

    plain_from("127.0.0.2")  # before the DUT connected: it may be the DUT
    refused(office)
    auth = {"Authorization": basic_auth_header(STATION, PASSWORD)}
    ctx = client_context(certs.ca)
    asyncio.run(register(office.url(STATION), ssl=ctx, additional_headers=auth))
    plain_from("127.0.0.2")  # another host than the DUT's: the refusals log only
    plain_from("127.0.0.1")  # the DUT's host: its journal too
    office.session(STATION).journal.wait_for(
        lambda f: f.kind == "refused" and f.info["remote"].startswith("127.0.0.1:"),
        0,
        5,
        "the refusal from the DUT's host",
    )
    assert dut_refusals() == 2
    remotes = [r["remote"].rsplit(":", 1)[0] for r in refusals_in(office)]
    assert remotes == ["127.0.0.2", "127.0.0.2", "127.0.0.1"]


# -- profile 3: the certificate is the station's identity ---------------------------------


def issue_client_certificate(certs: LabCerts, cn: str, out: Path) -> tuple[Path, Path]:
    """Another station's client certificate from the same lab CA (CN = ``cn``)."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca = x509.load_pem_x509_certificate(certs.ca.read_bytes())
    ca_key = serialization.load_pem_private_key(certs.ca_key.read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    cert_path, key_path = out / f"{cn}.pem", out / f"{cn}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def refusals_in(office) -> list[dict]:
    path = office.refusals.path
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_profile_3_the_dut_certificate_cannot_connect_under_another_station_id(certs, office_with):
    """1.6 Security Whitepaper §1.4.2 / 2.0.1 A00: the client certificate's CN is the
    station's identity. Harm prevented: the DUT's certificate let any client boot as
    ``/CP-EVIL``."""
    office = office_with(security(3, certs))
    ctx = client_context(certs.ca, certs.client_cert, certs.client_key)
    with pytest.raises(InvalidStatus) as err:
        asyncio.run(register(office.url("CP-EVIL"), ssl=ctx))
    assert err.value.response.status_code == 403
    # journaled with both names in the journal of the station the certificate names (the
    # DUT's); the made-up id gets no session and no journal file
    event = refused(office)
    assert event.info["station_id"] == "CP-EVIL"
    assert event.info["client_certificate_cn"] == STATION
    assert "not 'CP-EVIL''s as the URL says" in event.info["reason"]
    assert "CP-EVIL" not in office.sessions
    assert sorted(p.name for p in (office.journal_dir).iterdir()) == [f"{STATION}.jsonl"]
    (line,) = refusals_in(office)
    assert line["station_id"] == "CP-EVIL" and line["client_certificate_cn"] == STATION


def test_profile_3_another_stations_certificate_never_displaces_the_connected_dut(
    certs, office_with, tmp_path
):
    """Harm prevented: a client with another lab-CA certificate (CN CP-OTHER) connected as
    the DUT's id replaced the real DUT's connection, and the rest of the run would have
    certified the impostor."""
    office = office_with(security(3, certs))
    dut_ctx = client_context(certs.ca, certs.client_cert, certs.client_key)
    other_ctx = client_context(certs.ca, *issue_client_certificate(certs, "CP-OTHER", tmp_path))

    async def scenario() -> tuple[int, dict]:
        url = office.url(STATION)
        async with connect(url, subprotocols=["ocpp1.6"], ssl=dut_ctx, open_timeout=5) as dut:
            await dut.send(json.dumps([2, "1", "BootNotification", BOOT]))
            await asyncio.wait_for(dut.recv(), 5)
            with pytest.raises(InvalidStatus) as err:
                await register(url, ssl=other_ctx)
            # the DUT's connection is still the one served
            await dut.send(json.dumps([2, "2", "Heartbeat", {}]))
            reply = json.loads(await asyncio.wait_for(dut.recv(), 5))
        return err.value.response.status_code, reply

    status, reply = asyncio.run(scenario())
    assert status == 403
    assert reply[0] == 3 and reply[1] == "2" and "currentTime" in reply[2]
    event = refused(office)
    assert event.info["station_id"] == STATION
    assert event.info["client_certificate_cn"] == "CP-OTHER"
    assert "station 'CP-OTHER''s (its subject CN)" in event.info["reason"]
    kinds = [f.kind for f in office.session(STATION).journal.frames() if f.dir == EVENT]
    assert "superseded" not in kinds and kinds.count("connect") == 1
    assert not office.findings.since(0)


# -- lab config ----------------------------------------------------------------------------


def _lab(tmp_path: Path, security_section: dict, **virtual) -> Path:
    data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
    data["back_office"]["security"] = security_section
    if virtual:
        data["virtual"].update(virtual)
    path = tmp_path / "bench-s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("section", "virtual", "field", "value"),
    [
        ({"profile": 2, "basic_auth": PASSWORD}, {}, "back_office.security.certificate", "None"),
        (
            {"profile": 2, "certificate": "bo.pem", "basic_auth": PASSWORD},
            {},
            "back_office.security.key",
            "None",
        ),
        ({"profile": 3, "certificate": "bo.pem", "key": "k.pem"}, {}, "security.ca", "None"),
        ({"profile": 1}, {}, "back_office.security.basic_auth", "None"),
        ({"profile": 1, "basic_auth": "short"}, {}, "back_office.security.basic_auth", "'short'"),
        (
            {"profile": 1, "basic_auth": {"VIRTUAL-CP-001": "k" * 41}},
            {},
            "back_office.security.basic_auth.VIRTUAL-CP-001",
            repr("k" * 41),
        ),
        ({"profile": 1, "basic_auth": {"OTHER": PASSWORD}}, {}, "security.basic_auth", "OTHER"),
        ({"profile": 5}, {}, "back_office.security.profile", "5"),
        ({"profile": 1, "basic_auth": PASSWORD, "cert": "x"}, {}, "security.cert", "'x'"),
        ({"profile": 3, "certificate": "auto", "basic_auth": PASSWORD}, {}, "basic_auth", PASSWORD),
        (
            {"profile": 1, "basic_auth": PASSWORD},
            {"station_security": {"password": "tiny"}},
            "virtual.station_security.password",
            "'tiny'",
        ),
    ],
)
def test_bad_security_config_names_file_field_and_value(tmp_path, section, virtual, field, value):
    path = _lab(tmp_path, section, **virtual)
    with pytest.raises(LabConfigError) as info:
        load_lab_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: field ") and field in message and value in message, message


def test_good_security_configs_load_and_url_says_wss(tmp_path, capsys):
    for n in (1, 2, 3):
        lab = REPO / "lab_configs" / f"virtual-security-profile-{n}.yaml"
        cfg = load_lab_config(lab)
        assert cfg.back_office.security.profile == n
        from hil.lab.preflight import station_url_text

        text = station_url_text(cfg)
        scheme = "wss" if n >= 2 else "ws"
        assert text.startswith(f"station URL: {scheme}://127.0.0.1:") and "VIRTUAL-CP-001" in text
        assert f"security profile {n}" in text


def test_hil_lab_check_prints_the_url_without_instruments(tmp_path, capsys):
    data = yaml.safe_load((REPO / "lab_configs" / "virtual-security-profile-2.yaml").read_text())
    data["instruments"] = {}
    data["back_office"]["port"] = 8443
    path = tmp_path / "ocpp-only.yaml"
    path.write_text(yaml.safe_dump(data))
    assert hil_main(["lab", "check", "--lab", str(path)]) == 0
    out = capsys.readouterr().out
    assert "wss://127.0.0.1:8443/VIRTUAL-CP-001" in out and "security profile 2" in out
    assert "no instruments configured" in out


# -- the suites over profile 3 --------------------------------------------------------------


@pytest.mark.robot
@pytest.mark.parametrize("profile", [1, 2, 3])
def test_the_whole_core_profile_passes_over_each_security_profile(tmp_path, profile):
    """Issue 11: every Core step (1-16, 22) over Basic auth, TLS + Basic auth, mutual TLS."""
    lab = REPO / "lab_configs" / f"virtual-security-profile-{profile}.yaml"
    core = [s.id for s in STEPS if s.profile == "Core"]
    outcomes = run_steps(tmp_path, lab, core)
    assert set(core) == set(outcomes) and len(core) == 17
    failed = {s: o.message for s, o in outcomes.items() if o.status != "PASS"}
    assert not failed, failed
    journal = (tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl").read_text().splitlines()
    assert not [line for line in journal if '"kind": "refused"' in line]


@pytest.mark.robot
def test_registration_and_heartbeat_steps_pass_over_profile_3(tmp_path):
    lab = REPO / "lab_configs" / "virtual-security-profile-3.yaml"
    outcomes = run_steps(tmp_path, lab, ["1", "3"])
    assert {step: o.status for step, o in outcomes.items()} == {"1": "PASS", "3": "PASS"}, {
        s: o.message for s, o in outcomes.items()
    }
    journal = (tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl").read_text().splitlines()
    connects = [json.loads(line) for line in journal if '"kind": "connect"' in line]
    assert connects and all(
        c["info"]["client_certificate_cn"] == "VIRTUAL-CP-001" for c in connects
    )
    assert (tmp_path / "out" / "certs" / "lab-ca.pem").is_file()


# -- the virtual station refused through the whole lab (bench process, launcher, back office)


@pytest.mark.parametrize(
    ("station_security", "reason"),
    [
        ({"password": "not-the-right-key-00"}, "wrong password for station VIRTUAL-CP-001"),
        ({"ca": "other/lab-ca.pem"}, "TLS handshake failed"),
        ({"client_certificate": "none"}, "no client certificate"),
    ],
    ids=["wrong-password", "untrusted-back-office", "no-client-certificate"],
)
def test_virtual_station_refusals_are_journaled(tmp_path, station_security, reason):
    from hil.lab.bench import Bench

    make_certs(tmp_path / "other")
    profile = 3 if "client_certificate" in station_security else 2
    data = yaml.safe_load(
        (REPO / "lab_configs" / f"virtual-security-profile-{profile}.yaml").read_text()
    )
    data["instruments"] = {}
    data["virtual"]["station_security"] = station_security
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    bench = Bench(load_lab_config(lab), tmp_path / "out")
    bench.open()
    try:
        event = bench.station.journal.wait_for(
            lambda f: f.dir == EVENT and f.kind == "refused", 0, 15, "a refused connection"
        )
        assert event.info["reason"].startswith(reason), event.info
        assert reason in bench.back_office.connection_summary("VIRTUAL-CP-001")
        assert not [
            f for f in bench.station.journal.frames() if f.dir == EVENT and f.kind == "connect"
        ]
    finally:
        bench.close()


@pytest.mark.robot
@pytest.mark.parametrize("profile", [1, 2])
def test_a_201_station_registers_over_security_profiles_1_and_2(tmp_path, profile):
    """Issue 13: the 2.0.1 station connects with Basic auth (profile 1) and TLS + Basic auth
    (profile 2, the lab CA), subprotocol ocpp2.0.1; boot and heartbeat pass."""
    data = yaml.safe_load(
        (REPO / "lab_configs" / f"virtual-security-profile-{profile}.yaml").read_text()
    )
    data["dut"]["ocpp"] = "2.0.1"
    lab = tmp_path / f"virtual-201-security-profile-{profile}.yaml"
    lab.write_text(yaml.safe_dump(data))
    outcomes = run_steps(tmp_path, lab, ["1", "5"])
    assert {s: o.status for s, o in outcomes.items()} == {"1": "PASS", "5": "PASS"}, {
        s: o.message for s, o in outcomes.items()
    }
    journal = (tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl").read_text().splitlines()
    connects = [json.loads(line) for line in journal if '"kind": "connect"' in line]
    assert connects and {c["info"]["subprotocol"] for c in connects} == {"ocpp2.0.1"}
    assert not [line for line in journal if '"kind": "refused"' in line]

"""A lab's own certificates for OCPP security profiles 2 and 3 (``hil lab certs``).

One self-signed lab CA signs a server certificate for the back office (its host names and
IP addresses as subject alternative names) and a client certificate for the station (CN =
the station id, for profile 3). Keys are EC P-256; everything is PEM. These are lab test
certificates: never use them for a production back office.

Run again into a folder that already holds a lab CA, ``hil lab certs`` keeps that CA and its
key (stations already trust it) and issues new leaf certificates from it; ``--force``
makes a new CA (:func:`make_lab_certs` with ``keep_ca``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("127.0.0.1", "localhost")
VALID_DAYS = 825


@dataclass(frozen=True)
class LabCerts:
    """Where each PEM file of a lab certificate set is."""

    ca: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    #: the CA already in the folder was kept (its files untouched), not made anew
    ca_kept: bool = False

    @classmethod
    def in_dir(cls, out: Path) -> LabCerts:
        return cls(
            ca=out / "lab-ca.pem",
            ca_key=out / "lab-ca-key.pem",
            server_cert=out / "back-office.pem",
            server_key=out / "back-office-key.pem",
            client_cert=out / "station.pem",
            client_key=out / "station-key.pem",
        )


class LabCertsError(ValueError):
    """The folder's lab CA cannot be used to issue certificates; the message says why."""


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _san(hosts: list[str] | tuple[str, ...]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: object,
    days: int,
    until: dt.datetime | None = None,
) -> x509.CertificateBuilder:
    """``days`` from now, but never past ``until`` (the issuing CA's own end)."""
    now = dt.datetime.now(dt.UTC)
    end = now + dt.timedelta(days=days)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(end, until) if until is not None else end)
    )


def _new_ca(lab_name: str, days: int) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_key = _key()
    org = x509.NameAttribute(NameOID.ORGANIZATION_NAME, lab_name)
    ca_name = x509.Name([org, x509.NameAttribute(NameOID.COMMON_NAME, f"{lab_name} test CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca, ca_key


def _existing_ca(files: LabCerts) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The folder's lab CA and its key, checked to belong together and still valid."""
    again = "; or give --force to make a new CA (stations must then trust the new one)"
    for path in (files.ca, files.ca_key):
        if not path.is_file():
            raise LabCertsError(
                f"{path}: missing, but the folder holds the rest of a lab CA; a new "
                f"certificate needs both {files.ca.name} and {files.ca_key.name}{again}"
            )
    try:
        ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    except ValueError as exc:
        raise LabCertsError(f"{files.ca}: not a PEM certificate ({exc}){again}") from None
    try:
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise LabCertsError(
            f"{files.ca_key}: not an unencrypted PEM private key ({exc}){again}"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise LabCertsError(f"{files.ca_key}: not the key of {files.ca}{again}")
    if ca.not_valid_after_utc <= dt.datetime.now(dt.UTC):
        raise LabCertsError(
            f"{files.ca}: the lab CA expired on {ca.not_valid_after_utc:%Y-%m-%d}{again}"
        )
    return ca, key


def make_lab_certs(
    out: Path,
    station_id: str,
    hosts: list[str] | tuple[str, ...] = DEFAULT_HOSTS,
    lab_name: str = "HIL OCPP lab",
    days: int = VALID_DAYS,
    keep_ca: bool = False,
) -> LabCerts:
    """Write a lab CA, a back-office server certificate and a station client certificate
    into ``out``; returns where each file is.

    ``keep_ca``: when ``out`` already holds a lab CA (``lab-ca.pem``, ``lab-ca-key.pem``),
    keep both files untouched and issue the new certificates from it (stations that trust
    it keep working); :class:`LabCertsError` when that CA cannot be used (half of it
    missing, the key not its key, expired). Without ``keep_ca`` (the run's ``auto``
    certificates) a new CA replaces whatever is there."""
    out.mkdir(parents=True, exist_ok=True)
    files = LabCerts.in_dir(out)
    kept = keep_ca and (files.ca.exists() or files.ca_key.exists())
    ca, ca_key = _existing_ca(files) if kept else _new_ca(lab_name, days)
    org = x509.NameAttribute(NameOID.ORGANIZATION_NAME, lab_name)
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())

    def leaf(cn: str, usage: x509.ObjectIdentifier, key: ec.EllipticCurvePrivateKey):
        name = x509.Name([org, x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        # a certificate never outlives the CA that vouches for it
        return (
            _builder(name, ca.subject, key.public_key(), days, ca.not_valid_after_utc)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(aki, critical=False)
        )

    server_key = _key()
    server = (
        leaf(hosts[0] if hosts else "back office", ExtendedKeyUsageOID.SERVER_AUTH, server_key)
        .add_extension(_san(list(hosts)), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    client_key = _key()
    client = leaf(station_id, ExtendedKeyUsageOID.CLIENT_AUTH, client_key).sign(
        ca_key, hashes.SHA256()
    )
    if not kept:
        _write_cert(files.ca, ca)
        _write_key(files.ca_key, ca_key)
    _write_cert(files.server_cert, server)
    _write_key(files.server_key, server_key)
    _write_cert(files.client_cert, client)
    _write_key(files.client_key, client_key)
    return replace(files, ca_kept=kept)


def where_each_goes(files: LabCerts, station_id: str) -> str:
    """What a lab engineer does with each file."""
    return "\n".join(
        [
            f"{files.ca}  lab CA: install on the station as its CSMS root certificate "
            "(profiles 2, 3); back_office.security.ca (profile 3)",
            f"{files.ca_key}  lab CA key: keep on the lab PC; needed only to sign more",
            f"{files.server_cert}  back_office.security.certificate (profiles 2, 3)",
            f"{files.server_key}  back_office.security.key",
            f"{files.client_cert}  station client certificate, CN={station_id} (profile 3): "
            "install on the station",
            f"{files.client_key}  its key: install on the station with it",
        ]
    )

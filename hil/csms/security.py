"""OCPP 1.6 security profiles on the back office: TLS context and HTTP Basic auth.

Profile 0 is plain ``ws://`` without auth (the lab's default). Profile 1: HTTP Basic auth
over ``ws://``. Profile 2: TLS (the back office's certificate) plus Basic auth. Profile 3:
TLS with a client certificate the back office verifies against a CA; no Basic auth (OCPP
1.6 Security Whitepaper). TLS is 1.2 or higher.

Basic auth: the user name is the station id, the password the station's AuthorizationKey.

TLS handshake failures happen before websockets sees a connection, and asyncio drops them
silently (an ``ssl.SSLError`` is an ``OSError``, logged only in debug mode); the server
context built here reports them through a callback instead, so the back office can journal
them as ``refused`` (see :func:`server_context`).
"""

from __future__ import annotations

import base64
import binascii
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The realm the back office names in ``WWW-Authenticate``.
REALM = "hil-ocpp-lab"

PROFILE_NAMES = {
    0: "no security (ws://, no auth)",
    1: "HTTP Basic auth over ws://",
    2: "TLS (server certificate) + HTTP Basic auth",
    3: "TLS with client certificate (mutual TLS)",
}


@dataclass
class ServerSecurity:
    """What the back office enforces; paths already resolved."""

    profile: int = 0
    certificate: Path | None = None
    key: Path | None = None
    ca: Path | None = None  # verifies client certificates (profile 3)
    passwords: dict[str, str] = field(default_factory=dict)  # station id -> AuthorizationKey

    @property
    def tls(self) -> bool:
        return self.profile in (2, 3)

    @property
    def basic_auth(self) -> bool:
        return self.profile in (1, 2)

    @property
    def scheme(self) -> str:
        return "wss" if self.tls else "ws"


#: ``on_failure(reason, remote)`` — a TLS handshake the back office refused.
TlsFailure = Callable[[str, str], None]


def _peer_of_caller() -> str:
    """The remote address of the TLS connection being handshaken, read from asyncio's
    SSLProtocol that calls ``do_handshake`` (best effort: "?" when it cannot be found)."""
    try:
        proto = sys._getframe(2).f_locals.get("self")
        transport = getattr(proto, "_transport", None)
        peer = transport.get_extra_info("peername") if transport is not None else None
        return f"{peer[0]}:{peer[1]}" if peer else "?"
    except Exception:  # noqa: BLE001 - evidence, never a failure of its own
        return "?"


def describe_tls_error(exc: ssl.SSLError) -> str:
    """A lab engineer's reason for a failed TLS handshake."""
    reason = getattr(exc, "reason", None) or ""
    verify = getattr(exc, "verify_message", None)
    if reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
        return "no client certificate (TLS handshake failed: the station sent none)"
    if reason == "CERTIFICATE_VERIFY_FAILED" or verify:
        return f"certificate verify failed: {verify or exc}"
    if reason in ("TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE"):
        return (
            f"TLS handshake failed: the station rejected the back office's certificate "
            f"({reason.lower()}: it does not trust the lab CA)"
        )
    text = str(exc) or type(exc).__name__
    return f"TLS handshake failed: {text}"


def server_context(
    security: ServerSecurity, on_failure: TlsFailure | None = None
) -> ssl.SSLContext:
    """The back office's TLS context: its certificate, TLS >= 1.2, and for profile 3 a
    required client certificate verified against ``security.ca``.

    Every failed handshake is passed to ``on_failure`` with a reason and the remote address.
    """
    if security.certificate is None or security.key is None:
        raise ValueError(f"security profile {security.profile} needs a certificate and a key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(security.certificate), str(security.key))
    if security.profile == 3:
        if security.ca is None:
            raise ValueError("security profile 3 needs a CA to verify client certificates")
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(security.ca))
    if on_failure is not None:

        class ReportingSSLObject(ssl.SSLObject):
            def do_handshake(self) -> None:
                try:
                    super().do_handshake()
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    raise
                except ssl.SSLError as exc:
                    on_failure(describe_tls_error(exc), _peer_of_caller())
                    raise

        ctx.sslobject_class = ReportingSSLObject
    return ctx


def client_context(
    ca: Path | None,
    certificate: Path | None = None,
    key: Path | None = None,
) -> ssl.SSLContext:
    """A station's TLS context: trust ``ca`` (the system's CAs when None), TLS >= 1.2, and
    present ``certificate``/``key`` when given (profile 3)."""
    ctx = ssl.create_default_context(cafile=str(ca) if ca is not None else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if certificate is not None:
        ctx.load_cert_chain(str(certificate), str(key) if key is not None else None)
    return ctx


def basic_auth_header(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def check_basic_auth(security: ServerSecurity, station_id: str, header: str | None) -> str | None:
    """Why the ``Authorization`` header does not let ``station_id`` in; None when it does."""
    if not security.basic_auth:
        return None
    if header is None:
        return f"no Authorization header (security profile {security.profile} needs Basic auth)"
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return f"Authorization is {scheme!r}, not Basic"
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "Authorization: Basic credentials are not valid base64 user:password"
    if not sep:
        return "Authorization: Basic credentials have no ':' between user and password"
    if user != station_id:
        return f"Basic auth user {user!r} is not the station id {station_id!r}"
    expected = security.passwords.get(station_id)
    if expected is None:
        return f"no password configured for station {station_id}"
    if password != expected:
        return f"wrong password for station {station_id}"
    return None


def peer_common_name(peercert: dict[str, Any] | None) -> str | None:
    """The subject CN of a verified client certificate (``getpeercert()`` form)."""
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None

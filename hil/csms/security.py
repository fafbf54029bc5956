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
import contextlib
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


def _peer(proto: Any) -> str:
    try:
        transport = getattr(proto, "_transport", None)
        peer = transport.get_extra_info("peername") if transport is not None else None
        return f"{peer[0]}:{peer[1]}" if peer else "?"
    except Exception:  # noqa: BLE001 - evidence, never a failure of its own
        return "?"


#: Why a TLS handshake ended without an error of its own: the station hung up.
CLOSED_DURING_HANDSHAKE = (
    "TLS handshake failed: the station closed the connection during the handshake (it "
    "may not trust the back office's certificate: install the lab CA on it; or it offers "
    "no TLS 1.2 or higher)"
)


def describe_tls_error(exc: ssl.SSLError) -> str:
    """A lab engineer's reason for a failed TLS handshake."""
    reason = getattr(exc, "reason", None) or ""
    verify = getattr(exc, "verify_message", None)
    if reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
        return "no client certificate (TLS handshake failed: the station sent none)"
    if reason == "CERTIFICATE_VERIFY_FAILED" or verify:
        return f"certificate verify failed: {verify or exc}"
    if reason == "HTTP_REQUEST":
        return (
            "TLS handshake failed: the station sent plain HTTP (ws://) to the TLS port; use wss://"
        )
    if reason in ("UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION"):
        return f"TLS handshake failed: the station offers no TLS 1.2 or higher ({exc})"
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
        ctx.sslobject_class = _reporting_sslobject(on_failure)
    return ctx


def _reporting_sslobject(on_failure: TlsFailure) -> type[ssl.SSLObject]:
    """An ``SSLObject`` class that reports every failed server-side handshake.

    asyncio's ``SSLProtocol`` drives the handshake by calling ``do_handshake`` and drops
    failures silently. An error OpenSSL raises (a missing or untrusted client certificate,
    an alert from the station) is caught here. A station that hangs up mid-handshake
    without an alert (Python's asyncio clients do that when they reject the server's
    certificate) raises nothing here: for that the calling ``SSLProtocol``'s
    ``connection_lost`` is wrapped, per connection, to report a handshake that neither
    completed nor failed. Both read asyncio internals (the caller's frame, ``_transport``);
    where they are missing, the failure goes unreported rather than breaking the server.
    """

    class ReportingSSLObject(ssl.SSLObject):
        _hil_state = "new"  # new -> started -> done
        _hil_peer = "?"

        def _hil_report(self, reason: str) -> None:
            if self._hil_state != "done":
                self._hil_state = "done"
                on_failure(reason, self._hil_peer)

        def _hil_watch(self, proto: Any) -> None:
            self._hil_peer = _peer(proto)
            lost = getattr(proto, "connection_lost", None)
            if lost is None:
                return

            def connection_lost(exc: Exception | None) -> None:
                self._hil_report(CLOSED_DURING_HANDSHAKE)
                lost(exc)

            proto.connection_lost = connection_lost

        def do_handshake(self) -> None:
            if self._hil_state == "new":
                self._hil_state = "started"
                # evidence, never a failure of its own
                with contextlib.suppress(Exception):
                    self._hil_watch(sys._getframe(1).f_locals.get("self"))
            try:
                super().do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise
            except ssl.SSLError as exc:
                self._hil_report(describe_tls_error(exc))
                raise
            self._hil_state = "done"

    return ReportingSSLObject


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


def accepted_passwords(password: str) -> set[bytes]:
    """The password bytes a station may send for the configured ``password``.

    The 1.6 Security Whitepaper gives the AuthorizationKey hex-encoded (up to 40 hex digits)
    and makes its decoded octets the password; stations differ in whether they send those
    octets or the hex text itself. A hex ``password`` therefore accepts both.
    """
    accepted = {password.encode()}
    if len(password) % 2 == 0:
        with contextlib.suppress(ValueError):
            accepted.add(bytes.fromhex(password))
    return accepted


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
        credentials = base64.b64decode(token.strip(), validate=True)
    except binascii.Error:
        return "Authorization: Basic credentials are not valid base64"
    raw_user, sep, password = credentials.partition(b":")
    if not sep:
        return "Authorization: Basic credentials have no ':' between user and password"
    user = raw_user.decode("utf-8", errors="replace")
    if user != station_id:
        return f"Basic auth user {user!r} is not the station id {station_id!r}"
    expected = security.passwords.get(station_id)
    if expected is None:
        return f"no password configured for station {station_id}"
    if password not in accepted_passwords(expected):
        return f"wrong password for station {station_id}"
    return None


def check_certificate_identity(
    security: ServerSecurity, station_id: str, certificate_cn: str | None
) -> str | None:
    """Why a profile-3 client certificate does not let ``station_id`` in; None when it does.

    Under security profile 3 the client certificate is the station's identity: its subject
    CN holds the station's identity (OCPP 1.6 Security Whitepaper ed. 3 §1.4.2, OCPP 2.0.1
    Part 2 A00 "Certificate properties"), so the station id in the URL must be that CN. A
    certificate issued for one station never lets a client in as another.
    """
    if security.profile != 3:
        return None
    if certificate_cn is None:
        return (
            f"the client certificate names no station (no subject CN); under security "
            f"profile 3 its CN must be the station id {station_id!r}"
        )
    if certificate_cn != station_id:
        return (
            f"the client certificate is station {certificate_cn!r}'s (its subject CN), not "
            f"{station_id!r}'s as the URL says; under security profile 3 the certificate's "
            f"CN is the station's identity"
        )
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

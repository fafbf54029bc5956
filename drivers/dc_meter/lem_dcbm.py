"""LEM DCBM 400/600 over its HTTP(S) REST API with JSON ("lem-dcbm").

Address: ``http://host[:port]`` or ``https://host[:port]``; the port is 80 for both
unless given (the meter keeps port 80 when TLS is switched on). Endpoints used:

- ``GET /v1/status``: meter id, OCMF public key, firmware, transaction-ongoing and
  time-sync bits. Always ``/v1``: it is where the API version is learned.
- ``GET /vN/livemeasure``: V, A, power (kW) and energy registers (kWh), converted here to
  W and Wh (energy exactly, as :class:`~decimal.Decimal`).
- ``POST /vN/legal`` starts a legal transaction (the reply must say ``running: true``),
  ``PUT /vN/legal?transactionId=`` with ``{"running": false}`` stops it (the reply's
  ``meterValue.transactionStatus`` must have the ongoing bit, 0b100, clear).
- ``GET /vN/legal``: the running or last transaction's id and whether it runs.
- ``GET /vN/ocmf?transactionId=``: the signed OCMF string, returned unchanged.
- ``PUT /v1/settings`` with ``{"time": {"utc": ...}}`` sets the clock.

``N`` is 2 when the firmware's major version is above 1, else 1. The meter writes its
``applicationFirmwareVersion`` with four numbers, the first of which is not the major
(EVerest's driver reads the second one as the major; ``0.1.2.3`` is a v1 meter); with fewer
numbers the first is the major.

HTTPS: the meter's certificate is self-signed (and, per EVerest's notes, on a 1024-bit RSA
key). Give its PEM file as ``tls_certificate`` (download it once over HTTP from
``/v1/certificate`` or have the station maker hand it over): the driver then trusts that
certificate only, and checks after the handshake that the meter presented exactly it. The
host name is not checked (the certificate need not name the address the lab reaches it
by); security level 1 is allowed so the 1024-bit key is accepted -- the pin, not a CA,
is what makes the connection trustworthy. ``https://`` without ``tls_certificate`` is
refused: verification is never switched off.

Every failure is an :class:`~drivers.base.InstrumentError` naming role, address, the
request and what was wrong, with an excerpt of the body when there was one. No retries:
a lab run should see the first failure.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
import ssl
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from drivers.base import InstrumentError
from drivers.dc_meter.base import (
    DcMeasurement,
    DcMeter,
    DcMeterIdentity,
    DcMeterStatus,
    DcTransactionRequest,
    DcTransactionStarted,
    DcTransactionState,
    DcTransactionStopped,
    SignedOcmf,
)
from hil.verify.ocmf.reader import parse_record

MODEL = "LEM DCBM 400/600"
DEFAULT_PORT = 80
#: bit of ``meterValue.transactionStatus`` that says the transaction is still running
TRANSACTION_ONGOING_BIT = 0b100
EXCERPT_CHARS = 200
_KWH = Decimal(1000)


def api_version(firmware: str) -> int:
    """2 if ``firmware``'s major version is above 1, else 1 (see the module docstring).

    Raises ValueError when the text holds no version number.
    """
    numbers = re.findall(r"\d+", firmware)
    if not numbers or not re.fullmatch(r"\s*v?\d+(\.\d+)*\s*", firmware, re.IGNORECASE):
        raise ValueError(f"firmware version {firmware!r} is not dotted numbers")
    major = int(numbers[1]) if len(numbers) == 4 else int(numbers[0])
    return 2 if major > 1 else 1


def excerpt(body: bytes | str) -> str:
    """The first :data:`EXCERPT_CHARS` characters of a body, quoted, for error messages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text:
        return "(empty body)"
    short = text[:EXCERPT_CHARS]
    more = f" ... ({len(text)} chars)" if len(text) > EXCERPT_CHARS else ""
    return f"body {short!r}{more}"


class _Reply:
    """One JSON reply, with the request it answered, for naming a missing field."""

    def __init__(self, meter: LemDcbm, what: str, raw: bytes, data: dict[str, Any]) -> None:
        self.meter = meter
        self.what = what
        self.raw = raw
        self.data = data

    def _get(self, dotted: str) -> Any:
        node: Any = self.data
        for key in dotted.split("."):
            if not isinstance(node, dict) or key not in node:
                raise self.meter.error(f"{self.what}: reply lacks {dotted}: {excerpt(self.raw)}")
            node = node[key]
        return node

    def wrong(self, dotted: str, kind: str, value: Any) -> InstrumentError:
        return self.meter.error(
            f"{self.what}: {dotted} is {value!r}, not {kind}: {excerpt(self.raw)}"
        )

    def has(self, dotted: str) -> bool:
        try:
            self._get(dotted)
        except InstrumentError:
            return False
        return True

    def text(self, dotted: str) -> str:
        value = self._get(dotted)
        if not isinstance(value, str):
            raise self.wrong(dotted, "text", value)
        return value

    def flag(self, dotted: str) -> bool:
        value = self._get(dotted)
        if not isinstance(value, bool):
            raise self.wrong(dotted, "true/false", value)
        return value

    def number(self, dotted: str) -> Decimal:
        value = self._get(dotted)
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.wrong(dotted, "a number", value)
        return Decimal(value)

    def integer(self, dotted: str) -> int:
        value = self._get(dotted)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.wrong(dotted, "an integer", value)
        return value


class LemDcbm(DcMeter):
    """Options: ``timeout_s`` (per request, 3.0), ``tls_certificate`` (PEM path of the
    meter's own certificate; required for ``https://``)."""

    def __init__(
        self,
        address: str,
        *,
        timeout_s: float = 3.0,
        tls_certificate: str | None = None,
        **unknown: Any,
    ) -> None:
        super().__init__(address, timeout_s=timeout_s, tls_certificate=tls_certificate)
        if unknown:
            raise self.error(
                f"unknown option(s) {', '.join(sorted(unknown))}; this driver takes: "
                "timeout_s, tls_certificate"
            )
        if timeout_s <= 0:
            raise self.error(f"need timeout_s > 0, got {timeout_s!r}")
        self.timeout_s = timeout_s
        url = urlsplit(address)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise self.error("address must be http://host[:port] or https://host[:port]")
        if url.path not in ("", "/") or url.query:
            raise self.error("address must not have a path or query; the driver adds them")
        try:
            self.host, self.port = url.hostname, url.port or DEFAULT_PORT
        except ValueError as exc:
            raise self.error(f"bad port in address: {exc}") from None
        self.tls = url.scheme == "https"
        self.tls_certificate = tls_certificate
        self._pin: bytes | None = None
        self._ssl: ssl.SSLContext | None = None
        if self.tls:
            if not tls_certificate:
                raise self.error(
                    "https needs the meter's certificate to pin (option tls_certificate: "
                    "a PEM file); the driver does not switch certificate checks off"
                )
            # the pinned certificate is read when first needed (open), not here: creating
            # a driver does no I/O, as for every other role
        elif tls_certificate:
            raise self.error("tls_certificate is set but the address is http://, not https://")
        self._lock = threading.Lock()
        self._api: int | None = None
        self._identity: DcMeterIdentity | None = None

    def _tls_context(self) -> ssl.SSLContext | None:
        """The context pinning the meter's certificate (https), read on first use."""
        if self.tls and self._ssl is None:
            assert self.tls_certificate is not None  # checked in __init__
            self._ssl, self._pin = self._pinned_context(self.tls_certificate)
        return self._ssl

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> None:
        """Read ``/v1/status``: proves the meter answers, learns its id and API version."""
        self._read_status_reply()

    def close(self) -> None:
        """Nothing stays open between requests (one connection per request)."""

    @property
    def api(self) -> int:
        """The API version in use (1 or 2); reads the status first if not known yet."""
        if self._api is None:
            self._read_status_reply()
        assert self._api is not None
        return self._api

    # -- role API ------------------------------------------------------------------------

    def read_identity(self) -> DcMeterIdentity:
        self._read_status_reply()
        assert self._identity is not None
        return self._identity

    def read_status(self) -> DcMeterStatus:
        reply = self._read_status_reply()
        synced = (
            reply.flag("status.bits.timeSyncStatusIsOk")
            if reply.has("status.bits.timeSyncStatusIsOk")
            else None
        )
        errors = reply.integer("errors.value") if reply.has("errors.value") else 0
        return DcMeterStatus(
            transaction_ongoing=reply.flag("status.bits.transactionIsOnGoing"),
            time_synchronised=synced,
            error_flags=errors,
        )

    def read_public_key(self) -> str:
        return self._read_status_reply().text("publicKeyOcmf")

    def read_measurement(self) -> DcMeasurement:
        reply = self._json("GET", f"/v{self.api}/livemeasure")
        stamp = reply.text("timestamp")
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            raise reply.wrong("timestamp", "an ISO 8601 time", stamp) from None
        if when.tzinfo is None:  # no offset written: taken as UTC
            when = when.replace(tzinfo=UTC)
        return DcMeasurement(
            voltage_v=float(reply.number("voltage")),
            current_a=float(reply.number("current")),
            power_w=float(reply.number("power") * _KWH),
            energy_import_wh=reply.number("energyImportTotal") * _KWH,
            energy_export_wh=reply.number("energyExportTotal") * _KWH,
            timestamp=when,
        )

    def set_time(self, utc: datetime) -> None:
        if utc.tzinfo is None:
            raise ValueError("set_time needs a timezone-aware time")
        stamp = utc.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        reply = self._json("PUT", "/v1/settings", {"time": {"utc": stamp}})
        if reply.integer("result") != 1:
            raise self.error(
                f"{reply.what}: the meter refused the time (result "
                f"{reply.data.get('result')!r}; it refuses while a transaction runs): "
                f"{excerpt(reply.raw)}"
            )

    def read_last_transaction(self) -> DcTransactionState:
        reply = self._json("GET", f"/v{self.api}/legal")
        return DcTransactionState(reply.text("transactionId"), reply.flag("running"))

    def start_transaction(self, request: DcTransactionRequest) -> DcTransactionStarted:
        body: dict[str, Any] = {
            "evseId": request.evse_id,
            "transactionId": request.transaction_id,
            "clientId": request.client_id,
            "tariffId": request.tariff_id,
            "cableId": request.cable_id,
            "userData": request.user_data,
        }
        api = self.api
        if api >= 2:
            body.update({"TT": request.tariff_text, "UV": "", "UD": "", "SC": 0})
        reply = self._json("POST", f"/v{api}/legal", body)
        if not reply.flag("running"):
            raise self.error(
                f"{reply.what}: the meter did not start transaction "
                f"{request.transaction_id!r} (running is false): {excerpt(reply.raw)}"
            )
        tid = reply.text("transactionId") if reply.has("transactionId") else request.transaction_id
        return DcTransactionStarted(transaction_id=tid, running=True)

    def stop_transaction(self, transaction_id: str) -> DcTransactionStopped:
        path = f"/v{self.api}/legal?transactionId={quote(transaction_id, safe='')}"
        reply = self._json("PUT", path, {"running": False})
        status = reply.integer("meterValue.transactionStatus")
        if status & TRANSACTION_ONGOING_BIT:
            raise self.error(
                f"{reply.what}: the meter says transaction {transaction_id!r} is still "
                f"running (transactionStatus {status:#x}): {excerpt(reply.raw)}"
            )
        sample = "meterValue.sampleValue."
        unit = reply.text(sample + "energyUnit")
        factor = {"kWh": _KWH, "Wh": Decimal(1)}.get(unit)
        if factor is None:
            raise reply.wrong(sample + "energyUnit", "kWh or Wh", unit)
        return DcTransactionStopped(
            transaction_id=transaction_id,
            energy_import_start_wh=reply.number(sample + "energyImportTotalStart") * factor,
            energy_import_stop_wh=reply.number(sample + "energyImportTotalStop") * factor,
            energy_export_start_wh=reply.number(sample + "energyExportTotalStart") * factor,
            energy_export_stop_wh=reply.number(sample + "energyExportTotalStop") * factor,
            transaction_status=status,
        )

    def read_ocmf(self, transaction_id: str) -> SignedOcmf:
        path = f"/v{self.api}/ocmf?transactionId={quote(transaction_id, safe='')}"
        raw = self._request("GET", path)
        what = f"GET {path}"
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise self.error(f"{what}: reply is not UTF-8 text: {excerpt(raw)}") from None
        parsed = parse_record(text)
        if parsed.record is None:
            raise self.error(f"{what}: not an OCMF record ({parsed.error}): {excerpt(raw)}")
        return SignedOcmf(text=text, record=parsed.record)

    # -- HTTP ----------------------------------------------------------------------------

    def _read_status_reply(self) -> _Reply:
        reply = self._json("GET", "/v1/status")
        firmware = reply.text("version.applicationFirmwareVersion")
        try:
            api = api_version(firmware)
        except ValueError as exc:
            raise self.error(f"{reply.what}: cannot tell the API version: {exc}") from None
        meter_id = reply.text("meterId")
        reply.flag("status.bits.transactionIsOnGoing")  # required; checked here once
        reply.text("publicKeyOcmf")
        self._api = api
        self._identity = DcMeterIdentity(meter_id=meter_id, firmware=firmware, model=MODEL)
        return reply

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> _Reply:
        raw = self._request(method, path, body)
        what = f"{method} {path}"
        try:
            data = json.loads(raw.decode("utf-8"), parse_float=Decimal)
        except UnicodeDecodeError:
            raise self.error(f"{what}: reply is not UTF-8 text: {excerpt(raw)}") from None
        except json.JSONDecodeError as exc:
            raise self.error(
                f"{what}: reply is not JSON ({exc.msg} at char {exc.pos}): {excerpt(raw)}"
            ) from None
        if not isinstance(data, dict):
            raise self.error(f"{what}: reply is JSON but not an object: {excerpt(raw)}")
        return _Reply(self, what, raw, data)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        """Send one request on a fresh connection; the body of a 2xx reply, else raise."""
        what = f"{method} {path}"
        where = f"{self.host}:{self.port}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json, text/plain"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn: http.client.HTTPConnection
        if self.tls:
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout_s, context=self._tls_context()
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        with self._lock:
            try:
                conn.connect()
                if self.tls:
                    self._check_pin(conn.sock)
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except TimeoutError:
                raise self.error(f"{what}: no answer within {self.timeout_s:g} s") from None
            except ConnectionRefusedError as exc:
                raise self.error(f"{what}: cannot connect to {where}: {exc}") from None
            except ssl.SSLCertVerificationError as exc:
                raise self.error(
                    f"{what}: TLS: the meter's certificate does not verify against the pinned "
                    f"{self.tls_certificate}: {exc.verify_message or exc}"
                ) from None
            except ssl.SSLError as exc:
                raise self.error(f"{what}: TLS with {where} failed: {exc}") from None
            except http.client.HTTPException as exc:
                raise self.error(
                    f"{what}: broken HTTP reply from {where}: {type(exc).__name__} {exc}"
                ) from None
            except OSError as exc:
                raise self.error(f"{what}: connection to {where} failed: {exc}") from None
            finally:
                conn.close()
        if not 200 <= response.status < 300:
            raise self.error(f"{what}: HTTP {response.status} {response.reason}: {excerpt(raw)}")
        return raw

    # -- TLS pinning ---------------------------------------------------------------------

    def _pinned_context(self, certificate: str) -> tuple[ssl.SSLContext, bytes]:
        path = Path(certificate)
        try:
            pem = path.read_text(encoding="ascii")
            der = ssl.PEM_cert_to_DER_cert(pem)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise self.error(
                f"tls_certificate {certificate}: not a readable PEM certificate: {exc}"
            ) from None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False  # the pin identifies the meter, not its name
        context.verify_mode = ssl.CERT_REQUIRED
        context.set_ciphers("DEFAULT:@SECLEVEL=1")  # the meter's 1024-bit RSA key
        try:
            context.load_verify_locations(cadata=pem)
        except ssl.SSLError as exc:
            raise self.error(f"tls_certificate {certificate}: cannot be trusted: {exc}") from None
        return context, der

    def _check_pin(self, sock: socket.socket | None) -> None:
        presented = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
        if presented != self._pin:
            got = hashlib.sha256(presented).hexdigest()[:16] if presented else "none"
            want = hashlib.sha256(self._pin or b"").hexdigest()[:16]
            raise self.error(
                f"TLS: the meter presented certificate sha256 {got}..., not the pinned "
                f"{self.tls_certificate} (sha256 {want}...)"
            )

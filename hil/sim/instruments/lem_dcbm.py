"""A virtual LEM DCBM 400/600: the DC meter's HTTP REST API with JSON, on loopback.

It serves what :mod:`drivers.dc_meter.lem_dcbm` reads -- ``/v1/status``,
``/v1|v2/livemeasure``, ``POST``/``PUT``/``GET /v1|v2/legal``,
``/v1|v2/ocmf?transactionId=``, ``PUT /v1/settings`` (time) and, when it speaks TLS,
``/v1/certificate`` -- with the field names of LEM's API as public sources show them.
The ``/v2`` paths are served only by a meter made with ``api_version=2`` (its firmware
then reads ``1.2.0.0``, which a driver takes for a v2 meter).

Its energy comes from whoever drives it (the virtual station, later): :meth:`add_energy`
counts Wh into the import register (negative Wh into the export register) and sets the
present voltage and current; :meth:`set_present` sets those alone. Like the real meter,
livemeasure reports power in kW and energies in kWh.

A legal transaction signs one OCMF record at stop, with a begin (``TX: B``) and an end
(``TX: E``) reading of the import register, ``RT: DC``, pagination ``T<n>`` counting up
per transaction, and the meter clock's time (``S`` once ``/v1/settings`` set the time,
``U`` before). The key is a real P-256 key (:class:`hil.verify.ocmf.OcmfSigner`), so the
project's own verifier checks the record; ``public_key_hex`` is what ``/v1/status`` hands
out as ``publicKeyOcmf``. Registers are signed and reported in whole Wh (kWh with three
decimals, truncated), so the livemeasure register at start and stop is exactly what the
record signs.

Misbehaviour for tests, as plain attributes (set them any time):

- ``malformed_json``: JSON endpoints answer a body cut off mid-object;
- ``ocmf_garbage``: ``/ocmf`` answers text that is not an OCMF record;
- ``current_type``: the ``RT`` signed into readings (``"AC"`` makes a wrong one);
- ``omit_fields``: top-level fields left out of status and livemeasure replies;
- ``http_status``: answer every request with this HTTP status (e.g. 500).

Not modelled: status-word bits other than 0b100 (transaction ongoing), cable-loss
compensation, stored-transaction indexes, NTP, the tariff text (``TT``) in the OCMF.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hil.verify.ocmf.signer import OcmfSigner, ReadingSpec, generate_private_key

LOG = logging.getLogger("hil.sim")

ONGOING_BIT = 0b100  # status word bit the driver checks after stop
SU_LINK_OK_BIT = 0b1
CLIENT_ID_MAX_LEN = 37
_START_FIELDS = ("evseId", "transactionId", "clientId", "tariffId", "cableId", "userData")
_V2_FIELDS = ("TT", "UV", "UD", "SC")


@dataclass
class _Transaction:
    request: dict[str, Any]
    start_wh: int
    start_export_wh: int
    start_time: datetime
    synced_at_start: bool
    stop_wh: int | None = None
    stop_export_wh: int | None = None
    stop_time: datetime | None = None
    pagination: int = 0
    ocmf: str | None = None
    stop_reply: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.request["transactionId"])


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class VirtualLemDcbm:
    """Serve the LEM DCBM REST API on ``host:port`` (``port=0`` picks a free port).

    ``start()`` / ``stop()`` (or use it as a context manager); ``address`` is the URL a
    :class:`~drivers.dc_meter.lem_dcbm.LemDcbm` takes. ``tls=(certfile, keyfile)`` serves
    HTTPS with that certificate instead of HTTP.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_version: int = 1,
        meter_id: str = "VLEM000000001",
        firmware: str | None = None,
        private_key: ec.EllipticCurvePrivateKey | None = None,
        tls: tuple[str, str] | None = None,
        time_synchronised: bool = False,
    ) -> None:
        if api_version not in (1, 2):
            raise ValueError(f"api_version must be 1 or 2, not {api_version!r}")
        self.host = host
        self.port = port
        self.api_version = api_version
        self.meter_id = meter_id
        self.firmware = firmware or ("1.2.0.0" if api_version == 2 else "1.1.0.0")
        self._key = private_key or generate_private_key()
        self.tls = tls
        # misbehaviour flags (see the module docstring)
        self.malformed_json = False
        self.ocmf_garbage = False
        self.current_type = "DC"
        self.omit_fields: set[str] = set()
        self.http_status: int | None = None
        #: every request served: (method, path with query, JSON body or None)
        self.requests: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        self._import_wh = Decimal(0)
        self._export_wh = Decimal(0)
        self._voltage_v = 0.0
        self._current_a = 0.0
        self._clock_offset = timedelta(0)
        self._synced = time_synchronised
        self._current: _Transaction | None = None
        self._done: dict[str, _Transaction] = {}
        self._pagination = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- the feed ------------------------------------------------------------------------

    def add_energy(self, wh: float | Decimal, voltage_v: float, current_a: float) -> None:
        """Count ``wh`` into the import register (negative: into export); set V and A."""
        amount = Decimal(str(wh)) if isinstance(wh, float) else Decimal(wh)
        with self._lock:
            if amount >= 0:
                self._import_wh += amount
            else:
                self._export_wh -= amount
            self._voltage_v, self._current_a = float(voltage_v), float(current_a)

    def set_present(self, voltage_v: float, current_a: float) -> None:
        """Set the present voltage and current (power is their product)."""
        with self._lock:
            self._voltage_v, self._current_a = float(voltage_v), float(current_a)

    @property
    def energy_import_wh(self) -> Decimal:
        with self._lock:
            return self._import_wh

    @property
    def public_key_hex(self) -> str:
        return self._signer().public_key_hex

    @property
    def transaction_running(self) -> bool:
        with self._lock:
            return self._current is not None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def address(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> VirtualLemDcbm:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.meter = self
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.set_ciphers("DEFAULT:@SECLEVEL=1")  # serves a 1024-bit key like the meter
            context.load_cert_chain(*self.tls)
            server.tls_context = context
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"virtual-lem-dcbm:{self.port}",
            daemon=True,
        )
        self._thread.start()
        LOG.debug("virtual LEM DCBM listening on %s", self.address)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> VirtualLemDcbm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the meter -----------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self._clock_offset

    def _signer(self) -> OcmfSigner:
        return OcmfSigner(
            self._key,
            meter_vendor="LEM",
            meter_model="DCBM 400/600 (virtual)",
            meter_serial=self.meter_id,
            meter_firmware=self.firmware,
            current_type=self.current_type,
        )

    def _status_word(self) -> int:
        return SU_LINK_OK_BIT | (ONGOING_BIT if self._current is not None else 0)

    def status(self) -> dict[str, Any]:
        public = self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        with self._lock:
            ongoing = self._current is not None
            reply = {
                "status": {
                    "value": self._status_word(),
                    "bits": {
                        "suLinkStatusIsOk": True,
                        "muFatalErrorOccured": False,
                        "transactionIsOnGoing": ongoing,
                        "tamperingIsDetected": False,
                        "timeSyncStatusIsOk": self._synced,
                        "overTemperatureIsDetected": False,
                        "reversedVoltage": False,
                        "suMeasureFailureOccurred": False,
                    },
                },
                "version": {
                    "applicationFirmwareVersion": self.firmware,
                    "legalFirmwareVersion": self.firmware,
                    "sensorFirmwareVersion": self.firmware,
                },
                "time": _iso(self.now()),
                "ipAddress": self.host,
                "meterId": self.meter_id,
                "errors": {"value": 0, "bits": {}},
                "publicKey": public[1:].hex().upper(),  # bare X||Y, as LEM shows it
                "publicKeyOcmf": self.public_key_hex,
                "indexOfLastTransaction": self._pagination,
                "numberOfStoredTransactions": len(self._done),
            }
        return reply

    def livemeasure(self) -> dict[str, Any]:
        with self._lock:
            v, a = self._voltage_v, self._current_a
            return {
                "voltage": v,
                "current": a,
                "power": round(v * a / 1000, 6),
                "temperatureH": 35.0,
                "temperatureL": 30.0,
                "energyImportTotal": _kwh(_whole(self._import_wh)),
                "energyExportTotal": _kwh(_whole(self._export_wh)),
                "timestamp": _iso(self.now()),
            }

    def set_time(self, body: Any) -> dict[str, Any]:
        try:
            stamp = body["time"]["utc"]
            when = datetime.fromisoformat(stamp)
        except (KeyError, TypeError, ValueError) as exc:
            raise _HttpError(400, f"expected {{'time': {{'utc': ISO 8601}}}}: {exc}") from None
        with self._lock:
            if self._current is not None:  # the real meter refuses it mid-transaction
                return {"meterId": self.meter_id, "result": 0}
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            self._clock_offset = when - datetime.now(UTC)
            self._synced = True
        return {"meterId": self.meter_id, "result": 1}

    def start_transaction(self, body: Any, api: int) -> dict[str, Any]:
        wanted = _START_FIELDS + (_V2_FIELDS if api == 2 else ())
        if not isinstance(body, dict):
            raise _HttpError(400, "body must be a JSON object")
        missing = [f for f in wanted if f not in body]
        if missing:
            raise _HttpError(400, f"missing field(s): {', '.join(missing)}")
        if not str(body["transactionId"]):
            raise _HttpError(400, "transactionId is empty")
        if len(str(body["clientId"])) > CLIENT_ID_MAX_LEN:
            raise _HttpError(400, f"clientId longer than {CLIENT_ID_MAX_LEN} characters")
        with self._lock:
            if self._current is not None:
                raise _HttpError(409, f"transaction {self._current.id} is running")
            self._current = _Transaction(
                request=dict(body),
                start_wh=_whole(self._import_wh),
                start_export_wh=_whole(self._export_wh),
                start_time=self.now(),
                synced_at_start=self._synced,
            )
        return {
            "evseId": body["evseId"],
            "transactionId": body["transactionId"],
            "clientId": body["clientId"],
            "tariffId": body["tariffId"],
            "cableId": body["cableId"],
            "running": True,
        }

    def stop_transaction(self, transaction_id: str | None, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or body.get("running") is not False:
            raise _HttpError(400, 'body must be {"running": false}')
        with self._lock:
            tx = self._current
            if tx is None or (transaction_id is not None and tx.id != transaction_id):
                raise _HttpError(404, f"no running transaction {transaction_id!r}")
            self._pagination += 1
            tx.pagination = self._pagination
            tx.stop_wh = _whole(self._import_wh)
            tx.stop_export_wh = _whole(self._export_wh)
            tx.stop_time = self.now()
            status = "S" if tx.synced_at_start and self._synced else "U"
            signer = self._signer()
            tx.ocmf = signer.sign_readings(
                [
                    ReadingSpec(tx.start_wh, tx.start_time, "B", time_status=status),
                    ReadingSpec(tx.stop_wh, tx.stop_time, "E", time_status=status),
                ],
                id_tag=str(tx.request["clientId"]) or None,
                pagination=tx.pagination,
            )
            self._current = None
            self._done[tx.id] = tx
            tx.stop_reply = {
                "paginationCounter": tx.pagination,
                "transactionId": tx.id,
                "evseId": tx.request["evseId"],
                "clientId": tx.request["clientId"],
                "tariffId": tx.request["tariffId"],
                "cableSp": {"cableSpName": "none", "cableSpId": tx.request["cableId"]},
                "userData": tx.request["userData"],
                "meterValue": {
                    "timestampStart": _iso(tx.start_time),
                    "timestampStop": _iso(tx.stop_time),
                    "transactionDuration": int((tx.stop_time - tx.start_time).total_seconds()),
                    "intermediateRead": False,
                    "transactionStatus": self._status_word(),
                    "sampleValue": {
                        "energyUnit": "kWh",
                        "energyImport": _kwh(tx.stop_wh - tx.start_wh),
                        "energyImportTotalStart": _kwh(tx.start_wh),
                        "energyImportTotalStop": _kwh(tx.stop_wh),
                        "energyExport": _kwh(tx.stop_export_wh - tx.start_export_wh),
                        "energyExportTotalStart": _kwh(tx.start_export_wh),
                        "energyExportTotalStop": _kwh(tx.stop_export_wh),
                    },
                },
                "meterId": self.meter_id,
                "signature": _sd(tx.ocmf),
                "publicKey": signer.public_key_hex,
            }
            return tx.stop_reply

    def legal(self) -> dict[str, Any]:
        """``GET /legal``: the running transaction, or the last one."""
        with self._lock:
            tx = self._current or (list(self._done.values())[-1] if self._done else None)
            if tx is None:
                return {"transactionId": "", "running": False}
            return {**tx.request, "running": tx is self._current}

    def ocmf(self, transaction_id: str | None) -> str:
        with self._lock:
            tx = self._done.get(transaction_id or "")
            if tx is None or tx.ocmf is None:
                raise _HttpError(404, f"no stopped transaction {transaction_id!r}")
            return tx.ocmf

    def certificate(self) -> str:
        if not self.tls:
            raise _HttpError(404, "this meter serves no TLS certificate")
        with open(self.tls[0], encoding="ascii") as f:
            return f.read()


def _whole(wh: Decimal) -> int:
    """The register as completed Wh (what both livemeasure and the signature show)."""
    return int(wh.to_integral_value(rounding=ROUND_DOWN))


def _kwh(wh: int) -> float:
    return float(Decimal(wh) / 1000)  # three decimals: exact in its shortest repr


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def _sd(ocmf: str) -> str:
    signature = json.loads(ocmf.rsplit("|", 1)[1])
    return str(signature.get("SD", ""))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    meter: VirtualLemDcbm
    tls_context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        if self.tls_context is not None:  # handshake in the handler thread, not here
            sock = self.tls_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        LOG.debug("virtual LEM DCBM: request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        LOG.debug("virtual LEM DCBM: " + format, *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        meter = self.server.meter
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            body = self._body()
        except _HttpError as exc:
            self._json(exc.status, {"error": str(exc)})
            return
        meter.requests.append((method, self.path, body))
        if meter.http_status is not None:
            self._json(meter.http_status, {"error": "virtual meter told to fail"})
            return
        try:
            self._route(meter, method, url.path, query, body)
        except _HttpError as exc:
            self._json(exc.status, {"error": str(exc)})

    def _route(
        self, meter: VirtualLemDcbm, method: str, path: str, query: dict[str, str], body: Any
    ) -> None:
        version, _, endpoint = path.lstrip("/").partition("/")
        api = {"v1": 1, "v2": 2}.get(version)
        if api is None or api > meter.api_version:
            raise _HttpError(404, f"no such path {path}")
        tid = query.get("transactionId")
        route = (method, endpoint)
        if api == 1 and route == ("GET", "status"):
            self._json(200, _without(meter.status(), meter.omit_fields))
        elif api == 1 and route == ("PUT", "settings"):
            self._json(200, meter.set_time(body))
        elif api == 1 and route == ("GET", "certificate"):
            self._text(200, meter.certificate())
        elif route == ("GET", "livemeasure"):
            self._json(200, _without(meter.livemeasure(), meter.omit_fields))
        elif route == ("POST", "legal"):
            self._json(201, meter.start_transaction(body, api))
        elif route == ("PUT", "legal"):
            self._json(200, meter.stop_transaction(tid, body))
        elif route == ("GET", "legal"):
            self._json(200, meter.legal())
        elif route == ("GET", "ocmf"):
            text = "this is no OCMF record" if meter.ocmf_garbage else meter.ocmf(tid)
            self._text(200, text)
        else:
            raise _HttpError(404 if method == "GET" else 405, f"no {method} {path}")

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError:
            raise _HttpError(400, "body is not JSON") from None

    def _json(self, status: int, value: Any) -> None:
        text = json.dumps(value)
        if self.server.meter.malformed_json:
            text = text[: max(1, len(text) // 2)]
        self._send(status, text, "application/json")

    def _text(self, status: int, text: str) -> None:
        self._send(status, text, "text/plain")

    def _send(self, status: int, text: str, content_type: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _without(reply: dict[str, Any], omit: set[str]) -> dict[str, Any]:
    return {k: v for k, v in reply.items() if k not in omit}

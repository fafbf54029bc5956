"""Diagnostics upload of the virtual station (OCPP 1.6 §5.9 GetDiagnostics, §4.4 status).

GetDiagnostics is answered with the name of the file the station will upload; then, as a
station task: DiagnosticsStatusNotification Uploading, a real FTP upload of a real file (the
station's identity, connector states, configuration and its recent log, limited to
``startTime``/``stopTime``) into the given directory, ``retries``/``retryInterval`` honoured,
and Uploaded or UploadFailed. Deviation ``diagnostics_no_file``: Uploading and Uploaded are
reported but nothing is uploaded. Deviation ``diagnostics_not_an_archive``: the file is named
``.tar.gz`` but is 10 bytes, a gzip header and nothing after it (a truncated archive).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from hil.sim.station.extensions import EXTENSIONS, StationExtension, supported_extension
from hil.sim.station.firmware import parse_date
from hil.sim.station.transfers import TransferError, upload

if TYPE_CHECKING:
    from hil.sim.station.station import VirtualStation

LOG = logging.getLogger("hil.sim.station")

DEFAULT_RETRIES = 1
DEFAULT_RETRY_INTERVAL_S = 2
LOG_LINES = 2000
#: what ``diagnostics_not_an_archive`` uploads: a gzip member header (magic, deflate, no
#: flags, no time, no extra flags, OS unknown) with no compressed data after it
TRUNCATED_TAR_GZ = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


class _LogRing(logging.Handler):
    """The station's recent log lines, kept in memory for the diagnostics file."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: deque[tuple[datetime, str]] = deque(maxlen=LOG_LINES)
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        stamp = datetime.fromtimestamp(record.created, UTC)
        try:
            self.records.append((stamp, self.format(record)))
        except Exception:  # a bad log call must not break the station
            self.handleError(record)

    def lines(self, start: datetime | None, stop: datetime | None) -> list[str]:
        return [
            f"{stamp.isoformat(timespec='milliseconds')} {text}"
            for stamp, text in list(self.records)
            if (start is None or stamp >= start) and (stop is None or stamp <= stop)
        ]


_RING = _LogRing()
if not any(isinstance(h, _LogRing) for h in LOG.handlers):
    LOG.addHandler(_RING)


class DiagnosticsUploader(StationExtension):
    """Builds and uploads the diagnostics file; ``status`` is what a trigger reports."""

    def __init__(self, station: VirtualStation) -> None:
        super().__init__(station)
        self.status = "Idle"
        self._task: asyncio.Task[None] | None = None

    @property
    def supported(self) -> bool:
        return self.station.cfg.dut.capabilities.diagnostics

    def power_on(self) -> None:
        if self._task is not None and not self._task.done():
            LOG.info("diagnostics upload interrupted by the reboot")
            self._task.cancel()
        self._task = None
        self.status = "Idle"

    def file_name(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", self.station.station_id)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        suffix = "tar.gz" if "diagnostics_not_an_archive" in self.station.deviations else "txt"
        return f"diagnostics-{safe}-{stamp}.{suffix}"

    def report(self, start: datetime | None = None, stop: datetime | None = None) -> bytes:
        """The diagnostics file: identity, connectors, configuration, recent log."""
        station = self.station
        dut = station.cfg.dut
        window = f"{start.isoformat() if start else '-'} .. {stop.isoformat() if stop else '-'}"
        lines = [
            "HIL virtual charge station diagnostics",
            f"station: {station.station_id}",
            f"vendor: {dut.vendor}  model: {dut.model}  serial: {dut.serial or '-'}",
            f"firmware: {station.nv.firmware}",
            f"generated: {datetime.now(UTC).isoformat(timespec='seconds')}",
            f"log window: {window}",
            "",
            "[connectors]",
        ]
        for cid, state in sorted(station.connectors.items()):
            lines.append(f"{cid} {state.status} {state.error_code}")
        lines += ["", "[configuration]"]
        entries, _ = station.nv.config.entries(None)
        for entry in entries:
            flag = " (read-only)" if entry["readonly"] else ""
            lines.append(f"{entry['key']}={entry['value']}{flag}")
        lines += ["", "[log]", *_RING.lines(start, stop), ""]
        return "\n".join(lines).encode("utf-8")

    def schedule(
        self,
        file_name: str,
        location: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
        stop_time: str | None = None,
    ) -> None:
        if self._task is not None and not self._task.done():
            LOG.info("diagnostics upload superseded by a new GetDiagnostics")
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(
            self._upload(
                file_name,
                location,
                DEFAULT_RETRIES if retries is None else max(0, int(retries)),
                DEFAULT_RETRY_INTERVAL_S if retry_interval is None else max(0, int(retry_interval)),
                parse_date(start_time) if start_time else None,
                parse_date(stop_time) if stop_time else None,
            ),
            name="diagnostics-upload",
        )

    async def _upload(
        self,
        file_name: str,
        location: str,
        retries: int,
        retry_interval: int,
        start: datetime | None,
        stop: datetime | None,
    ) -> None:
        self._notify("Uploading")
        data = self.report(start, stop)
        if "diagnostics_not_an_archive" in self.station.deviations:
            data = TRUNCATED_TAR_GZ
        if "diagnostics_no_file" in self.station.deviations:
            await asyncio.sleep(0.2)
            self._notify("Uploaded")
            return
        timeout = self.station.cfg.virtual.transfer_timeout_s
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(retry_interval)
            try:
                remote = await asyncio.to_thread(upload, location, file_name, data, timeout)
            except TransferError as exc:
                LOG.warning("diagnostics upload attempt %d/%d: %s", attempt + 1, retries + 1, exc)
                continue
            LOG.info("diagnostics uploaded: %s (%d bytes)", remote, len(data))
            self._notify("Uploaded")
            return
        self._notify("UploadFailed")

    def _notify(self, status: str) -> None:
        self.status = "Uploading" if status == "Uploading" else "Idle"
        LOG.info("diagnostics status %s", status)
        self.station.enqueue("DiagnosticsStatusNotification", lambda: {"status": status})


class DiagnosticsHandlers:
    """StationLink mixin: GetDiagnostics."""

    station: VirtualStation
    _diagnostics_file: str | None = None

    def _diagnostics(self) -> DiagnosticsUploader:
        return supported_extension(self.station, DiagnosticsUploader, "diagnostics uploads")

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> call_result.GetDiagnostics:
        self._diagnostics_file = self._diagnostics().file_name()
        return call_result.GetDiagnostics(file_name=self._diagnostics_file)

    @after(Action.get_diagnostics)
    def after_get_diagnostics(
        self,
        location: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
        stop_time: str | None = None,
        **_: Any,
    ) -> None:
        name, self._diagnostics_file = self._diagnostics_file, None
        if name is not None:
            self._diagnostics().schedule(
                name, location, retries, retry_interval, start_time, stop_time
            )


if DiagnosticsUploader not in EXTENSIONS:
    EXTENSIONS.append(DiagnosticsUploader)

"""Firmware update of the virtual station (OCPP 1.6 §5.20 UpdateFirmware, §4.5 status).

The update runs as a station task, the way a charge point does it: nothing before
``retrieveDate``; Downloading, a real download (``retries`` / ``retryInterval`` honoured,
each attempt bounded by a socket timeout) and Downloaded or DownloadFailed; then, once no
transaction runs, Installing, a check of the image with
:func:`hil.lab.firmware_image.parse_image` and either InstallationFailed (the old firmware
stays) or a reboot into the new version, with Installed reported after that boot's
BootNotification was accepted. Deviations: ``download_failed_not_reported``,
``firmware_version_unchanged`` (a no-op installer: no check, old version, Installed
anyway), ``installed_without_reboot``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from hil.lab.firmware_image import FirmwareImageError, parse_image
from hil.sim.station.extensions import EXTENSIONS, StationExtension, supported_extension
from hil.sim.station.transfers import TransferError, download

if TYPE_CHECKING:
    from hil.sim.station.station import VirtualStation

LOG = logging.getLogger("hil.sim.station")

#: What the station does when UpdateFirmware leaves retries / retryInterval out.
DEFAULT_RETRIES = 1
DEFAULT_RETRY_INTERVAL_S = 2
#: How long "writing the flash" takes on the virtual station.
INSTALL_S = 0.3
#: Statuses after which the station is idle again (TriggerMessage then reports Idle).
FINAL = ("DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "Installed")


def parse_date(text: str) -> datetime:
    """An OCPP dateTime; one without a zone is taken as UTC."""
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


class FirmwareUpdater(StationExtension):
    """The station's firmware manager; ``status`` is what a trigger reports."""

    def __init__(self, station: VirtualStation) -> None:
        super().__init__(station)
        self.status = "Idle"
        #: non-volatile: a new image was installed; report Installed after the next boot
        self.installed_pending = False
        self._task: asyncio.Task[None] | None = None

    @property
    def supported(self) -> bool:
        return self.station.cfg.dut.capabilities.firmware_update == "ocpp"

    # -- hooks -----------------------------------------------------------------------

    def power_on(self) -> None:
        if self._task is not None and not self._task.done():
            LOG.info("firmware update interrupted by the reboot")
            self._task.cancel()
        self._task = None
        self.status = "Idle"

    def registered(self, first_since_boot: bool) -> None:
        if first_since_boot and self.installed_pending:
            self.installed_pending = False
            self._notify("Installed")

    # -- the update ------------------------------------------------------------------

    def schedule(
        self,
        location: str,
        retrieve_date: str,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> None:
        """Start an update as UpdateFirmware asked; a newer request replaces an older one."""
        if self._task is not None and not self._task.done():
            LOG.info("firmware update superseded by a new UpdateFirmware")
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(
            self._update(
                location,
                parse_date(retrieve_date),
                DEFAULT_RETRIES if retries is None else max(0, int(retries)),
                DEFAULT_RETRY_INTERVAL_S if retry_interval is None else max(0, int(retry_interval)),
            ),
            name="firmware-update",
        )

    async def _update(
        self, location: str, retrieve: datetime, retries: int, retry_interval: int
    ) -> None:
        wait = (retrieve - datetime.now(UTC)).total_seconds()
        if wait > 0:
            LOG.info("firmware download from %s waits %.1f s for retrieveDate", location, wait)
            await asyncio.sleep(wait)
        self._notify("Downloading")
        try:
            image = await self._download(location, retries, retry_interval)
        except TransferError as exc:
            LOG.warning("firmware download failed for good: %s", exc)
            if "download_failed_not_reported" in self.station.deviations:
                self.status = "Idle"
            else:
                self._notify("DownloadFailed")
            return
        self._notify("Downloaded")
        await self._no_transaction()
        if self.station.settings.verification_failure and self._corrupt(image):
            LOG.warning("firmware image fails its verification; not installing it")
            self._notify("InstallVerificationFailed")  # 2.0.1 L01: before Installing
            return
        self._notify("Installing")
        await asyncio.sleep(INSTALL_S)
        version = self._install(image)
        if version is None:
            return
        deviations = self.station.deviations
        if "installed_without_reboot" in deviations:
            self.station.nv.firmware = version
            self._notify("Installed")
            return
        if "firmware_version_unchanged" not in deviations:
            self.station.nv.firmware = version
        self.installed_pending = True
        LOG.info("firmware %s installed; rebooting into it", self.station.nv.firmware)
        if self.station.settings.install_rebooting:
            self._notify("InstallRebooting")  # 2.0.1 L01
        with contextlib.suppress(TimeoutError):  # Installing reaches the back office first
            await asyncio.wait_for(
                self.station.nv.outbox.flushed(), self.station.cfg.back_office.call_timeout_s
            )
        self.station.request_reset("Soft")

    async def _download(self, location: str, retries: int, retry_interval: int) -> bytes:
        timeout = self.station.cfg.virtual.transfer_timeout_s
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(retry_interval)
            try:
                data = await asyncio.to_thread(download, location, timeout)
            except TransferError as exc:
                LOG.warning("firmware download attempt %d/%d: %s", attempt + 1, retries + 1, exc)
                if attempt == retries:
                    raise
                continue
            LOG.info("downloaded %d bytes of firmware from %s", len(data), location)
            return data
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _no_transaction(self) -> None:
        """OCPP 1.6 §5.20: install only once running transactions have ended."""
        charging = self.station.charging
        told = False
        while any(charging.transaction(c) for c in range(1, self.station.n_connectors + 1)):
            if not told:
                LOG.info("firmware downloaded; installing once the running session ends")
                told = True
            await asyncio.sleep(0.2)

    @staticmethod
    def _corrupt(image: bytes) -> bool:
        try:
            parse_image(image)
        except FirmwareImageError:
            return True
        return False

    def _install(self, image: bytes) -> str | None:
        """The version the image installs, or None after reporting InstallationFailed."""
        if "firmware_version_unchanged" in self.station.deviations:
            return self.station.nv.firmware  # a no-op installer checks nothing
        try:
            parsed = parse_image(image)
        except FirmwareImageError as exc:
            LOG.warning(
                "firmware image refused (%s); keeping firmware %s", exc, self.station.nv.firmware
            )
            self._notify("InstallationFailed")
            return None
        return parsed.version

    def _notify(self, status: str) -> None:
        self.status = "Idle" if status in FINAL else status
        LOG.info("firmware status %s", status)
        self.station.enqueue("FirmwareStatusNotification", lambda: {"status": status})


class FirmwareHandlers:
    """StationLink mixin: UpdateFirmware."""

    station: VirtualStation

    def _firmware(self) -> FirmwareUpdater:
        return supported_extension(self.station, FirmwareUpdater, "firmware updates over OCPP")

    @on(Action.update_firmware)
    def on_update_firmware(
        self, location: str, retrieve_date: str, **_: Any
    ) -> call_result.UpdateFirmware:
        self._firmware()
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    def after_update_firmware(
        self,
        location: str,
        retrieve_date: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> None:
        self._firmware().schedule(location, retrieve_date, retries, retry_interval)


if FirmwareUpdater not in EXTENSIONS:
    EXTENSIONS.append(FirmwareUpdater)

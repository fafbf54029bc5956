"""Firmware update and diagnostics upload (steps 17-21, Firmware Management profile).

The lab serves the firmware images and receives the diagnostics itself (its file server),
so every step is checked twice: in the station's status notifications, and in what the
file server saw cross the wire (downloads, uploads, refused logins, full disk). A step the
DUT cannot do by design (``dut.capabilities``) ends as SKIP, N/A in the report.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import CALL, RX, Frame, WaitTimeout
from hil.lab.archive import describe as describe_file
from hil.lab.fileserver import LabFileServer, Transfer, TransferTimeout
from hil.protocol.base import StatusVariants
from hil.robot.context import LabContext
from hil.robot.keywords.capabilities import require_capability

FIRMWARE = "FirmwareStatusNotification"
#: How far the lab lets the station's start of a download precede retrieveDate (clocks).
CLOCK_TOLERANCE_S = 1.0
#: After Uploaded, how long the upload's record may take to show on the file server.
UPLOAD_GRACE_S = 2.0


def iso(stamp: datetime) -> str:
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wait_statuses(
    ctx: LabContext,
    action: str,
    expected: list[str],
    after: int,
    windows: list[float],
    optional_first: bool = False,
    *,
    variants: StatusVariants | None = None,
) -> dict[str, Frame]:
    """Wait for ``action`` notifications with exactly ``expected`` statuses, in order.

    Each next status must come within its window of the previous one; anything else next
    fails, naming the status that was missing or unexpected and quoting the frames. A
    status repeated right after itself is accepted (OCPP 1.6 does not forbid repeats) and
    logged. With ``optional_first`` the first expected status may be left out.
    ``variants`` says what the station's OCPP version allows besides: statuses that may
    come in between, other words for an expected status, expected statuses that may be
    left out. Returns expected status -> frame (the first frame of each status).
    """
    variants = variants or StatusVariants()
    skippable = set(variants.skippable) | ({expected[0]} if optional_first else set())
    seen: list[Frame] = []
    found: dict[str, Frame] = {}
    repeats: list[Frame] = []
    extras: list[Frame] = []
    cursor = after
    index = 0
    while index < len(expected):
        want = expected[index]
        path = " -> ".join(f.payload.get("status", "?") for f in seen) or "(none yet)"
        try:
            frame = ctx.journal.wait_for(
                lambda f: f.dir == RX and f.kind == CALL and f.action == action,
                cursor,
                windows[index],
                f"{action} {want}",
            )
        except WaitTimeout as exc:
            raise AssertionError(
                f"Missing {action} {want}: none within {windows[index]:g} s. Statuses so far: "
                f"{path}; expected {' -> '.join(expected)}.\n{exc}"
            ) from None
        status = (frame.payload or {}).get("status")
        cursor = frame.seq
        if seen and status == seen[-1].payload.get("status"):
            repeats.append(frame)  # the same status again: allowed
            continue
        if status in variants.between and not variants.means(status, want):
            extras.append(frame)  # a status the version allows in between
            seen.append(frame)
            continue
        while (
            not variants.means(status, want)
            and want in skippable
            and index + 1 < len(expected)
            and variants.means(status, expected[index + 1])
        ):
            index += 1  # the station left out a status it may leave out
            want = expected[index]
        if not variants.means(status, want):
            quoted = "\n".join("  " + f.describe() for f in [*seen, frame])
            raise AssertionError(
                f"Unexpected {action} {status} where {want} should come next (after: {path}; "
                f"expected {' -> '.join(expected)}, nothing skipped):\n{quoted}"
            )
        seen.append(frame)
        found[want] = frame
        index += 1
    ctx.advance(seen[-1])
    logger.info(
        f"{action}: " + " -> ".join(f"{f.payload['status']} (#{f.seq}, {f.wall})" for f in seen)
    )
    if repeats:
        logger.info(f"Repeated {action} (allowed): " + ", ".join(f.describe(120) for f in repeats))
    if extras:
        logger.info(
            f"{action} statuses the version allows in between: "
            + ", ".join(f.describe(120) for f in extras)
        )
    return found


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: where each version asks for the diagnostics upload (neither fixes the file's format)
DIAGNOSTICS_RULE = {"1.6": "OCPP 1.6 §5.9", "2.0.1": "OCPP 2.0.1 Part 2 N01"}


class MaintenanceKeywords:
    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx

    # -- helpers ---------------------------------------------------------------------

    @property
    def _files(self) -> LabFileServer:
        return self.ctx.lab.file_server

    def _transfer_timeout(self) -> float:
        return self.ctx.cfg.file_server.transfer_timeout_s

    def _image(self, kind: str) -> Path:
        images = self.ctx.lab.firmware_images
        if kind not in images:
            raise AssertionError(f"The lab has no {kind} firmware image; it has {sorted(images)}")
        return images[kind]

    def _firmware_location(self, location: str, protocol: str) -> tuple[str, Path | None]:
        files = self._files
        if "://" in location:
            return location, None
        if location in ("good", "corrupt"):
            image = self._image(location)
            name = files.relative(image)
            url = files.ftp_url(name) if protocol == "ftp" else files.http_url(name)
            return url, image
        if location in ("unreachable", "timeout"):
            kind = "refused" if location == "unreachable" else "timeout"
            return files.unreachable_url(kind, "ftp" if protocol == "ftp" else "http"), None
        if location == "wrong_login":
            image = self._image("good")
            return files.wrong_login_ftp_url(files.relative(image)), image
        raise ValueError(
            f"location must be good, corrupt, unreachable, timeout, wrong_login or a URL, "
            f"not {location!r}"
        )

    def _fw(self) -> dict[str, Any]:
        state = self.ctx.state.get("firmware_update")
        if state is None:
            raise AssertionError("No firmware update was requested: call 'Update Firmware' first")
        return state

    def _diag(self) -> dict[str, Any]:
        state = self.ctx.state.get("diagnostics_request")
        if state is None:
            raise AssertionError("No diagnostics were requested: call 'Request Diagnostics' first")
        return state

    def _transfers_since(self, index: int) -> list[Transfer]:
        return self._files.transfers()[index:]

    # -- firmware: steps 17-19 -------------------------------------------------------

    @keyword
    def update_firmware(
        self,
        location: str = "good",
        retries: int | None = 0,
        retry_interval: int | None = 1,
        retrieve_in: float = 0,
        protocol: str = "http",
    ) -> str:
        """Send UpdateFirmware (OCPP 1.6 §5.20; 2.0.1 L01, with a request id) for a location
        on the lab's file server and return its URL.

        ``location``: ``good`` (an image with a new version), ``corrupt`` (one whose checksum
        does not match), ``unreachable`` (connection refused), ``timeout`` (a server that
        never answers), ``wrong_login`` (FTP refuses the login) or a URL. ``protocol``:
        ``http`` or ``ftp``. ``retrieve_in`` seconds from now is the retrieveDate.
        SKIPs when the DUT's firmware is not updated over OCPP.
        """
        require_capability(self.ctx.cfg, "firmware_update")
        url, image = self._firmware_location(location, protocol)
        retrieve = datetime.now(UTC) + timedelta(seconds=float(retrieve_in))
        version = self.ctx.protocol
        request_id = int(time.time() * 1000) % 2_000_000_000
        action, payload = version.firmware_request(
            url,
            iso(retrieve),
            request_id,
            None if retries is None else int(retries),
            None if retry_interval is None else int(retry_interval),
        )
        mark = self.ctx.mark()
        transfers = len(self._files.transfers())
        answer = self.ctx.lab.call(action, payload)
        logger.info(f"{action} {payload} -> {answer}")
        refused = version.firmware_answer_problem(answer)
        if refused:
            raise AssertionError(refused[0].upper() + refused[1:])
        self.ctx.state["firmware_update"] = {
            "mark": mark,
            "url": url,
            "image": image,
            "retrieve": retrieve,
            "transfers": transfers,
            "frames": {},
            "request_id": request_id,
        }
        return url

    @keyword
    def firmware_status_should_go_through(
        self, *statuses: str, timeout: float | None = None
    ) -> None:
        """FirmwareStatusNotification reports exactly ``statuses`` in this order, nothing
        skipped and nothing in between, e.g. ``Downloading    Downloaded    Installing
        Installed`` (OCPP 1.6 §4.5). On 2.0.1 (L01) each carries the UpdateFirmware's
        requestId, and what L01 allows besides passes: DownloadScheduled, SignatureVerified,
        InstallScheduled and InstallRebooting in between, and for a corrupt image
        InstallVerificationFailed (without Installing) instead of InstallationFailed. Each
        status may take ``timeout`` (default ``file_server.transfer_timeout_s``; Installed
        also gets ``timings.boot_timeout_s`` for the reboot)."""
        fw = self._fw()
        protocol = self.ctx.protocol
        window = self._transfer_timeout() if timeout is None else float(timeout)
        windows = [
            window + (self.ctx.cfg.timings.boot_timeout_s if s == "Installed" else 0)
            for s in statuses
        ]
        fw["frames"] = wait_statuses(
            self.ctx,
            FIRMWARE,
            list(statuses),
            fw["mark"],
            windows,
            variants=protocol.firmware_variants,
        )
        for frame in fw["frames"].values():
            problem = protocol.firmware_status_problem(frame.payload or {}, fw["request_id"])
            if problem:
                raise AssertionError(f"{frame.action} has {problem} ({frame.describe()})")

    @keyword
    def firmware_download_should_not_start_before_retrieve_date(self) -> None:
        """Neither the Downloading notification nor the transfer on the lab's file server
        came before the retrieveDate of the UpdateFirmware request."""
        fw = self._fw()
        retrieve: datetime = fw["retrieve"]
        earliest = retrieve - timedelta(seconds=CLOCK_TOLERANCE_S)
        downloading = fw["frames"].get("Downloading")
        if downloading is None:
            raise AssertionError("No Downloading status was seen; check the status sequence first")
        at = datetime.fromisoformat(downloading.wall)
        if at < earliest:
            raise AssertionError(
                f"Downloading came {(retrieve - at).total_seconds():.2f} s before retrieveDate "
                f"{iso(retrieve)} ({downloading.describe()})"
            )
        early = [
            t
            for t in self._transfers_since(fw["transfers"])
            if t.kind in ("download", "login") and t.started < earliest.timestamp()
        ]
        if early:
            raise AssertionError(
                f"The station fetched before retrieveDate {iso(retrieve)}: "
                + "; ".join(t.describe() for t in early)
            )
        logger.info(
            f"Downloading at {downloading.wall}, retrieveDate {iso(retrieve)} "
            f"({(at - retrieve).total_seconds():+.2f} s)"
        )

    @keyword
    def firmware_image_should_have_been_downloaded_whole(self) -> Transfer:
        """The lab's file server served the whole image to the station: a successful
        download of the image file with its exact size and SHA-256."""
        fw = self._fw()
        image: Path | None = fw["image"]
        if image is None:
            raise AssertionError(f"{fw['url']} is not one of the lab's firmware images")
        rel = self._files.relative(image)
        try:
            transfer = self._files.wait_for_transfer(
                lambda t: t.kind == "download" and t.path == rel,
                timeout=UPLOAD_GRACE_S,
                after=fw["transfers"],
            )
        except TransferTimeout as exc:
            raise AssertionError(f"The station never downloaded {rel}: {exc}") from None
        expected = sha256_of(image)
        if not transfer.ok or transfer.sha256 != expected:
            raise AssertionError(
                f"Download of {rel} incomplete or altered: {transfer.describe()}, sha256 "
                f"{transfer.sha256}, expected {image.stat().st_size} bytes sha256 {expected}"
            )
        logger.info(
            f"Firmware image {rel}: {transfer.size} bytes over {transfer.protocol}, "
            f"sha256 {transfer.sha256}"
        )
        return transfer

    @keyword
    def test_firmware_version(self) -> str:
        """The firmware version inside the lab's good test image."""
        return self.ctx.lab.new_firmware_version

    @keyword
    def station_should_boot_with_firmware(self, version: str | None = None) -> None:
        """Between Installing and Installed the station rebooted: a BootNotification with
        firmwareVersion ``version`` (default: the good test image's) was answered Accepted
        before Installed was reported. Later boots are then expected with this version."""
        fw = self._fw()
        version = self.ctx.lab.new_firmware_version if version is None else version
        frames = fw["frames"]
        if "Installing" not in frames or "Installed" not in frames:
            raise AssertionError("Installing and Installed were not both seen; check the statuses")
        installing, installed = frames["Installing"], frames["Installed"]
        between = self.ctx.journal.frames(installing.seq, installed.seq - 1)
        boots = [
            f for f in between if f.dir == RX and f.kind == CALL and f.action == "BootNotification"
        ]
        if not boots:
            raise AssertionError(
                f"Installed was reported without a reboot: no BootNotification between "
                f"{installing.describe()} and {installed.describe()}"
            )
        boot = boots[-1]
        protocol = self.ctx.protocol
        facts = protocol.boot_facts(boot.payload or {})
        actual = facts.firmware
        if actual != version:
            raise AssertionError(
                f"The station rebooted with firmware {actual!r}, expected {version!r} from the "
                f"new image, yet reported Installed ({boot.describe()}; {installed.describe()})"
            )
        answer = self.ctx.answer_to(boot)
        if (answer.payload or {}).get("status") != "Accepted" or answer.seq > installed.seq:
            raise AssertionError(
                f"Installed ({installed.describe()}) came before the BootNotification was "
                f"Accepted ({answer.describe()})"
            )
        self.ctx.run["expected_firmware"] = version
        wanted = protocol.firmware_boot_reason
        if wanted is not None and facts.reason != wanted:
            BuiltIn().run_keyword(
                "Record Remark",
                f"After the firmware update the station booted with reason {facts.reason}, "
                f"not {wanted} ({boot.describe()})",
            )
        logger.info(f"Rebooted into firmware {version} ({boot.describe()})")

    @keyword
    def station_should_still_run_its_firmware(self) -> None:
        """The old firmware stays and the station is Available: it is restarted, boots with
        the firmware it had, and reports every connector Available."""
        builtin = BuiltIn()
        builtin.run_keyword("Restart Station")
        builtin.run_keyword("Wait For Accepted Boot")
        builtin.run_keyword("Status Notification Should Arrive For Every Connector", "Available")

    # -- diagnostics: steps 20-21 ------------------------------------------------------

    def _diagnostics_location(self, location: str) -> str:
        files = self._files
        files.upload_quota_bytes = None
        if "://" in location:
            return location
        if location == "lab":
            return files.upload_url("diagnostics")
        if location in ("unreachable", "timeout"):
            kind = "refused" if location == "unreachable" else "timeout"
            return files.unreachable_url(kind, "ftp", "uploads/diagnostics/")
        if location == "wrong_login":
            files.upload_url("diagnostics")
            return files.wrong_login_ftp_url("uploads/diagnostics/")
        if location == "full_disk":
            files.upload_quota_bytes = 0  # every byte is one too many
            return files.upload_url("diagnostics")
        raise ValueError(
            f"location must be lab, unreachable, timeout, wrong_login, full_disk or a URL, "
            f"not {location!r}"
        )

    @keyword
    def request_diagnostics(
        self,
        location: str = "lab",
        retries: int | None = 0,
        retry_interval: int | None = 1,
        log_minutes: float | None = None,
    ) -> str | None:
        """Ask for the station's diagnostics uploaded to the lab's file server (OCPP 1.6
        GetDiagnostics §5.9; 2.0.1 GetLog of the DiagnosticsLog, N01); return the file name
        the station announced (None if it gave none).

        ``location``: ``lab`` (the lab's FTP upload directory), ``unreachable`` (connection
        refused), ``timeout`` (never answers), ``wrong_login`` (login refused, 530),
        ``full_disk`` (the server's disk is full, 452) or a URL. ``log_minutes`` asks for the
        last minutes of log only (startTime). SKIPs when the DUT cannot upload diagnostics.
        """
        require_capability(self.ctx.cfg, "diagnostics")
        url = self._diagnostics_location(location)
        protocol = self.ctx.protocol
        start = None
        if log_minutes is not None:
            start = iso(datetime.now(UTC) - timedelta(minutes=float(log_minutes)))
        request_id = int(time.time() * 1000) % 2_000_000_000
        action, payload = protocol.diagnostics_request(
            url,
            request_id,
            None if retries is None else int(retries),
            None if retry_interval is None else int(retry_interval),
            start,
        )
        mark = self.ctx.mark()
        transfers = len(self._files.transfers())
        answer = self.ctx.lab.call(action, payload)
        logger.info(f"{action} {payload} -> {answer}")
        name = protocol.diagnostics_file_name(answer)
        self.ctx.state["diagnostics_request"] = {
            "mark": mark,
            "url": url,
            "file_name": name,
            "transfers": transfers,
            "frames": {},
            "request_id": request_id,
        }
        return name

    def _diagnostics_statuses(
        self, statuses: list[str], window: float, optional_first: bool = False
    ) -> None:
        """Wait for the upload statuses (the lab's words, in the version's message), then
        check each frame beyond its status (2.0.1: the GetLog's requestId)."""
        diag = self._diag()
        protocol = self.ctx.protocol
        wanted = [protocol.diagnostics_status(s) for s in statuses]
        frames = wait_statuses(
            self.ctx,
            protocol.diagnostics_status_action,
            wanted,
            diag["mark"],
            [window] * len(wanted),
            optional_first=optional_first,
        )
        for frame in frames.values():
            problem = protocol.diagnostics_status_problem(frame.payload or {}, diag["request_id"])
            if problem:
                raise AssertionError(f"{frame.action} has {problem} ({frame.describe()})")
        lab_words = dict(zip(wanted, statuses, strict=True))
        diag["frames"] = {lab_words.get(k, k): f for k, f in frames.items()}

    @keyword
    def diagnostics_status_should_go_through(
        self, *statuses: str, timeout: float | None = None
    ) -> None:
        """The upload status notification (1.6 DiagnosticsStatusNotification §4.4; 2.0.1
        LogStatusNotification N01, with the GetLog's requestId) reports exactly
        ``statuses`` in this order, e.g. ``Uploading    Uploaded`` (2.0.1's UploadFailure is
        UploadFailed here); each within ``timeout`` (default
        ``file_server.transfer_timeout_s``)."""
        window = self._transfer_timeout() if timeout is None else float(timeout)
        self._diagnostics_statuses(list(statuses), window)

    def _named_file(self) -> str:
        name = self._diag()["file_name"]
        if not name:
            protocol = self.ctx.protocol
            raise AssertionError(
                f"{protocol.diagnostics_action} was answered without a "
                f"{protocol.diagnostics_file_field}: the station says it has no diagnostics to "
                f"upload ({protocol.diagnostics_file_rule})"
            )
        return name

    @keyword
    def diagnostics_file_should_be_named(self) -> str:
        """The answer to the last diagnostics request named the file the station will
        upload (1.6 GetDiagnostics.conf ``fileName``, §6.26; 2.0.1 GetLogResponse
        ``filename``, N01): both are absent only when the station has nothing to upload.
        Returns the name."""
        return self._named_file()

    @keyword
    def diagnostics_file_should_be_on_the_lab_server(self) -> Transfer:
        """The file the station named in its answer (1.6 GetDiagnostics, 2.0.1 GetLog) arrived
        whole on the lab's file server: logs its path, size and SHA-256, and what the file is
        (a readable tar / tar.gz / zip archive and its members, plain text). OCPP fixes no
        format for it (1.6 §5.9, 2.0.1 N01), so a file that is, or is named as, an archive
        and cannot be read (e.g. a truncated ``.tar.gz``) does not fail the step: it is a
        remark naming what the file is."""
        diag = self._diag()
        name = self._named_file()
        reported = diag["frames"].get("Uploaded")
        wait = UPLOAD_GRACE_S if reported is not None else self._transfer_timeout()
        try:
            transfer = self._files.wait_for_transfer(
                lambda t: t.kind == "upload" and t.path.rsplit("/", 1)[-1] == name,
                timeout=wait,
                after=diag["transfers"],
            )
        except TransferTimeout as exc:
            said = f" although it reported Uploaded ({reported.describe()})" if reported else ""
            raise AssertionError(
                f"The diagnostics file {name} never reached the lab's file server{said}: {exc}"
            ) from None
        if not transfer.ok:
            raise AssertionError(f"Upload of {name} failed on the server: {transfer.describe()}")
        path = self._files.root / (transfer.stored_path or transfer.path)
        data = path.read_bytes() if path.is_file() else b""
        digest = hashlib.sha256(data).hexdigest()
        if not data or digest != transfer.sha256 or len(data) != transfer.size:
            raise AssertionError(
                f"Diagnostics file {path} is empty or differs from what was uploaded "
                f"({len(data)} bytes sha256 {digest}; upload {transfer.size} bytes sha256 "
                f"{transfer.sha256})"
            )
        logger.info(f"Diagnostics file {path}: {transfer.size} bytes, sha256 {transfer.sha256}")
        kind = describe_file(name, data)
        if kind.readable:
            logger.info(f"The diagnostics file {name} is {kind.what}")
        else:
            protocol = self.ctx.protocol
            rule = f"{protocol.diagnostics_action}, {DIAGNOSTICS_RULE[protocol.version]}"
            BuiltIn().run_keyword(
                "Record Remark",
                f"The diagnostics file {name} is {kind.what} (OCPP fixes no format for it, "
                f"{rule}: the step passes)",
            )
        return transfer

    @keyword
    def diagnostics_upload_should_fail(self, timeout: float | None = None) -> None:
        """The station reports UploadFailed (2.0.1 UploadFailure; after Uploading, if it sent
        that) and nothing reached the lab's file server; logs what the server saw (refused
        login, full disk)."""
        diag = self._diag()
        window = self._transfer_timeout() if timeout is None else float(timeout)
        self._diagnostics_statuses(["Uploading", "UploadFailed"], window, optional_first=True)
        seen = self._transfers_since(diag["transfers"])
        stored = [t for t in seen if t.kind == "upload" and t.ok]
        if stored:
            failed = self.ctx.protocol.diagnostics_status("UploadFailed")
            raise AssertionError(
                f"{failed} was reported, yet the lab's file server stored an upload: "
                + "; ".join(t.describe() for t in stored)
            )
        server = "; ".join(t.describe() for t in seen) or "no connection reached it"
        logger.info(f"Upload to {diag['url']} failed as expected. The lab's file server: {server}")

"""One station as the back office knows it: journal, findings, and its current connection.

A session outlives connections: a station that reconnects with the same id finds its
journal and state where it left them, and a stale connection is replaced by the new one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hil.csms.findings import Finding, FindingLog
from hil.csms.journal import Journal
from hil.csms.link import OcppLink
from hil.csms.policy import ResponsePolicy


class StationNotConnected(AssertionError):
    pass


class StationSession:
    def __init__(
        self, station_id: str, journal: Journal, policy: ResponsePolicy, findings: FindingLog
    ) -> None:
        self.station_id = station_id
        self.journal = journal
        self.policy = policy
        self.findings = findings
        self.link: OcppLink | None = None
        #: the OCPP version of the station's current (or last) connection, None before one
        self.ocpp_version: str | None = None

    def record_finding(self, finding: Finding) -> None:
        self.findings.record(finding)
        self.journal.record_event(
            "finding", kind=finding.kind, detail=finding.detail, frame=finding.seq
        )

    @property
    def connected(self) -> bool:
        return self.link is not None

    async def attach(self, link: OcppLink) -> None:
        """Make ``link`` the current connection, closing a stale one of the same id."""
        old, self.link = self.link, link
        self.ocpp_version = link.ocpp_version
        if old is not None:
            self.journal.record_event("superseded", detail="a new connection replaced it")
            asyncio.ensure_future(old.jconn.ws.close(1000, "superseded by a new connection"))

    def detach(self, link: OcppLink) -> None:
        if self.link is link:
            self.link = None

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        link = self.link
        if link is None:
            raise StationNotConnected(
                f"Station {self.station_id} is not connected to the back office; "
                f"cannot send {action}"
            )
        return await link.call_action(action, payload)

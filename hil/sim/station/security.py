"""How the virtual station connects under the lab's OCPP security profile.

What it sends follows ``back_office.security`` (the station id and the DUT's password for
Basic auth, the lab CA to trust, the ``auto`` client certificate for profile 3);
``virtual.station_security`` overrides any of them, so a test can show a wrong password, an
untrusted back office or a missing client certificate being refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hil.csms.security import basic_auth_header, client_context
from hil.lab.certs import LabCerts
from hil.lab.config import LabConfig


def connect_options(cfg: LabConfig, tls_dir: Path | None) -> dict[str, Any]:
    """Keyword arguments for ``websockets.asyncio.client.connect``: ``ssl`` and the
    ``Authorization`` header, as the lab config asks (empty for profile 0)."""
    sec = cfg.back_office.security
    mine = cfg.virtual.station_security
    auto = LabCerts.in_dir(tls_dir) if tls_dir is not None else None
    options: dict[str, Any] = {}
    if sec.profile in (1, 2):
        password = mine.password or cfg.passwords().get(cfg.dut.station_id, "")
        options["additional_headers"] = {
            "Authorization": basic_auth_header(cfg.dut.station_id, password)
        }
    if sec.profile in (2, 3):
        if mine.ca is not None:
            ca: Path | None = cfg.lab_path(mine.ca)
        elif auto is not None:
            ca = auto.ca
        elif sec.ca is not None:
            ca = cfg.lab_path(sec.ca)
        else:
            ca = None  # the system's CAs
        cert = key = None
        if sec.profile == 3 and mine.client_certificate != "none":
            if mine.client_certificate is not None:
                cert = cfg.lab_path(mine.client_certificate)
                key = cfg.lab_path(mine.client_key) if mine.client_key else None
            elif auto is not None:
                cert, key = auto.client_cert, auto.client_key
        options["ssl"] = client_context(ca, cert, key)
    return options

"""What the DUT can do by design (``dut`` in the lab config), and N/A when it cannot.

A step that needs a capability the station lacks is not failed: it ends as SKIP with the
reason, which the report shows as N/A by DUT capability.
"""

from __future__ import annotations

from collections.abc import Callable

from robot.libraries.BuiltIn import BuiltIn

from hil.lab.config import LabConfig

#: DUT capabilities a step may require: name -> (present?, why N/A when absent).
CAPABILITIES: dict[str, tuple[Callable[[LabConfig], bool], Callable[[LabConfig], str]]] = {
    "signed_meter_values": (
        lambda c: c.dut.capabilities.signed_meter_values,
        lambda c: (
            "the DUT does not sign its meter values (dut.capabilities.signed_meter_values: false)"
        ),
    ),
    "firmware_update": (
        lambda c: c.dut.capabilities.firmware_update == "ocpp",
        lambda c: (
            "the station's firmware is updated "
            + (
                "only through its maker's cloud"
                if c.dut.capabilities.firmware_update == "maker_cloud"
                else "not at all"
            )
            + f" (dut.capabilities.firmware_update: {c.dut.capabilities.firmware_update})"
        ),
    ),
    "diagnostics": (
        lambda c: c.dut.capabilities.diagnostics,
        lambda c: "the station cannot upload diagnostics (dut.capabilities.diagnostics: false)",
    ),
    "trigger_message": (
        lambda c: c.dut.capabilities.trigger_message,
        lambda c: (
            "the station does not support TriggerMessage (dut.capabilities.trigger_message: false)"
        ),
    ),
    "authorization_cache": (
        lambda c: c.dut.capabilities.authorization_cache,
        lambda c: (
            "the station has no authorization cache (dut.capabilities.authorization_cache: false)"
        ),
    ),
    "smart_charging": (
        lambda c: c.dut.capabilities.smart_charging,
        lambda c: (
            "the station does not support smart charging (dut.capabilities.smart_charging: false)"
        ),
    ),
    "socket_connector": (
        lambda c: c.dut.cable == "socket",
        lambda c: "the DUT has a tethered cable (dut.cable: tethered); nothing to unlock",
    ),
}


def require_capability(cfg: LabConfig, name: str) -> None:
    """SKIP the running test (N/A) when the DUT lacks capability ``name``."""
    if name not in CAPABILITIES:
        raise ValueError(f"unknown DUT capability {name!r}; known: {', '.join(CAPABILITIES)}")
    present, why = CAPABILITIES[name]
    if not present(cfg):
        BuiltIn().skip(f"N/A by DUT capability: {why(cfg)}")

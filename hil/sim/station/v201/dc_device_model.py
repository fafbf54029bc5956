"""The device model of a 2.0.1 DC station (CCS): what differs from an AC station's.

OCPP 2.0.1 Part 2, appendix of standardized components and variables:

- EVSE / Connector / ChargingStation ``SupplyPhases`` is the number of AC phases
  available to the EV: a DC output has none, so 0 (an AC station keeps ``dut.phases``).
- ``Connector.ConnectorType`` is a ConnectorEnumType: cCCS2 / cCCS1 from
  ``dut.dc.connector`` (AC stations: cType2).
- ``EVSE.Power``: the characteristic maxLimit holds the most power the EVSE can give
  (required by the appendix); on DC it is ``dut.dc.max_power_w``, and so is MaxSet.
  The appendix has no standardized EVSE variables for the DC output's current or voltage
  range, so ``dut.dc.max_current_a`` / ``min/max_voltage_v`` appear only in what the
  station offers the EV (ChargeParameterDiscovery), not in the device model.
- ``ISO15118Ctrlr``: the ISO 15118 controller of a station that speaks high-level
  communication with the EV (used by K15 NotifyEVChargingNeeds, C07 Plug & Charge,
  A02/A03/M01/M02 certificates). The virtual station identifies EVs by EIM only, so
  Plug & Charge and certificate installation are off and read-only: a CSMS that tries to
  switch them on is Rejected rather than told Accepted for something the station cannot do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hil.sim.station.v201.device_model import READ_ONLY, ComponentKey, DeviceModel

if TYPE_CHECKING:
    from hil.lab.config import LabConfig

#: dut.dc.connector as 2.0.1 ConnectorEnumType
CONNECTOR_TYPES = {"CCS2": "cCCS2", "CCS1": "cCCS1"}


def evse_options(cfg: LabConfig) -> dict[str, Any]:
    """The arguments of :func:`~hil.sim.station.v201.device_model.build_device_model`
    that depend on AC or DC: phases, the connector type and the EVSE's maximum power.
    An AC station's are what they always were."""
    dc = cfg.dut.dc if cfg.dut.current_type == "DC" else None
    if dc is None:
        return {"phases": cfg.dut.phases, "max_current_a": cfg.dut.max_current_a}
    return {
        "phases": 0,  # no AC phases on a DC output
        "max_current_a": dc.max_current_a,
        "connector_type": CONNECTOR_TYPES[dc.connector],
        "max_power_w": dc.max_power_w,
    }


def add_iso15118(dm: DeviceModel, *, evses: int, station_id: str, organization: str) -> None:
    """The ISO15118Ctrlr component (appendix; ContractValidationOffline is its required
    variable). SeccId defaults to the station id and ISO15118EvseId (one per EVSE, on the
    controller's EVSE instance) to ``<station id>*<evse>``; a lab that has an operator
    id (eMI3 EVSE id) sets them with SetVariables. OrganizationName is the vendor's, as
    SecurityCtrlr.OrganizationName (the appendix: usually identical)."""
    ro = READ_ONLY
    iso = ComponentKey("ISO15118Ctrlr")
    dm.add(iso, "ContractValidationOffline", "false", data_type="boolean", required=True)
    dm.add(iso, "CentralContractValidationAllowed", "false", data_type="boolean")
    dm.add(iso, "RequestMeteringReceipt", "false", data_type="boolean")
    dm.add(iso, "SeccId", station_id)
    dm.add(iso, "OrganizationName", organization)
    # EIM only: Plug & Charge (C07) and certificate installation (A02/A03, M01/M02) are off
    dm.add(iso, "PnCEnabled", "false", mutability=ro, data_type="boolean")
    dm.add(iso, "V2GCertificateInstallationEnabled", "false", mutability=ro, data_type="boolean")
    dm.add(
        iso, "ContractCertificateInstallationEnabled", "false", mutability=ro, data_type="boolean"
    )
    for e in range(1, evses + 1):
        dm.add(ComponentKey("ISO15118Ctrlr", evse=e), "ISO15118EvseId", f"{station_id}*{e}")

"""Charging profiles as OCPP 1.6 defines them (§7.7-7.13), read from and written to JSON.

The dataclasses check themselves on construction, so a profile built in code obeys the same
rules as one parsed from a SetChargingProfile request: a malformed profile raises
``ValueError`` naming the OCPP field, and never reaches the composite-schedule maths.

Times are timezone-aware datetimes in UTC. OCPP sends UTC (``...Z``); a timestamp without
an offset is read as UTC as well, since the protocol has no other zone to mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hil.verify.charging_profiles.units import UNITS


class Purpose(StrEnum):
    """ChargingProfilePurposeType (§7.8)."""

    CHARGE_POINT_MAX = "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class Kind(StrEnum):
    """ChargingProfileKindType (§7.7)."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class Recurrency(StrEnum):
    """RecurrencyKindType (§7.11)."""

    DAILY = "Daily"
    WEEKLY = "Weekly"


def parse_datetime(text: Any, name: str = "dateTime") -> datetime:
    """An OCPP dateTime as an aware UTC datetime (no offset given: UTC)."""
    if not isinstance(text, str):
        raise ValueError(f"{name}: expected a date-time string, got {text!r}")
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: not an ISO 8601 date-time: {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """An aware datetime as OCPP writes it: UTC with a ``Z``."""
    return utc(value, "dateTime").isoformat().replace("+00:00", "Z")


def utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive datetime is refused, since its zone would be a guess."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name}: expected a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: needs a timezone-aware datetime (UTC), got naive {value}")
    return value.astimezone(UTC)


def _on_decimal_grid(value: float) -> bool:
    """OCPP's ``multipleOf 0.1``, allowing for binary noise."""
    return abs(round(value * 10) - value * 10) < 1e-6


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class SchedulePeriod:
    """ChargingSchedulePeriod (§7.12): from ``start_period`` s on, at most ``limit``."""

    start_period: int
    limit: float
    number_phases: int | None = None  # None: not given; the spec then assumes 3

    def __post_init__(self) -> None:
        if not _is_int(self.start_period) or self.start_period < 0:
            raise ValueError(f"startPeriod: expected seconds >= 0, got {self.start_period!r}")
        if not isinstance(self.limit, int | float) or isinstance(self.limit, bool):
            raise ValueError(f"limit: expected a number, got {self.limit!r}")
        if self.limit < 0:
            raise ValueError(f"limit: must not be negative, got {self.limit!r}")
        if not _on_decimal_grid(self.limit):
            raise ValueError(f"limit: at most one decimal (multipleOf 0.1), got {self.limit!r}")
        object.__setattr__(self, "limit", float(self.limit))
        if self.number_phases is not None and (
            not _is_int(self.number_phases) or not 1 <= self.number_phases <= 3
        ):
            raise ValueError(f"numberPhases: expected 1, 2 or 3, got {self.number_phases!r}")


@dataclass(frozen=True)
class ChargingSchedule:
    """ChargingSchedule (§7.13). ``duration`` None: the last period runs on indefinitely."""

    charging_rate_unit: str
    periods: tuple[SchedulePeriod, ...]
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: float | None = None

    def __post_init__(self) -> None:
        if self.charging_rate_unit not in UNITS:
            raise ValueError(
                f"chargingRateUnit: expected 'A' or 'W', got {self.charging_rate_unit!r}"
            )
        object.__setattr__(self, "periods", tuple(self.periods))
        if not self.periods:
            raise ValueError("chargingSchedulePeriod: needs at least one period")
        if self.periods[0].start_period != 0:
            # §7.13: "The startSchedule of the first ChargingSchedulePeriod SHALL always be 0."
            raise ValueError(
                "chargingSchedulePeriod[0].startPeriod: the first period must start at 0, "
                f"got {self.periods[0].start_period}"
            )
        for i, (a, b) in enumerate(zip(self.periods, self.periods[1:], strict=False), 1):
            if b.start_period <= a.start_period:
                raise ValueError(
                    f"chargingSchedulePeriod[{i}].startPeriod: must be after the previous "
                    f"period's {a.start_period}, got {b.start_period}"
                )
        if self.duration is not None and (not _is_int(self.duration) or self.duration < 1):
            raise ValueError(f"duration: expected seconds >= 1, got {self.duration!r}")
        if self.start_schedule is not None:
            object.__setattr__(self, "start_schedule", utc(self.start_schedule, "startSchedule"))
        rate = self.min_charging_rate
        if rate is not None:
            if not isinstance(rate, int | float) or isinstance(rate, bool) or rate < 0:
                raise ValueError(f"minChargingRate: expected a number >= 0, got {rate!r}")
            if not _on_decimal_grid(rate):
                raise ValueError(f"minChargingRate: at most one decimal, got {rate!r}")
            object.__setattr__(self, "min_charging_rate", float(rate))


@dataclass(frozen=True)
class ChargingProfile:
    """ChargingProfile (§7.9), the ``csChargingProfiles`` of SetChargingProfile."""

    charging_profile_id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedule: ChargingSchedule
    #: 1.6: the back office's integer; 2.0.1: the station's identifier string (K01)
    transaction_id: int | str | None = None
    recurrency_kind: Recurrency | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.charging_profile_id):
            raise ValueError(
                f"chargingProfileId: expected an integer, got {self.charging_profile_id!r}"
            )
        if not _is_int(self.stack_level) or self.stack_level < 0:
            raise ValueError(f"stackLevel: expected an integer >= 0, got {self.stack_level!r}")
        object.__setattr__(self, "purpose", _enum(Purpose, self.purpose, "chargingProfilePurpose"))
        object.__setattr__(self, "kind", _enum(Kind, self.kind, "chargingProfileKind"))
        if self.recurrency_kind is not None:
            object.__setattr__(
                self, "recurrency_kind", _enum(Recurrency, self.recurrency_kind, "recurrencyKind")
            )
        elif self.kind is Kind.RECURRING:
            raise ValueError("recurrencyKind: required for a Recurring profile (Daily or Weekly)")
        tx = self.transaction_id
        if tx is not None and not (_is_int(tx) or (isinstance(tx, str) and 0 < len(tx) <= 36)):
            raise ValueError(
                "transactionId: expected an integer (1.6) or an identifier string of up to 36 "
                f"characters (2.0.1), got {tx!r}"
            )
        if not isinstance(self.schedule, ChargingSchedule):
            raise ValueError(
                f"chargingSchedule: expected a ChargingSchedule, got {self.schedule!r}"
            )
        for name in ("valid_from", "valid_to"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, utc(value, _CAMEL[name]))
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError(
                f"validTo: must be after validFrom ({format_datetime(self.valid_from)}), "
                f"got {format_datetime(self.valid_to)}"
            )

    @property
    def unit(self) -> str:
        return self.schedule.charging_rate_unit

    def is_valid_at(self, instant: datetime) -> bool:
        """Inside ``[validFrom, validTo)``; an absent bound does not limit."""
        if self.valid_from is not None and instant < self.valid_from:
            return False
        return self.valid_to is None or instant < self.valid_to

    def to_json(self) -> dict[str, Any]:
        """The OCPP JSON (camelCase) of this profile; absent optional fields stay absent."""
        out: dict[str, Any] = {"chargingProfileId": self.charging_profile_id}
        if self.transaction_id is not None:
            out["transactionId"] = self.transaction_id
        out["stackLevel"] = self.stack_level
        out["chargingProfilePurpose"] = str(self.purpose)
        out["chargingProfileKind"] = str(self.kind)
        if self.recurrency_kind is not None:
            out["recurrencyKind"] = str(self.recurrency_kind)
        if self.valid_from is not None:
            out["validFrom"] = format_datetime(self.valid_from)
        if self.valid_to is not None:
            out["validTo"] = format_datetime(self.valid_to)
        out["chargingSchedule"] = schedule_to_json(self.schedule)
        return out


_CAMEL = {"valid_from": "validFrom", "valid_to": "validTo"}


def _enum(cls: type[StrEnum], value: Any, name: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"{name}: expected one of {allowed}, got {value!r}") from None


def schedule_to_json(schedule: ChargingSchedule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if schedule.duration is not None:
        out["duration"] = schedule.duration
    if schedule.start_schedule is not None:
        out["startSchedule"] = format_datetime(schedule.start_schedule)
    out["chargingRateUnit"] = schedule.charging_rate_unit
    periods = []
    for p in schedule.periods:
        item: dict[str, Any] = {"startPeriod": p.start_period, "limit": p.limit}
        if p.number_phases is not None:
            item["numberPhases"] = p.number_phases
        periods.append(item)
    out["chargingSchedulePeriod"] = periods
    if schedule.min_charging_rate is not None:
        out["minChargingRate"] = schedule.min_charging_rate
    return out


# -- parsing -----------------------------------------------------------------------------


def _field(data: Mapping[str, Any], key: str, where: str, required: bool) -> Any:
    if key not in data or data[key] is None:
        if required:
            raise ValueError(f"{where}{key}: required field missing")
        return None
    return data[key]


def _int_field(data: Mapping[str, Any], key: str, where: str, required: bool) -> int | None:
    value = _field(data, key, where, required)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 5.0 is an integer in JSON's eyes
    if not _is_int(value):
        raise ValueError(f"{where}{key}: expected an integer, got {value!r}")
    return value


def _number_field(data: Mapping[str, Any], key: str, where: str, required: bool) -> float | None:
    value = _field(data, key, where, required)
    if value is None:
        return None
    if not is_number(value):
        raise ValueError(f"{where}{key}: expected a number, got {value!r}")
    return float(value)


def is_number(value: Any) -> bool:
    """A JSON number: int, float, or the Decimal the ``ocpp`` library parses numbers as."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _object(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where or 'profile'}: expected a JSON object, got {data!r}")
    return data


_PROFILE_KEYS = frozenset(
    {
        "chargingProfileId",
        "transactionId",
        "stackLevel",
        "chargingProfilePurpose",
        "chargingProfileKind",
        "recurrencyKind",
        "validFrom",
        "validTo",
        "chargingSchedule",
    }
)
_SCHEDULE_KEYS = frozenset(
    {"duration", "startSchedule", "chargingRateUnit", "chargingSchedulePeriod", "minChargingRate"}
)
_PERIOD_KEYS = frozenset({"startPeriod", "limit", "numberPhases"})


def _no_unknown(data: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"{where}{unknown[0]}: unknown field (expected one of {', '.join(sorted(known))})"
        )


def _prefixed(where: str, error: ValueError) -> ValueError:
    return ValueError(f"{where}{error}")


def parse_schedule(
    data: Any, where: str = "chargingSchedule.", strict: bool = True
) -> ChargingSchedule:
    """A ChargingSchedule from its OCPP JSON; ``ValueError`` names the offending field.

    ``strict=False`` tolerates unknown keys (a station's GetCompositeSchedule answer is
    evidence to judge, not input to refuse over a vendor extension).
    """
    data = _object(data, where.rstrip("."))
    if strict:
        _no_unknown(data, _SCHEDULE_KEYS, where)
    raw_periods = _field(data, "chargingSchedulePeriod", where, True)
    if not isinstance(raw_periods, list):
        raise ValueError(f"{where}chargingSchedulePeriod: expected a list, got {raw_periods!r}")
    periods = []
    for i, raw in enumerate(raw_periods):
        here = f"{where}chargingSchedulePeriod[{i}]."
        raw = _object(raw, here.rstrip("."))
        if strict:
            _no_unknown(raw, _PERIOD_KEYS, here)
        try:
            periods.append(
                SchedulePeriod(
                    _int_field(raw, "startPeriod", here, True),  # type: ignore[arg-type]
                    _number_field(raw, "limit", here, True),  # type: ignore[arg-type]
                    _int_field(raw, "numberPhases", here, False),
                )
            )
        except ValueError as e:
            raise e if str(e).startswith(here) else _prefixed(here, e) from None
    start = _field(data, "startSchedule", where, False)
    try:
        return ChargingSchedule(
            charging_rate_unit=_field(data, "chargingRateUnit", where, True),
            periods=tuple(periods),
            duration=_int_field(data, "duration", where, False),
            start_schedule=None if start is None else parse_datetime(start, "startSchedule"),
            min_charging_rate=_number_field(data, "minChargingRate", where, False),
        )
    except ValueError as e:
        raise e if str(e).startswith(where) else _prefixed(where, e) from None


def parse_profile(data: Any) -> ChargingProfile:
    """A ChargingProfile from the OCPP JSON ``csChargingProfiles`` object.

    Beyond the schema it enforces what the specification states as rules, since a profile
    breaking them cannot be computed with: the first period starts at 0 and periods ascend,
    limits are >= 0 with one decimal, a Recurring profile says Daily or Weekly, validTo
    follows validFrom. An unknown key is an error too: a misspelt optional field would
    otherwise vanish without a word.
    """
    data = _object(data, "csChargingProfiles")
    where = ""
    valid = {}
    for key in ("validFrom", "validTo"):
        raw = _field(data, key, where, False)
        valid[key] = None if raw is None else parse_datetime(raw, key)
    _no_unknown(data, _PROFILE_KEYS, where)
    return ChargingProfile(
        charging_profile_id=_int_field(data, "chargingProfileId", where, True),  # type: ignore[arg-type]
        stack_level=_int_field(data, "stackLevel", where, True),  # type: ignore[arg-type]
        purpose=_field(data, "chargingProfilePurpose", where, True),
        kind=_field(data, "chargingProfileKind", where, True),
        schedule=parse_schedule(_field(data, "chargingSchedule", where, True)),
        transaction_id=_transaction_id(data, where),
        recurrency_kind=_field(data, "recurrencyKind", where, False),
        valid_from=valid["validFrom"],
        valid_to=valid["validTo"],
    )


def _transaction_id(data: Mapping[str, Any], where: str) -> int | str | None:
    """transactionId: 1.6's integer, or 2.0.1's identifier string."""
    value = _field(data, "transactionId", where, False)
    if isinstance(value, str):
        return value
    return _int_field(data, "transactionId", where, False)


def parse_set_charging_profile(payload: Any) -> tuple[int, ChargingProfile]:
    """``(connectorId, profile)`` from a SetChargingProfile.req payload."""
    payload = _object(payload, "SetChargingProfile.req")
    connector = _int_field(payload, "connectorId", "", True)
    if connector is None or connector < 0:
        raise ValueError(f"connectorId: expected an integer >= 0, got {connector!r}")
    try:
        profile = parse_profile(_field(payload, "csChargingProfiles", "", True))
    except ValueError as e:
        text = str(e)
        raise ValueError(
            text if text.startswith("csChargingProfiles") else f"csChargingProfiles.{text}"
        ) from None
    return connector, profile

"""Smart charging (OCPP 1.6 §3.13): charging profiles and the composite schedule (pure logic).

Used twice: to predict what a station must do (answers to SetChargingProfile and
ClearChargingProfile, the limit on its output) and to check what it reports
(GetCompositeSchedule). Public API (see ``docs/smart-charging.md``):

- :func:`parse_profile`, :func:`parse_set_charging_profile` -> :class:`ChargingProfile`
  (:class:`ChargingSchedule`, :class:`SchedulePeriod`; ``.to_json()`` back)
- :class:`ProfileStore`: ``install`` / ``clear`` / ``transaction_ended`` -> :class:`Verdict`
- :func:`composite` -> :class:`CompositeSchedule`; :func:`limit_at` -> :class:`AppliedLimit`
- :class:`Reading`, :data:`LAB_READING`, :func:`open_readings`: where stations may read the
  specification otherwise (accepted with a remark)
- :func:`parse_composite` (a station's GetCompositeSchedule.conf), :func:`compare_schedules`,
  :func:`compare_with_readings` (the same, open clauses accepted with a remark)
- units: :func:`amps_to_watts`, :func:`watts_to_amps`, :func:`round_limit`
"""

from hil.verify.charging_profiles.compare import compare_schedules, compare_with_readings
from hil.verify.charging_profiles.composite import (
    LAB_READING,
    AppliedLimit,
    CompositePeriod,
    CompositeSchedule,
    Reading,
    composite,
    limit_at,
    merge_periods,
    open_readings,
    parse_composite,
    period_at,
    profile_boundaries,
)
from hil.verify.charging_profiles.model import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    Recurrency,
    SchedulePeriod,
    format_datetime,
    parse_datetime,
    parse_profile,
    parse_schedule,
    parse_set_charging_profile,
)
from hil.verify.charging_profiles.store import InstalledProfile, ProfileStore, Verdict
from hil.verify.charging_profiles.units import (
    DEFAULT_PHASES,
    DEFAULT_VOLTAGE_V,
    amps_to_watts,
    convert,
    round_limit,
    watts_to_amps,
)

__all__ = [
    "DEFAULT_PHASES",
    "DEFAULT_VOLTAGE_V",
    "AppliedLimit",
    "ChargingProfile",
    "ChargingSchedule",
    "CompositePeriod",
    "CompositeSchedule",
    "LAB_READING",
    "InstalledProfile",
    "Kind",
    "ProfileStore",
    "Purpose",
    "Reading",
    "Recurrency",
    "SchedulePeriod",
    "Verdict",
    "amps_to_watts",
    "compare_schedules",
    "compare_with_readings",
    "composite",
    "convert",
    "format_datetime",
    "limit_at",
    "merge_periods",
    "open_readings",
    "parse_composite",
    "parse_datetime",
    "parse_profile",
    "parse_schedule",
    "parse_set_charging_profile",
    "period_at",
    "profile_boundaries",
    "round_limit",
    "watts_to_amps",
]

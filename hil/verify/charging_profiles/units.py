"""Amperes and watts for charging limits (OCPP 1.6 §7.10, §7.12).

A limit in A is per phase, a limit in W is the total over all phases, and a period that
does not say how many phases it uses means three. Converting therefore needs the number of
phases and the phase voltage (line to neutral; 230 V in Europe).

Rounding: OCPP types limits as decimals with one fraction digit (``multipleOf 0.1``). A
converted limit is rounded *down* to 0.1, so that a conversion never grants more than the
profile it came from; a value already on the 0.1 grid stays as it is.
"""

from __future__ import annotations

import math

DEFAULT_PHASES = 3  # §7.12: "numberPhases=3 will be assumed unless another number is given"
DEFAULT_VOLTAGE_V = 230.0
UNITS = ("A", "W")

_EPS = 1e-6  # absorbs binary noise: 7383 W / 690 V*phases must come out as 10.7 A, not 10.6


def round_limit(value: float) -> float:
    """Round a limit down to one decimal, as OCPP's ``multipleOf 0.1`` asks."""
    return math.floor(value * 10 + _EPS) / 10


def _check(phases: int, voltage_v: float) -> None:
    if not isinstance(phases, int) or isinstance(phases, bool) or not 1 <= phases <= 3:
        raise ValueError(f"number of phases must be 1, 2 or 3, not {phases!r}")
    if not voltage_v > 0:
        raise ValueError(f"voltage must be positive, not {voltage_v!r}")


def amps_to_watts(
    a: float, phases: int = DEFAULT_PHASES, voltage_v: float = DEFAULT_VOLTAGE_V
) -> float:
    """Total power of ``a`` amperes on each of ``phases`` phases, rounded down to 0.1 W."""
    _check(phases, voltage_v)
    return round_limit(a * phases * voltage_v)


def watts_to_amps(
    w: float, phases: int = DEFAULT_PHASES, voltage_v: float = DEFAULT_VOLTAGE_V
) -> float:
    """Current per phase for a total of ``w`` watts over ``phases`` phases, rounded down."""
    _check(phases, voltage_v)
    return round_limit(w / (phases * voltage_v))


def to_watts(value: float, unit: str, phases: int, voltage_v: float) -> float:
    """Exact (unrounded) power of a limit: the common scale when limits are compared."""
    _check(phases, voltage_v)
    if unit == "W":
        return value
    if unit == "A":
        return value * phases * voltage_v
    raise ValueError(f"charging rate unit must be 'A' or 'W', not {unit!r}")


def convert(value: float, from_unit: str, to_unit: str, phases: int, voltage_v: float) -> float:
    """A limit in ``to_unit``, rounded down to 0.1 (unchanged units: just the rounding)."""
    for unit in (from_unit, to_unit):
        if unit not in UNITS:
            raise ValueError(f"charging rate unit must be 'A' or 'W', not {unit!r}")
    if from_unit == to_unit:
        return round_limit(value)
    if to_unit == "W":
        return amps_to_watts(value, phases, voltage_v)
    return watts_to_amps(value, phases, voltage_v)

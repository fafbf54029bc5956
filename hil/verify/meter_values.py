"""Reading MeterValues as a series, and judging how queued ones were delivered.

After a connection loss a station must deliver its queued transaction messages in
chronological order, before anything newer, spaced by the sample interval, none missing
(OCPP 1.6 §4.10). These functions take the MeterValues of one transaction in the order
they arrived and say what is wrong, in words a lab engineer can act on. Pure logic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

REGISTER = "Energy.Active.Import.Register"
_TO_WH = {"Wh": 1.0, "kWh": 1000.0}


def wh_per_unit(sv: dict[str, Any]) -> float:
    """Wh per unit of a register value: 1.6 ``unit``; 2.0.1 ``unitOfMeasure`` (unit and a
    power-of-ten ``multiplier``); Wh when neither says."""
    measure = sv.get("unitOfMeasure") or {}
    unit = sv.get("unit") or measure.get("unit") or "Wh"
    return _TO_WH.get(unit, 1.0) * 10 ** int(measure.get("multiplier", 0))


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Reading:
    """One meterValue entry of a MeterValues message, with where it came from."""

    seq: int  # journal frame
    arrival: float  # monotonic arrival time at the back office
    timestamp: datetime  # the station's sample time
    context: str
    register_wh: float | None
    register_text: str | None
    values: dict[str, float]  # measurand[.phase] -> value, in the unit sent


def context_register_wh(payload: dict[str, Any], context: str) -> float | None:
    """The energy register (Wh) of the ``context`` reading (e.g. Transaction.Begin) in a
    message's ``meterValue`` list (a 2.0.1 TransactionEvent); None when there is none."""
    for mv in payload.get("meterValue") or []:
        for sv in (mv or {}).get("sampledValue") or []:
            if not isinstance(sv, dict) or sv.get("context") != context or sv.get("phase"):
                continue
            if sv.get("measurand", REGISTER) != REGISTER:
                continue
            try:
                return float(sv["value"]) * wh_per_unit(sv)
            except (KeyError, TypeError, ValueError):
                return None
    return None


def readings(frames: Iterable[Any]) -> list[Reading]:
    """Flatten MeterValues frames (journal Frames; 1.6 MeterValues or 2.0.1 MeterValues and
    TransactionEvent, whose sampled values are numbers with a unitOfMeasure) into readings,
    in arrival order."""
    out: list[Reading] = []
    for frame in frames:
        for mv in frame.payload.get("meterValue", []):
            register = text = None
            values: dict[str, float] = {}
            context = "Sample.Periodic"
            for sv in mv.get("sampledValue", []):
                context = sv.get("context", context)
                if sv.get("format", "Raw") != "Raw":
                    continue  # signed data is the Eichrecht check's business
                measurand = sv.get("measurand", REGISTER)
                try:
                    number = float(sv["value"])
                except (KeyError, ValueError):
                    continue
                key = measurand + (f".{sv['phase']}" if sv.get("phase") else "")
                values[key] = number
                if measurand == REGISTER and not sv.get("phase"):
                    register = number * wh_per_unit(sv)
                    text = str(sv["value"])
            if not values:
                continue
            out.append(
                Reading(
                    frame.seq,
                    frame.mono,
                    parse_time(mv["timestamp"]),
                    context,
                    register,
                    text,
                    values,
                )
            )
    return out


def register_problems(series: list[Reading]) -> list[str]:
    """The energy register must never go backwards."""
    problems = []
    regs = [r for r in series if r.register_wh is not None]
    for a, b in zip(regs, regs[1:], strict=False):
        if b.register_wh < a.register_wh:  # type: ignore[operator]
            problems.append(
                f"energy register went backwards from {a.register_text} Wh "
                f"(#{a.seq}) to {b.register_text} Wh (#{b.seq})"
            )
    return problems


def delivery_problems(
    series: list[Reading],
    interval_s: float,
    tolerance_s: float,
    start: tuple[datetime, str] | None = None,
    end: tuple[datetime, str] | None = None,
) -> list[str]:
    """Order, spacing and completeness of periodic readings in arrival order.

    ``start`` and ``end`` (time, label) are the transaction's own bounds: readings missing
    right after the start or right before the stop count as missing too.
    """
    periodic = [r for r in series if r.context == "Sample.Periodic"]
    problems: list[str] = []
    seen: set[datetime] = set()
    unique: list[Reading] = []
    for r in periodic:
        if r.timestamp in seen:
            continue  # an exact re-delivery (at-least-once) is not a defect
        seen.add(r.timestamp)
        unique.append(r)
    points = [(r.timestamp, f"#{r.seq}") for r in unique]
    for (a, a_label), (b, b_label) in zip(points, points[1:], strict=False):
        gap = (b - a).total_seconds()
        if gap < 0:
            problems.append(
                f"out of order: reading of {b.isoformat()} ({b_label}) arrived after "
                f"the newer one of {a.isoformat()} ({a_label})"
            )
        elif gap < interval_s - tolerance_s:
            problems.append(
                f"readings {gap:.1f} s apart ({a.isoformat()} {a_label}, {b.isoformat()} "
                f"{b_label}); the sample interval is {interval_s:g} s"
            )
    ordered = sorted(points)
    if start is not None:
        ordered.insert(0, start)
    if end is not None:
        ordered.append(end)
    for (a, a_label), (b, b_label) in zip(ordered, ordered[1:], strict=False):
        gap = (b - a).total_seconds()
        if gap > interval_s + tolerance_s:
            problems.append(
                f"missing readings: {gap:.1f} s between {a.isoformat()} ({a_label}) and "
                f"{b.isoformat()} ({b_label}), about {round(gap / interval_s) - 1} sample(s) "
                f"of {interval_s:g} s missing"
            )
    return problems


def sampled_soc(payload: dict[str, Any]) -> float | None:
    """The last ``SoC`` sampled value (%) of a readings payload (1.6 MeterValues, 2.0.1
    TransactionEvent or MeterValues), None when it carries none or an unreadable one."""
    found = None
    for mv in payload.get("meterValue") or []:
        for sv in mv.get("sampledValue") or []:
            if sv.get("measurand") == "SoC":
                try:
                    found = float(sv["value"])
                except (KeyError, TypeError, ValueError):
                    continue
    return found

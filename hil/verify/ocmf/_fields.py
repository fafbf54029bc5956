"""Typed access to decoded OCMF JSON, reporting type problems as deviations.

A field of the wrong JSON type is reported, and either read as the literal text
(``ScalarFieldNotAString``: a number where a string belongs) or dropped
(``FieldTypeMismatch``); numbers become exact decimals or are dropped when no 96-bit
decimal can hold them, because a reading is money and is never rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from hil.verify.ocmf._json import JsonNumber
from hil.verify.ocmf.model import Deviation

_MAX_96_BIT = 2**96 - 1


class Fields:
    """Typed access to one JSON object, reporting type problems as deviations."""

    def __init__(self, obj: dict[str, Any], prefix: str, devs: list[Deviation]) -> None:
        self.obj = obj
        self.prefix = prefix
        self.devs = devs

    def where(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        return key in self.obj

    def text(self, key: str) -> str | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if isinstance(value, str):
            return value
        if isinstance(value, JsonNumber):
            self.devs.append(Deviation("ScalarFieldNotAString", self.where(key), value.text))
            return value.text
        if isinstance(value, bool):
            text = "true" if value else "false"
            self.devs.append(Deviation("ScalarFieldNotAString", self.where(key), text))
            return text
        self.devs.append(Deviation("FieldTypeMismatch", self.where(key), kind(value)))
        return None

    def boolean(self, key: str) -> bool | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if isinstance(value, bool):
            return value
        self.devs.append(Deviation("FieldTypeMismatch", self.where(key), kind(value)))
        return None

    def number(self, key: str) -> Decimal | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if isinstance(value, JsonNumber):
            return exact(value.text, self.where(key), self.devs)
        self.devs.append(Deviation("FieldTypeMismatch", self.where(key), kind(value)))
        return None

    def in_table(self, key: str, value: str | None, table: frozenset[str]) -> None:
        if value is not None and value not in table:
            self.devs.append(Deviation("UndefinedTableValue", self.where(key), repr(value)))

    def too_long(self, key: str, value: str | None, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.devs.append(
                Deviation("FieldTooLong", self.where(key), f"{len(value)} > {limit} characters")
            )


def kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, JsonNumber):
        return "a number"
    return "a string"


def exact(literal: str, where: str, devs: list[Deviation]) -> Decimal | None:
    """An exact decimal, or None (reported) when no 96-bit decimal can hold it."""
    try:
        value = Decimal(literal)
    except InvalidOperation:
        devs.append(Deviation("NumberUnrepresentable", where, repr(literal)))
        return None
    sign, digits, exponent = value.as_tuple()
    del sign
    if not isinstance(exponent, int):
        devs.append(Deviation("NumberUnrepresentable", where, repr(literal)))
        return None
    mantissa = int("".join(map(str, digits)) or "0")
    if exponent > 0:
        mantissa *= 10**exponent
    if mantissa > _MAX_96_BIT or -exponent > 28:
        devs.append(Deviation("NumberUnrepresentable", where, f"{literal[:40]} is out of range"))
        return None
    return value

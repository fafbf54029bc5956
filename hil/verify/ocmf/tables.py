"""The closed tables of the OCMF specification, as data.

A value outside its table is kept verbatim and reported (``UndefinedTableValue``);
nothing here maps an unknown value onto a known one.
"""

from __future__ import annotations

import re

PAYLOAD_KEYS = frozenset(
    {"FV", "GI", "GS", "GV", "PG", "MV", "MM", "MS", "MF", "IS", "IL", "IF", "IT", "ID", "TT"}
    | {"CF", "CCV", "LC", "CT", "CI", "RD"}
)
READING_KEYS = frozenset({"TM", "TX", "RV", "RI", "RU", "RT", "CL", "EF", "ST"})
LOSS_KEYS = frozenset({"LN", "LI", "LR", "LU"})
SIGNATURE_KEYS = frozenset({"SA", "SE", "SM", "SD"})
EXTENSION_INITIALS = frozenset("UVWXYZ")  # vendor extensions, payload top level
SIGNATURE_EXTENSION_INITIALS = frozenset("UVWXYZABCDEF")

# The newest FV the S.A.F.E. Transparenzsoftware dispatches on.
REFERENCE_FORMAT_VERSION = (1, 3)

TRANSACTION_CODES = frozenset("BCXELRAPST")  # Tab. 7, TX
ERROR_FLAGS = frozenset("Et")  # Tab. 7, EF
METER_STATES = frozenset("NGTDRMXIOSEF")  # Tab. 10
ID_LEVELS = frozenset(
    {"NONE", "HEARSAY", "TRUSTED", "VERIFIED", "CERTIFIED", "SECURE"}
    | {"MISMATCH", "INVALID", "OUTDATED", "UNKNOWN"}
)  # Tab. 11
ID_FLAGS = frozenset(
    {"RFID_NONE", "RFID_PLAIN", "RFID_RELATED", "RFID_PSK"}
    | {"OCPP_NONE", "OCPP_RS", "OCPP_AUTH", "OCPP_RS_TLS", "OCPP_AUTH_TLS"}
    | {"OCPP_CACHE", "OCPP_WHITELIST", "OCPP_CERTIFIED"}
    | {"ISO15118_NONE", "ISO15118_PNC", "PLMN_NONE", "PLMN_RING", "PLMN_SMS"}
)  # Tab. 13-16
ID_TYPES = frozenset(
    {"NONE", "DENIED", "UNDEFINED", "ISO14443", "ISO15693", "EMAID", "EVCCID", "EVCOID"}
    | {"ISO7812", "CARD_TXN_NR", "CENTRAL", "CENTRAL_1", "CENTRAL_2", "LOCAL", "LOCAL_1"}
    | {"LOCAL_2", "PHONE_NUMBER", "KEY_CODE"}
)  # Tab. 17
CHARGE_POINT_TYPES = frozenset({"EVSEID", "CBIDC"})  # Tab. 18
TIME_STATES = frozenset("UISR")  # Tab. 19
UNITS = frozenset({"kWh", "Wh", "mOhm", "uOhm"})  # Tab. 20
RESISTANCE_UNITS = frozenset({"mOhm", "uOhm"})  # Tab. 24, LU
CURRENT_TYPES = frozenset({"AC", "DC"})  # Tab. 21
SIGNATURE_ENCODINGS = frozenset({"hex", "base64"})  # Tab. 8, SE
SIGNATURE_MIME_TYPES = frozenset({"application/x-der"})  # Tab. 8, SM

# Only the identification types whose shape Tab. 17 actually states are checked;
# for the others ("no exact format defined") any ID is acceptable.
ID_DATA_FORMATS: dict[str, re.Pattern[str]] = {
    "ISO14443": re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}"),
    "ISO15693": re.compile(r"[0-9A-Fa-f]{16}"),
    "EMAID": re.compile(r"[A-Za-z0-9*-]{14,15}"),
    "EVCCID": re.compile(r".{0,6}", re.DOTALL),
    "PHONE_NUMBER": re.compile(r"\+[0-9 ]+"),
}

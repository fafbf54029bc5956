"""Bridging camelCase OCPP payloads and the ``ocpp`` library's dataclasses.

Keywords and the virtual station think in the payloads of the specification (camelCase
dicts); the library wants its own request dataclasses. These two helpers are the bridge.
"""

from __future__ import annotations

from typing import Any

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.v16 import call
from ocpp.v201 import call as call201

_CALLS = {"1.6": call, "2.0.1": call201}


def build_request(action: str, payload: dict[str, Any], version: str = "1.6") -> Any:
    """The ``ocpp.v16.call`` (or ``ocpp.v201.call`` for ``version`` "2.0.1") dataclass for
    ``action`` built from a camelCase payload."""
    request_cls = getattr(_CALLS[version], action, None)
    if request_cls is None:
        raise ValueError(f"{action!r} is not an OCPP {version} action")
    try:
        return request_cls(**camel_to_snake_case(payload))
    except TypeError as exc:
        raise ValueError(f"bad payload for {action}: {exc}") from None


def result_to_dict(result: Any) -> dict[str, Any]:
    """A library result dataclass as the camelCase payload that was on the wire."""
    return snake_to_camel_case(remove_nones(serialize_as_dict(result)))

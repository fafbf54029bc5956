"""A plain HTTP client for the operator page, as a script (or a late tablet) would use it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def get_state(base: str, wait: float = 0.0, after: str | None = None) -> dict[str, Any]:
    """``GET /prompt``; with ``wait`` a long poll until the prompt is not ``after``."""
    query = f"?wait={wait}" + (f"&after={after}" if after else "")
    with urllib.request.urlopen(base + "prompt" + query, timeout=wait + 10) as r:
        return json.loads(r.read())


def post_answer(base: str, prompt_id: str, answer: str, reason: str = "") -> int:
    """``POST /answer``; the HTTP status."""
    body = json.dumps({"id": prompt_id, "answer": answer, "reason": reason}).encode()
    request = urllib.request.Request(
        base + "answer", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code

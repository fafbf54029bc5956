"""The keyword reference (docs/keywords.html, built by libdoc) covers every keyword, and
every keyword says what it does."""

from __future__ import annotations

import json
from pathlib import Path

from robot.libdoc import libdoc

DOCS = Path(__file__).resolve().parents[1] / "docs" / "keywords.html"


def test_every_keyword_is_documented_and_in_the_published_reference(tmp_path):
    spec = tmp_path / "spec.json"
    libdoc("hil.robot.HilLab", str(spec), format="JSON", quiet=True)
    keywords = json.loads(spec.read_text())["keywords"]
    assert len(keywords) > 50
    undocumented = [k["name"] for k in keywords if not k["doc"].strip()]
    assert not undocumented, f"keywords without documentation: {undocumented}"
    published = DOCS.read_text(encoding="utf-8")
    missing = [k["name"] for k in keywords if json.dumps(k["name"])[1:-1] not in published]
    assert not missing, (
        f"docs/keywords.html is out of date (missing {missing}); rebuild it with "
        "python -m robot.libdoc hil.robot.HilLab docs/keywords.html"
    )

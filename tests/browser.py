"""Debian's Chromium, headless, driven by Playwright (no browser download: there is no
internet on a lab PC or here). Under ``CI=true`` a missing browser fails the test; on a
developer machine it skips, saying how to install it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def chromium_executable() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return path


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """A Playwright Browser on Debian's Chromium; closed whatever the test does."""
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()

"""Identification by a human: Robot Framework's Dialogs ask the operator to present a tag.

Used on benches without a controllable reader (lab config ``driver: operator``). It cannot
run unattended: the dialog waits for the operator's PASS or FAIL.
"""

from __future__ import annotations

from typing import Any

from drivers.identification.base import Identification


class OperatorPrompt(Identification):
    """Asks the operator to hold the tag to the reader. Option: ``reader`` (where it is)."""

    def __init__(
        self,
        address: str = "operator",
        *,
        reader: str = "the station's RFID reader",
        **unknown: Any,
    ) -> None:
        super().__init__(address, reader=reader)
        if unknown:
            raise self.error(f"unknown option(s) {', '.join(sorted(unknown))}; takes: reader")
        self._reader = reader

    def open(self) -> None:
        """Nothing to connect: the operator is always there."""

    def close(self) -> None:
        """Nothing to release."""

    def identify(self) -> str:
        return "operator prompt"

    def present(self, tag: str) -> None:
        """Show a PASS/FAIL dialog; FAIL (tag not available, reader dead) raises."""
        try:
            from robot.libraries import Dialogs  # lazy: pulls in tkinter
        except ImportError as exc:
            raise self.error(f"cannot show Robot Framework Dialogs: {exc}") from None
        message = (
            f"Present the RFID tag '{tag}' to {self._reader}.\n"
            "Press PASS once the station has read it (beep / LED), FAIL if you cannot."
        )
        try:
            Dialogs.execute_manual_step(message, f"tag '{tag}' could not be presented")
        except AssertionError as exc:
            raise self.error(f"operator could not present tag {tag!r}: {exc}") from None

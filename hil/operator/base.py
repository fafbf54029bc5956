"""One way to ask an operator: a :class:`Prompt` goes to an :class:`OperatorChannel`, which
returns an :class:`Answer` — DONE, CANNOT (with the operator's reason) or TIMEOUT.

Channels: a local web page (``web``, works headless and from a tablet), the console
(``console``, needs a terminal) and a Tk dialog (``tk``, needs a display). The lab config's
``operator.channel`` picks one; ``auto`` takes Tk when a display exists, else the web page.
"""

from __future__ import annotations

import abc
import enum
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

#: Instrument roles a person can stand in for (``lab.missing_instrument: prompt``): plugging
#: the EV and presenting a card. A missing meter, analyser, switch or relay is always N/A.
HUMAN_ROLES = ("ev_simulator", "identification")


class Outcome(enum.Enum):
    DONE = "done"
    CANNOT = "cannot"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Prompt:
    """What the operator is asked to do, for which step, standing in for which role."""

    instruction: str
    timeout_s: float
    step: str = ""
    name: str = ""  # the step's (Robot test's) name
    role: str = ""  # the instrument role the operator stands in for
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def title(self) -> str:
        """``Step 6: Charging Session ...`` (or whichever part is known)."""
        step = f"Step {self.step}" if self.step else ""
        return ": ".join(p for p in (step, self.name) if p) or "Lab"

    def timeout_message(self) -> str:
        return f"No operator answered '{self.instruction}' within {self.timeout_s:g} s"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "step": self.step,
            "name": self.name,
            "title": self.title,
            "instruction": self.instruction,
            "role": self.role,
            "timeout_s": self.timeout_s,
        }


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    reason: str = ""


DONE = Answer(Outcome.DONE)
TIMEOUT = Answer(Outcome.TIMEOUT)


class ChannelUnavailable(RuntimeError):
    """The configured channel cannot work here (no display for Tk, no terminal)."""


class OperatorChannel(abc.ABC):
    """Asks one prompt at a time and waits for the answer at most ``prompt.timeout_s``."""

    name = "channel"

    def start(self) -> None:  # noqa: B027 - optional hook
        """Get ready (the web page starts listening); idempotent."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what :meth:`start` took; safe to call more than once."""

    @property
    def url(self) -> str | None:
        """Where the operator answers (the web page), if anywhere."""
        return None

    @abc.abstractmethod
    def ask(self, prompt: Prompt) -> Answer:
        """Show ``prompt`` and return the operator's answer, or TIMEOUT."""

    def __enter__(self) -> OperatorChannel:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tk_importable() -> bool:
    try:
        import tkinter  # noqa: F401
    except ImportError:
        return False
    return True


def has_display(env: Mapping[str, str] | None = None) -> bool:
    """A graphical display to open a Tk dialog on: DISPLAY or WAYLAND_DISPLAY is set and
    tkinter can be imported."""
    env = os.environ if env is None else env
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) and tk_importable()


def choose_channel(
    settings: Any,
    env: Mapping[str, str] | None = None,
    stdin: IO[str] | None = None,
    *,
    bench: str = "",
    station: str = "",
) -> OperatorChannel:
    """The channel ``settings`` (the lab config's ``operator`` section: ``channel``,
    ``host``, ``port``) asks for; ``auto`` is Tk with a display, else the web page (which
    names ``bench`` and ``station``, so a tablet with several benches' pages open tells
    them apart). :class:`ChannelUnavailable` when the chosen one cannot work here."""
    kind = settings.channel
    if kind == "auto":
        kind = "tk" if has_display(env) else "web"
    if kind == "web":
        from hil.operator.web import WebChannel

        return WebChannel(settings.host, settings.port, bench=bench, station=station)
    if kind == "console":
        from hil.operator.console import ConsoleChannel

        channel = ConsoleChannel(stdin)
        if not channel.available():
            raise ChannelUnavailable(
                "operator.channel is 'console', but the run has no terminal (stdin is not "
                "a TTY); use 'web'"
            )
        return channel
    if kind == "tk":
        if not has_display(env):
            raise ChannelUnavailable(
                "operator.channel is 'tk', but there is no display (DISPLAY / "
                "WAYLAND_DISPLAY unset, or tkinter missing); use 'web' or 'auto'"
            )
        from hil.operator.tk import TkChannel

        return TkChannel()
    raise ValueError(f"unknown operator channel {kind!r}; known: auto, web, console, tk")

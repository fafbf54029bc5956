"""Every channel times out as configured; the console channel answers from a line; the
chooser picks the channel the lab config asks for (web without a display, Tk only with
one); the ``operator`` section is validated like the rest of the lab config."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO

import pytest

from hil.lab.config import LabConfigError, Operator, parse_lab_config
from hil.operator import Answer, ChannelUnavailable, Outcome, Prompt, choose_channel
from hil.operator import base as operator_base
from hil.operator.console import ConsoleChannel, parse_line
from hil.operator.tk import TkChannel
from hil.operator.web import WebChannel
from tests.operator.helpers import get_state, post_answer

# -- timeouts ------------------------------------------------------------------------------


def test_web_prompt_times_out_as_configured() -> None:
    with WebChannel() as channel:
        prompt = Prompt("Plug the EV in", 0.5, step="6")
        started = time.monotonic()
        answer = channel.ask(prompt)
        took = time.monotonic() - started
        assert answer.outcome is Outcome.TIMEOUT
        assert 0.5 <= took < 2.5
        assert prompt.timeout_message() == "No operator answered 'Plug the EV in' within 0.5 s"
        assert channel.current() is None


def test_web_answer_over_plain_http_and_long_poll() -> None:
    with WebChannel() as channel, ThreadPoolExecutor(1) as pool:
        base = channel.url or ""
        idle = {"bench": "", "station": "", "prompt": None, "missed": None}
        assert get_state(base) == idle
        prompt = Prompt("Present card VALID-TAG-01", 20, step="8", name="Step eight")
        future = pool.submit(channel.ask, prompt)
        state = get_state(base, wait=10)
        assert state["prompt"]["instruction"] == "Present card VALID-TAG-01"
        assert state["prompt"]["title"] == "Step 8: Step eight"
        assert 0 < state["remaining_s"] <= 20
        assert post_answer(base, prompt.id, "maybe") == 400
        assert post_answer(base, prompt.id, "cannot", "  ") == 200
        assert future.result(5) == Answer(Outcome.CANNOT, "no reason given")
        # answered (even "cannot") is not missed: the page goes back to "Nothing to do"
        assert get_state(base, wait=10, after=prompt.id) == idle


def test_web_page_is_stopped_by_close() -> None:
    channel = WebChannel()
    channel.start()
    base = channel.url or ""
    channel.close()
    channel.close()  # twice is fine
    with pytest.raises(OSError):
        get_state(base)


# -- console ---------------------------------------------------------------------------------


@pytest.fixture
def pipe() -> Iterator[tuple[IO[str], IO[str]]]:
    """A fake stdin: the test writes lines into ``write``, the channel reads ``read``."""
    r, w = os.pipe()
    read, write = os.fdopen(r, "r"), os.fdopen(w, "w")
    try:
        yield read, write
    finally:
        read.close()
        if not write.closed:
            write.close()


class _Out:
    """A console that signals when the channel has printed its question."""

    def __init__(self) -> None:
        self.text = ""
        self.asked = threading.Event()

    def write(self, s: str) -> None:
        self.text += s
        if "within" in s:
            self.asked.set()

    def flush(self) -> None:
        pass


def test_console_answers_done_and_cannot(pipe: tuple[IO[str], IO[str]]) -> None:
    read, write = pipe
    out = _Out()
    channel = ConsoleChannel(read, out)  # type: ignore[arg-type]
    assert not channel.available()  # a pipe is no terminal
    write.write("d\nwhat?\ncannot the card box is empty\n")
    write.flush()
    assert channel.ask(Prompt("Plug the EV in", 5, step="6")) == Answer(Outcome.DONE)
    assert "Step 6" in out.text and "Plug the EV in" in out.text
    assert channel.ask(Prompt("Present card X", 5)) == Answer(
        Outcome.CANNOT, "the card box is empty"
    )
    assert "Please type" in out.text  # "what?" was asked again


def test_console_waits_for_a_line_written_later(pipe: tuple[IO[str], IO[str]]) -> None:
    read, write = pipe
    out = _Out()
    channel = ConsoleChannel(read, out)  # type: ignore[arg-type]

    def operator() -> None:
        out.asked.wait(5)
        write.write("c no EV here\n")
        write.flush()

    threading.Thread(target=operator, daemon=True).start()
    assert channel.ask(Prompt("Plug the EV in", 10)) == Answer(Outcome.CANNOT, "no EV here")


def test_console_times_out(pipe: tuple[IO[str], IO[str]]) -> None:
    read, _write = pipe
    out = _Out()
    channel = ConsoleChannel(read, out)  # type: ignore[arg-type]
    started = time.monotonic()
    assert channel.ask(Prompt("Plug the EV in", 0.5)).outcome is Outcome.TIMEOUT
    assert 0.5 <= time.monotonic() - started < 2.5
    assert "No operator answered 'Plug the EV in' within 0.5 s" in out.text


def test_console_end_of_input_is_no_answer(pipe: tuple[IO[str], IO[str]]) -> None:
    read, write = pipe
    write.close()
    channel = ConsoleChannel(read, _Out())  # type: ignore[arg-type]
    assert channel.ask(Prompt("Plug the EV in", 30)).outcome is Outcome.TIMEOUT


def test_console_line_words() -> None:
    assert parse_line("") == Answer(Outcome.DONE)
    assert parse_line(" DONE ") == Answer(Outcome.DONE)
    assert parse_line("c") == Answer(Outcome.CANNOT, "no reason given")
    assert parse_line("yes") is None


# -- the chooser -----------------------------------------------------------------------------


def test_chooser_picks_web_without_a_display() -> None:
    channel = choose_channel(Operator(), env={})
    assert isinstance(channel, WebChannel)
    assert (channel.host, channel.port) == ("127.0.0.1", 0)
    tablet = choose_channel(Operator(channel="web", host="0.0.0.0", port=8090), env={})
    assert isinstance(tablet, WebChannel) and (tablet.host, tablet.port) == ("0.0.0.0", 8090)


def test_chooser_picks_tk_only_with_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operator_base, "tk_importable", lambda: True)
    assert isinstance(choose_channel(Operator(), env={"DISPLAY": ":0"}), TkChannel)
    assert isinstance(choose_channel(Operator(), env={"WAYLAND_DISPLAY": "wayland-0"}), TkChannel)
    assert isinstance(choose_channel(Operator(channel="tk"), env={"DISPLAY": ":0"}), TkChannel)
    with pytest.raises(ChannelUnavailable, match="no display"):
        choose_channel(Operator(channel="tk"), env={})
    # web stays web even with a display
    assert isinstance(choose_channel(Operator(channel="web"), env={"DISPLAY": ":0"}), WebChannel)
    # a display but no tkinter: no Tk
    monkeypatch.setattr(operator_base, "tk_importable", lambda: False)
    assert isinstance(choose_channel(Operator(), env={"DISPLAY": ":0"}), WebChannel)


def test_chooser_console_needs_a_terminal(pipe: tuple[IO[str], IO[str]]) -> None:
    read, _write = pipe
    with pytest.raises(ChannelUnavailable, match="no terminal"):
        choose_channel(Operator(channel="console"), env={}, stdin=read)


# -- the lab config --------------------------------------------------------------------------


def _raw(**operator: object) -> dict[str, object]:
    return {
        "dut": {"station_id": "CP1", "vendor": "V", "model": "M", "firmware": "1.0"},
        "tags": {"valid": ["T1"]},
        "operator": operator,
    }


def test_operator_section_defaults_and_values() -> None:
    assert parse_lab_config(_raw()).operator == Operator(
        channel="auto", host="127.0.0.1", port=0, timeout_s=300
    )
    cfg = parse_lab_config(_raw(channel="web", host="0.0.0.0", port=8090, timeout_s=60))
    assert (cfg.operator.channel, cfg.operator.port, cfg.operator.timeout_s) == ("web", 8090, 60)


@pytest.mark.parametrize(
    ("operator", "message"),
    [
        ({"chanel": "web"}, r"lab\.yaml: field operator\.chanel: unknown field \(value 'web'\)"),
        ({"channel": "dialog"}, r"lab\.yaml: field operator\.channel: .*\(value 'dialog'\)"),
        ({"timeout_s": 0}, r"lab\.yaml: field operator\.timeout_s: .*\(value 0\)"),
        ({"port": 70000}, r"lab\.yaml: field operator\.port: .*\(value 70000\)"),
    ],
)
def test_operator_section_is_validated(operator: dict[str, object], message: str) -> None:
    with pytest.raises(LabConfigError, match=message):
        parse_lab_config(_raw(**operator), "lab.yaml")

"""The operator's web page in real headless Chromium: prompts appear, Done and Cannot do
answer them, a late answer is refused, and the page is idle between prompts; a new prompt
alerts (title, tone) and one that ended unanswered shows as missed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from hil.operator import Answer, Outcome, Prompt
from hil.operator.web import WebChannel
from tests.browser import headless_chromium
from tests.operator.helpers import get_state, post_answer

BENCH, STATION = "Bench 2 (AC)", "CP-0042"

#: Records every tone the page starts instead of playing it (headless Chromium has no
#: speaker, and whether a real AudioContext may play depends on the autoplay policy).
AUDIO_STUB = """
window.__tones = [];
window.AudioContext = function () {
  this.state = "running"; this.currentTime = 0; this.destination = {};
  this.resume = function () {};
  this.createOscillator = function () {
    return {frequency: {}, connect: function () {}, stop: function () {},
            start: function () { window.__tones.push(this.frequency.value); }};
  };
  this.createGain = function () { return {gain: {}, connect: function () {}}; };
};
"""


@pytest.fixture
def channel() -> Iterator[WebChannel]:
    ch = WebChannel("127.0.0.1", 0, bench=BENCH, station=STATION)
    ch.start()
    try:
        yield ch
    finally:
        ch.close()


@pytest.fixture
def page(channel: WebChannel) -> Iterator[Any]:
    with headless_chromium() as browser:
        pg = browser.new_page(viewport={"width": 800, "height": 1000})
        pg.add_init_script(AUDIO_STUB)
        pg.goto(channel.url or "", wait_until="load")
        yield pg


def _ask(pool: ThreadPoolExecutor, channel: WebChannel, prompt: Prompt) -> Future[Answer]:
    """Ask on a worker thread (ask blocks, like the Robot keyword does) and return once the
    prompt is current (a long poll on the page's own endpoint: no sleeps)."""
    future = pool.submit(channel.ask, prompt)
    state = get_state(channel.url or "", wait=10)
    assert state["prompt"] is not None and state["prompt"]["id"] == prompt.id, state
    return future


def test_done_then_cannot_do_then_stale_answer_refused(channel: WebChannel, page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#idle")).to_contain_text("Nothing to do")
    expect(page.locator("#task")).to_be_hidden()
    with ThreadPoolExecutor(1) as pool:
        first = Prompt(
            "Plug the EV in",
            30,
            step="6",
            name="Charging Session - Local - Plugin First",
            role="an EV simulator",
        )
        answer = _ask(pool, channel, first)
        expect(page.locator("#instruction")).to_have_text("Plug the EV in")
        expect(page.locator("#step")).to_contain_text(
            "Step 6: Charging Session - Local - Plugin First"
        )
        expect(page.locator("#role")).to_contain_text("an EV simulator")
        expect(page.locator("#countdown")).to_have_text(re.compile(r"^0:(2\d|30)$"))
        expect(page.locator("#idle")).to_be_hidden()
        page.click("#done")
        assert answer.result(10) == Answer(Outcome.DONE)
        expect(page.locator("#idle")).to_be_visible()

        second = Prompt(
            "Present card X", 30, step="13", name="Charging Session - Local - Unauthorized"
        )
        answer = _ask(pool, channel, second)
        expect(page.locator("#instruction")).to_have_text("Present card X")
        expect(page.locator("#step")).to_contain_text("Step 13")
        page.click("#cannot")
        expect(page.locator("#reason")).to_be_visible()
        page.fill("#reason", "card X is not in the lab's card box")
        page.click("#send-cannot")
        assert answer.result(10) == Answer(Outcome.CANNOT, "card X is not in the lab's card box")
        expect(page.locator("#idle")).to_contain_text("Nothing to do")

        # a late click for the first prompt, while a third is current, answers nothing
        third = Prompt("Unplug the EV", 30, step="13")
        answer = _ask(pool, channel, third)
        assert post_answer(channel.url or "", first.id, "done") == 409
        assert post_answer(channel.url or "", second.id, "cannot", "late") == 409
        assert channel.current() == third
        expect(page.locator("#instruction")).to_have_text("Unplug the EV")
        assert post_answer(channel.url or "", third.id, "done") == 200
        assert answer.result(10) == Answer(Outcome.DONE)
        assert post_answer(channel.url or "", third.id, "done") == 409  # answered already
        expect(page.locator("#idle")).to_contain_text("Nothing to do")


def test_a_new_prompt_alerts_and_names_bench_station_and_step(
    channel: WebChannel, page: Any
) -> None:
    """Harm prevented: the page changed silently when a prompt came. An operator who had
    the tab in the background (or the tablet on the bench) noticed nothing until the
    timeout made the step a lab error; and with two benches' pages open, nothing said which
    bench (and station) a prompt was for. Now the page names bench and station, a new
    prompt changes the title to "(1) Action needed — <step>" and starts a tone (Web Audio;
    stubbed here to see that it was started), and the title goes back once answered."""
    from playwright.sync_api import expect

    expect(page.locator("#where")).to_have_text(f"Bench: {BENCH} · Station: {STATION}")
    expect(page).to_have_title(f"HIL lab: operator — {BENCH} · {STATION}")
    assert page.evaluate("window.__tones") == []
    with ThreadPoolExecutor(1) as pool:
        prompt = Prompt(
            "Present the card VALID-TAG-01 at the station's reader",
            30,
            step="8",
            name="Charging Session - Local - Identification First - Connection TimeOut",
        )
        answer = _ask(pool, channel, prompt)
        expect(page).to_have_title(
            "(1) Action needed — Step 8: Charging Session - Local - Identification First - "
            f"Connection TimeOut — HIL lab: operator — {BENCH} · {STATION}"
        )
        expect(page.locator("#step")).to_have_text(
            "Step 8: Charging Session - Local - Identification First - Connection TimeOut"
        )
        page.wait_for_function("window.__tones.length > 0")
        tones = page.evaluate("window.__tones")
        page.click("#done")
        assert answer.result(10) == Answer(Outcome.DONE)
        expect(page).to_have_title(f"HIL lab: operator — {BENCH} · {STATION}")
        expect(page.locator("#idle")).to_contain_text("Nothing to do")
        assert page.evaluate("window.__tones") == tones  # one alert per prompt, not per poll


def test_a_timed_out_prompt_shows_as_missed_until_the_next_one(
    channel: WebChannel, page: Any
) -> None:
    """Harm prevented: a prompt that timed out while the operator was away left the page at
    "Nothing to do", so the operator came back believing nothing had been asked, while the
    step had become a lab error. Now the page says "Missed: <instruction> at HH:MM:SS"
    (and why) until the next prompt replaces it; a late tap is still refused."""
    from playwright.sync_api import expect

    prompt = Prompt("Present card VALID-TAG-01", 0.5, step="8")
    started = time.monotonic()
    assert channel.ask(prompt).outcome is Outcome.TIMEOUT
    assert 0.5 <= time.monotonic() - started < 3
    assert post_answer(channel.url or "", prompt.id, "done") == 409
    missed = get_state(channel.url or "")["missed"]
    assert missed["prompt"]["id"] == prompt.id and missed["why"] == "timed out", missed
    expect(page.locator("#missed-what")).to_have_text(
        re.compile(r"^Missed: Present card VALID-TAG-01 at \d\d:\d\d:\d\d$")
    )
    expect(page.locator("#missed-why")).to_contain_text("nobody answered within 0.5 s")
    expect(page.locator("#idle")).to_be_hidden()
    expect(page.locator("#task")).to_be_hidden()
    expect(page).to_have_title(re.compile(r"^Missed prompt — "))

    with ThreadPoolExecutor(1) as pool:  # the next prompt replaces the missed one
        answer = _ask(pool, channel, Prompt("Unplug the EV", 30, step="8"))
        expect(page.locator("#instruction")).to_have_text("Unplug the EV")
        expect(page.locator("#missed")).to_be_hidden()
        page.click("#done")
        assert answer.result(10) == Answer(Outcome.DONE)
    expect(page.locator("#idle")).to_contain_text("Nothing to do")
    assert get_state(channel.url or "")["missed"] is None

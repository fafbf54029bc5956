"""The operator's web page in real headless Chromium: prompts appear, Done and Cannot do
answer them, a late answer is refused, and the page is idle between prompts."""

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


@pytest.fixture
def channel() -> Iterator[WebChannel]:
    ch = WebChannel("127.0.0.1", 0)
    ch.start()
    try:
        yield ch
    finally:
        ch.close()


@pytest.fixture
def page(channel: WebChannel) -> Iterator[Any]:
    with headless_chromium() as browser:
        pg = browser.new_page(viewport={"width": 800, "height": 1000})
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


def test_timed_out_prompt_leaves_the_page_idle(channel: WebChannel, page: Any) -> None:
    from playwright.sync_api import expect

    prompt = Prompt("Present card VALID-TAG-01", 0.5, step="8")
    started = time.monotonic()
    assert channel.ask(prompt).outcome is Outcome.TIMEOUT
    assert 0.5 <= time.monotonic() - started < 3
    assert post_answer(channel.url or "", prompt.id, "done") == 409
    expect(page.locator("#idle")).to_contain_text("Nothing to do")
    expect(page.locator("#task")).to_be_hidden()

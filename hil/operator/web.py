"""The operator's web page: served by the run on the lab config's ``operator.host`` /
``operator.port`` (standard library ``http.server`` on a background thread).

- ``GET /`` — the page: the bench and station, the current step and instruction, **Done** /
  **Cannot do** (with a short reason) and the time left; "Nothing to do" between prompts,
  or "Missed: …" when the last prompt ended unanswered. A new prompt changes the page's
  title ("(1) Action needed — …") and sounds a tone (Web Audio). It polls ``GET /prompt``
  once a second (no external scripts; any tablet browser).
- ``GET /prompt`` — ``{"bench": ..., "station": ..., "prompt": {...} | null, "remaining_s":
  ..., "missed": {...} | null}``; ``missed`` is the last prompt that timed out or was
  withdrawn unanswered (``prompt``, ``at`` (UTC, ISO 8601), ``why``), until the next prompt
  comes. With ``?wait=S&after=ID`` it waits up to S seconds for a prompt other than ID (a
  long poll, for scripts).
- ``POST /answer`` — ``{"id": ..., "answer": "done" | "cannot", "reason": ...}``: 200 when it
  answered the current prompt, 409 when that prompt is no longer current (a late click never
  answers the next prompt), 400 when malformed.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hil.operator.base import TIMEOUT, Answer, OperatorChannel, Outcome, Prompt

#: The longest a long poll of ``GET /prompt?wait=`` is held open.
MAX_WAIT_S = 60.0


@dataclass
class _Pending:
    prompt: Prompt
    deadline: float  # monotonic
    answered: threading.Event = field(default_factory=threading.Event)
    answer: Answer | None = None


class WebChannel(OperatorChannel):
    name = "web"

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, bench: str = "", station: str = ""
    ) -> None:
        self.host = host
        self.port = port
        #: named on the page, so an operator with several benches' pages open knows which
        self.bench = bench
        self.station = station
        #: the last prompt that ended unanswered (timed out, withdrawn), until the next one
        self._missed: dict[str, Any] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._changed = threading.Condition()
        self._current: _Pending | None = None
        self._asking = threading.Lock()  # one prompt at a time

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            return
        channel = self

        class Handler(_Handler):
            pass

        Handler.channel = channel
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="operator-web", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        with self._changed:  # a waiting ask() and long polls end now
            if self._current is not None:
                self._current.answered.set()
            self._changed.notify_all()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("the operator web page is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str | None:
        """The page's URL; for 0.0.0.0 / :: the host's own address, as a tablet reaches it."""
        if self._server is None:
            return None
        host, port = self.address
        if host in ("0.0.0.0", "::", ""):
            host = _own_address()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/"

    # -- asking --------------------------------------------------------------------------

    def ask(self, prompt: Prompt) -> Answer:
        if self._server is None:
            self.start()
        with self._asking:
            pending = _Pending(prompt, time.monotonic() + prompt.timeout_s)
            with self._changed:
                self._current = pending
                self._missed = None
                self._changed.notify_all()
            try:
                pending.answered.wait(prompt.timeout_s)
            finally:
                with self._changed:
                    self._current = None
                    if pending.answer is None:  # the page shows it missed, not "nothing"
                        timed_out = time.monotonic() >= pending.deadline
                        self._missed = {
                            "prompt": prompt.as_json(),
                            "at": datetime.now(UTC).isoformat(timespec="seconds"),
                            "why": "timed out" if timed_out else "withdrawn",
                        }
                    self._changed.notify_all()
            return pending.answer or TIMEOUT

    def current(self) -> Prompt | None:
        with self._changed:
            return self._current.prompt if self._current is not None else None

    def answer(self, prompt_id: str, answer: Answer) -> bool:
        """Answer the prompt ``prompt_id`` if it is still the current, unanswered one."""
        with self._changed:
            pending = self._current
            if pending is None or pending.prompt.id != prompt_id or pending.answer is not None:
                return False
            pending.answer = answer
            pending.answered.set()
            return True

    def state(self, wait_s: float = 0.0, after: str | None = None) -> dict[str, Any]:
        """The JSON the page polls; with ``wait_s`` wait until the current prompt is not
        ``after`` (a new prompt, or none when ``after`` is given and the page is idle)."""
        deadline = time.monotonic() + min(max(wait_s, 0.0), MAX_WAIT_S)
        with self._changed:
            while True:
                pending = self._current
                current_id = pending.prompt.id if pending is not None else None
                waiting = wait_s > 0 and current_id == after and self._server is not None
                left = deadline - time.monotonic()
                if not waiting or left <= 0:
                    break
                self._changed.wait(left)
            state: dict[str, Any] = {"bench": self.bench, "station": self.station}
            if pending is None:
                return {**state, "prompt": None, "missed": self._missed}
            remaining = max(0.0, pending.deadline - time.monotonic())
            return {
                **state,
                "prompt": pending.prompt.as_json(),
                "remaining_s": round(remaining, 1),
                "missed": None,
            }


def _own_address() -> str:
    """The address other machines reach this one at (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
        except OSError:
            return socket.gethostname()


class _Handler(BaseHTTPRequestHandler):
    channel: WebChannel
    server_version = "hil-operator"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass  # the run's console stays for the run

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode(), "application/json; charset=utf-8")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, PAGE.encode(), "text/html; charset=utf-8")
        elif url.path == "/prompt":
            query = parse_qs(url.query)
            try:
                wait = float(query.get("wait", ["0"])[0])
            except ValueError:
                self._json(HTTPStatus.BAD_REQUEST, {"error": "wait must be a number"})
                return
            after = query.get("after", [None])[0] or None
            self._json(HTTPStatus.OK, self.channel.state(wait, after))
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page {url.path}"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if urlsplit(self.path).path != "/answer":
            self._json(HTTPStatus.NOT_FOUND, {"error": "POST /answer only"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            data = json.loads(self.rfile.read(length) or b"{}")
            prompt_id = str(data["id"])
            outcome = {"done": Outcome.DONE, "cannot": Outcome.CANNOT}[data["answer"]]
            reason = str(data.get("reason") or "").strip()[:500]
        except (ValueError, KeyError, TypeError):
            self._json(
                HTTPStatus.BAD_REQUEST,
                {"error": 'expected {"id": ..., "answer": "done"|"cannot", "reason": ...}'},
            )
            return
        if outcome is Outcome.CANNOT and not reason:
            reason = "no reason given"
        if self.channel.answer(
            prompt_id, Answer(outcome, reason if outcome is Outcome.CANNOT else "")
        ):
            self._json(HTTPStatus.OK, {"ok": True})
        else:
            self._json(
                HTTPStatus.CONFLICT,
                {"error": "this prompt is no longer current (answered or timed out)"},
            )


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>HIL lab: operator</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f4; color: #111; }
  main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
  h1 { font-size: 1.1rem; color: #555; margin-bottom: .2rem; }
  #where { color: #333; font-weight: bold; margin-top: 0; }
  .card { background: #fff; border-radius: .5rem; padding: 1.2rem; box-shadow: 0 1px 3px #0003; }
  #step { font-weight: bold; color: #444; }
  #instruction { font-size: 1.6rem; margin: 1rem 0; }
  #countdown { font-variant-numeric: tabular-nums; font-weight: bold; }
  button { font-size: 1.3rem; padding: .8rem 1.4rem; margin: .4rem .4rem 0 0; border: 0;
           border-radius: .4rem; cursor: pointer; }
  #done { background: #1b7f3a; color: #fff; }
  #cannot { background: #b3261e; color: #fff; }
  #send-cannot { background: #b3261e; color: #fff; }
  input { font-size: 1.2rem; padding: .5rem; width: 100%; box-sizing: border-box; }
  #idle { font-size: 1.3rem; color: #555; }
  #missed { font-size: 1.3rem; color: #8a4b00; background: #fff3d6; padding: .6rem;
            border-radius: .4rem; }
  #status { color: #b3261e; min-height: 1.5em; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<main>
  <h1>HIL lab: operator prompts</h1>
  <p id="where"></p>
  <div class="card">
    <p id="idle">Nothing to do. This page updates by itself when the lab needs you.</p>
    <div id="missed" hidden>
      <p id="missed-what"></p>
      <p id="missed-why"></p>
    </div>
    <div id="task" hidden>
      <p id="step"></p>
      <p id="instruction"></p>
      <p id="role"></p>
      <p>Time left: <span id="countdown"></span></p>
      <div id="choices">
        <button id="done" type="button">Done</button>
        <button id="cannot" type="button">Cannot do</button>
      </div>
      <form id="reason-form" hidden>
        <label for="reason">Why can it not be done? (short reason)</label>
        <input id="reason" name="reason" maxlength="200" autocomplete="off" required>
        <button id="send-cannot" type="submit">Send: cannot do</button>
        <button id="back" type="button">Back</button>
      </form>
    </div>
    <p id="status" role="status"></p>
  </div>
</main>
<script>
(function () {
  var current = null, deadline = 0, where = "", audio = null;
  function el(id) { return document.getElementById(id); }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(iso) {  // HH:MM:SS on the operator's own clock
    var t = new Date(iso);
    if (isNaN(t.getTime())) { return iso; }
    return two(t.getHours()) + ":" + two(t.getMinutes()) + ":" + two(t.getSeconds());
  }
  function baseTitle() { return "HIL lab: operator" + (where ? " — " + where : ""); }
  // a tone on a new prompt; browsers allow sound only after the page was touched once,
  // so the first tap anywhere unlocks it
  function sound() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return null; }
    if (!audio) { audio = new Ctx(); }
    if (audio.state === "suspended" && audio.resume) { audio.resume(); }
    return audio;
  }
  function alertSound() {
    try {
      var ctx = sound();
      if (!ctx) { return; }
      [880, 660].forEach(function (hz, i) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.frequency.value = hz;
        gain.gain.value = 0.25;
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(ctx.currentTime + i * 0.35);
        osc.stop(ctx.currentTime + i * 0.35 + 0.3);
      });
    } catch (e) { /* no sound: the title still says it */ }
  }
  document.addEventListener("click", function () { try { sound(); } catch (e) {} });
  function showWhere(d) {
    var parts = [];
    if (d.bench) { parts.push("Bench: " + d.bench); }
    if (d.station) { parts.push("Station: " + d.station); }
    where = [d.bench, d.station].filter(Boolean).join(" · ");
    el("where").textContent = parts.join(" · ");
  }
  function idle(missed) {
    current = null;
    el("task").hidden = true;
    if (missed) {
      var p = missed.prompt;
      el("missed-what").textContent = "Missed: " + p.instruction + " at " + clock(missed.at);
      el("missed-why").textContent = p.title + " — " + (missed.why === "timed out"
        ? "nobody answered within " + p.timeout_s + " s; the step is a lab error."
        : "the lab withdrew it before an answer came.");
      el("missed").hidden = false;
      el("idle").hidden = true;
      document.title = "Missed prompt — " + baseTitle();
    } else {
      el("missed").hidden = true;
      el("idle").hidden = false;
      document.title = baseTitle();
    }
  }
  function show(prompt, remaining, missed) {
    if (!prompt) { idle(missed); return; }
    deadline = Date.now() + remaining * 1000;
    if (current && current.id === prompt.id) { return; }
    current = prompt;
    el("step").textContent = prompt.title;
    el("instruction").textContent = prompt.instruction;
    el("role").textContent = prompt.role ? "You stand in for: " + prompt.role : "";
    el("reason").value = "";
    el("reason-form").hidden = true;
    el("choices").hidden = false;
    el("status").textContent = "";
    el("idle").hidden = true;
    el("missed").hidden = true;
    el("task").hidden = false;
    document.title = "(1) Action needed — " + prompt.title + " — " + baseTitle();
    alertSound();
    tick();
  }
  function tick() {
    if (!current) { return; }
    var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    el("countdown").textContent = m + ":" + two(s);
  }
  function poll() {
    fetch("prompt", {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (d) { showWhere(d); show(d.prompt, d.remaining_s || 0, d.missed); })
      .catch(function () { el("status").textContent = "The lab does not answer (run over?)"; })
      .then(function () { setTimeout(poll, 1000); });
  }
  function send(answer, reason) {
    if (!current) { return; }
    var id = current.id;
    fetch("answer", {method: "POST", headers: {"Content-Type": "application/json"},
                     body: JSON.stringify({id: id, answer: answer, reason: reason || ""})})
      .then(function (r) {
        if (r.status === 200) { show(null, 0, null); }
        else if (r.status === 409) {
          show(null, 0, null);
          el("status").textContent = "That prompt was no longer current (answered or timed out).";
        } else { el("status").textContent = "The lab refused the answer (" + r.status + ")"; }
      })
      .catch(function () { el("status").textContent = "Could not reach the lab"; });
  }
  el("done").onclick = function () { send("done"); };
  el("cannot").onclick = function () {
    el("choices").hidden = true;
    el("reason-form").hidden = false;
    el("reason").focus();
  };
  el("back").onclick = function () {
    el("reason-form").hidden = true;
    el("choices").hidden = false;
  };
  el("reason-form").onsubmit = function (e) {
    e.preventDefault();
    var reason = el("reason").value.trim();
    if (!reason) { el("status").textContent = "Please give a short reason."; return; }
    send("cannot", reason);
  };
  setInterval(tick, 250);
  poll();
})();
</script>
</body>
</html>
"""

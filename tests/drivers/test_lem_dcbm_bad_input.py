"""A DC meter answering badly in the middle of a session, not only when first opened.

``test_lem_dcbm.py`` covers the first read (unreachable, silent, malformed JSON in the
status, a missing field, HTTP 500, OCMF text that is not OCMF). Here: the same faults on
the requests a DC session makes later (livemeasure, stopping the transaction, the OCMF of
the transaction), an OCMF record that starts right but is cut off or not text, and a
meter that goes away mid-session. Each must be an ``InstrumentError`` naming the role,
the address, the request and what was wrong. Every server listens on 127.0.0.1 and is
stopped by its test.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drivers.base import InstrumentError
from drivers.dc_meter.base import DcTransactionRequest
from drivers.dc_meter.lem_dcbm import LemDcbm
from hil.sim.instruments.lem_dcbm import VirtualLemDcbm

ROLE = "dc_meter"


@pytest.fixture
def meter(virtual_dcbm: VirtualLemDcbm) -> LemDcbm:
    """The driver, opened on a meter that answered well, with one finished transaction."""
    driver = LemDcbm(virtual_dcbm.address, timeout_s=2.0)
    driver.open()
    request = DcTransactionRequest(evse_id="DE*HIL*E1", transaction_id="tx-1", client_id="C1")
    driver.start_transaction(request)
    virtual_dcbm.add_energy(5_000, 400.0, 125.0)
    driver.stop_transaction("tx-1")
    return driver


def caught(call: object) -> InstrumentError:
    with pytest.raises(InstrumentError) as err:
        call()  # type: ignore[operator]
    return err.value


def named(err: InstrumentError, address: str) -> str:
    """The message, after checking it names the role and the address first."""
    assert (err.role, err.address) == (ROLE, address)
    assert str(err).startswith(f"{ROLE} at {address}: "), str(err)
    return str(err)


def test_malformed_json_mid_session_names_the_request(virtual_dcbm: VirtualLemDcbm, meter: LemDcbm):
    """Harm prevented: a livemeasure reply cut off mid-object read as no power (energy
    "stopped") or as a JSONDecodeError without the instrument. It names role, address,
    the request and the body."""
    second = DcTransactionRequest(evse_id="DE*HIL*E1", transaction_id="tx-2", client_id="C1")
    meter.start_transaction(second)
    virtual_dcbm.malformed_json = True
    text = named(caught(meter.read_measurement), virtual_dcbm.address)
    assert "GET /v1/livemeasure: reply is not JSON (" in text
    assert 'body \'{"voltage"' in text
    text = named(caught(lambda: meter.stop_transaction("tx-2")), virtual_dcbm.address)
    assert "PUT /v1/legal?transactionId=tx-2: reply is not JSON" in text


@pytest.mark.parametrize(
    ("served", "why"),
    [
        ('OCMF|{"FV":"1.0","GI":"LEM DCBM","RD":[{"TM":"2026-', "not an OCMF record ("),
        ("", "not an OCMF record ("),
        ("OCMF|[1, 2]|{}", "not an OCMF record ("),
    ],
    ids=["cut-off-payload", "empty", "payload-not-an-object"],
)
def test_a_malformed_ocmf_names_role_address_and_what(
    virtual_dcbm: VirtualLemDcbm,
    meter: LemDcbm,
    monkeypatch: pytest.MonkeyPatch,
    served: str,
    why: str,
):
    """Harm prevented: the meter's own record is the reference for the station's; one cut
    off in transfer, empty, or with a payload that is not an OCMF object must fail where it
    was read, naming the meter and the transaction, not later as a failed signature."""
    monkeypatch.setattr(virtual_dcbm, "ocmf", lambda transaction_id: served)
    text = named(caught(lambda: meter.read_ocmf("tx-1")), virtual_dcbm.address)
    assert f"GET /v1/ocmf?transactionId=tx-1: {why}" in text
    assert ("(empty body)" if not served else f"body {served[:20]!r}"[:-1]) in text


def test_an_ocmf_that_is_not_text_is_named(virtual_dcbm: VirtualLemDcbm):
    """Bytes that are not UTF-8 (a binary blob from a firmware fault) are said to be so,
    with the request. The virtual meter only sends text, so a canned server stands in."""
    status = json.dumps(virtual_dcbm.status()).encode()
    replies = {"/v1/status": status, "/v1/ocmf?transactionId=tx-1": b"OCMF|\xff\xfe|{}"}

    class Canned(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = replies[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Canned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        meter = LemDcbm(address, timeout_s=2.0)
        meter.open()
        text = named(caught(lambda: meter.read_ocmf("tx-1")), address)
        assert "GET /v1/ocmf?transactionId=tx-1: reply is not UTF-8 text: body 'OCMF|" in text
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_unknown_transaction_ocmf_shows_the_meters_answer(
    virtual_dcbm: VirtualLemDcbm, meter: LemDcbm
):
    """A transaction id the meter does not know (the station's id instead of the meter's)
    is an HTTP error with the meter's own words, not an empty record."""
    text = named(caught(lambda: meter.read_ocmf("ocpp-42")), virtual_dcbm.address)
    assert "GET /v1/ocmf?transactionId=ocpp-42: HTTP 404" in text
    assert "no stopped transaction" in text


def test_a_value_of_the_wrong_type_is_named(
    virtual_dcbm: VirtualLemDcbm, meter: LemDcbm, monkeypatch: pytest.MonkeyPatch
):
    """A register sent as text ("801.2") is refused naming the field, not read as 0."""
    good = virtual_dcbm.livemeasure()
    monkeypatch.setattr(virtual_dcbm, "livemeasure", lambda: {**good, "energyImportTotal": "5.0"})
    text = named(caught(meter.read_measurement), virtual_dcbm.address)
    assert "GET /v1/livemeasure: energyImportTotal is '5.0', not a number" in text


def test_a_meter_gone_mid_session_names_role_and_address(
    virtual_dcbm: VirtualLemDcbm, meter: LemDcbm
):
    """Harm prevented: the station's meter powered down or its network cut during the
    session. Every later read says which instrument could not be reached, and where."""
    assert meter.read_measurement().energy_import_wh > 0
    virtual_dcbm.stop()
    for call in (meter.read_measurement, meter.read_status, lambda: meter.read_ocmf("tx-1")):
        text = named(caught(call), virtual_dcbm.address)
        assert ": cannot connect to 127.0.0.1:" in text, text
    meter.close()  # closing a meter that went away does not raise

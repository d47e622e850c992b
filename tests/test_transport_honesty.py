"""Transport honesty: what the transport does on its own is never charged to a feature, and nothing
it cannot excuse is excused.

- A stale keep-alive connection. A server answered a 500 with keep-alive, then closed the idle
  connection without `Connection: close`; the next feature's request went out on it, was reset
  before any byte, and that feature was called nonconformant (it passes alone). Every client, the
  SDK included (docs/sdk-facts.md#stale-connections), sends such a request again on a fresh
  connection; the transport now does too, once, and says so in the evidence. The 500 replayed
  here is llama-cpp-python's, from its peer run (tests/wire/llamacpp-500-keep-alive.json: uvicorn,
  no `Connection: close`).
- What stays a verdict: a reset on a fresh connection (sent once, never again), and a reused
  connection that broke off after some bytes of the answer arrived.
- A short API key (`--api-key x`): masked where it is sent and where a server echoes it, never as
  a bare substring, so `max_tokens` stays `max_tokens` in every report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import openai
import pytest

from conformance.catalog import load_catalog
from conformance.document import build_results
from conformance.engine import Engine
from conformance.mock.server import MockServer
from conformance.report import write_reports
from conformance.sdk import make_client
from conformance.target import Secret, Target
from conformance.verdict import Status
from conformance.wire import RESENT_NOTE, Recorder, TransportFailure, WireClient
from tests.conftest import TEST_TIMEOUTS
from tests.scripted import Request, Script, hang_up, models_ok, reset, send_json

WIRE = Path(__file__).resolve().parent / "wire"
KEY = "sk-transport-honesty-0123456789"

UNKNOWN_MODEL = {
    "error": {
        "message": "The model `x` does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
}


def _peer_500(wfile: Any) -> None:
    """The 500 llama-cpp-python answered, as it came: keep-alive, no `Connection: close`."""
    recorded = json.loads((WIRE / "llamacpp-500-keep-alive.json").read_text())
    headers = {k: v for k, v in recorded["headers"].items() if k != "content-type"}  # send_json sets it
    send_json(wfile, recorded["status"], recorded["body"], headers)


def stale_after_500(script: Script, request: Request, wfile: Any) -> None:
    """The first connection answers a 500 and then is closed while idle: a request arriving on it is reset."""
    if request.on_connection > 1:
        reset(request)
    if request.connection == 1:
        _peer_500(wfile)
    else:
        send_json(wfile, 404, UNKNOWN_MODEL)


def reset_always(script: Script, request: Request, wfile: Any) -> None:
    reset(request)


def answer_then_break_off(script: Script, request: Request, wfile: Any) -> None:
    """A 500 with keep-alive; on the reused connection, half a status line and then the close."""
    if request.on_connection == 1:
        _peer_500(wfile)
        return
    wfile.write(b"HTTP/1.1 2")
    wfile.flush()
    hang_up(request)


def _target(script: Script, key: str = KEY) -> Target:
    return Target(script.base_url, Secret(key), {"chat": "m"}, timeouts=TEST_TIMEOUTS)


def _posts(script: Script) -> list[Request]:
    return [r for r in script.requests if r.method == "POST"]


# --- (a) a stale keep-alive connection: the next feature is judged on the re-sent request ------------


def test_the_feature_after_a_500_is_judged_on_its_request_sent_again() -> None:
    catalog = load_catalog()
    routes = {("GET", "/v1/models"): models_ok, ("POST", "/v1/chat/completions"): stale_after_500}
    with Script(routes) as script, Engine(_target(script), catalog) as engine:
        # both through the lax SDK client, so the second request meets the first one's idle connection
        first = engine.execute(catalog["errors.envelope.invalid_param"]).outcome
        second = engine.execute(catalog["errors.unknown_model"]).outcome
        requests = engine.recorder.requests
    assert first.status is Status.NONCONFORMANT  # the 500 itself is the server's (5xx for a client fault)
    assert second.status is Status.SUPPORTED, second.reason
    lost, answered = second.evidence
    assert lost["resent"] is True and lost["note"] == RESENT_NOTE
    assert lost["failure"]["kind"] == "protocol" and "response" not in lost
    assert answered["response"]["status"] == 404 and "resent" not in answered
    # the server saw both sends of it, the second on a connection of its own; both are counted
    assert [(r.connection, r.on_connection) for r in _posts(script)] == [(1, 1), (1, 2), (2, 1)]
    assert requests == 3


def test_the_raw_client_sends_again_too_and_counts_both_sends() -> None:
    with Script({("*", "*"): stale_after_500}) as script:
        recorder = Recorder()
        recorder.begin_scope()
        client = WireClient(_target(script), recorder)
        try:
            assert client.get("models").status == 500
            response = client.get("models")
        finally:
            client.close()
    assert response.status == 404
    assert response.history == []  # a lost send is no redirect hop
    assert recorder.requests == 3 and recorder.resends == [recorder.scope[1]]
    assert recorder.scope[1].note == RESENT_NOTE and recorder.scope[1].failure is not None
    assert [(r.connection, r.on_connection) for r in script.requests] == [(1, 1), (1, 2), (2, 1)]


def test_the_sdk_client_sends_again_with_its_own_retries_off() -> None:
    with Script({("*", "*"): stale_after_500}) as script:
        recorder = Recorder()
        client = make_client(_target(script), recorder, strict=False)
        try:
            with pytest.raises(openai.InternalServerError):
                client.models.retrieve("m")
            with pytest.raises(openai.NotFoundError):  # the answer to the re-sent request, not APIConnectionError
                client.models.retrieve("m")
        finally:
            client.close()
    assert recorder.requests == 3 and len(recorder.resends) == 1
    assert [(r.connection, r.on_connection) for r in script.requests] == [(1, 1), (1, 2), (2, 1)]


# --- (b) what stays a verdict --------------------------------------------------------------------------


def test_a_fresh_connection_reset_before_any_byte_is_a_verdict_after_one_send() -> None:
    catalog = load_catalog()
    routes = {("GET", "/v1/models"): models_ok, ("POST", "/v1/chat/completions"): reset_always}
    with Script(routes) as script, Engine(_target(script), catalog) as engine:
        outcome = engine.execute(catalog["errors.unknown_model"]).outcome
        resends = list(engine.recorder.resends)
    assert outcome.status is Status.NONCONFORMANT
    assert "broke off" in outcome.reason
    assert len(_posts(script)) == 1 and resends == []
    (only,) = outcome.evidence
    assert only["failure"]["kind"] == "protocol" and "resent" not in only and "note" not in only


def test_a_reused_connection_that_broke_off_after_some_bytes_is_not_sent_again() -> None:
    with Script({("*", "*"): answer_then_break_off}) as script:
        recorder = Recorder()
        client = WireClient(_target(script), recorder)
        try:
            assert client.get("models").status == 500
            with pytest.raises(TransportFailure) as failure:
                client.get("models")
        finally:
            client.close()
    assert failure.value.kind == "protocol"
    assert recorder.resends == [] and recorder.requests == 2
    assert [(r.connection, r.on_connection) for r in script.requests] == [(1, 1), (1, 2)]


def test_a_re_sent_request_reset_again_is_a_verdict_not_a_loop() -> None:
    def reset_after_first(script: Script, request: Request, wfile: Any) -> None:
        if request.connection == 1 and request.on_connection == 1:
            send_json(wfile, 500, UNKNOWN_MODEL)
        else:
            reset(request)

    with Script({("*", "*"): reset_after_first}) as script:
        recorder = Recorder()
        client = WireClient(_target(script), recorder)
        try:
            client.get("models")
            with pytest.raises(TransportFailure):
                client.get("models")
        finally:
            client.close()
    # the lost send, then one fresh send that failed as well: nothing more
    assert [(r.connection, r.on_connection) for r in script.requests] == [(1, 1), (1, 2), (2, 1)]
    assert recorder.requests == 3 and len(recorder.resends) == 1


# --- (c) a short key against the reference mock --------------------------------------------------------

# an echo of the key "x" in any report: sent (a header), or quoted back by a server
_ECHOES_OF_X = re.compile(r"Bearer x\b|\"(?:authorization|api-key|x-api-key)\": \"x\"|provided: x\b|[?&]api-key=x\b")


def test_a_short_key_is_masked_where_it_is_sent_and_nowhere_else(tmp_path: Path) -> None:
    catalog = load_catalog()
    with MockServer(api_key="x") as server:
        target = Target(server.base_url, Secret("x"), server.target_models, timeouts=TEST_TIMEOUTS)
        with Engine(target, catalog) as engine:
            run = engine.run()
    results = build_results(run, catalog)
    written = write_reports(results, tmp_path)
    assert results["redaction"]["mode"] == "sent_only"
    assert run.count(Status.ERROR) == 0  # the mock took the key: nothing was judged on a 401

    document = json.loads((tmp_path / "results.json").read_text())
    names = set(_field_names(document))
    assert not [name for name in names if "*" in name]  # no field name was damaged
    assert {"max_tokens", "index", "text", "x-request-id"} <= names
    sent = [
        exchange["request"]["headers"]["authorization"]
        for feature in document["features"].values()
        for exchange in feature["evidence"]
        if "authorization" in exchange["request"]["headers"]
    ]
    assert sent and set(sent) <= {"Bearer ***", "***"}
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert "ma***_tokens" not in text and "***_" not in text, path.name
        assert not _ECHOES_OF_X.search(text), (path.name, _ECHOES_OF_X.search(text))


def _field_names(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [name for key, item in value.items() for name in (key, *_field_names(item))]
    if isinstance(value, list):
        return [name for item in value for name in _field_names(item)]
    return []

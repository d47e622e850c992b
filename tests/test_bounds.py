"""Every request is bounded: a server that stalls or streams forever gets a verdict, not a hang.

The total time of a response holds over its head as well as its body: a server that drips header
lines forever answers every read in time, and only the time limit ends it.
"""

from __future__ import annotations

import itertools
import socket
import time
from typing import Any

import openai
import pytest

from conformance.catalog import load_catalog
from conformance.engine import Engine
from conformance.sdk import make_client
from conformance.target import Secret, Target, Timeouts
from conformance.verdict import Status
from conformance.wire import Recorder, TimeLimit, TransportFailure, WireClient, transport, transport_failure_in
from conformance.wire.transport import MAX_REDIRECTS
from tests.scripted import (
    Request,
    Route,
    Script,
    models_ok,
    send_json,
    stall_before_answering,
    stall_mid_stream,
    stream_forever,
)

FAST = Timeouts(connect=1.0, read=0.5, total=2.0, max_body_bytes=256 * 1024)


def run_one(base_url: str, feature_id: str, timeouts: Timeouts = FAST):
    catalog = load_catalog()
    target = Target(base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=timeouts)
    with Engine(target, catalog) as engine:
        return engine.execute(catalog[feature_id]).outcome


def test_a_stream_that_stalls_after_the_first_chunk_is_nonconformant() -> None:
    with Script({("GET", "/v1/models"): models_ok, ("POST", "/v1/chat/completions"): stall_mid_stream}) as script:
        started = time.monotonic()
        outcome = run_one(script.base_url, "chat.stream.done_sentinel")
    assert outcome.status is Status.NONCONFORMANT
    assert "stalled" in outcome.reason
    assert time.monotonic() - started < 10
    assert outcome.evidence and outcome.evidence[0]["failure"]["kind"] == "stall"


def test_a_stream_that_never_ends_is_cut_and_nonconformant() -> None:
    with Script({("GET", "/v1/models"): models_ok, ("POST", "/v1/chat/completions"): stream_forever}) as script:
        started = time.monotonic()
        outcome = run_one(script.base_url, "chat.stream.content_type")
    assert outcome.status is Status.NONCONFORMANT
    assert "never ended" in outcome.reason
    assert outcome.evidence[0]["failure"]["kind"] in ("too_large", "too_slow")
    assert time.monotonic() - started < 10


def test_no_response_while_the_server_answers_others_is_a_verdict() -> None:
    with Script({("GET", "/v1/models"): models_ok, ("POST", "/v1/chat/completions"): stall_before_answering}) as script:
        outcome = run_one(script.base_url, "errors.invalid_json")
    assert outcome.status is Status.NONCONFORMANT
    assert "no response" in outcome.reason


def test_no_response_from_a_dead_server_is_a_harness_error() -> None:
    with Script({("*", "*"): stall_before_answering}) as script:
        outcome = run_one(script.base_url, "chat.stream.content_type")
    assert outcome.status is Status.ERROR


def test_connection_refused_is_a_harness_error_never_a_pass() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = run_one(f"http://127.0.0.1:{port}/v1", "chat.basic")
    assert outcome.status is Status.ERROR
    assert "connect" in outcome.reason


# --- the time limit holds over the response head as well as its body -------------------------------------


def _drip_head_forever(script: Script, request: Request, wfile: Any) -> None:
    """Header lines, one every 50 ms, forever: every read is answered in time, the head never ends."""
    wfile.write(b"HTTP/1.1 200 OK\r\n")
    for index in itertools.count():
        if script.wait(0.05):
            return
        try:
            wfile.write(f"x-still-going-{index}: yes\r\n".encode())
            wfile.flush()
        except OSError:
            return


def _half_a_head_then_silence(script: Script, request: Request, wfile: Any) -> None:
    wfile.write(b"HTTP/1.1 200 OK\r\ncontent-")
    wfile.flush()
    script.wait(60)


def _drip_body(script: Script, request: Request, wfile: Any) -> None:
    """A whole head announcing a long body, then the body one byte every 50 ms."""
    wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
    wfile.flush()
    while not script.wait(0.05):
        try:
            wfile.write(b" ")
            wfile.flush()
        except OSError:
            return


def _redirect_to_itself(script: Script, request: Request, wfile: Any) -> None:
    location = f"http://127.0.0.1:{script.port}{request.path}"
    wfile.write(f"HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n".encode())
    wfile.flush()


def _raw_failure(route: Route, recorder: Recorder, timeouts: Timeouts = FAST) -> tuple[TransportFailure, float]:
    with Script({("*", "*"): route}) as script:
        target = Target(script.base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=timeouts)
        client = WireClient(target, recorder)
        started = time.monotonic()
        try:
            with pytest.raises(TransportFailure) as failure:
                client.get("models")
        finally:
            client.close()
    return failure.value, time.monotonic() - started


def test_a_head_that_never_ends_is_cut_at_the_total_time() -> None:
    recorder = Recorder()
    failure, seconds = _raw_failure(_drip_head_forever, recorder)
    assert failure.kind == "too_slow"
    assert failure.detail.startswith(f"still running after {FAST.total:g} s")
    assert "bytes of the response head" in failure.detail
    assert FAST.total <= seconds < FAST.total + 2
    assert recorder.last is not None and recorder.last.failure is failure


def test_the_recorder_s_limit_applies_with_its_own_kind_and_why() -> None:
    recorder = Recorder(time_limits=lambda exchange: TimeLimit(0.8, "deadline", "the run's deadline"))
    failure, seconds = _raw_failure(_drip_head_forever, recorder)
    assert (failure.kind, failure.detail.split(":")[0]) == (
        "deadline",
        "still running after 0.8 s (the run's deadline)",
    )
    assert seconds < 2


def test_a_body_that_drips_is_cut_at_the_limit_too() -> None:
    recorder = Recorder(time_limits=lambda exchange: TimeLimit(1.0, "too_slow", "sized to 5 completion tokens"))
    failure, seconds = _raw_failure(_drip_body, recorder)
    assert failure.kind == "too_slow" and "(sized to 5 completion tokens)" in failure.detail
    assert "body bytes so far" in failure.detail
    assert 1.0 <= seconds < 2.5


def test_without_the_counting_backend_the_body_is_still_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "_CountingBackend", lambda inner: inner)  # httpx without its private pool
    recorder = Recorder(time_limits=lambda exchange: TimeLimit(1.0, "too_slow", "sized to 5 completion tokens"))
    failure, seconds = _raw_failure(_drip_body, recorder)
    assert failure.kind == "too_slow" and seconds < 2.5


def test_silence_stays_silence_when_the_limit_ends_at_the_same_moment() -> None:
    # a limit sized to the read timeout (a request that asks for no tokens) meets a server that says
    # nothing: that is no response, not a response too slow
    recorder = Recorder(time_limits=lambda exchange: TimeLimit(FAST.read, "too_slow", "sized to 0 completion tokens"))
    failure, _ = _raw_failure(stall_before_answering, recorder)
    assert failure.kind == "no_response"
    failure, _ = _raw_failure(_half_a_head_then_silence, Recorder())
    assert failure.kind == "stall" and "bytes of the response head" in failure.detail


def test_nothing_is_sent_once_the_run_s_deadline_has_passed() -> None:
    recorder = Recorder(time_limits=lambda exchange: TimeLimit(0.0, "deadline", "the run's deadline"))
    with Script({("*", "*"): models_ok}) as script:
        target = Target(script.base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=FAST)
        client = WireClient(target, recorder)
        try:
            with pytest.raises(TransportFailure) as failure:
                client.get("models")
        finally:
            client.close()
    assert failure.value.kind == "deadline" and failure.value.detail.startswith("not sent")
    assert script.requests == [] and recorder.requests == 0


def test_a_429_is_not_waited_out_past_the_run_s_deadline() -> None:
    def rate_limited(script: Script, request: Request, wfile: Any) -> None:
        send_json(
            wfile,
            429,
            {"error": {"message": "slow down", "type": "rate_limit", "param": None, "code": None}},
            {"retry-after": "5"},
        )

    recorder = Recorder(time_limits=lambda exchange: TimeLimit(1.0, "deadline", "the run's deadline"))
    with Script({("*", "*"): rate_limited}) as script:
        target = Target(script.base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=FAST)
        client = WireClient(target, recorder)
        started = time.monotonic()
        try:
            response = client.get("models")
        finally:
            client.close()
    assert response.status == 429 and time.monotonic() - started < 1
    assert recorder.backoffs == [] and "not waited out" in (response.exchange.note or "")


# --- a redirect loop ends in a failure, through the raw client and the SDK alike ------------------------------


def test_a_redirect_loop_is_a_protocol_failure_on_its_last_exchange() -> None:
    recorder = Recorder()
    recorder.begin_scope()
    failure, _ = _raw_failure(_redirect_to_itself, recorder)
    assert failure.kind == "redirects" and failure.detail.startswith("a redirect loop")
    assert recorder.requests == MAX_REDIRECTS + 1
    assert recorder.scope[-1].failure is failure and recorder.scope[-1].status == 302


def test_the_sdk_meets_a_redirect_loop_as_the_same_failure() -> None:
    recorder = Recorder()
    with Script({("*", "*"): _redirect_to_itself}) as script:
        target = Target(script.base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=FAST)
        client = make_client(target, recorder, strict=False)
        try:
            # 3.x lets the transport's failure through; 1.x and 2.x wrap it in APIConnectionError, which
            # keeps it as its cause: either way the failure found is the loop, not "Connection error."
            with pytest.raises((TransportFailure, openai.APIConnectionError)) as raised:
                client.models.list()
        finally:
            client.close()
    failure = transport_failure_in(raised.value, recorder)
    assert failure is not None and failure.kind == "redirects" and "redirect loop" in failure.detail


def test_a_redirect_loop_is_a_verdict_for_the_feature() -> None:
    with Script({("*", "*"): _redirect_to_itself}) as script:
        outcome = run_one(script.base_url, "models.list")
    assert outcome.status is Status.NONCONFORMANT
    assert "redirect loop" in outcome.reason

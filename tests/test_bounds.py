"""Every request is bounded: a server that stalls or streams forever gets a verdict, not a hang."""

from __future__ import annotations

import socket
import time

from conformance.catalog import load_catalog
from conformance.engine import Engine
from conformance.target import Secret, Target, Timeouts
from conformance.verdict import Status
from tests.scripted import Script, models_ok, stall_before_answering, stall_mid_stream, stream_forever

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

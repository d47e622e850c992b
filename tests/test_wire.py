"""The capturing transport: evidence, counting, and polite back-off on 429."""

from __future__ import annotations

import time
from typing import Any

from conformance.cost import IMPOSSIBLE_MAX_TOKENS, CostMeter
from conformance.redact import Redactor
from conformance.target import Secret, Target, Timeouts
from conformance.wire import Recorder, WireClient
from tests.scripted import Request, Script, send_json

KEY = "sk-wire-test-0123456789abcdef"


def target(base_url: str) -> Target:
    return Target(base_url, Secret(KEY), {"chat": "m"}, timeouts=Timeouts(read=2.0, total=5.0))


def rate_limited_once(retry_headers: dict[str, str]):  # type: ignore[no-untyped-def]
    def route(script: Script, request: Request, wfile: Any) -> None:
        if len(script.requests) == 1:
            send_json(
                wfile,
                429,
                {"error": {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}},
                retry_headers,
            )
        else:
            send_json(wfile, 200, {"ok": True})

    return route


def test_a_429_is_waited_out_as_retry_after_says_and_recorded() -> None:
    with Script({("POST", "/v1/chat/completions"): rate_limited_once({"retry-after-ms": "200"})}) as script:
        recorder = Recorder()
        client = WireClient(target(script.base_url), recorder)
        started = time.monotonic()
        response = client.post("chat/completions", {"model": "m", "messages": [], "max_tokens": 3})
        waited = time.monotonic() - started
    assert response.status == 200
    assert 0.2 <= waited < 2
    assert recorder.requests == 2
    assert [(b.status, b.source) for b in recorder.backoffs] == [(429, "retry-after-ms")]
    assert recorder.rate_limit_responses[0].status == 429


def test_a_check_can_see_the_429_itself() -> None:
    with Script({("POST", "/v1/chat/completions"): rate_limited_once({"retry-after": "1"})}) as script:
        client = WireClient(target(script.base_url), Recorder())
        response = client.post("chat/completions", {"model": "m"}, no_backoff=True)
    assert response.status == 429


def test_evidence_is_redacted_and_counts_tokens_requested() -> None:
    def echo(script: Script, request: Request, wfile: Any) -> None:
        send_json(wfile, 200, {"echo": request.headers.get("authorization")})

    with Script({("POST", "/v1/chat/completions"): echo}) as script:
        cost = CostMeter()
        recorder = Recorder(observers=[cost.answered])
        recorder.begin_scope()
        client = WireClient(target(script.base_url), recorder)
        message = [{"role": "user", "content": "x"}]
        client.post("chat/completions", {"model": "m", "messages": message, "max_tokens": 7, "n": 2})
        evidence = recorder.scope[0].to_evidence(Redactor([KEY]))
        # errors.oversized's probe costs what the server generates, not a billion tokens
        client.post("chat/completions", {"model": "m", "messages": message, "max_tokens": IMPOSSIBLE_MAX_TOKENS})
        client.post("chat/completions", {"model": "m", "messages": message})
    assert cost.completion_tokens_requested == 14
    assert cost.unbounded_generation_requests == 1
    assert KEY not in str(evidence)
    assert evidence["request"]["headers"]["authorization"] == "Bearer ***"
    assert evidence["response"]["body"] == {"echo": "Bearer ***"}


def test_notes_are_filed_through_the_recorder_and_add_up() -> None:
    with Script({("GET", "/v1/models"): lambda script, request, wfile: send_json(wfile, 200, {})}) as script:
        recorder = Recorder()
        response = WireClient(target(script.base_url), recorder).get("models")
    recorder.note(response.exchange, "first")
    recorder.note(response.exchange, "second")
    assert response.exchange.to_evidence(Redactor([KEY]))["note"] == "first; second"

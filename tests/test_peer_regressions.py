"""Regressions from meeting real servers (reports/peers/*/TRIAGE.md): the wire bytes that fooled
the suite once, replayed by a scripted server, must now get the verdict they deserve.

- Prism answers a stream request with its static JSON example: stream features about chunk details
  passed vacuously over zero chunks; they now say there was nothing to judge.
- Prism's reply "string" ended well within max_tokens=5 with "stop": that is no evidence of a missing
  cut (skipped); LiteLLM's five-word reply with usage 20 tokens and "stop" is (nonconformant).
- Prism's 401 is RFC 9457 problem details, which the envelope judge called FastAPI-style.
- Prism accepts max_tokens=10^9: the run reported a billion completion tokens requested.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.catalog import load_catalog
from conformance.engine import Engine, RunResult
from conformance.envelope import decode_error_body, envelope_problems
from conformance.target import Secret, Target
from conformance.verdict import Status
from tests.conftest import TEST_TIMEOUTS
from tests.scripted import Request, Script, models_ok, send_json

WIRE = Path(__file__).resolve().parent / "wire"


def _replay(name: str) -> Any:
    body = json.loads((WIRE / name).read_text())

    def answer(script: Script, request: Request, wfile: Any) -> None:
        send_json(wfile, 200, body)  # for every request, streamed or not, as the peer did

    return answer


def run_against(name: str, *features: str) -> RunResult:
    catalog = load_catalog()
    routes = {("GET", "/v1/models"): models_ok, ("POST", "/v1/chat/completions"): _replay(name)}
    with Script(routes) as script:
        target = Target(script.base_url, Secret("sk-test"), {"chat": "m", "tools": "m"}, timeouts=TEST_TIMEOUTS)
        with Engine(target, catalog) as engine:
            return engine.run(catalog.select(list(features)))


def test_a_json_answer_to_a_stream_request_fails_the_stream_and_passes_nothing_vacuously() -> None:
    run = run_against(
        "prism-chat-completion.json",
        "chat.stream.chunk_object",
        "chat.stream.stable_id",
        "chat.stream.role_first_delta",
        "chat.stream.no_unrequested_usage",
    )
    assert run.results["chat.stream.chunk_object"].outcome.status is Status.NONCONFORMANT
    for feature_id in ("chat.stream.stable_id", "chat.stream.role_first_delta", "chat.stream.no_unrequested_usage"):
        outcome = run.results[feature_id].outcome
        assert outcome.status is Status.SKIPPED, (feature_id, outcome.reason)
        assert "no chat chunk to judge" in outcome.reason


def test_a_reply_that_ends_within_the_limit_is_not_judged_on_finish_reason() -> None:
    outcome = run_against("prism-chat-completion.json", "chat.max_tokens.length").results["chat.max_tokens.length"]
    assert outcome.outcome.status is Status.SKIPPED and "nothing was cut" in outcome.outcome.reason


def test_a_reply_longer_than_the_limit_with_stop_is_nonconformant() -> None:
    result = run_against("litellm-chat-completion.json", "chat.max_tokens.length").results["chat.max_tokens.length"]
    assert result.outcome.status is Status.NONCONFORMANT
    assert "usage.completion_tokens: received 20" in " ".join(p.message for p in result.outcome.problems)


def test_problem_details_are_named_as_such() -> None:
    raw = (WIRE / "prism-401-problem.json").read_bytes()
    problems = envelope_problems(decode_error_body(401, "application/problem+json", raw))
    assert problems == [
        'error body is RFC 9457 problem details ({"title", "status", "detail"}): expected {"error": {...}}'
    ]


def test_an_accepted_impossible_limit_is_not_counted_as_a_billion_tokens() -> None:
    run = run_against("litellm-chat-completion.json", "errors.oversized")
    assert run.results["errors.oversized"].outcome.status is Status.NONCONFORMANT  # accepted: silently capped
    assert run.completion_tokens_requested < 1000


def test_a_json_line_read_as_sse_is_no_framing_variant() -> None:
    from conformance.sse import parse_sse

    facts = {kind for kind, _, _ in parse_sse((WIRE / "prism-chat-completion.json").read_bytes()).facts}
    assert "no_space_after_colon" not in facts  # '{"id":...' is no `data:` field written without its space


def test_the_agent_loop_answers_a_call_even_when_its_arguments_are_off() -> None:
    # LiteLLM's fixed get_weather call lacks the required `unit`: still a call a client can answer
    run = run_against("litellm-tool-call.json", "chat.tools.loop")
    result = run.results["chat.tools.loop"]
    assert result.outcome.status is Status.NONCONFORMANT
    assert len(result.outcome.evidence) == 2  # the call, then the tool result answered


def test_a_200_on_a_wrong_base_url_is_no_pass() -> None:
    # Prism answers GET /v1/chat/completions/models (a base URL with /chat/completions appended) with a
    # chat completion: models.list() would silently read nothing
    catalog = load_catalog()
    completion = _replay("prism-chat-completion.json")
    routes = {("GET", "/v1/models"): models_ok, ("GET", "/v1/chat/completions/models"): completion}
    with Script(routes) as script:
        target = Target(script.base_url, Secret("sk-test"), {"chat": "m"}, timeouts=TEST_TIMEOUTS)
        with Engine(target, catalog) as engine:
            run = engine.run(catalog.select(["http.path.misconfigured_base_url"]))
    outcome = run.results["http.path.misconfigured_base_url"].outcome
    assert outcome.status is Status.NONCONFORMANT and "not a model list" in outcome.reason


def test_a_gzip_error_body_is_read_decoded() -> None:
    import gzip

    error = {"error": {"message": "model not found", "type": "invalid_request_error", "param": "model", "code": None}}
    packed = gzip.compress(json.dumps(error).encode() * 1)

    def gzipped_404(script: Script, request: Request, wfile: Any) -> None:
        head = (
            "HTTP/1.1 404 X\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
            f"content-length: {len(packed)}\r\n\r\n"
        )
        wfile.write(head.encode() + packed)
        wfile.flush()

    catalog = load_catalog()
    routes = {("GET", "/v1/models"): models_ok, ("POST", "/v1/chat/completions"): gzipped_404}
    with Script(routes) as script:
        target = Target(script.base_url, Secret("sk-test"), {"chat": "m"}, timeouts=TEST_TIMEOUTS)
        with Engine(target, catalog) as engine:
            run = engine.run(catalog.select(["errors.unknown_model"]))
    outcome = run.results["errors.unknown_model"].outcome
    assert outcome.status is Status.SUPPORTED, outcome.reason  # a gzip body is no "not JSON" envelope
    assert outcome.evidence[-1]["response"]["body"]["error"]["param"] == "model"

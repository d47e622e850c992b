"""A run is finite and its verdicts are its own: a stalling target is recognised, the deadline is
kept, a feature that timed out under our concurrency is judged again alone, and the schedule never
changes a verdict."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from conformance.bounds import STALL_FEATURES, StallWatch, Throttle, measured_chains, request_time_limit
from conformance.catalog import load_catalog
from conformance.context import CheckContext
from conformance.document import build_results
from conformance.embedded import embedded_target
from conformance.engine import NOT_DECIDED, Engine
from conformance.policy import gate_of
from conformance.registry import CheckSpec
from conformance.target import Secret, Target, Timeouts
from conformance.verdict import Findings, Outcome, Status
from conformance.wire import Backoff, RecordedExchange, TransportFailure
from tests.scripted import CHUNK, Script, hang_up, models_ok, send_json, stall_before_answering, start_sse

FAST = Timeouts(connect=1.0, read=0.5, total=2.0, max_body_bytes=256 * 1024)
ROOT = Path(__file__).resolve().parent.parent


def exchange(kind: str | None = None, *, status: int | None = 200, elapsed: float | None = 0.1) -> RecordedExchange:
    recorded = RecordedExchange("GET", "http://127.0.0.1/v1/models", [], b"", started=0.0, status=status)
    recorded.elapsed = elapsed
    if kind is not None:
        recorded.failure = TransportFailure(kind, "test")
    return recorded


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- bounds, unit by unit -------------------------------------------------------------------------


def test_a_target_that_stalls_again_and_again_is_recognised_after_a_few_features() -> None:
    clock = Clock()
    watch = StallWatch(quiet_s=20, clock=clock)
    for index in range(STALL_FEATURES - 1):
        clock.now += 21
        assert watch.ended(f"f{index}", [exchange("no_response", status=None)]) == ""
    clock.now += 21
    cause = watch.ended("last", [exchange("stall")])
    assert cause.startswith("the target is stalling:") and "last" in cause and "stall" in cause


def test_a_queueing_target_that_still_completes_requests_is_not_stalling() -> None:
    clock = Clock()
    watch = StallWatch(quiet_s=20, clock=clock)
    for index in range(STALL_FEATURES * 3):
        clock.now += 5
        # every other feature completes: timeouts in between are the load's, not a dead server's
        kind = "no_response" if index % 2 else None
        assert watch.ended(f"f{index}", [exchange(kind)]) == ""
    for index in range(STALL_FEATURES):  # timeouts in a row, but a request completed 5 s ago
        assert watch.ended(f"g{index}", [exchange("no_response", status=None)]) == ""
    clock.now += 30
    assert watch.ended("h", [exchange("too_slow")]) != ""


def test_the_throttle_halves_on_a_429_and_waits_its_retry_after() -> None:
    clock = Clock()
    throttle = Throttle(16, clock=clock)
    throttle.backed_off(Backoff("http://x/v1/chat/completions", 429, 2.0, "retry-after"))
    assert throttle.limit == 8 and not throttle.may_start(0)  # nothing starts during the server's wait
    clock.now += 2.0
    assert throttle.may_start(7) and not throttle.may_start(8)
    for _ in range(5):
        throttle.halve("test")
    assert throttle.limit == 1 and throttle.lowest() == 1 and len(throttle.events) == 4


def test_a_request_limit_is_sized_to_what_it_asks_for_and_kept_within_the_deadline() -> None:
    timeouts = Timeouts(read=20, total=60)
    chat = RecordedExchange("POST", "http://x/v1/chat/completions", [], b'{"messages": [], "max_tokens": 5}', 0.0)
    unbounded = RecordedExchange("POST", "http://x/v1/chat/completions", [], b'{"messages": []}', 0.0)
    assert request_time_limit(chat, timeouts, None).seconds == pytest.approx(21.0)
    assert request_time_limit(unbounded, timeouts, None).seconds == 60
    assert request_time_limit(exchange(), timeouts, None).seconds == 20  # nothing to generate: the read timeout
    import time

    cut = request_time_limit(unbounded, timeouts, time.monotonic() + 3)
    assert cut.kind == "deadline" and cut.seconds <= 3


# --- the engine against misbehaving servers -------------------------------------------------------


def run_against(base_url: str, **engine: Any) -> Any:
    catalog = load_catalog()
    target = Target(base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=FAST)
    with Engine(target, catalog, **engine) as running:
        return running.run(catalog.select(["chat", "models"]))


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_stalling_target_ends_the_run_within_seconds_with_the_cause(concurrency: int) -> None:
    routes = {("GET", "/v1/models"): models_ok, ("POST", "/v1/chat/completions"): stall_before_answering}
    with Script(routes) as script:  # type: ignore[arg-type]
        run = run_against(script.base_url, concurrency=concurrency)
    assert run.stopped is not None and run.stopped["kind"] == "stall"
    undecided = [r for r in run.results.values() if r.outcome.reason.startswith(NOT_DECIDED)]
    assert undecided and all(r.outcome.status is Status.ERROR for r in undecided)
    assert all(run.stopped["cause"] in r.outcome.reason for r in undecided)
    # it took a few features' worth of timeouts, not one per feature (dozens of chat features)
    assert run.duration_s < 10 * FAST.total
    results = build_results(run, load_catalog())
    assert results["stopped"]["kind"] == "stall"
    gate = gate_of(results)
    assert not gate.passes and not gate.certified


def test_the_deadline_ends_the_run_and_judges_nothing_it_cut() -> None:
    with embedded_target(latency_ms=200) as target:
        catalog = load_catalog()
        with Engine(target, catalog, concurrency=1, deadline_s=1.5) as engine:
            run = engine.run()
    assert run.stopped is not None and run.stopped["kind"] == "deadline"
    assert run.duration_s < 5
    statuses = {r.outcome.status for r in run.results.values()}
    assert Status.NONCONFORMANT not in statuses and Status.UNSUPPORTED not in statuses
    assert sum(r.outcome.reason.startswith(NOT_DECIDED) for r in run.results.values()) > 50


def lists_models(ctx: CheckContext) -> Outcome:
    """A stand-in check: the scheduling tests judge when features run, not what they find."""
    ctx.require_ok(ctx.wire.get("models"))
    return Findings().outcome("listed")


def queueing_models(script: Script, request: Any, wfile: Any) -> None:
    """A server with one worker: each request waits for those before it, then takes 0.2 s."""
    with QUEUE:
        script.wait(0.2)
    send_json(wfile, 200, {"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "x"}]})


QUEUE = threading.Lock()


def test_a_feature_that_timed_out_under_load_is_judged_again_alone() -> None:
    catalog = load_catalog()
    chosen = catalog.select(["models", "chat"])[:6]

    registry = {feature.id: CheckSpec(feature.id, lists_models) for feature in chosen}
    with Script({("GET", "/v1/models"): queueing_models}) as script:  # type: ignore[dict-item]
        target = Target(script.base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=FAST)
        with Engine(target, catalog, registry=registry, concurrency=6) as engine:
            run = engine.run(chosen)
    # six at once on one worker: those queued past the 0.5 s read timeout were run again, alone
    assert run.schedule["run_again_alone"], run.schedule
    assert run.schedule["lowest_concurrency"] < 6 and run.schedule["throttled"]
    assert {r.outcome.status for r in run.results.values()} == {Status.SUPPORTED}
    assert run.stopped is None


def test_concurrency_changes_no_verdict_and_results_stay_in_catalog_order() -> None:
    catalog = load_catalog()
    outcomes = {}
    for concurrency in (1, 16):
        with embedded_target(quirks=["stream.done_missing"]) as target:
            with Engine(target, catalog, concurrency=concurrency) as engine:
                run = engine.run()
        assert list(run.results) == list(catalog.features)
        outcomes[concurrency] = {feature_id: r.outcome.status for feature_id, r in run.results.items()}
        assert sum(s.requests for s in run.spent_by_feature.values()) + run.preflight.requests == run.requests
    assert outcomes[1] == outcomes[16]
    assert outcomes[1]["chat.stream.done_sentinel"] is Status.NONCONFORMANT


def interrupting_stream(script: Script, request: Any, wfile: Any) -> None:
    """A single-user server's stream (llama-cpp-python's default): when another request arrives while
    it streams, it ends the stream at once with ``[DONE]``, no content, no finish_reason, no error."""
    arrived = len(script.requests)
    start_sse(wfile)
    first = {**CHUNK, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    wfile.write(f"data: {json.dumps(first)}\n\n".encode())
    wfile.flush()
    script.wait(0.3)
    if len(script.requests) == arrived:  # alone all along: the whole answer
        last = {**CHUNK, "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}
        wfile.write(f"data: {json.dumps(last)}\n\n".encode())
    wfile.write(b"data: [DONE]\n\n")
    wfile.flush()
    hang_up(request)


def test_a_verdict_reached_under_load_is_confirmed_alone_and_the_load_noted() -> None:
    catalog = load_catalog()
    chosen = [catalog["chat.stream.sdk_iteration"], *catalog.select(["models"])]
    routes = {("*", "*"): models_ok, ("POST", "/v1/chat/completions"): interrupting_stream}
    verdicts = {}
    for concurrency in (1, 4):
        with Script(routes) as script:  # type: ignore[arg-type]
            target = Target(script.base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=FAST)
            with Engine(target, catalog, concurrency=concurrency) as engine:
                run = engine.run(chosen)
        verdicts[concurrency] = run.results["chat.stream.sdk_iteration"].outcome
        if concurrency > 1:
            assert "chat.stream.sdk_iteration" in run.schedule["run_again_alone"]
    assert verdicts[1].status is verdicts[4].status is Status.SUPPORTED
    assert any("while other features were in flight it was nonconformant" in n for n in verdicts[4].notes)


def test_the_chains_the_scheduler_starts_first_are_those_a_run_measures() -> None:
    """conformance/chains.json orders the starts (the longest chain first); it must say what a run
    against the reference mock measures, or the order silently drifts (scripts/measure_chains.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("measure_chains", ROOT / "scripts" / "measure_chains.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.measure() == measured_chains(), "run `python scripts/measure_chains.py` and commit chains.json"


def test_a_429_under_load_halves_the_concurrency_and_the_run_still_decides_everything() -> None:
    catalog = load_catalog()
    chosen = catalog.select(["models", "chat"])[:8]
    answered = itertools.count()

    def throttling_models(script: Script, request: Any, wfile: Any) -> None:
        if next(answered) == 2:  # the server sheds load once, and says when to come back
            error = {"message": "slow down", "type": "rate_limit_error", "param": None, "code": None}
            send_json(wfile, 429, {"error": error}, {"retry-after": "0.2"})
            return
        models_ok(script, request, wfile)

    registry = {feature.id: CheckSpec(feature.id, lists_models) for feature in chosen}
    with Script({("GET", "/v1/models"): throttling_models}) as script:  # type: ignore[dict-item]
        target = Target(script.base_url, Secret("sk-test-key-123456789"), {"chat": "m"}, timeouts=FAST)
        with Engine(target, catalog, registry=registry, concurrency=8) as engine:
            run = engine.run(chosen)
    assert [event["concurrency"] for event in run.schedule["throttled"]] == [4]
    assert "429" in run.schedule["throttled"][0]["why"] and run.schedule["lowest_concurrency"] == 4
    assert run.backoffs and run.backoffs[0]["waited_s"] == pytest.approx(0.2)
    assert {r.outcome.status for r in run.results.values()} == {Status.SUPPORTED}

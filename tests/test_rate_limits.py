"""errors.rate_limit judges every 429 a run meets, not only the one it provokes."""

from __future__ import annotations

import dataclasses

from conformance.catalog import load_catalog
from conformance.embedded import embedded_target
from conformance.engine import Engine, RunResult
from conformance.verdict import Status
from tests.conftest import TEST_TIMEOUTS

ONE_TOKEN = [{"role": "user", "content": "hi"}]


def _run(quirks: list[str], *, meet_a_429: bool) -> RunResult:
    catalog = load_catalog()
    # no rate-limited model configured: the feature can only judge what the run met
    with embedded_target(quirks=quirks, timeouts=TEST_TIMEOUTS) as mock:
        target = dataclasses.replace(mock, models={"chat": "mock-chat"})
        engine = Engine(target, catalog)
        with engine:
            if meet_a_429:
                body = {"model": "mock-ratelimited", "messages": ONE_TOKEN, "max_tokens": 1}
                assert engine.wire.post("chat/completions", body, no_backoff=True).status == 429
            return engine.run(catalog.select(["errors.rate_limit"]))


def test_a_429_met_anywhere_in_the_run_is_judged() -> None:
    outcome = _run([], meet_a_429=True).results["errors.rate_limit"].outcome
    assert outcome.status is Status.SUPPORTED and "1 429(s)" in outcome.reason
    assert any("x-ratelimit-limit-requests" in note for note in outcome.notes)


def test_a_429_without_retry_after_is_nonconformant_even_when_met_by_chance() -> None:
    outcome = _run(["rl.retry_after_missing"], meet_a_429=True).results["errors.rate_limit"].outcome
    assert outcome.status is Status.NONCONFORMANT and "Retry-After" in outcome.reason
    assert outcome.evidence


def test_without_any_429_the_feature_says_it_had_nothing_to_judge() -> None:
    outcome = _run([], meet_a_429=False).results["errors.rate_limit"].outcome
    assert outcome.status is Status.SKIPPED and "no 429" in outcome.reason

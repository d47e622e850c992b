"""The probes for requests servers get wrong: which answers each takes as honest, and what they cost.

The quirk table proves that each probe can fail; these tests pin the other side, the lenient or
declining answers that must not fail, with ad-hoc deviations of the reference mock.
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.catalog import load_catalog
from conformance.engine import Engine, RunResult
from conformance.mock.content import embedding_vector
from conformance.mock.effects import Effects
from conformance.mock.quirks import Quirk
from conformance.mock.quirks._shared import decline
from conformance.mock.server import MockServer
from conformance.mock.validation import EmbeddingRequest
from conformance.target import Secret, Target
from conformance.verdict import Status
from tests.conftest import TEST_TIMEOUTS


def _deviation(effects: Effects) -> Quirk:
    return Quirk("test.deviation", "test", "an ad-hoc deviation for one test", "docs/quirk-sources.md", effects)


def _run(features: list[str], *effects: Effects) -> RunResult:
    catalog = load_catalog()
    with MockServer(quirks=[_deviation(e) for e in effects]) as server:
        target = Target(
            server.base_url,
            Secret(server.api_key),
            server.target_models,
            name="reference mock",
            timeouts=TEST_TIMEOUTS,
            embedded_mock=True,
        )
        with Engine(target, catalog) as engine:
            return engine.run(catalog.select(features))


def _sent(run: RunResult, feature: str) -> list[Any]:
    """The JSON bodies the feature's evidence shows were sent."""
    return [e["request"].get("body") for e in run.results[feature].outcome.evidence]


def _native(size: int) -> Effects:
    """Vectors of ``size`` values whatever ``dimensions`` asks: a model natively that small, ignoring it."""

    def effect(body: dict[str, Any], request: EmbeddingRequest) -> dict[str, Any]:
        body = copy.deepcopy(body)
        for item, text in zip(body["data"], request.inputs, strict=True):
            item["embedding"] = embedding_vector(text, size)
        return body

    return Effects(embeddings=effect)


def test_dimensions_asks_below_the_native_size_so_ignoring_it_cannot_pass() -> None:
    # the llama.cpp peer's case: 64-value vectors natively, `dimensions` ignored
    run = _run(["embeddings.basic", "embeddings.dimensions"], _native(64))
    outcome = run.results["embeddings.dimensions"].outcome
    assert outcome.status is Status.NONCONFORMANT, outcome.reason
    assert "dimensions=32" in outcome.reason and "ignored" in outcome.reason
    assert {"dimensions": 32}.items() <= _sent(run, "embeddings.dimensions")[-1].items()


def test_dimensions_is_skipped_when_there_is_no_smaller_size() -> None:
    outcome = _run(["embeddings.dimensions"], _native(1)).results["embeddings.dimensions"].outcome
    assert outcome.status is Status.SKIPPED and "no smaller size" in outcome.reason


def test_an_ignored_unknown_parameter_is_honest() -> None:
    drop = Effects(request_body=lambda body: {k: v for k, v in body.items() if k != "x_conformance_unknown"})
    outcome = _run(["errors.unknown_parameter"], drop).results["errors.unknown_parameter"].outcome
    assert outcome.status is Status.SUPPORTED and "ignored" in outcome.reason
    assert any("accepted and ignored" in note for note in outcome.notes)


def test_a_400_that_names_no_field_is_not_enough() -> None:
    def vague(body: Any) -> Any:
        if isinstance(body, dict) and body.get("messages") == []:
            body = {**body, "temperature": "x"}  # refused, but for another field than the one at fault
        return body

    outcome = (
        _run(["errors.invalid_request.empty_messages"], Effects(request_body=vague))
        .results["errors.invalid_request.empty_messages"]
        .outcome
    )
    assert outcome.status is Status.NONCONFORMANT and "names no field" in outcome.reason


def test_token_ids_declined_with_400_naming_input_are_unsupported_not_broken() -> None:
    def refuse(request: EmbeddingRequest) -> Any:
        if isinstance(request.raw.get("input"), list) and isinstance(request.raw["input"][0], int):
            return decline(400, "Token ids are not supported by this model.", param="input")
        return None

    outcome = (
        _run(["embeddings.input.token_array"], Effects(embeddings_request=refuse))
        .results["embeddings.input.token_array"]
        .outcome
    )
    assert outcome.status is Status.UNSUPPORTED, outcome.reason


def test_a_tool_refused_for_its_optional_fields_is_broken_and_a_declined_tools_feature_is_not() -> None:
    def refuse_parameters(request: Any) -> Any:
        if request.tools and not (request.raw["tools"][0]["function"].get("parameters")):
            return decline(400, "Field required", param="tools[0].function.parameters")
        return None

    def no_tools(request: Any) -> Any:
        return decline(400, "This model does not support tools.", param="tools") if request.tools else None

    feature = "chat.tools.minimal_definition"
    broken = _run([feature], Effects(chat_request=refuse_parameters)).results[feature].outcome
    assert broken.status is Status.NONCONFORMANT and "optional" in broken.reason
    declined = _run([feature], Effects(chat_request=no_tools)).results[feature].outcome
    assert declined.status is Status.UNSUPPORTED, declined.reason


def test_the_streamed_probes_429_stands_for_the_rate_limit_features_own() -> None:
    both = _run(["errors.rate_limit.stream", "errors.rate_limit"])
    assert both.requests == 1  # one request to the rate-limited model, judged by both features
    assert all(r.outcome.status is Status.SUPPORTED for r in both.results.values())
    alone = _run(["errors.rate_limit"])
    assert alone.requests == 1 and alone.results["errors.rate_limit"].outcome.status is Status.SUPPORTED

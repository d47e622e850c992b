"""Root causes: one server behaviour named once, from the bytes of a real server that failed forty rows.

The llama-cpp-python peer run (tests/wire/llamacpp-root-causes.json) failed 41 features; four
behaviours explain 24 of them: a route family answered with FastAPI's 404, request validation
crashing into a 500, tool calls never emitted, and 401s without the envelope.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.causes import find_causes, signature

WIRE = Path(__file__).resolve().parent / "wire"


def features() -> dict[str, Any]:
    return dict(json.loads((WIRE / "llamacpp-root-causes.json").read_text(encoding="utf-8"))["features"])


def by_summary() -> dict[str, tuple[str, ...]]:
    return {cause.summary: cause.features for cause in find_causes(features())}


def test_a_route_family_answered_with_a_fastapi_404_is_one_cause() -> None:
    causes = by_summary()
    route_family = causes['404 with {"detail": "Not Found"} instead of OpenAI\'s error envelope']
    assert {"endpoints.responses", "endpoints.batches", "endpoints.files", "http.path.unknown_route"} <= set(
        route_family
    )
    assert len(route_family) == 9


def test_validation_errors_answered_500_are_one_cause_whatever_the_count_of_errors() -> None:
    crashes = next(f for summary, f in by_summary().items() if summary.startswith("500 with internal_server_error"))
    # "1 validation error" and "7 validation errors" are the same behaviour
    assert {"chat.messages.developer", "chat.params.top_p", "chat.tools.foreign_ids", "chat.parse"} <= set(crashes)


def test_features_that_never_got_a_tool_call_share_that_cause() -> None:
    causes = by_summary()
    never = causes["tool_calls: received null, expected a non-empty list of tool calls"]
    assert {"chat.tools.parallel", "chat.tools.parallel_false", "chat.tools.loop"} <= set(never)


def test_a_feature_alone_in_its_behaviour_is_no_cause_and_passing_features_have_none() -> None:
    grouped = {f for cause in find_causes(features()) for f in cause.features}
    assert "embeddings.base64" not in grouped  # its own finding
    assert all(signature(f) is None for f in features().values() if f["status"] == "supported")


def test_causes_are_numbered_in_catalog_order_and_name_an_example() -> None:
    causes = find_causes(features())
    assert [c.id for c in causes] == [f"cause-{i}" for i in range(1, len(causes) + 1)]
    order = list(features())
    assert [order.index(c.features[0]) for c in causes] == sorted(order.index(c.features[0]) for c in causes)
    assert all(c.example == c.features[0] for c in causes)


def test_an_error_answered_to_a_stream_request_is_read_from_its_recorded_lines() -> None:
    # as the peers answered streamed requests: llama-cpp-python's 404 body (recorded as the stream's one
    # line) and LiteLLM's 500 with the envelope sent as a data line
    def failing(status: int, lines: list[str]) -> dict[str, Any]:
        return {"status": "nonconformant", "evidence": [{"response": {"status": status, "sse": lines}}]}

    not_found = signature(failing(404, ['{"detail":"Not Found"}']))
    assert (
        not_found is not None and not_found[1] == '404 with {"detail": "Not Found"} instead of OpenAI\'s error envelope'
    )
    envelope = ['data: {"error": {"message": "Error processing stream start", "type": "internal_server_error"}}', ""]
    crashed = signature(failing(500, [*envelope, "data: [DONE]", ""]))
    assert crashed is not None and crashed[1] == '500 with internal_server_error: "Error processing stream start"'

"""Small pure transformations the quirk tables share, and the feature groups they name."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from conformance.mock.chat.request import ChatRequest
from conformance.mock.content import count_tokens, prompt_tokens
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse, json_response

# The vendors' own compatibility pages (captured excerpts: tests/data/seeds, see tests/data/README.md).
SCAIGRID = "https://www.scailabs.ai/en/docs/scaigrid/api-guides/openai-compatibility"
THE_GRID = "https://thegrid.ai/docs/integrations-and-best-practices/any-openai-compatible-tool"
FLEXAI = "https://docs.flex.ai/inference-api/reference/openai-compatibility"

Chunks = list[dict[str, Any]]
ErrorRewrite = Callable[[MockResponse, ErrorSpec, Incoming], MockResponse]

# Features that judge an error the suite provokes on purpose: any envelope defect moves them all.
VALIDATION_FEATURES = (
    "errors.envelope.invalid_param",
    "errors.envelope.missing_field",
    "errors.invalid_json",
    "errors.sdk_exception",
    "chat.params.temperature",
    "chat.params.top_p",
    "chat.params.penalties",
    "chat.stream.error_shape",
    "errors.unknown_parameter",
    "errors.invalid_request.role",
    "errors.invalid_request.empty_messages",
    "errors.invalid_request.no_model",
    "errors.invalid_request.array_body",
    "embeddings.input.empty_string",
    "responses.unknown_parameter",
    "responses.previous_response_id.unknown",
    "responses.stream.error_event",
    "responses.params.temperature",
    "responses.params.top_p",
    "responses.errors.invalid_input",
    "files.errors.purpose",
    "images.errors.size",
    "audio.speech.errors.voice",
    # the mock declines opus and aac in the envelope: the decline is judged with the formats served
    "audio.speech.formats",
)
AUTH_FEATURES = (
    "errors.auth.missing_key",
    "errors.auth.invalid_key",
    "errors.auth.no_bearer_prefix",
    "errors.sdk_exception",
)
# Features that judge the answer to a wrong path or method (the 404/405 the mock renders).
ROUTE_FEATURES = (
    "http.path.unknown_route",
    "http.path.wrong_method",
    "http.path.misconfigured_base_url",
    "http.path.trailing_slash",
)
ERROR_FEATURES = (
    *VALIDATION_FEATURES,
    *AUTH_FEATURES,
    *ROUTE_FEATURES,
    "errors.unknown_model",
    "responses.errors.unknown_model",
    "errors.oversized",
    "errors.rate_limit",
    "errors.rate_limit.stream",
    "models.retrieve.unknown",
)
CHUNK_SCHEMA = "chat.stream.chunk_object"


def each_choice(chunks: Chunks, change: Callable[[dict[str, Any]], Any]) -> Chunks:
    out = copy.deepcopy(chunks)
    for chunk in out:
        for choice in chunk.get("choices") or ():
            change(choice)
    return out


def each_tool_delta(chunks: Chunks, change: Callable[[dict[str, Any], bool], Any]) -> Chunks:
    """Call ``change(delta, first)`` on every streamed tool-call delta; ``first`` marks a call's opening."""
    out = copy.deepcopy(chunks)
    opened: set[Any] = set()
    for chunk in out:
        for choice in chunk.get("choices") or ():
            for delta in (choice.get("delta") or {}).get("tool_calls") or ():
                first = delta.get("index") not in opened
                opened.add(delta.get("index"))
                change(delta, first)
    return out


def each_message(body: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for choice in body.get("choices") or ():
        change(choice.get("message") or {})
    return body


def stream_usage(chunks: Chunks, request: ChatRequest) -> dict[str, int]:
    text = "".join(
        (choice.get("delta") or {}).get("content") or "" for chunk in chunks for choice in chunk.get("choices") or ()
    )
    prompt, completion = prompt_tokens(request.messages), count_tokens(text)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def error_body(response: MockResponse, spec: ErrorSpec, body: Any, status: int | None = None) -> MockResponse:
    headers = [(k, v) for k, v in response.headers if k != "content-type"]
    return json_response(status or spec.status, body, headers)


def sse_body(response: MockResponse, frames: list[str]) -> MockResponse:
    headers = [(k, v) for k, v in response.headers if k != "content-type"]
    return MockResponse(200, [("content-type", "text/event-stream"), *headers], frames=[f.encode() for f in frames])


def kinds(*names: str) -> Callable[[ErrorRewrite], ErrorRewrite]:
    """Restrict an error rewrite to some kinds of error."""

    def wrap(rewrite: ErrorRewrite) -> ErrorRewrite:
        def effect(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
            return rewrite(response, spec, incoming) if spec.kind in names else response

        return effect

    return wrap


def insert_frame(frames: list[str], frame: str, position: int) -> list[str]:
    return frames[:position] + [frame] + frames[position:]


def frames_text(transform: Callable[[str], str]) -> Callable[[list[str], ChatRequest], list[str]]:
    def effect(frames: list[str], request: ChatRequest) -> list[str]:
        return [transform(frame) for frame in frames]

    return effect


def decline(status: int, message: str, param: str | None = None, code: str | None = None) -> ErrorSpec:
    return ErrorSpec(status, message, "validation", param=param, code=code)


# Every feature of the responses area: a server without POST /responses declines them all
RESPONSES_FEATURES = (
    "responses.create.shape",
    "responses.max_output_tokens",
    "responses.text.json_schema",
    "responses.instructions",
    "responses.input.items",
    "responses.params.temperature",
    "responses.params.top_p",
    "responses.metadata",
    "responses.store_false",
    "responses.image_input",
    "responses.errors.invalid_input",
    "responses.tools.function",
    "responses.tools.round_trip",
    "responses.previous_response_id",
    "responses.retrieve",
    "responses.errors.unknown_model",
    "responses.unknown_parameter",
    "responses.previous_response_id.unknown",
    "responses.stream.event_lines",
    "responses.stream.lifecycle",
    "responses.stream.sequence_number",
    "responses.stream.deltas",
    "responses.stream.sdk_helper",
    "responses.stream.function_call_arguments",
    "responses.stream.default_json",
    "responses.stream.error_event",
)

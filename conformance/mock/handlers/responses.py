"""The Responses API: create (whole or streamed), retrieve (or replay its stream), delete, cancel,
list a response's input items, count input tokens, compact a conversation.

A response is kept unless ``store: false`` (then GET answers 404, and no later request may continue
it); ``previous_response_id`` continues a kept one (its context, input and output come first). A
``background: true`` response is answered ``queued`` and has run by the time it is first polled (the
mock is instant), so it can be cancelled before that; a response created without ``background``
cannot be cancelled. Every body passes the pipeline's ``responses_body`` hook first (the SDK-tests
profile's leniency); no chat quirk's hook reaches these routes.
"""

from __future__ import annotations

import re
import time
from typing import Any

from conformance.mock.content import count_tokens
from conformance.mock.handlers._shared import page, query
from conformance.mock.messages import (
    ErrorSpec,
    Incoming,
    MockError,
    MockResponse,
    invalid_value,
    json_response,
    rate_limited,
)
from conformance.mock.responses.conversation import check_tool_outputs, compaction_item, new_id, part_text
from conformance.mock.responses.events import sse_response, stream_events
from conformance.mock.responses.output import (
    USAGE_DETAILS,
    answer,
    cancelled,
    chat_request,
    fitted_context,
    input_tokens,
    response_object,
    unanswered,
)
from conformance.mock.responses.params import ResponsesRequest, parse_request
from conformance.mock.state import MockState, StoredResponse


def _history(state: MockState, request: ResponsesRequest) -> list[dict[str, Any]]:
    """What the model saw and said before this request: the previous response's whole context."""
    if request.previous_response_id is None:
        return []
    previous = state.responses.previous(request.previous_response_id)
    return [*previous.context, *previous.input_items, *previous.response.get("output", [])]


async def create(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    pipeline = state.pipeline
    request = parse_request(pipeline.responses_body(incoming.json()), state.responses.find_item)
    model = state.models.require(str(request.model), "chat")
    if model.rate_limited:
        raise MockError(rate_limited())
    history = _history(state, request)
    context = [*history, *request.input_items]
    check_tool_outputs(context)
    chat = fitted_context(request, context, model)
    final = response_object(
        request,
        response_id=new_id("resp"),
        created_at=int(time.time()),
        model=model.id,
        answer_=answer(pipeline, request, chat),
    )
    final = pipeline.responses_answer(final, request.raw)
    streamed = pipeline.responses_streams(request.stream, request.raw)
    if request.previous_response_id is not None:  # continuing a background response waited for it to run
        state.responses.previous(request.previous_response_id).queued = False
    if request.store:
        # a background response streamed as it ran has run: only an unwatched one waits in the queue
        queued = request.background and not streamed
        state.responses.put(StoredResponse(final, list(request.input_items), history, queued=queued))
    if streamed:
        return _streamed(state, stream_events(final, queued=request.background))
    return json_response(200, unanswered(final, "queued") if request.background else final)


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


async def retrieve(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = state.responses.get(match.group("response_id"))
    stored.queued = False  # polled: a background response has run
    asked = dict(query(incoming))
    if not _flag(asked.get("stream")):
        return json_response(200, stored.response)
    if not stored.background:
        raise MockError(invalid_value("stream", "Only responses created with background=true can be streamed again."))
    try:
        after = int(asked.get("starting_after", -1))
    except ValueError:
        raise MockError(invalid_value("starting_after", "Invalid 'starting_after': expected an integer.")) from None
    events = stream_events(stored.response, queued=True)
    return _streamed(state, [event for event in events if event["sequence_number"] > after])


def _streamed(state: MockState, events: list[dict[str, Any]]) -> MockResponse:
    """The events as SSE, through the pipeline's event and frame hooks."""
    response = sse_response(state.pipeline.responses_events(events))
    response.frames = state.pipeline.responses_frames(list(response.frames or []))
    return response


async def delete(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    response_id = match.group("response_id")
    state.responses.delete(response_id)
    return json_response(200, {"id": response_id, "object": "response.deleted", "deleted": True})


async def cancel(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = state.responses.get(match.group("response_id"))
    if not stored.background:
        raise MockError(ErrorSpec(400, "Cannot cancel a synchronous response.", "validation"))
    if stored.queued:  # not run yet: it never will
        stored.response = cancelled(stored.response)
        stored.queued = False
    return json_response(200, stored.response)  # a finished one is answered as it is


async def list_input_items(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = state.responses.get(match.group("response_id"))
    return page(stored.input_items, incoming, default_order="desc")


async def count_input_tokens(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = state.pipeline.responses_body(incoming.json())
    request = parse_request(body, state.responses.find_item, "input_tokens")
    if request.model is not None:
        state.models.require(request.model, "chat")
    context = [*_history(state, request), *request.input_items]
    return json_response(
        200, {"object": "response.input_tokens", "input_tokens": input_tokens(chat_request(request, context))}
    )


async def compact(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    """The context, compacted into one compaction item. OpenAI lists the user messages before it; the
    pinned SDK's ``CompactedResponse`` reads only assistant messages, so the mock folds every item,
    user messages included, into the compaction item, which a later request expands again."""
    body = state.pipeline.responses_body(incoming.json())
    request = parse_request(body, state.responses.find_item, "compact")
    state.models.require(str(request.model), "chat")
    context = [*_history(state, request), *request.input_items]
    check_tool_outputs(context)
    read = input_tokens(chat_request(request, context))
    # what the summary costs: the words of every item but the user's own
    summarised = sum(
        count_tokens(" ".join(part_text(p) for p in item.get("content") or () if isinstance(p, dict)))
        for item in context
        if item.get("type") == "message" and item.get("role") != "user"
    )
    return json_response(
        200,
        {
            "id": new_id("resp"),
            "object": "response.compaction",
            "created_at": int(time.time()),
            "output": [compaction_item(context)],
            "usage": {
                "input_tokens": read,
                "input_tokens_details": dict(USAGE_DETAILS),
                "output_tokens": summarised,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": read + summarised,
            },
        },
    )

"""POST /chat/completions: validate, plan each choice, render a completion or its stream.

Every step a quirk may change goes through ``state.pipeline``, in the order a real server would
take it: the raw body, the parsed request, each choice's plan, then the rendered completion, or the
chunks, the SSE frames and the stream's headers. A ``store: true`` completion is kept for the
stored-completions routes (``handlers/stored.py``).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from conformance.mock.chat import render
from conformance.mock.chat.generation import Plan, plan_choice
from conformance.mock.chat.request import ChatRequest, parse_chat_request
from conformance.mock.content import fingerprint, prompt_tokens
from conformance.mock.messages import (
    SSE_TYPE,
    Incoming,
    MockError,
    MockResponse,
    context_length_exceeded,
    json_response,
    rate_limited,
)
from conformance.mock.state import MockState


async def create(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    pipeline = state.pipeline
    request = parse_chat_request(pipeline.request_body(incoming.json()))
    model = state.models.require(request.model, "chat")
    if model.rate_limited:
        raise MockError(rate_limited())
    prompt = prompt_tokens(request.messages)
    if request.max_tokens is not None and prompt + request.max_tokens > model.context_window:
        raise MockError(context_length_exceeded(model.context_window, prompt, request.max_tokens))
    declined = pipeline.chat_request(request)
    if declined is not None:
        raise MockError(declined)
    plans = [pipeline.plan(plan_choice(request, i), request, request.stream) for i in range(request.n)]
    identity = {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "created": int(time.time()),
        "model": request.model,
        "system_fingerprint": "fp_" + fingerprint(request.model).hex()[:10],
    }
    usage = render.usage(request, plans)
    if request.raw.get("store") is True:  # kept for GET /chat/completions/{id}, streamed or not
        metadata = request.raw.get("metadata") or {}
        completion = render.completion_body(request, plans, identity, usage)
        state.stored_completions.put(completion, request.messages, metadata)
    if request.stream:
        return _stream(state, request, plans, identity, usage)
    body = render.completion_body(request, plans, identity, usage)
    return json_response(200, pipeline.completion(body, request))


def _stream(
    state: MockState, request: ChatRequest, plans: list[Plan], identity: dict[str, Any], usage: dict[str, Any]
) -> MockResponse:
    pipeline = state.pipeline
    chunks = pipeline.chunks(render.chunks(request, plans, identity, usage), request)
    frames = [f"data: {json.dumps(chunk, separators=(',', ':'), ensure_ascii=False)}\n\n" for chunk in chunks]
    frames.append("data: [DONE]\n\n")
    frames = pipeline.frames(frames, request)
    headers = pipeline.stream_headers([("content-type", SSE_TYPE), ("cache-control", "no-cache")])
    return MockResponse(200, list(headers), frames=[frame.encode() for frame in frames])

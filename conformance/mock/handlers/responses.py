"""POST /responses, GET /responses/{response_id}: a Response with one output message, kept unless
``store: false``."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from conformance.mock.content import count_tokens
from conformance.mock.handlers._shared import body_object, limit, refuse_streaming, required_string, text_for
from conformance.mock.messages import (
    Incoming,
    MockError,
    MockResponse,
    invalid_type,
    json_response,
    missing_parameter,
    not_found,
)
from conformance.mock.state import MockState


def _input_text(value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value:
        parts = []
        for item in value:
            content = item.get("content") if isinstance(item, dict) else None
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts += [c.get("text", "") for c in content if isinstance(c, dict)]
        if parts:
            return " ".join(parts)
    raise MockError(invalid_type("input", "a string or an array of input items", value))


async def create(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = body_object(incoming)
    model = state.models.require(required_string(body, "model"), "chat")
    if "input" not in body:
        raise MockError(missing_parameter("input"))
    prompt = _input_text(body["input"])
    refuse_streaming(body, "Responses")
    most = limit(body, "max_output_tokens", 16, None)
    text, cut = text_for(["responses", prompt], most)
    input_tokens, output_tokens = count_tokens(prompt), count_tokens(text)
    response = {
        "id": "resp_" + uuid.uuid4().hex,
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if cut else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "error": None,
        "model": model.id,
        "instructions": body.get("instructions"),
        "max_output_tokens": most,
        "metadata": body.get("metadata") or {},
        "output": [
            {
                "type": "message",
                "id": "msg_" + uuid.uuid4().hex,
                "status": "incomplete" if cut else "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        ],
        "parallel_tool_calls": True,
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "store": body.get("store", True),
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }
    if response["store"]:
        state.responses.put(response)
    return json_response(200, response)


async def retrieve(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    response = state.responses.get(match.group("response_id"))
    if response is None:
        raise MockError(not_found(f"No response found with id '{match.group('response_id')}'."))
    return json_response(200, response)

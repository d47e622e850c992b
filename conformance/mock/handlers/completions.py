"""POST /completions (legacy): deterministic text per prompt and choice, whole or streamed by word."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from conformance.mock.content import count_tokens
from conformance.mock.handlers._shared import body_object, limit, required_string, text_for
from conformance.mock.messages import (
    SSE_TYPE,
    Incoming,
    MockError,
    MockResponse,
    invalid_type,
    json_response,
    missing_parameter,
)
from conformance.mock.state import MockState


async def create(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = body_object(incoming)
    model = state.models.require(required_string(body, "model"), "chat")
    prompt = body.get("prompt")
    if prompt is None:
        raise MockError(missing_parameter("prompt"))
    prompts = prompt if isinstance(prompt, list) else [prompt]
    if not prompts or not all(isinstance(p, str) for p in prompts):
        raise MockError(invalid_type("prompt", "a string or an array of strings", prompt))
    most = limit(body, "max_tokens", 0, 16)
    n = limit(body, "n", 1, 1) or 1
    choices = []
    completion_tokens = 0
    for index in range(len(prompts) * n):
        text, cut = text_for([prompts[index // n], index % n], most)
        completion_tokens += count_tokens(text)
        choices.append({"text": text, "index": index, "logprobs": None, "finish_reason": "length" if cut else "stop"})
    prompt_tokens = sum(count_tokens(p) for p in prompts)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    identity = {"id": "cmpl-" + uuid.uuid4().hex[:24], "object": "text_completion", "created": int(time.time())}
    if body.get("stream") is True:
        options = body.get("stream_options") or {}
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return _stream(identity, model.id, choices, usage if include_usage else None)
    return json_response(200, {**identity, "model": model.id, "choices": choices, "usage": usage})


def _stream(
    identity: dict[str, Any], model: str, choices: list[dict[str, Any]], usage: dict[str, Any] | None
) -> MockResponse:
    """One chunk per word of each choice, the last with its finish_reason."""
    chunks = []
    for choice in choices:
        words = re.findall(r"\S+\s*|\s+", choice["text"]) or [""]
        for position, word in enumerate(words):
            last = position == len(words) - 1
            piece = {"text": word, "index": choice["index"], "logprobs": None, "finish_reason": None}
            if last:
                piece["finish_reason"] = choice["finish_reason"]
            chunks.append({**identity, "model": model, "choices": [piece]})
    if usage is not None:
        chunks.append({**identity, "model": model, "choices": [], "usage": usage})
    frames = [f"data: {json.dumps(c, separators=(',', ':'))}\n\n".encode() for c in chunks]
    frames.append(b"data: [DONE]\n\n")
    return MockResponse(200, [("content-type", SSE_TYPE), ("cache-control", "no-cache")], frames=frames)

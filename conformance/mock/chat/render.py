"""Rendering the mock's plans as OpenAI renders them: a ChatCompletion, or its stream of chunks."""

from __future__ import annotations

import json
from typing import Any

from conformance.mock.chat.generation import Plan, ToolCallPlan, logprob_entry
from conformance.mock.chat.request import IMAGE_TOKENS, ChatRequest
from conformance.mock.content import count_tokens, prompt_tokens

ARGUMENT_PIECE = 8  # characters of tool-call arguments per streamed delta


def usage(request: ChatRequest, plans: list[Plan]) -> dict[str, Any]:
    prompt = prompt_tokens(request.messages) + IMAGE_TOKENS * request.images
    if request.tools:
        prompt += count_tokens(json.dumps(request.raw.get("tools")))
    completion = sum(plan.completion_tokens for plan in plans)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_call(call: ToolCallPlan) -> dict[str, Any]:
    if call.custom:
        return {"id": call.id, "type": "custom", "custom": {"name": call.name, "input": call.arguments}}
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def _logprobs(request: ChatRequest, tokens: tuple[str, ...] | list[str]) -> dict[str, Any] | None:
    if not request.logprobs:
        return None
    return {"content": [logprob_entry(token, request.top_logprobs) for token in tokens], "refusal": None}


def completion_body(
    request: ChatRequest, plans: list[Plan], identity: dict[str, Any], usage_: dict[str, Any]
) -> dict[str, Any]:
    choices = []
    for index, plan in enumerate(plans):
        message: dict[str, Any] = {"role": "assistant", "content": plan.content, "refusal": None, "annotations": []}
        if plan.tool_calls:
            message["tool_calls"] = [_tool_call(call) for call in plan.tool_calls]
        choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": _logprobs(request, plan.tokens) if plan.tokens or not plan.tool_calls else None,
                "finish_reason": plan.finish_reason,
            }
        )
    return {
        "id": identity["id"],
        "object": "chat.completion",
        "created": identity["created"],
        "model": identity["model"],
        "choices": choices,
        "usage": usage_,
        "service_tier": "default",
        "system_fingerprint": identity["system_fingerprint"],
    }


def chunks(
    request: ChatRequest, plans: list[Plan], identity: dict[str, Any], usage_: dict[str, Any]
) -> list[dict[str, Any]]:
    """One choice per chunk, as OpenAI streams: role first, then content or tool-call deltas, one
    finish chunk per choice, and the usage chunk last when asked for."""
    extra = {"usage": None} if request.include_usage else {}

    def chunk(
        index: int, delta: dict[str, Any], finish: str | None = None, logprobs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return {
            "id": identity["id"],
            "object": "chat.completion.chunk",
            "created": identity["created"],
            "model": identity["model"],
            "service_tier": "default",
            "system_fingerprint": identity["system_fingerprint"],
            "choices": [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}],
            **extra,
        }

    out = []
    for index, plan in enumerate(plans):
        first: dict[str, Any] = {
            "role": "assistant",
            "content": "" if plan.tokens or not plan.tool_calls else None,
            "refusal": None,
        }
        out.append(chunk(index, first))
    longest = max((len(p.tokens) for p in plans), default=0)
    for position in range(longest):
        for index, plan in enumerate(plans):
            if position < len(plan.tokens):
                token = plan.tokens[position]
                out.append(chunk(index, {"content": token}, logprobs=_logprobs(request, [token])))
    for index, plan in enumerate(plans):
        for slot, call in enumerate(plan.tool_calls):
            opening: dict[str, Any] = {"index": slot, "id": call.id, "type": "custom" if call.custom else "function"}
            if call.custom:
                opening["custom"] = {"name": call.name, "input": ""}
            else:
                opening["function"] = {"name": call.name, "arguments": ""}
            out.append(chunk(index, {"tool_calls": [opening]}))
            for start in range(0, len(call.arguments), ARGUMENT_PIECE):
                piece = call.arguments[start : start + ARGUMENT_PIECE]
                body = {"custom": {"input": piece}} if call.custom else {"function": {"arguments": piece}}
                out.append(chunk(index, {"tool_calls": [{"index": slot, **body}]}))
    out.extend(chunk(index, {}, plan.finish_reason) for index, plan in enumerate(plans))
    if request.include_usage:
        final = chunk(0, {})
        final["choices"] = []
        final["usage"] = usage_
        out.append(final)
    return out

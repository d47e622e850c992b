"""The model's answer to a Responses request: output items, usage, and the Response that carries them.

The context becomes a chat request and chat's planner answers it (``chat/generation.py``): the same
deterministic reply, forced and parallel calls, schema-valid arguments and ``json_schema`` output,
and ``max_output_tokens`` cutting the reply (``status: "incomplete"``). Under a sampling model (the
chatty profile) the plan is the model's draw instead, through the pipeline's ``model_choice``; no
chat quirk's plan hook reaches Responses. The Response echoes what was asked, with every field the
pinned SDK's ``Response`` and OpenAI's published ``Response`` schema require (nullable ones null).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from conformance.mock.chat import render as chat_render
from conformance.mock.chat.generation import JSON_PIECES, TEXT_PIECES, Plan, logprob_entry, plan_choice
from conformance.mock.chat.request import ChatRequest
from conformance.mock.effects import Pipeline
from conformance.mock.messages import ErrorSpec, MockError, invalid_value
from conformance.mock.responses.conversation import chat_messages, new_id, truncated
from conformance.mock.responses.params import ResponsesRequest
from conformance.mock.served import MockModel

USAGE_DETAILS = {"cached_tokens": 0, "cache_write_tokens": 0}


def chat_request(request: ResponsesRequest, context: list[dict[str, Any]]) -> ChatRequest:
    """The conversation as chat's planner reads it."""
    messages, images = chat_messages(request.instructions, context)
    if not messages:
        raise MockError(invalid_value("input", "The request has no input: send 'input' or 'instructions'."))
    raw: dict[str, Any] = {"model": request.model, "messages": messages, "response_format": request.response_format}
    if request.tools:
        raw["tools"] = [
            {"type": "function", "function": {"name": t.name, "parameters": t.parameters, "strict": t.strict}}
            for t in request.tools
        ]
        raw["tool_choice"] = (
            {"type": "function", "function": {"name": request.named_tool}}
            if request.named_tool
            else request.tool_choice
        )
    if request.raw.get("temperature") is not None:  # temperature 0 is greedy: a sampling model answers the same
        raw["temperature"] = request.raw["temperature"]
    return ChatRequest(
        raw=raw,
        model=str(request.model),
        messages=messages,
        stream=False,
        include_usage=False,
        max_tokens=request.max_output_tokens,
        n=1,
        stop=(),
        tools=request.tools,
        tool_choice=request.tool_choice if request.tools else "none",
        named_tool=request.named_tool,
        parallel_tool_calls=request.parallel_tool_calls,
        response_format=request.response_format,
        logprobs=request.logprobs,
        top_logprobs=request.top_logprobs,
        images=images,
    )


def input_tokens(chat: ChatRequest) -> int:
    """What the input costs, counted as chat counts a prompt (messages, images, tool definitions)."""
    return int(chat_render.usage(chat, [])["prompt_tokens"])


def fitted_context(request: ResponsesRequest, context: list[dict[str, Any]], model: MockModel) -> ChatRequest:
    """The chat request for the context, within the model's window: ``truncation: "auto"`` drops the
    oldest items until it fits; ``"disabled"`` (the default) refuses what does not fit."""
    chat = chat_request(request, context)
    while input_tokens(chat) + (request.max_output_tokens or 0) > model.context_window:
        if request.truncation != "auto" or len(context) <= 1:
            raise MockError(
                ErrorSpec(
                    400,
                    "Your input exceeds the context window of this model. Please adjust your input and try again.",
                    "context",
                    param="input",
                    code="context_length_exceeded",
                )
            )
        context = truncated(context)
        chat = chat_request(request, context)
    return chat


def _check_json_object(request: ResponsesRequest, chat: ChatRequest) -> None:
    if request.response_format.get("type") != "json_object":
        return
    if not any("json" in str(message.get("content") or "").lower() for message in chat.messages):
        raise MockError(
            invalid_value(
                "input",
                "Response input messages must contain the word 'json' in some form to use 'text.format' of type "
                "'json_object'.",
            )
        )


@dataclass(frozen=True)
class Answer:
    output: list[dict[str, Any]]
    usage: dict[str, Any]
    incomplete: bool  # cut by max_output_tokens


def answer(pipeline: Pipeline, request: ResponsesRequest, chat: ChatRequest) -> Answer:
    _check_json_object(request, chat)
    plan = pipeline.model_choice(plan_choice(chat, 0), chat)
    counted = chat_render.usage(chat, [plan])
    usage = {
        "input_tokens": counted["prompt_tokens"],
        "input_tokens_details": dict(USAGE_DETAILS),
        "output_tokens": counted["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": counted["total_tokens"],
    }
    incomplete = plan.finish_reason == "length"
    return Answer(_output_items(request, plan, incomplete), usage, incomplete)


def _output_items(request: ResponsesRequest, plan: Plan, incomplete: bool) -> list[dict[str, Any]]:
    if plan.tool_calls:
        calls = []
        for index, call in enumerate(plan.tool_calls):
            # a cut reply cuts its last call's arguments
            status = "incomplete" if incomplete and index == len(plan.tool_calls) - 1 else "completed"
            calls.append(
                {
                    "id": new_id("fc"),
                    "type": "function_call",
                    "status": status,
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments,
                }
            )
        return calls
    return [
        {
            "id": new_id("msg"),
            "type": "message",
            "status": "incomplete" if incomplete else "completed",
            "role": "assistant",
            "content": [output_text(plan.text, request)],
        }
    ]


def text_pieces(text: str, text_format: str) -> list[str]:
    """A reply's tokens, as the planner made them: prose by words, JSON (``text_format`` json_object
    or json_schema) by ``JSON_PIECES``; the deltas of its stream, and its logprobs' tokens."""
    pattern = TEXT_PIECES if text_format == "text" else JSON_PIECES
    return pattern.findall(text) or ([text] if text else [])


def logprobs(pieces: list[str], request: ResponsesRequest) -> list[dict[str, Any]]:
    """``include: ["message.output_text.logprobs"]``: one entry per token, ``top_logprobs`` alternatives."""
    if not request.logprobs:
        return []
    return [logprob_entry(piece, request.top_logprobs) for piece in pieces]


def output_text(text: str, request: ResponsesRequest) -> dict[str, Any]:
    pieces = text_pieces(text, str(request.response_format.get("type")))
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs(pieces, request)}


def _service_tier(asked: Any) -> str:
    return "default" if asked in (None, "auto") else str(asked)


def response_object(
    request: ResponsesRequest,
    *,
    response_id: str,
    created_at: int,
    model: str,
    answer_: Answer,
) -> dict[str, Any]:
    """The finished Response: what was asked, echoed, and what the model answered."""
    raw = request.raw
    body: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": "incomplete" if answer_.incomplete else "completed",
        "background": request.background,
        "completed_at": int(time.time()),
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if answer_.incomplete else None,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "max_tool_calls": raw.get("max_tool_calls"),
        "model": model,
        "output": answer_.output,
        "parallel_tool_calls": request.parallel_tool_calls,
        "previous_response_id": request.previous_response_id,
        "prompt_cache_key": raw.get("prompt_cache_key"),
        "prompt_cache_retention": raw.get("prompt_cache_retention"),
        "reasoning": {"effort": None, "summary": None, **(raw.get("reasoning") or {})},
        "safety_identifier": raw.get("safety_identifier"),
        "service_tier": _service_tier(raw.get("service_tier")),
        "store": request.store,
        "temperature": 1.0 if raw.get("temperature") is None else raw["temperature"],
        "text": request.text_echo,
        "tool_choice": raw.get("tool_choice") or "auto",
        "tools": list(request.tools_echo),
        "top_logprobs": request.top_logprobs,
        "top_p": 1.0 if raw.get("top_p") is None else raw["top_p"],
        "truncation": request.truncation,
        "usage": answer_.usage,
        "metadata": raw.get("metadata") or {},
    }
    if raw.get("access_programs") is not None:
        body["access_programs"] = raw["access_programs"]
    if raw.get("user") is not None:  # the published schema's `user` is a string, never null
        body["user"] = raw["user"]
    return body


def unanswered(final: dict[str, Any], status: str) -> dict[str, Any]:
    """The Response before the model has answered (``queued``, ``in_progress``, or ``cancelled`` before it
    ran): no output, no usage (left out: the published schema's ``usage`` is not nullable), nothing completed."""
    snapshot = {key: value for key, value in final.items() if key != "usage"}
    return {**snapshot, "status": status, "output": [], "completed_at": None, "incomplete_details": None}


def cancelled(final: dict[str, Any]) -> dict[str, Any]:
    return unanswered(final, "cancelled")

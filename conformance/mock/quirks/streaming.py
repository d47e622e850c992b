"""Streaming quirks: SSE framing, chunk shapes, usage chunks, errors inside streams."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

from conformance.mock.chat.generation import Plan
from conformance.mock.chat.request import ChatRequest
from conformance.mock.content import fingerprint, generate_tokens
from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, SKIPPED, UNSUPPORTED, Quirk
from conformance.mock.quirks._shared import (
    CHUNK_SCHEMA,
    SCAIGRID,
    Chunks,
    decline,
    each_choice,
    frames_text,
    insert_frame,
    sse_body,
    stream_usage,
)

STREAM_SDK_READERS = ("chat.stream.sdk_helper", "chat.tools.stream_helper")


def _drop_done(frames: list[str], request: ChatRequest) -> list[str]:
    return [f for f in frames if f.strip() != "data: [DONE]"]


def _drop_finish_reason(chunks: Chunks, request: ChatRequest) -> Chunks:
    return each_choice(chunks, lambda choice: choice.pop("finish_reason", None))


def _empty_string_finish(chunks: Chunks, request: ChatRequest) -> Chunks:
    def change(choice: dict[str, Any]) -> None:
        if choice.get("finish_reason") is None:
            choice["finish_reason"] = ""

    return each_choice(chunks, change)


def _drop_usage_chunk(chunks: Chunks, request: ChatRequest) -> Chunks:
    return [c for c in chunks if c.get("choices") != [] or c.get("usage") is None]


def _unrequested_usage_chunk(chunks: Chunks, request: ChatRequest) -> Chunks:
    if request.include_usage:
        return chunks
    final = {**copy.deepcopy(chunks[-1]), "choices": [], "usage": stream_usage(chunks, request)}
    return [*chunks, final]


def _usage_chunk_without_choices(chunks: Chunks, request: ChatRequest) -> Chunks:
    return [
        {k: v for k, v in c.items() if k != "choices"} if c.get("choices") == [] and c.get("usage") else c
        for c in chunks
    ]


def _usage_in_vendor_field(chunks: Chunks, request: ChatRequest) -> Chunks:
    """Groq: no usage chunk; the counts ride in x_groq on the finish chunk."""
    usage = next((c["usage"] for c in chunks if c.get("choices") == [] and c.get("usage")), None)
    if usage is None:
        return chunks
    kept = [c for c in chunks if not (c.get("choices") == [] and c.get("usage"))]
    kept[-1] = {**kept[-1], "x_groq": {"usage": usage}}
    return kept


def _azure_filter_chunk(chunks: Chunks, request: ChatRequest) -> Chunks:
    first = {
        "id": "",
        "object": "",
        "created": 0,
        "model": "",
        "choices": [],
        "prompt_filter_results": [
            {"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}
        ],
    }
    return [first, *chunks]


def _repeat_role(chunks: Chunks, request: ChatRequest) -> Chunks:
    def change(choice: dict[str, Any]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, dict) and "content" in delta:
            delta["role"] = "assistant"

    return each_choice(chunks, change)


def _chunk_object(value: str) -> Any:
    def effect(chunks: Chunks, request: ChatRequest) -> Chunks:
        return [{**c, "object": value} for c in chunks]

    return effect


def _stream_ignores_sampling(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    if not streaming or plan.tool_calls:
        return plan
    # the streaming path drops seed and sampling parameters, so it samples something else
    return replace(plan, tokens=tuple(generate_tokens(fingerprint({"stream-path": request.messages}))))


def _length_for_natural_stop(chunks: Chunks, request: ChatRequest) -> Chunks:
    def change(choice: dict[str, Any]) -> None:
        if choice.get("finish_reason") == "stop":
            choice["finish_reason"] = "length"

    return each_choice(chunks, change)


def _reject_stream_options(request: ChatRequest) -> ErrorSpec | None:
    if request.raw.get("stream_options") is not None:
        return decline(
            400,
            "Unrecognized request argument supplied: stream_options",
            param="stream_options",
            code="unknown_parameter",
        )
    return None


def _chat_stream(incoming: Incoming) -> bool:
    """A request for a chat stream (the Responses stream's errors are mock/quirks/responses.py's)."""
    return incoming.asks_to_stream() and not incoming.path.startswith("/v1/responses")


def _error_event_frame(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """ScaiGrid (seed 000): a failing stream request gets a 200, an `event: error` frame, then [DONE]."""
    if not _chat_stream(incoming) or spec.kind not in ("validation", "not_found"):
        return response
    frame = json.dumps({"code": "BACKEND_ERROR", "message": spec.message})
    return sse_body(response, [f"event: error\ndata: {frame}\n\n", "data: [DONE]\n\n"])


def _error_data_event(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """OpenRouter, Anthropic's layer: a 200 stream carrying `data: {"error": {...}}`, then close."""
    if not _chat_stream(incoming) or spec.kind not in ("validation", "not_found"):
        return response
    frame = json.dumps(spec.envelope())
    return sse_body(response, [f"data: {frame}\n\n"])


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "stream.done_missing",
        "streaming",
        "The stream ends after the last chunk without `data: [DONE]`.",
        "https://github.com/ikawrakow/ik_llama.cpp/issues/467, https://github.com/oobabooga/textgen/issues/4778, "
        "https://github.com/chand1012/openai-cf-workers-ai/issues/7",
        Effects(frames=_drop_done),
        detects={"chat.stream.done_sentinel": NONCONFORMANT},
    ),
    Quirk(
        "stream.no_terminal_finish_reason",
        "streaming",
        "No chunk ever carries `finish_reason` (the key is absent everywhere).",
        "https://github.com/mudler/LocalAI/issues/1744, "
        "https://github.com/mattermost/mattermost-plugin-agents/issues/143",
        Effects(chunks=_drop_finish_reason),
        detects={
            "chat.stream.finish_reason": NONCONFORMANT,
            "chat.stream.sdk_helper": NONCONFORMANT,
            "chat.tools.stream": NONCONFORMANT,
        },
    ),
    Quirk(
        "stream.finish_reason_empty_string",
        "streaming",
        'Non-final chunks carry `finish_reason: ""` instead of null.',
        "https://github.com/ollama/ollama/issues/4357, https://github.com/sigoden/aichat/issues/580",
        Effects(chunks=_empty_string_finish),
        detects={
            "chat.stream.finish_reason": NONCONFORMANT,
            CHUNK_SCHEMA: NONCONFORMANT,
            "chat.tools.stream": NONCONFORMANT,
        },
    ),
    Quirk(
        "stream.usage_never_sent",
        "streaming",
        "`stream_options.include_usage` is accepted and ignored: no usage chunk.",
        "https://github.com/ollama/ollama/issues/4448, https://github.com/lmstudio-ai/lmstudio-js/issues/184, "
        "https://github.com/huggingface/text-generation-inference/issues/2531",
        Effects(chunks=_drop_usage_chunk),
        detects={"chat.stream.include_usage": NONCONFORMANT},
    ),
    Quirk(
        "stream.usage_chunk_unrequested",
        "streaming",
        "A usage-only chunk with `choices: []` is sent although `include_usage` was not requested.",
        "https://github.com/Arthur-Ficial/apfel/issues/100, https://github.com/nguyenphutrong/quotio/issues/460",
        Effects(chunks=_unrequested_usage_chunk),
        detects={"chat.stream.no_unrequested_usage": NONCONFORMANT},
    ),
    Quirk(
        "stream.usage_chunk_no_choices_key",
        "streaming",
        "The usage chunk omits the `choices` key altogether.",
        "https://github.com/ROCm/ATOM/issues/1711",
        Effects(chunks=_usage_chunk_without_choices),
        detects={"chat.stream.include_usage": NONCONFORMANT},
    ),
    Quirk(
        "stream.usage_nonstandard_location",
        "streaming",
        "No usage chunk: the counts ride in `x_groq.usage` on the finish chunk.",
        "https://github.com/vercel/ai/issues/1651 (Groq), https://github.com/Routstr/routstr-core/issues/543",
        Effects(chunks=_usage_in_vendor_field),
        detects={"chat.stream.include_usage": NONCONFORMANT},
    ),
    Quirk(
        "stream.stream_options_rejected",
        "streaming",
        '`stream_options` is declined: 400 `unknown_parameter` with `param: "stream_options"` (old Azure APIs).',
        "https://github.com/openai/openai-python/issues/1469, https://github.com/agno-agi/agno/issues/1066",
        Effects(chat_request=_reject_stream_options),
        detects={"chat.stream.include_usage": UNSUPPORTED},
    ),
    Quirk(
        "stream.empty_choices_chunk",
        "streaming",
        "A first chunk with `choices: []`, empty id/object and `prompt_filter_results` (Azure content filter).",
        "https://github.com/AbanteAI/archive-old-cli-mentat/issues/429, "
        "https://github.com/pydantic/pydantic-ai/issues/164, https://github.com/langfuse/langfuse/issues/2833",
        Effects(chunks=_azure_filter_chunk),
        detects={
            CHUNK_SCHEMA: NONCONFORMANT,
            "chat.stream.no_unrequested_usage": NONCONFORMANT,
            "chat.stream.stable_id": NONCONFORMANT,
        },
    ),
    Quirk(
        "stream.chunk_object_wrong",
        "streaming",
        'Chunks carry `object: "chat.completion"`; the SDK\'s stream helper silently drops every one.',
        "https://github.com/AbanteAI/archive-old-cli-mentat/issues/429 (chunks); "
        "docs/sdk-facts.md#stream-helper (_is_valid_chat_completion_chunk_weak)",
        Effects(chunks=_chunk_object("chat.completion")),
        detects={CHUNK_SCHEMA: NONCONFORMANT, **dict.fromkeys(STREAM_SDK_READERS, NONCONFORMANT)},
    ),
    Quirk(
        "stream.custom_event_types",
        "streaming",
        "A named event (`event: hermes.tool.progress`) with foreign JSON is interleaved with the chunks.",
        "https://github.com/janhq/jan/issues/8392",
        Effects(
            frames=lambda frames, request: insert_frame(
                frames, 'event: hermes.tool.progress\ndata: {"step":1,"status":"running"}\n\n', len(frames) // 2
            )
        ),
        detects={"chat.stream.sse_framing": NONCONFORMANT, CHUNK_SCHEMA: NONCONFORMANT},
    ),
    Quirk(
        "stream.comment_rewrapped",
        "streaming",
        "A keep-alive comment re-wrapped as data (`data: : OPENROUTER PROCESSING`).",
        "https://github.com/mnfst/llm-gateway/issues/2053, "
        "https://github.com/openai/openai-go/issues/621 (invalid variant)",
        Effects(frames=lambda frames, request: insert_frame(frames, "data: : OPENROUTER PROCESSING\n\n", 1)),
        detects={
            "chat.stream.sse_framing": NONCONFORMANT,
            "chat.stream.sdk_iteration": NONCONFORMANT,
            **dict.fromkeys(STREAM_SDK_READERS, NONCONFORMANT),
        },
    ),
    Quirk(
        "stream.content_type_mismatch",
        "streaming",
        "SSE is sent with `Content-Type: application/json`.",
        "https://github.com/decolua/9router/issues/3492, https://github.com/tinyhumansai/tinyagents/issues/56",
        Effects(
            stream_headers=lambda headers: [
                (k, "application/json") if k == "content-type" else (k, v) for k, v in headers
            ]
        ),
        detects={"chat.stream.content_type": NONCONFORMANT},
    ),
    Quirk(
        "stream.delta_repeats_role",
        "streaming",
        '`role: "assistant"` is repeated in every content delta.',
        "https://github.com/Portkey-AI/gateway/issues/1338, https://github.com/karthink/gptel/issues/592",
        Effects(chunks=_repeat_role),
        detects={"chat.stream.role_first_delta": NONCONFORMANT},
    ),
    Quirk(
        "stream.length_for_natural_stop",
        "streaming",
        'A streamed reply that ended on its own reports `finish_reason: "length"` where the same request '
        'answered without streaming says "stop": the streaming path reports the finish differently.',
        "https://github.com/EndlessInternational/intelligence/issues/2 (Groq: 'length' rather than 'stop' when "
        "streaming), https://github.com/Blaizzy/mlx-vlm/pull/1215 (finish_reason differs between the paths)",
        Effects(chunks=_length_for_natural_stop),
        # the SDK's stream helper raises LengthFinishReasonError on it, by design: our budget is raised once,
        # then the feature is skipped (a 'length' finish never fails it)
        detects={"chat.stream.matches_non_stream": NONCONFORMANT, "chat.stream.sdk_helper": SKIPPED},
    ),
    Quirk(
        "stream.error_event_frame",
        "streaming",
        'A failing stream request gets a 200, an `event: error` frame `{"code", "message"}`, then '
        "`[DONE]` (ScaiGrid's documented behaviour, seed 000): openai-python never raises it.",
        f"{SCAIGRID} (ScaiGrid: 'Streaming error frames'); https://github.com/openai/openai-python/issues/1160",
        Effects(error=_error_event_frame),
        detects={"chat.stream.error_shape": NONCONFORMANT},
    ),
    # --- benign: allowed variations that must not be failed ------------------------------------
    Quirk(
        "stream.sampling_params_dropped",
        "streaming",
        "The streaming path drops `seed` and sampling parameters, so it answers differently from the "
        "non-streaming path for the same request. Only the wording differs, which OpenAI does not promise "
        "to keep (not even with a seed and temperature 0): reported, not failed.",
        "InternLM/lmdeploy#423 (stream and non-stream handled differently), langchain-ai/langchain-google#308, "
        "bobmatnyc/trusty-tools#3758",
        Effects(plan=_stream_ignores_sampling),
        notes={"chat.stream.matches_non_stream": "differs in wording"},
    ),
    Quirk(
        "stream.error_as_data_event",
        "streaming",
        'A failing stream request gets a 200 and one `data: {"error": {...}}` event (valid: the SDK raises it).',
        "https://openrouter.ai/docs/api-reference/streaming, "
        "https://github.com/anthropics/anthropic-sdk-typescript/issues/711",
        Effects(error=_error_data_event),
        notes={"chat.stream.error_shape": "after a 200"},
    ),
    Quirk(
        "stream.data_prefix_no_space",
        "streaming",
        "`data:{...}` without the optional space (valid SSE).",
        "https://github.com/karthink/gptel/issues/592, https://github.com/huggingface/huggingface_hub/issues/4536",
        Effects(frames=frames_text(lambda frame: frame.replace("data: ", "data:"))),
        notes={"chat.stream.sse_framing": "without the optional space"},
    ),
    Quirk(
        "stream.crlf_framing",
        "streaming",
        "CRLF line endings (valid SSE).",
        "https://github.com/Routstr/routstr-core/issues/543, https://github.com/miruamel/xuan/issues/194",
        Effects(frames=frames_text(lambda frame: frame.replace("\n", "\r\n"))),
        notes={"chat.stream.sse_framing": "CRLF"},
    ),
    Quirk(
        "stream.comment_keepalive",
        "streaming",
        "SSE comment lines (`: keep-alive`) between events (valid SSE, clients ignore them).",
        "https://openrouter.ai/docs/api-reference/streaming (valid variant)",
        Effects(frames=lambda frames, request: [part for frame in frames for part in (": keep-alive\n\n", frame)]),
        notes={"chat.stream.sse_framing": "comment"},
    ),
)

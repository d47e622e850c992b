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
from conformance.mock.quirks._model import NONCONFORMANT, UNSUPPORTED, Quirk
from conformance.mock.quirks._shared import (
    CHUNK_SCHEMA,
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


def _reject_stream_options(request: ChatRequest) -> ErrorSpec | None:
    if request.raw.get("stream_options") is not None:
        return decline(
            400,
            "Unrecognized request argument supplied: stream_options",
            param="stream_options",
            code="unknown_parameter",
        )
    return None


def _error_event_frame(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """ScaiGrid (seed 000): a failing stream request gets a 200, an `event: error` frame, then [DONE]."""
    if not incoming.asks_to_stream() or spec.kind not in ("validation", "not_found"):
        return response
    frame = json.dumps({"code": "BACKEND_ERROR", "message": spec.message})
    return sse_body(response, [f"event: error\ndata: {frame}\n\n", "data: [DONE]\n\n"])


def _error_data_event(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """OpenRouter, Anthropic's layer: a 200 stream carrying `data: {"error": {...}}`, then close."""
    if not incoming.asks_to_stream() or spec.kind not in ("validation", "not_found"):
        return response
    frame = json.dumps(spec.envelope())
    return sse_body(response, [f"data: {frame}\n\n"])


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "stream.done_missing",
        "streaming",
        "The stream ends after the last chunk without `data: [DONE]`.",
        "quirks-catalog stream.done_missing: ikawrakow/ik_llama.cpp#467, oobabooga/textgen#4778, "
        "chand1012/openai-cf-workers-ai#7",
        Effects(frames=_drop_done),
        detects={"chat.stream.done_sentinel": NONCONFORMANT},
    ),
    Quirk(
        "stream.no_terminal_finish_reason",
        "streaming",
        "No chunk ever carries `finish_reason` (the key is absent everywhere).",
        "quirks-catalog stream.no_terminal_finish_reason: mudler/LocalAI#1744, mattermost/mattermost-plugin-agents#143",
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
        "quirks-catalog stream.finish_reason_empty_string: ollama/ollama#4357, sigoden/aichat#580",
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
        "quirks-catalog stream.usage_never_sent: ollama/ollama#4448, lmstudio-ai/lmstudio-js#184, "
        "huggingface/text-generation-inference#2531",
        Effects(chunks=_drop_usage_chunk),
        detects={"chat.stream.include_usage": NONCONFORMANT},
    ),
    Quirk(
        "stream.usage_chunk_unrequested",
        "streaming",
        "A usage-only chunk with `choices: []` is sent although `include_usage` was not requested.",
        "quirks-catalog stream.usage_chunk_unrequested: Arthur-Ficial/apfel#100, nguyenphutrong/quotio#460",
        Effects(chunks=_unrequested_usage_chunk),
        detects={"chat.stream.no_unrequested_usage": NONCONFORMANT},
    ),
    Quirk(
        "stream.usage_chunk_no_choices_key",
        "streaming",
        "The usage chunk omits the `choices` key altogether.",
        "quirks-catalog stream.usage_chunk_no_choices_key: ROCm/ATOM#1711",
        Effects(chunks=_usage_chunk_without_choices),
        detects={"chat.stream.include_usage": NONCONFORMANT},
    ),
    Quirk(
        "stream.usage_nonstandard_location",
        "streaming",
        "No usage chunk: the counts ride in `x_groq.usage` on the finish chunk.",
        "quirks-catalog stream.usage_nonstandard_location: vercel/ai#1651 (Groq), Routstr/routstr-core#543",
        Effects(chunks=_usage_in_vendor_field),
        detects={"chat.stream.include_usage": NONCONFORMANT},
    ),
    Quirk(
        "stream.stream_options_rejected",
        "streaming",
        '`stream_options` is declined: 400 `unknown_parameter` with `param: "stream_options"` (old Azure APIs).',
        "quirks-catalog stream.stream_options_rejected: openai/openai-python#1469, agno-agi/agno#1066",
        Effects(chat_request=_reject_stream_options),
        detects={"chat.stream.include_usage": UNSUPPORTED},
    ),
    Quirk(
        "stream.empty_choices_chunk",
        "streaming",
        "A first chunk with `choices: []`, empty id/object and `prompt_filter_results` (Azure content filter).",
        "quirks-catalog stream.empty_choices_chunk: AbanteAI/archive-old-cli-mentat#429, pydantic/pydantic-ai#164, "
        "langfuse/langfuse#2833",
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
        "quirks-catalog resp.object_value_nonstandard (chunks): AbanteAI/archive-old-cli-mentat#429; "
        "sdk-dossier §10 (_is_valid_chat_completion_chunk_weak)",
        Effects(chunks=_chunk_object("chat.completion")),
        detects={CHUNK_SCHEMA: NONCONFORMANT, **dict.fromkeys(STREAM_SDK_READERS, NONCONFORMANT)},
    ),
    Quirk(
        "stream.custom_event_types",
        "streaming",
        "A named event (`event: hermes.tool.progress`) with foreign JSON is interleaved with the chunks.",
        "quirks-catalog stream.custom_event_types: janhq/jan#8392",
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
        "quirks-catalog stream.comment_keepalive (invalid variant): mnfst/llm-gateway#2053, openai/openai-go#621",
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
        "quirks-catalog stream.content_type_mismatch: decolua/9router#3492, tinyhumansai/tinyagents#56",
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
        "quirks-catalog stream.delta_repeats_role_and_empty_fields: Portkey-AI/gateway#1338, karthink/gptel#592",
        Effects(chunks=_repeat_role),
        detects={"chat.stream.role_first_delta": NONCONFORMANT},
    ),
    Quirk(
        "stream.sampling_params_dropped",
        "streaming",
        "The streaming path drops `seed` and sampling parameters, so it answers differently from the "
        "non-streaming path for the same request.",
        "InternLM/lmdeploy#423 (stream and non-stream handled differently), langchain-ai/langchain-google#308, "
        "bobmatnyc/trusty-tools#3758",
        Effects(plan=_stream_ignores_sampling),
        detects={"chat.stream.matches_non_stream": NONCONFORMANT},
    ),
    Quirk(
        "stream.error_event_frame",
        "streaming",
        'A failing stream request gets a 200, an `event: error` frame `{"code", "message"}`, then '
        "`[DONE]` (ScaiGrid's documented behaviour, seed 000): openai-python never raises it.",
        "seeds/000 (ScaiGrid 'Streaming error frames'); quirks-catalog stream.error_midstream_shape: "
        "openai/openai-python#1160",
        Effects(error=_error_event_frame),
        detects={"chat.stream.error_shape": NONCONFORMANT},
    ),
    # --- benign: allowed variations that must not be failed ------------------------------------
    Quirk(
        "stream.error_as_data_event",
        "streaming",
        'A failing stream request gets a 200 and one `data: {"error": {...}}` event (valid: the SDK raises it).',
        "quirks-catalog stream.error_midstream_shape: OpenRouter, anthropics/anthropic-sdk-typescript#711",
        Effects(error=_error_data_event),
        notes={"chat.stream.error_shape": "after a 200"},
    ),
    Quirk(
        "stream.data_prefix_no_space",
        "streaming",
        "`data:{...}` without the optional space (valid SSE).",
        "quirks-catalog stream.data_prefix_no_space: karthink/gptel#592, huggingface/huggingface_hub#4536",
        Effects(frames=frames_text(lambda frame: frame.replace("data: ", "data:"))),
        notes={"chat.stream.sse_framing": "without the optional space"},
    ),
    Quirk(
        "stream.crlf_framing",
        "streaming",
        "CRLF line endings (valid SSE).",
        "quirks-catalog stream.crlf_framing: Routstr/routstr-core#543, miruamel/xuan#194",
        Effects(frames=frames_text(lambda frame: frame.replace("\n", "\r\n"))),
        notes={"chat.stream.sse_framing": "CRLF"},
    ),
    Quirk(
        "stream.comment_keepalive",
        "streaming",
        "SSE comment lines (`: keep-alive`) between events (valid SSE, clients ignore them).",
        "quirks-catalog stream.comment_keepalive (valid variant): OpenRouter, llama.cpp",
        Effects(frames=lambda frames, request: [part for frame in frames for part in (": keep-alive\n\n", frame)]),
        notes={"chat.stream.sse_framing": "comment"},
    ),
)

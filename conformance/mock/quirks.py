"""Real vendors' wire bugs, as data: switch one on and the mock misbehaves the way they did.

Every quirk names its source (the quirk-catalog entry and the public reports behind it) and the
features that must change verdict when it is on (``detects``); the test suite runs every check
against every quirk and fails when anything else changes, or when nothing does. Quirks marked
``benign`` are deviations the contract allows (valid SSE variants, additive fields): they must
change no verdict at all, which is how the suite proves it does not cry wolf.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from conformance.mock.content import count_tokens, embedding_vector, fingerprint, generate_tokens, prompt_tokens
from conformance.mock.effects import Effects
from conformance.mock.generation import Plan
from conformance.mock.http import ErrorSpec, MockResponse, json_response
from conformance.mock.requests import ChatRequest

NONCONFORMANT = "nonconformant"
UNSUPPORTED = "unsupported"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Quirk:
    id: str
    area: str
    description: str
    source: str
    effects: Effects
    # feature id -> the verdict it must take with this quirk on (every other feature: unchanged)
    detects: Mapping[str, str] = field(default_factory=dict)
    # benign quirks: feature id -> text its notes must mention (the deviation is reported, not failed)
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def benign(self) -> bool:
        return not self.detects


# --- small pure transformations the table uses ----------------------------------------------


def _each_choice(chunks: list[dict[str, Any]], change: Any) -> list[dict[str, Any]]:
    out = copy.deepcopy(chunks)
    for chunk in out:
        for choice in chunk.get("choices") or ():
            change(choice)
    return out


def _stream_usage(chunks: list[dict[str, Any]], request: ChatRequest) -> dict[str, int]:
    text = "".join(
        (choice.get("delta") or {}).get("content") or "" for chunk in chunks for choice in chunk.get("choices") or ()
    )
    prompt, completion = prompt_tokens(request.messages), count_tokens(text)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _error_body(response: MockResponse, spec: ErrorSpec, body: Any, status: int | None = None) -> MockResponse:
    headers = [(k, v) for k, v in response.headers if k != "content-type"]
    return json_response(status or spec.status, body, headers)


ErrorRewrite = Callable[[MockResponse, ErrorSpec], MockResponse]


def _kinds(*kinds: str) -> Callable[[ErrorRewrite], ErrorRewrite]:
    """Restrict an error rewrite to some kinds of error."""

    def wrap(rewrite: ErrorRewrite) -> ErrorRewrite:
        def effect(response: MockResponse, spec: ErrorSpec) -> MockResponse:
            return rewrite(response, spec) if spec.kind in kinds else response

        return effect

    return wrap


def _insert_frame(frames: list[str], frame: str, position: int) -> list[str]:
    return frames[:position] + [frame] + frames[position:]


def _drop_done(frames: list[str], request: ChatRequest) -> list[str]:
    return [f for f in frames if f.strip() != "data: [DONE]"]


def _drop_finish_reason(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    return _each_choice(chunks, lambda choice: choice.pop("finish_reason", None))


def _empty_string_finish(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    def change(choice: dict[str, Any]) -> None:
        if choice.get("finish_reason") is None:
            choice["finish_reason"] = ""

    return _each_choice(chunks, change)


def _drop_usage_chunk(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    return [c for c in chunks if c.get("choices") != [] or c.get("usage") is None]


def _unrequested_usage_chunk(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    if request.include_usage:
        return chunks
    final = {**copy.deepcopy(chunks[-1]), "choices": [], "usage": _stream_usage(chunks, request)}
    return [*chunks, final]


def _azure_filter_chunk(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
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


def _repeat_role(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    def change(choice: dict[str, Any]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, dict) and "content" in delta:
            delta["role"] = "assistant"

    return _each_choice(chunks, change)


def _float_created_body(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return {**body, "created": body["created"] + 0.254391}


def _float_created_chunks(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    return [{**c, "created": c["created"] + 0.254391} for c in chunks]


def _eos_token_body(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for choice in body["choices"]:
        if choice["finish_reason"] == "stop":
            choice["finish_reason"] = "eos_token"
    return body


def _eos_token_chunks(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    def change(choice: dict[str, Any]) -> None:
        if choice.get("finish_reason") == "stop":
            choice["finish_reason"] = "eos_token"

    return _each_choice(chunks, change)


def _length_as_stop(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    return replace(plan, finish_reason="stop") if plan.finish_reason == "length" else plan


def _stream_ignores_sampling(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    if not streaming:
        return plan
    # the streaming path drops seed and sampling parameters, so it samples something else
    tokens = generate_tokens(fingerprint({"stream-path": request.messages}))
    return replace(plan, tokens=tuple(tokens))


def _zero_completion_usage(usage: dict[str, Any]) -> dict[str, Any]:
    usage = copy.deepcopy(usage)
    usage["completion_tokens_details"] = {
        **(usage.get("completion_tokens_details") or {}),
        "reasoning_tokens": usage["completion_tokens"],
    }
    usage["completion_tokens"] = 0
    return usage


def _usage_mismatch_body(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return {**body, "usage": _zero_completion_usage(body["usage"])}


def _usage_mismatch_chunks(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    return [{**c, "usage": _zero_completion_usage(c["usage"])} if c.get("usage") else c for c in chunks]


def _vendor_extension_body(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body.update({"prompt_logprobs": None, "kv_transfer_params": None})
    for choice in body["choices"]:
        choice["stop_reason"] = None
    return body


def _vendor_extension_chunks(chunks: list[dict[str, Any]], request: ChatRequest) -> list[dict[str, Any]]:
    return _each_choice(chunks, lambda choice: choice.setdefault("stop_reason", None))


def _flat_envelope(response: MockResponse, spec: ErrorSpec) -> MockResponse:
    body = {
        "object": "error",
        "message": spec.message,
        "type": "BadRequestError",
        "param": spec.param,
        "code": spec.status,
    }
    return _error_body(response, spec, body)


def _string_error(response: MockResponse, spec: ErrorSpec) -> MockResponse:
    return _error_body(response, spec, {"error": spec.message})


def _detail_envelope(response: MockResponse, spec: ErrorSpec) -> MockResponse:
    return _error_body(response, spec, {"detail": spec.message})


@_kinds("auth")
def _unauthorized_string(response: MockResponse, spec: ErrorSpec) -> MockResponse:
    return _error_body(response, spec, {"error": "Unauthorized"})


@_kinds("not_found")
def _not_found_as_200(response: MockResponse, spec: ErrorSpec) -> MockResponse:
    body = {"code": 404, "message": spec.message, "object": "error", "type": "NotFoundError"}
    return _error_body(response, spec, body, status=200)


@_kinds("validation", "json")
def _validation_as_422(response: MockResponse, spec: ErrorSpec) -> MockResponse:
    loc = ["body", *(spec.param or "").split(".")] if spec.param else ["body"]
    body = {
        "detail": [{"type": "json_invalid" if spec.kind == "json" else "value_error", "loc": loc, "msg": spec.message}]
    }
    return _error_body(response, spec, body, status=422)


@_kinds("validation", "json")
def _validation_as_500(response: MockResponse, spec: ErrorSpec) -> MockResponse:
    body = {"error": {"message": "Internal server error", "type": "server_error", "param": None, "code": None}}
    return _error_body(response, spec, body, status=500)


def _drop_request_id(response: MockResponse) -> MockResponse:
    response.drop_header("x-request-id")
    return response


def _json_content_type(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, "application/json") if k == "content-type" else (k, v) for k, v in headers]


def _bare_model_array(body: dict[str, Any]) -> Any:
    return body["data"]


def _strip_model_fields(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("created", "owned_by")}


def _reject_system_role(request: ChatRequest) -> ErrorSpec | None:
    for index, message in enumerate(request.messages):
        if message.get("role") == "system":
            return ErrorSpec(
                400,
                f"Unsupported value: 'messages[{index}].role' does not support 'system' with this model.",
                "validation",
                param=f"messages[{index}].role",
                code="unsupported_value",
            )
    return None


def _history_template_error(request: ChatRequest) -> ErrorSpec | None:
    # The gateway drops assistant turns, so the model's chat template sees two user turns in a row.
    if any(message.get("role") == "assistant" for message in request.messages):
        return ErrorSpec(
            500,
            "Jinja Exception: Conversation roles must alternate user/assistant/user/assistant/...",
            "server",
            type="server_error",
        )
    return None


def _all_index_zero(body: dict[str, Any], request: Any) -> dict[str, Any]:
    return {**body, "data": [{**item, "index": 0} for item in body["data"]]}


def _reject_base64(request: Any) -> ErrorSpec | None:
    if request.encoding_format == "base64":
        return ErrorSpec(400, "base64 encoding is not currently supported", "validation", param="encoding_format")
    return None


def _reject_dimensions(request: Any) -> ErrorSpec | None:
    if request.dimensions is not None:
        return ErrorSpec(
            400,
            f'Model "{request.model}" does not support matryoshka representation, changing '
            "output dimensions will lead to poor results.",
            "validation",
            param="dimensions",
        )
    return None


def _floats_for_base64(body: dict[str, Any], request: Any) -> dict[str, Any]:
    if request.encoding_format != "base64":
        return body
    body = copy.deepcopy(body)
    for item, text in zip(body["data"], request.inputs, strict=True):
        item["embedding"] = embedding_vector(text, request.dimensions or 256)
    return body


def _full_dimensions(body: dict[str, Any], request: Any) -> dict[str, Any]:
    if not request.dimensions:
        return body
    from conformance.floats import encode_base64

    body = copy.deepcopy(body)
    for item, text in zip(body["data"], request.inputs, strict=True):
        vector = embedding_vector(text, 256)
        item["embedding"] = encode_base64(vector) if request.encoding_format == "base64" else vector
    return body


def _frames_text(transform: Any) -> Any:
    def effect(frames: list[str], request: ChatRequest) -> list[str]:
        return [transform(frame) for frame in frames]

    return effect


CHUNK_SCHEMA = "chat.stream.chunk_object"
ERROR_FEATURES = (
    "errors.envelope.invalid_param",
    "errors.envelope.missing_field",
    "errors.invalid_json",
    "errors.unknown_model",
    "errors.auth.missing_key",
    "errors.auth.invalid_key",
    "errors.sdk_exception",
    "models.retrieve.unknown",
)
VALIDATION_FEATURES = (
    "errors.envelope.invalid_param",
    "errors.envelope.missing_field",
    "errors.invalid_json",
    "errors.sdk_exception",
)


def _all(features: Sequence[str], verdict: str = NONCONFORMANT) -> dict[str, str]:
    return {feature: verdict for feature in features}


_TABLE: tuple[Quirk, ...] = (
    # --- streaming ---------------------------------------------------------------------------
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
        detects={"chat.stream.finish_reason": NONCONFORMANT},
    ),
    Quirk(
        "stream.finish_reason_empty_string",
        "streaming",
        'Non-final chunks carry `finish_reason: ""` instead of null.',
        "quirks-catalog stream.finish_reason_empty_string: ollama/ollama#4357, sigoden/aichat#580",
        Effects(chunks=_empty_string_finish),
        detects={"chat.stream.finish_reason": NONCONFORMANT, CHUNK_SCHEMA: NONCONFORMANT},
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
        "stream.custom_event_types",
        "streaming",
        "A named event (`event: hermes.tool.progress`) with foreign JSON is interleaved with the chunks.",
        "quirks-catalog stream.custom_event_types: janhq/jan#8392",
        Effects(
            frames=lambda frames, request: _insert_frame(
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
        Effects(frames=lambda frames, request: _insert_frame(frames, "data: : OPENROUTER PROCESSING\n\n", 1)),
        detects={"chat.stream.sse_framing": NONCONFORMANT, "chat.stream.sdk_iteration": NONCONFORMANT},
    ),
    Quirk(
        "stream.content_type_mismatch",
        "streaming",
        "SSE is sent with `Content-Type: application/json`.",
        "quirks-catalog stream.content_type_mismatch: decolua/9router#3492, tinyhumansai/tinyagents#56",
        Effects(stream_headers=_json_content_type),
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
        "InternLM/lmdeploy#423 (stream and non-stream handled differently), "
        "langchain-ai/langchain-google#308, bobmatnyc/trusty-tools#3758",
        Effects(plan=_stream_ignores_sampling),
        detects={"chat.stream.matches_non_stream": NONCONFORMANT},
    ),
    # --- response shape ----------------------------------------------------------------------
    Quirk(
        "resp.created_not_integer",
        "chat",
        "`created` is a float (`1744857525.254391`) in completions and chunks.",
        "quirks-catalog resp.created_not_integer: spiceai/spiceai#5418, siyuan-note/siyuan#14787, "
        "sashabaranov/go-openai#1003",
        Effects(completion=_float_created_body, chunks=_float_created_chunks),
        detects={"chat.basic": NONCONFORMANT, CHUNK_SCHEMA: NONCONFORMANT},
    ),
    Quirk(
        "resp.finish_reason_nonstandard",
        "chat",
        '`finish_reason: "eos_token"` instead of `"stop"`.',
        "quirks-catalog resp.finish_reason_nonstandard: huggingface/text-generation-inference#2296, "
        "openai/openai-dotnet#267",
        Effects(completion=_eos_token_body, chunks=_eos_token_chunks),
        detects={"chat.basic": NONCONFORMANT, CHUNK_SCHEMA: NONCONFORMANT},
    ),
    Quirk(
        "resp.object_value_nonstandard",
        "chat",
        '`object: "chat.completions"` instead of `"chat.completion"`.',
        "quirks-catalog resp.object_value_nonstandard: David-Kunz/gen.nvim#54",
        Effects(completion=lambda body, request: {**body, "object": "chat.completions"}),
        detects={"chat.basic": NONCONFORMANT},
    ),
    Quirk(
        "resp.id_empty_or_null",
        "chat",
        "Completion `id` is null and chunk ids are empty strings.",
        "quirks-catalog resp.id_empty_or_null: microsoft/autogen#4878, huggingface/text-generation-inference#2794",
        Effects(
            completion=lambda body, request: {**body, "id": None},
            chunks=lambda chunks, request: [{**c, "id": ""} for c in chunks],
        ),
        detects={"chat.basic": NONCONFORMANT, "chat.stream.stable_id": NONCONFORMANT},
    ),
    Quirk(
        "resp.length_finish_as_stop",
        "chat",
        'A reply cut by `max_tokens` reports `finish_reason: "stop"`, not `"length"`.',
        "mudler/LocalAI#3533, llm-d/llm-d-inference-sim#29, huggingface/transformers#42157, "
        "ikawrakow/ik_llama.cpp#2321",
        Effects(plan=_length_as_stop),
        detects={"chat.max_tokens.length": NONCONFORMANT},
    ),
    Quirk(
        "resp.usage_arithmetic",
        "chat",
        "`usage.completion_tokens` is 0 while `total_tokens` still counts the output (tokens moved to details).",
        "router-for-me/CLIProxyAPI#5733, Clarifai/clarifai-python#978, langgenius/dify#19175",
        Effects(completion=_usage_mismatch_body, chunks=_usage_mismatch_chunks),
        detects={"chat.usage": NONCONFORMANT, "chat.stream.include_usage": NONCONFORMANT},
    ),
    Quirk(
        "params.system_role_rejected",
        "chat",
        'A `system` message is declined: 400 `unsupported_value` with `param: "messages[0].role"`.',
        "tailcallhq/forgecode#1177 (OpenAI o1 models), BerriAI/litellm#4377 (vLLM serving Gemma), "
        "sgl-project/sglang#892, arcee-ai/fastmlx#22",
        Effects(chat_request=_reject_system_role),
        detects={"chat.messages.system": UNSUPPORTED},
    ),
    Quirk(
        "params.history_template_error",
        "chat",
        'Any history with an assistant turn fails in the chat template: 500 "Conversation roles must alternate".',
        "infiniflow/ragflow#6880, nextai-translator/raycast-openai-translator#34, OpenSecretCloud/opensecret#120",
        Effects(chat_request=_history_template_error),
        detects={"chat.messages.multi_turn": NONCONFORMANT},
    ),
    # --- models --------------------------------------------------------------------------------
    Quirk(
        "models.not_list_envelope",
        "models",
        '`GET /models` returns a bare JSON array instead of `{"object": "list", "data": [...]}`.',
        "quirks-catalog models.not_list_envelope: songquanpeng/one-api#128, vllm-project/router#134",
        Effects(models=_bare_model_array),
        detects={"models.list": NONCONFORMANT},
    ),
    Quirk(
        "models.entry_fields_missing",
        "models",
        "Model objects carry only `id` and `object` (no `created`, no `owned_by`).",
        "quirks-catalog models.entry_fields_missing_or_fake: webai-at-home/webai-at-home#208, "
        "mistralai/client-python#83",
        Effects(
            models=lambda body: {**body, "data": [_strip_model_fields(m) for m in body["data"]]},
            model=_strip_model_fields,
        ),
        detects={"models.list": NONCONFORMANT, "models.retrieve": NONCONFORMANT},
    ),
    Quirk(
        "models.list_incomplete",
        "models",
        "`GET /models` answers an empty list although the models work when named (load-on-demand servers).",
        "quirks-catalog models.no_capability_metadata; madroidmaq/mlx-omni-server#130, oobabooga/textgen#4997",
        Effects(models=lambda body: {**body, "data": []}),
        detects={"models.list.includes_configured": NONCONFORMANT},
    ),
    # --- errors ----------------------------------------------------------------------------------
    Quirk(
        "error.flat_envelope",
        "errors",
        'Errors carry message/type/param/code at the top level (`{"object": "error", ...}`), code an integer.',
        "quirks-catalog error.flat_envelope: vllm-project/vllm#12886, llm-d/llm-d-inference-sim#135",
        Effects(error=_flat_envelope),
        detects=_all(ERROR_FEATURES),
    ),
    Quirk(
        "error.string_error",
        "errors",
        'Errors are `{"error": "<text>"}`.',
        "quirks-catalog error.string_error: lmstudio-ai/lmstudio-bug-tracker#169, ollama/ollama#15934",
        Effects(error=_string_error),
        detects=_all(ERROR_FEATURES),
    ),
    Quirk(
        "error.detail_envelope",
        "errors",
        'Errors are FastAPI\'s `{"detail": "<text>"}`.',
        "quirks-catalog error.detail_envelope: xtekky/gpt4free#2149, open-webui/open-webui#8048",
        Effects(error=_detail_envelope),
        detects=_all(ERROR_FEATURES),
    ),
    Quirk(
        "auth.error_not_envelope",
        "auth",
        '401 answers are `{"error": "Unauthorized"}`.',
        "quirks-catalog auth.error_not_envelope: vLLM API-server auth middleware; llm-d/llm-d-inference-sim#482",
        Effects(error=_unauthorized_string),
        # the SDK still raises AuthenticationError, but its .type/.code are empty
        detects=_all(("errors.auth.missing_key", "errors.auth.invalid_key", "errors.sdk_exception")),
    ),
    Quirk(
        "error.http_200_with_error",
        "errors",
        'An unknown model is answered `200 {"object": "error", "code": 404, ...}`.',
        "quirks-catalog error.http_200_with_error: runpod-workers/worker-vllm#57, SillyTavern/SillyTavern#5945",
        Effects(error=_not_found_as_200),
        detects=_all(("errors.unknown_model", "models.retrieve.unknown", "errors.sdk_exception")),
    ),
    Quirk(
        "params.extra_forbidden_422",
        "errors",
        'Request validation fails with FastAPI\'s `422 {"detail": [...]}`.',
        "quirks-catalog params.extra_forbidden_422: mistralai/platform-docs-public#7, UKGovernmentBEIS/inspect_ai#1612",
        Effects(error=_validation_as_422),
        detects=_all(VALIDATION_FEATURES),
    ),
    Quirk(
        "error.5xx_for_client_fault",
        "errors",
        "Invalid input is answered `500 server_error`.",
        "quirks-catalog error.5xx_for_client_fault: ggml-org/llama.cpp#19774, theroyallab/tabbyAPI#268",
        Effects(error=_validation_as_500),
        detects=_all(VALIDATION_FEATURES),
    ),
    Quirk(
        "error.request_id_missing",
        "errors",
        "Responses carry no `x-request-id` header (the SDK's `request_id` is None).",
        "vllm-project/vllm#9593 (added in #9594), openai-php/client#283",
        Effects(response=_drop_request_id),
        detects={"errors.request_id": NONCONFORMANT},
    ),
    # --- embeddings ------------------------------------------------------------------------------
    Quirk(
        "emb.base64_rejected",
        "embeddings",
        '`encoding_format: "base64"` (the SDK\'s default) is declined: 400 with `param: "encoding_format"`.',
        "quirks-catalog emb.base64_rejected: vllm-project/vllm#6174, michaelfeil/infinity#349",
        Effects(embeddings_request=_reject_base64),
        detects={"embeddings.base64": UNSUPPORTED},
    ),
    Quirk(
        "emb.base64_ignored",
        "embeddings",
        '`encoding_format: "base64"` is answered with float arrays.',
        "quirks-catalog emb.base64_ignored: lmstudio-ai/lmstudio-bug-tracker#756, "
        "runpod-workers/worker-infinity-embedding#30",
        Effects(embeddings=_floats_for_base64),
        detects={"embeddings.base64": NONCONFORMANT},
    ),
    Quirk(
        "emb.usage_or_model_missing",
        "embeddings",
        "Embeddings responses carry `model: null` and `usage: null`.",
        "quirks-catalog emb.usage_or_model_missing: api7/aisix#474, opea-project/GenAIComps#926",
        Effects(embeddings=lambda body, request: {**body, "model": None, "usage": None}),
        detects={"embeddings.basic": NONCONFORMANT},
    ),
    Quirk(
        "emb.dimensions_ignored",
        "embeddings",
        "`dimensions` is accepted and ignored: full-size vectors come back.",
        "quirks-catalog emb.dimensions_ignored: ggml-org/llama.cpp#25210",
        Effects(embeddings=_full_dimensions),
        detects={"embeddings.dimensions": NONCONFORMANT},
    ),
    Quirk(
        "emb.dimensions_rejected",
        "embeddings",
        '`dimensions` is declined: 400 with `param: "dimensions"` (the model has no matryoshka support).',
        "quirks-catalog emb.dimensions_rejected: garrytan/gbrain#3699, plastic-labs/honcho#772, BerriAI/litellm#26787",
        Effects(embeddings_request=_reject_dimensions),
        detects={"embeddings.dimensions": UNSUPPORTED},
    ),
    Quirk(
        "emb.index_wrong",
        "embeddings",
        "Every item of a batch answer carries `index: 0`.",
        "BerriAI/litellm#25656 (Gemini batch), samfoy/pi-session-search#13, xorbitsai/inference#5240",
        Effects(embeddings=_all_index_zero),
        detects={"embeddings.batch": NONCONFORMANT},
    ),
    # --- benign: allowed variations that must not be failed ------------------------------------
    Quirk(
        "stream.data_prefix_no_space",
        "streaming",
        "`data:{...}` without the optional space (valid SSE).",
        "quirks-catalog stream.data_prefix_no_space: karthink/gptel#592, huggingface/huggingface_hub#4536",
        Effects(frames=_frames_text(lambda frame: frame.replace("data: ", "data:"))),
        notes={"chat.stream.sse_framing": "without the optional space"},
    ),
    Quirk(
        "stream.crlf_framing",
        "streaming",
        "CRLF line endings (valid SSE).",
        "quirks-catalog stream.crlf_framing: Routstr/routstr-core#543, miruamel/xuan#194",
        Effects(frames=_frames_text(lambda frame: frame.replace("\n", "\r\n"))),
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
    Quirk(
        "resp.extra_fields_nonstandard",
        "chat",
        "Vendor extension fields (`stop_reason`, `prompt_logprobs`, `kv_transfer_params`) beside the standard ones.",
        "quirks-catalog resp.extra_fields_nonstandard: vllm-project/vllm#9601, openai/openai-go#227",
        Effects(completion=_vendor_extension_body, chunks=_vendor_extension_chunks),
        notes={"chat.basic": "vendor extension fields"},
    ),
)

QUIRKS: dict[str, Quirk] = {quirk.id: quirk for quirk in _TABLE}
assert len(QUIRKS) == len(_TABLE), "duplicate quirk id"


class UnknownQuirk(KeyError):
    pass


def resolve_quirks(names: Sequence[str | Quirk]) -> list[Quirk]:
    resolved = []
    for name in names:
        if isinstance(name, Quirk):
            resolved.append(name)
        elif name in QUIRKS:
            resolved.append(QUIRKS[name])
        else:
            raise UnknownQuirk(f"unknown quirk {name!r}; `conformance mock --list-quirks` lists them")
    return resolved


def describe(quirk: Quirk) -> str:
    return json.dumps({"id": quirk.id, "area": quirk.area, "description": quirk.description, "source": quirk.source})

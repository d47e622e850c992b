"""Chat quirks: response shape, messages, limits and sampling parameters."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from typing import Any

from conformance.mock.chat.generation import Plan, plan_choice
from conformance.mock.chat.request import ChatRequest
from conformance.mock.content import generate_tokens
from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, UNSUPPORTED, Quirk
from conformance.mock.quirks._shared import (
    CHUNK_SCHEMA,
    FLEXAI,
    Chunks,
    ErrorRewrite,
    decline,
    each_choice,
    each_message,
    error_body,
)

# Features that read the reply text of an ordinary non-streamed completion.
REPLY_READERS = (
    "chat.basic",
    "chat.messages.system",
    "chat.messages.developer",
    "chat.messages.multi_turn",
    "chat.messages.content_parts",
    "chat.messages.name",
    "chat.messages.image_url",
    "chat.params.logit_bias",
    "chat.params.identifiers",
    "chat.params.reasoning_effort",
    "chat.response_format.text",
    "chat.stop.string",
    "chat.stop.array",
    "chat.n",
    "chat.tools.none",
    "chat.tools.loop",
    "chat.tools.foreign_ids",
    "chat.response_format.json_object",
    "chat.response_format.json_schema",
    "chat.parse",
    "chat.stream.matches_non_stream",
)


def _float_created_body(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return {**body, "created": body["created"] + 0.254391}


def _float_created_chunks(chunks: Chunks, request: ChatRequest) -> Chunks:
    return [{**c, "created": c["created"] + 0.254391} for c in chunks]


def _eos_token_body(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for choice in body["choices"]:
        if choice["finish_reason"] == "stop":
            choice["finish_reason"] = "eos_token"
    return body


def _eos_token_chunks(chunks: Chunks, request: ChatRequest) -> Chunks:
    def change(choice: dict[str, Any]) -> None:
        if choice.get("finish_reason") == "stop":
            choice["finish_reason"] = "eos_token"

    return each_choice(chunks, change)


def _length_as_stop(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    return replace(plan, finish_reason="stop") if plan.finish_reason == "length" else plan


def _stop_ignored(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    return plan_choice(replace(request, stop=()), 0) if request.stop and not plan.tool_calls else plan


def _seed_ignored(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    """Sampling at temperature > 0 ignores the seed: every such reply is drawn afresh."""
    if (request.raw.get("temperature") or 0) < 0.5 or plan.tool_calls:
        return plan
    return replace(plan, tokens=tuple(generate_tokens(uuid.uuid4().bytes)))


def _zero_completion_usage(usage: dict[str, Any]) -> dict[str, Any]:
    usage = copy.deepcopy(usage)
    usage["completion_tokens_details"] = {
        **(usage.get("completion_tokens_details") or {}),
        "reasoning_tokens": usage["completion_tokens"],
    }
    usage["completion_tokens"] = 0
    return usage


def _vendor_extension_body(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body.update({"prompt_logprobs": None, "kv_transfer_params": None})
    for choice in body["choices"]:
        choice["stop_reason"] = None
    return body


def _reasoning_content(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return each_message(body, lambda message: message.setdefault("reasoning_content", "Thinking it over."))


def _empty_tool_calls(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return each_message(body, lambda message: message.setdefault("tool_calls", []))


def _content_as_parts(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    def change(message: dict[str, Any]) -> None:
        if isinstance(message.get("content"), str):
            message["content"] = [{"type": "text", "text": message["content"]}]

    return each_message(body, change)


def _one_choice_only(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return {**body, "choices": body["choices"][:1]}


def _legacy_logprobs(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    """vLLM once answered chat logprobs in the legacy completions shape."""
    body = copy.deepcopy(body)
    for choice in body["choices"]:
        entries = (choice.get("logprobs") or {}).get("content")
        if entries:
            choice["logprobs"] = {
                "tokens": [e["token"] for e in entries],
                "token_logprobs": [e["logprob"] for e in entries],
                "top_logprobs": [{t["token"]: t["logprob"] for t in e["top_logprobs"]} for e in entries],
                "text_offset": [0] * len(entries),
            }
    return body


def _drop_logprobs(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return {**body, "choices": [{**c, "logprobs": None} for c in body["choices"]]}


def _reject_role(role: str, spec: ErrorSpec) -> Any:
    def effect(request: ChatRequest) -> ErrorSpec | None:
        return spec if any(m.get("role") == role for m in request.messages) else None

    return effect


def _reject_when(predicate: Any, spec: ErrorSpec) -> Any:
    def effect(request: ChatRequest) -> ErrorSpec | None:
        return spec if predicate(request) else None

    return effect


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


def _has_parts(request: ChatRequest) -> bool:
    return any(isinstance(m.get("content"), list) for m in request.messages)


def _clamp_ranges(body: Any) -> Any:
    """Anthropic's layer clamps temperature above 1 (and here top_p above 1) instead of rejecting it."""
    if isinstance(body, dict):
        body = dict(body)
        for field in ("temperature", "top_p"):
            if isinstance(body.get(field), (int, float)) and body[field] > 1:
                body[field] = 1
    return body


def _drop_field(name: str) -> Any:
    def effect(body: Any) -> Any:
        return {k: v for k, v in body.items() if k != name} if isinstance(body, dict) else body

    return effect


def _gemini_unknown_field(field: str) -> Any:
    """Gemini's OpenAI layer refuses fields it does not know, in a list-shaped error body."""

    def effect(request: ChatRequest) -> ErrorSpec | None:
        if request.raw.get(field) is not None:
            return ErrorSpec(
                400,
                f'Invalid JSON payload received. Unknown name "{field}": Cannot find field.',
                "gemini_unknown_field",
            )
        return None

    return effect


def _gemini_error_list(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    if spec.kind != "gemini_unknown_field":
        return response
    return error_body(response, spec, [{"error": {"code": 400, "message": spec.message, "status": "INVALID_ARGUMENT"}}])


def _fastapi_422(spec_kind: str) -> ErrorRewrite:
    def effect(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
        if spec.kind != spec_kind:
            return response
        body = {
            "detail": [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", spec.param],
                    "msg": "Extra inputs are not permitted",
                    "input": None,
                }
            ]
        }
        return error_body(response, spec, body, status=422)

    return effect


def _mistral_extra(field: str) -> Any:
    """Mistral's pydantic models forbid extra fields: metadata, message-level name."""

    def effect(request: ChatRequest) -> ErrorSpec | None:
        if field == "metadata" and request.raw.get("metadata") is not None:
            return ErrorSpec(422, "Extra inputs are not permitted", "extra_forbidden", param="metadata")
        if field == "name" and any("name" in m for m in request.messages):
            return ErrorSpec(422, "Extra inputs are not permitted", "extra_forbidden", param="messages.0.user.name")
        return None

    return effect


TABLE: tuple[Quirk, ...] = (
    # --- response shape ----------------------------------------------------------------------
    Quirk(
        "resp.created_not_integer",
        "chat",
        "`created` is a float (`1744857525.254391`) in completions and chunks.",
        "https://github.com/spiceai/spiceai/issues/5418, https://github.com/siyuan-note/siyuan/issues/14787, "
        "https://github.com/sashabaranov/go-openai/issues/1003",
        Effects(completion=_float_created_body, chunks=_float_created_chunks),
        detects={"chat.basic": NONCONFORMANT, CHUNK_SCHEMA: NONCONFORMANT},
    ),
    Quirk(
        "resp.finish_reason_nonstandard",
        "chat",
        '`finish_reason: "eos_token"` instead of `"stop"`.',
        "https://github.com/huggingface/text-generation-inference/issues/2296, "
        "https://github.com/openai/openai-dotnet/issues/267",
        Effects(completion=_eos_token_body, chunks=_eos_token_chunks),
        detects={
            "chat.basic": NONCONFORMANT,
            CHUNK_SCHEMA: NONCONFORMANT,
            "chat.stop.string": NONCONFORMANT,
            "chat.stop.array": NONCONFORMANT,
            "chat.tools.named": NONCONFORMANT,
            "chat.tools.loop": NONCONFORMANT,
        },
    ),
    Quirk(
        "resp.object_value_nonstandard",
        "chat",
        '`object: "chat.completions"` instead of `"chat.completion"`.',
        "https://github.com/David-Kunz/gen.nvim/issues/54",
        Effects(completion=lambda body, request: {**body, "object": "chat.completions"}),
        detects={"chat.basic": NONCONFORMANT},
    ),
    Quirk(
        "resp.id_empty_or_null",
        "chat",
        "Completion `id` is null and chunk ids are empty strings.",
        "https://github.com/microsoft/autogen/issues/4878, "
        "https://github.com/huggingface/text-generation-inference/issues/2794",
        Effects(
            completion=lambda body, request: {**body, "id": None},
            chunks=lambda chunks, request: [{**c, "id": ""} for c in chunks],
        ),
        detects={"chat.basic": NONCONFORMANT, "chat.stream.stable_id": NONCONFORMANT},
    ),
    Quirk(
        "resp.content_array",
        "chat",
        '`message.content` is an array of parts (`[{"type": "text", ...}]`), not a string.',
        "https://github.com/vercel/ai/issues/17779, https://github.com/vercel/ai/issues/15890 (Mistral)",
        Effects(completion=_content_as_parts),
        detects=dict.fromkeys(REPLY_READERS, NONCONFORMANT),
    ),
    Quirk(
        "resp.length_finish_as_stop",
        "chat",
        'A reply cut by the token limit reports `finish_reason: "stop"`, not `"length"`.',
        "mudler/LocalAI#3533, llm-d/llm-d-inference-sim#29, huggingface/transformers#42157, "
        "ikawrakow/ik_llama.cpp#2321",
        Effects(plan=_length_as_stop),
        detects={"chat.max_tokens.length": NONCONFORMANT, "chat.max_completion_tokens.length": NONCONFORMANT},
    ),
    Quirk(
        "resp.usage_arithmetic",
        "chat",
        "`usage.completion_tokens` is 0 while `total_tokens` still counts the output (tokens moved to details).",
        "router-for-me/CLIProxyAPI#5733, Clarifai/clarifai-python#978, langgenius/dify#19175",
        Effects(
            completion=lambda body, request: {**body, "usage": _zero_completion_usage(body["usage"])},
            chunks=lambda chunks, request: [
                {**c, "usage": _zero_completion_usage(c["usage"])} if c.get("usage") else c for c in chunks
            ],
        ),
        detects={"chat.usage": NONCONFORMANT, "chat.stream.include_usage": NONCONFORMANT},
    ),
    Quirk(
        "params.system_fingerprint_missing",
        "chat",
        "Completions carry no `system_fingerprint` (FlexAI documents it as not exposed).",
        f"{FLEXAI} (FlexAI: system_fingerprint 'No, not exposed')",
        Effects(completion=lambda body, request: {k: v for k, v in body.items() if k != "system_fingerprint"}),
        detects={"chat.response.system_fingerprint": UNSUPPORTED},
    ),
    # --- messages -----------------------------------------------------------------------------
    Quirk(
        "params.system_role_rejected",
        "chat",
        'A `system` message is declined: 400 `unsupported_value` with `param: "messages[0].role"`.',
        "tailcallhq/forgecode#1177 (OpenAI o1 models), BerriAI/litellm#4377 (vLLM serving Gemma), "
        "sgl-project/sglang#892, arcee-ai/fastmlx#22",
        Effects(
            chat_request=_reject_role(
                "system",
                decline(
                    400,
                    "Unsupported value: 'messages[0].role' does not support 'system' with this model.",
                    param="messages[0].role",
                    code="unsupported_value",
                ),
            )
        ),
        detects={"chat.messages.system": UNSUPPORTED},
    ),
    Quirk(
        "params.developer_role_rejected",
        "chat",
        'A `developer` message is refused: 400 "Unexpected message role." with an integer `code`.',
        "https://github.com/ogx-ai/ogx/issues/6069, https://github.com/can1357/oh-my-pi/issues/843, "
        "https://github.com/peonist-ai/halogen-server/issues/3",
        Effects(
            chat_request=_reject_role(
                "developer", ErrorSpec(400, "Unexpected message role.", "developer_role", type="BadRequestError")
            ),
            error=lambda response, spec, incoming: (
                error_body(
                    response, spec, {"error": {"message": spec.message, "type": spec.type, "param": None, "code": 400}}
                )
                if spec.kind == "developer_role"
                else response
            ),
        ),
        detects={"chat.messages.developer": NONCONFORMANT},
    ),
    Quirk(
        "params.history_template_error",
        "chat",
        'Any history with an assistant turn fails in the chat template: 500 "Conversation roles must alternate".',
        "infiniflow/ragflow#6880, nextai-translator/raycast-openai-translator#34, OpenSecretCloud/opensecret#120",
        Effects(chat_request=_history_template_error),
        detects={
            "chat.messages.multi_turn": NONCONFORMANT,
            "chat.tools.loop": NONCONFORMANT,
            "chat.tools.foreign_ids": NONCONFORMANT,
        },
    ),
    Quirk(
        "params.content_parts_500",
        "chat",
        "Message content given as an array of parts fails with 500.",
        "https://github.com/infiniflow/ragflow/issues/15359",
        Effects(
            chat_request=_reject_when(
                _has_parts, ErrorSpec(500, "'list' object has no attribute 'strip'", "server", type="server_error")
            )
        ),
        detects={"chat.messages.content_parts": NONCONFORMANT, "chat.messages.image_url": NONCONFORMANT},
    ),
    Quirk(
        "params.message_name_rejected",
        "chat",
        "A message carrying `name` is refused with FastAPI's 422 `extra_forbidden`.",
        "https://github.com/mistralai/platform-docs-public/issues/7, https://github.com/crewAIInc/crewAI/issues/60",
        Effects(chat_request=_mistral_extra("name"), error=_fastapi_422("extra_forbidden")),
        detects={"chat.messages.name": NONCONFORMANT},
    ),
    # --- limits and sampling ------------------------------------------------------------------
    Quirk(
        "params.max_completion_tokens_ignored",
        "chat",
        "`max_completion_tokens` is silently dropped (only `max_tokens` is read).",
        "ikawrakow/ik_llama.cpp#2321, voideditor/void#128",
        Effects(request_body=_drop_field("max_completion_tokens")),
        detects={"chat.max_completion_tokens.length": NONCONFORMANT},
    ),
    Quirk(
        "params.stop_type_strict",
        "chat",
        "`stop` as a string is declined (only a list is accepted): 400 naming `stop`.",
        "https://github.com/raullenchai/Rapid-MLX/issues/2358, https://github.com/mudler/LocalAI/issues/153",
        Effects(
            chat_request=_reject_when(
                lambda r: isinstance(r.raw.get("stop"), str),
                decline(400, "Invalid request body: stop: Input should be a valid list", param="stop"),
            )
        ),
        detects={"chat.stop.string": UNSUPPORTED},
    ),
    Quirk(
        "params.stop_ignored",
        "chat",
        "`stop` is accepted and ignored: generation runs past the stop sequences.",
        "Blaizzy/mlx-vlm#1044, NVIDIA-NeMo/Megatron-Bridge#5815, dphnAI/sonar#742",
        Effects(plan=_stop_ignored),
        detects={"chat.stop.string": NONCONFORMANT, "chat.stop.array": NONCONFORMANT},
    ),
    Quirk(
        "params.n_ignored",
        "chat",
        "`n: 2` is answered with a single choice.",
        "https://github.com/OpenRouterArchived/openrouter-runner/issues/99, "
        "https://github.com/InternLM/lmdeploy/issues/1787",
        Effects(completion=_one_choice_only),
        detects={"chat.n": NONCONFORMANT},
    ),
    Quirk(
        "params.n_rejected",
        "chat",
        '`n > 1` is declined: 400 with `param: "n"` (FlexAI\'s documented behaviour).',
        f"{FLEXAI} (FlexAI: 'sending n > 1 returns a 400 with param: \"n\"')",
        Effects(
            chat_request=_reject_when(
                lambda r: r.n > 1, decline(400, "Only one completion per request is supported: n must be 1.", param="n")
            )
        ),
        detects={"chat.n": UNSUPPORTED},
    ),
    Quirk(
        "params.seed_ignored",
        "chat",
        "`seed` is accepted and ignored: sampled replies differ from request to request.",
        "https://platform.claude.com/docs/en/api/openai-sdk (seed ignored), "
        "https://github.com/CherryHQ/cherry-studio/issues/6347",
        Effects(plan=_seed_ignored),
        detects={"chat.seed": NONCONFORMANT},
    ),
    Quirk(
        "params.ranges_clamped",
        "chat",
        "Out-of-range `temperature` and `top_p` are silently clamped to 1 instead of rejected.",
        "https://platform.claude.com/docs/en/api/openai-sdk (temperature clamped)",
        Effects(request_body=_clamp_ranges),
        detects={"chat.params.temperature": NONCONFORMANT, "chat.params.top_p": NONCONFORMANT},
    ),
    Quirk(
        "params.unknown_field_400",
        "chat",
        "`frequency_penalty` is refused as an unknown field, in a list-shaped error body.",
        "https://github.com/versun/RSSBox/issues/132, https://github.com/bytedance/deer-flow/issues/1515 (Gemini)",
        Effects(chat_request=_gemini_unknown_field("frequency_penalty"), error=_gemini_error_list),
        detects={"chat.params.penalties": NONCONFORMANT},
    ),
    Quirk(
        "params.reasoning_effort_unknown",
        "chat",
        "`reasoning_effort` is refused as an unknown field, in a list-shaped error body.",
        "https://github.com/bytedance/deer-flow/issues/1515, "
        "https://github.com/iflow-ai/iflow-cli/issues/238 (Gemini before it supported reasoning_effort)",
        Effects(chat_request=_gemini_unknown_field("reasoning_effort"), error=_gemini_error_list),
        detects={"chat.params.reasoning_effort": NONCONFORMANT},
    ),
    Quirk(
        "params.logit_bias_unsupported",
        "chat",
        "`logit_bias` is declined: 400 `unsupported_parameter` naming it.",
        "https://github.com/thingsboard/thingsboard/issues/15256 (Azure)",
        Effects(
            chat_request=_reject_when(
                lambda r: r.raw.get("logit_bias") is not None,
                decline(
                    400,
                    "Unsupported parameter: 'logit_bias' is not supported with this model.",
                    param="logit_bias",
                    code="unsupported_parameter",
                ),
            )
        ),
        detects={"chat.params.logit_bias": UNSUPPORTED},
    ),
    Quirk(
        "params.metadata_forbidden",
        "chat",
        "`metadata` is refused with FastAPI's 422 `extra_forbidden`.",
        "https://github.com/mistralai/platform-docs-public/issues/7, "
        "https://github.com/OpenHands/OpenHands-CLI/issues/83",
        Effects(chat_request=_mistral_extra("metadata"), error=_fastapi_422("extra_forbidden")),
        detects={"chat.params.identifiers": NONCONFORMANT},
    ),
    Quirk(
        "params.logprobs_shape",
        "chat",
        "Chat logprobs come in the legacy completions shape (`tokens`, `token_logprobs`, ...).",
        "https://github.com/vllm-project/vllm/issues/3179, https://github.com/abetlen/llama-cpp-python/issues/1787",
        Effects(completion=_legacy_logprobs),
        detects={"chat.logprobs": NONCONFORMANT},
    ),
    Quirk(
        "params.logprobs_dropped",
        "chat",
        "`logprobs: true` is accepted and ignored: `logprobs` is null.",
        "https://github.com/ollama/ollama/issues/16117",
        Effects(completion=_drop_logprobs),
        detects={"chat.logprobs": NONCONFORMANT},
    ),
    Quirk(
        "params.logprobs_rejected",
        "chat",
        "`logprobs` is declined: 400 naming it (FlexAI: 'Not at launch').",
        f"{FLEXAI} (FlexAI: logprobs, top_logprobs 'No')",
        Effects(
            chat_request=_reject_when(
                lambda r: r.logprobs, decline(400, "logprobs are not supported.", param="logprobs")
            )
        ),
        detects={"chat.logprobs": UNSUPPORTED},
    ),
    # --- benign: allowed variations that must not be failed ------------------------------------
    Quirk(
        "resp.extra_fields_nonstandard",
        "chat",
        "Vendor extension fields (`stop_reason`, `prompt_logprobs`, `kv_transfer_params`) beside the standard ones.",
        "https://github.com/vllm-project/vllm/issues/9601, https://github.com/openai/openai-go/issues/227",
        Effects(
            completion=_vendor_extension_body,
            chunks=lambda chunks, request: each_choice(chunks, lambda choice: choice.setdefault("stop_reason", None)),
        ),
        notes={"chat.basic": "vendor extension fields"},
    ),
    Quirk(
        "resp.reasoning_content_extension",
        "chat",
        "`message.reasoning_content` beside the content (DeepSeek, vLLM reasoning parsers).",
        "https://github.com/karthink/gptel/issues/592, https://github.com/SaladDay/cc-switch-cli/issues/170",
        Effects(completion=_reasoning_content),
        notes={"chat.basic": "reasoning_content"},
    ),
    Quirk(
        "resp.tool_calls_empty_array",
        "chat",
        "`tool_calls: []` on plain answers (schema-valid; reported, not failed).",
        "https://github.com/vllm-project/vllm/issues/9601, "
        "https://github.com/jekalmin/extended_openai_conversation/issues/456",
        Effects(completion=_empty_tool_calls),
        notes={"chat.basic": "tool_calls is an empty list"},
    ),
)

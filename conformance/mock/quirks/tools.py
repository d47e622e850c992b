"""Tool-calling quirks: call shapes, finish reasons, tool_choice handling, streamed deltas, histories."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from typing import Any

from conformance.mock.chat.generation import Plan, plan_choice
from conformance.mock.chat.request import ChatRequest
from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, UNSUPPORTED, Quirk
from conformance.mock.quirks._shared import (
    Chunks,
    ErrorRewrite,
    decline,
    each_choice,
    each_message,
    each_tool_delta,
    error_body,
)

# Features that read a non-streamed forced tool call.
FORCED_CALL_READERS = (
    "chat.tools.required",
    "chat.tools.named",
    "chat.tools.parallel",
    "chat.tools.parallel_false",
    "chat.tools.loop",
    "chat.tools.strict",
)
STREAMED_CALL_READERS = ("chat.tools.stream", "chat.tools.stream_helper")
MISTRAL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")


def _each_call(change: Any) -> Any:
    def effect(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        return each_message(body, lambda message: [change(call) for call in message.get("tool_calls") or ()])

    return effect


def _arguments_as_object(call: dict[str, Any]) -> None:
    function = call.get("function") or {}
    if isinstance(function.get("arguments"), str):
        try:
            function["arguments"] = json.loads(function["arguments"])
        except ValueError:
            pass  # a call cut by max_tokens: there is no object to send


def _finish_stop_with_calls(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return {
        **body,
        "choices": [
            {**c, "finish_reason": "stop"} if c["finish_reason"] == "tool_calls" else c for c in body["choices"]
        ],
    }


def _forced_choice_as_auto_text(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    """tool_choice 'required' or a named function behaves like auto, and the model chose prose."""
    if plan.tool_calls and (request.tool_choice == "required" or request.named_tool):
        return plan_choice(replace(request, tools=(), tool_choice="none", named_tool=None), 0)
    return plan


def _none_still_calls(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    if request.tools and request.tool_choice == "none" and not plan.tool_calls:
        return plan_choice(replace(request, tool_choice="required"), 0)
    return plan


def _parallel_false_ignored(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    if plan.tool_calls and not request.parallel_tool_calls:
        return plan_choice(replace(request, parallel_tool_calls=True), 0)
    return plan


def _strict_ignored(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    """A strict tool's arguments come back missing a required field."""
    calls = []
    for call in plan.tool_calls:
        tool = request.tool(call.name)
        if tool is not None and tool.strict:
            value = json.loads(call.arguments)
            value.pop(sorted(value)[0], None)
            call = replace(call, arguments=json.dumps(value, separators=(",", ":")))
        calls.append(call)
    return replace(plan, tool_calls=tuple(calls))


def _empty_call_ids(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return _each_call(lambda call: call.update(id=""))(body, request)


def _mistral_ids(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    """Mistral's own tool-call ids: nine alphanumerics."""
    return _each_call(lambda call: call.update(id=hashlib.sha256(call["id"].encode()).hexdigest()[:9]))(body, request)


def _reject_foreign_ids(request: ChatRequest) -> ErrorSpec | None:
    for message in request.messages:
        for call in message.get("tool_calls") or ():
            if not MISTRAL_ID.match(str(call.get("id"))):
                return ErrorSpec(
                    400,
                    f"Tool call id was {call.get('id')} but must be a-z, A-Z, 0-9, with a length of 9.",
                    "mistral_flat",
                )
    return None


def _flat_error(kind: str) -> ErrorRewrite:
    def effect(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
        if spec.kind != kind:
            return response
        return error_body(
            response,
            spec,
            {"object": "error", "message": spec.message, "type": "invalid_request_error", "param": None, "code": None},
        )

    return effect


def _string_error(kind: str) -> ErrorRewrite:
    def effect(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
        return error_body(response, spec, {"error": spec.message}) if spec.kind == kind else response

    return effect


def _drop_delta_index(chunks: Chunks, request: ChatRequest) -> Chunks:
    return each_tool_delta(chunks, lambda delta, first: delta.pop("index", None))


def _repeat_delta_identity(chunks: Chunks, request: ChatRequest) -> Chunks:
    identity: dict[Any, dict[str, Any]] = {}

    def change(delta: dict[str, Any], first: bool) -> None:
        if first:
            identity[delta["index"]] = {"id": delta.get("id"), "name": (delta.get("function") or {}).get("name")}
        else:
            seen = identity[delta["index"]]
            delta.update(id=seen["id"], type="function")
            delta.setdefault("function", {})["name"] = seen["name"]

    return each_tool_delta(chunks, change)


def _drop_delta_type(chunks: Chunks, request: ChatRequest) -> Chunks:
    return each_tool_delta(chunks, lambda delta, first: delta.pop("type", None))


def _tool_calls_as_object(chunks: Chunks, request: ChatRequest) -> Chunks:
    def change(choice: dict[str, Any]) -> None:
        delta = choice.get("delta") or {}
        if isinstance(delta.get("tool_calls"), list) and delta["tool_calls"]:
            delta["tool_calls"] = delta["tool_calls"][0]

    return each_choice(chunks, change)


def _tool_without_description(request: ChatRequest) -> ErrorSpec | None:
    """Lemonade's tool parser reads `description` unconditionally (a JSON out_of_range exception: 500)."""
    for tool in request.raw.get("tools") or ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and "description" not in function:
            return ErrorSpec(
                500,
                "Failed to parse tools: [json.exception.out_of_range.403] key 'description' not found",
                "server",
                type="server_error",
            )
    return None


def _call_left_in_content(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    """Under tool_choice "auto" the model's call stays in `content` as its template's markup, unparsed."""
    if not plan.tool_calls or request.tool_choice != "auto":
        return plan
    text = "".join(
        f'<tool_call>\n{{"name": "{call.name}", "arguments": {call.arguments}}}\n</tool_call>'
        for call in plan.tool_calls
    )
    return replace(plan, tokens=tuple(re.findall(r"\s*\S+", text)), finish_reason="stop", tool_calls=())


def _cut_call_reported_complete(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    """A named call whose model rambles inside an argument string until max_tokens cuts it, reported
    with finish_reason "tool_calls" (llama-cpp-python hard-codes it for a named tool_choice)."""
    if not plan.tool_calls or not request.named_tool or request.max_tokens is None:
        return plan
    first = plan.tool_calls[0]
    key = next(iter(json.loads(first.arguments) or {"value": ""}), "value")
    rambling = f'{{"{key}": "' + " ".join(["and then the time is"] * request.max_tokens)
    pieces = replace(first, arguments=rambling).pieces()[: request.max_tokens]
    return replace(plan, tool_calls=(replace(first, arguments="".join(pieces)),), finish_reason="tool_calls")


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "tool.arguments_not_string",
        "tools",
        "`function.arguments` is a JSON object, not a JSON string.",
        "https://github.com/huggingface/text-generation-inference/issues/2136, "
        "https://github.com/langchain-ai/langchain/issues/27523",
        Effects(completion=_each_call(_arguments_as_object)),
        detects={**dict.fromkeys(FORCED_CALL_READERS, NONCONFORMANT), "chat.tools.auto": NONCONFORMANT},
    ),
    Quirk(
        "tool.finish_reason_stop_with_tool_calls",
        "tools",
        'Tool calls come with `finish_reason: "stop"`, so agents end the turn instead of running the tool.',
        "https://github.com/ollama/ollama/issues/5995, https://github.com/ollama/ollama/issues/7963, "
        "https://github.com/openvinotoolkit/model_server/issues/3927",
        Effects(completion=_finish_stop_with_calls),
        detects={"chat.tools.required": NONCONFORMANT, "chat.tools.auto": NONCONFORMANT},
    ),
    Quirk(
        "tool.call_ids_empty",
        "tools",
        'Tool calls carry `id: ""`, so results cannot cite them.',
        "https://github.com/microsoft/autogen/issues/4878, "
        "https://github.com/huggingface/text-generation-inference/issues/2794",
        Effects(completion=_empty_call_ids),
        detects={**dict.fromkeys(FORCED_CALL_READERS, NONCONFORMANT), "chat.tools.auto": NONCONFORMANT},
    ),
    Quirk(
        "tool.choice_object_rejected",
        "tools",
        'The named `tool_choice` object is refused: `{"error": "Invalid tool_choice type: \'object\'..."}`.',
        "https://github.com/earendil-works/pi/issues/4266, "
        "https://github.com/567-labs/instructor/issues/2051 (LM Studio)",
        Effects(
            chat_request=lambda r: (
                ErrorSpec(
                    400,
                    "Invalid tool_choice type: 'object'. Supported string values: none, auto, required",
                    "lmstudio_string",
                )
                if isinstance(r.raw.get("tool_choice"), dict)
                else None
            ),
            error=_string_error("lmstudio_string"),
        ),
        detects={"chat.tools.named": NONCONFORMANT},
    ),
    Quirk(
        "tool.choice_ignored",
        "tools",
        '`tool_choice` "required" and named functions behave like "auto", and the model answers in prose.',
        "https://github.com/Blaizzy/mlx-vlm/issues/1045, https://github.com/google-ai-edge/LiteRT-LM/issues/2471",
        Effects(plan=_forced_choice_as_auto_text),
        detects={
            **dict.fromkeys(FORCED_CALL_READERS, NONCONFORMANT),
            **dict.fromkeys(STREAMED_CALL_READERS, NONCONFORMANT),
        },
    ),
    Quirk(
        "tool.choice_none_ignored",
        "tools",
        '`tool_choice: "none"` still calls tools.',
        "https://github.com/google-ai-edge/LiteRT-LM/issues/2471 (all modes behave as auto)",
        Effects(plan=_none_still_calls),
        detects={"chat.tools.none": NONCONFORMANT},
    ),
    Quirk(
        "tool.choice_unsupported_as_5xx",
        "tools",
        "A named `tool_choice` is answered `501 Not Implemented`.",
        "https://github.com/vllm-project/vllm/issues/53626",
        Effects(
            chat_request=lambda r: (
                ErrorSpec(501, "Only 'auto' or 'none' tool_choice is supported.", "server", type="NotImplementedError")
                if r.named_tool
                else None
            )
        ),
        detects={"chat.tools.named": NONCONFORMANT},
    ),
    Quirk(
        "tool.auto_requires_flag",
        "tools",
        'An explicit `tool_choice: "auto"` is refused unless the server was started with extra flags, in vLLM\'s '
        "flat error shape.",
        "MattJColes/lgtmaybe#526 (vLLM: '\"auto\" tool choice requires --enable-auto-tool-choice'), "
        "vllm-project/vllm#9019",
        Effects(
            chat_request=lambda r: (
                ErrorSpec(
                    400,
                    '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
                    "vllm_flat",
                )
                if r.raw.get("tool_choice") == "auto"
                else None
            ),
            error=_flat_error("vllm_flat"),
        ),
        detects={"chat.tools.auto": NONCONFORMANT, "chat.tools.loop": NONCONFORMANT},
    ),
    Quirk(
        "tool.parallel_false_ignored",
        "tools",
        "`parallel_tool_calls: false` is ignored: several calls come back.",
        "sgl-project/sglang#9696, SamSaffron/term-llm#276, vllm-project/vllm#22218",
        Effects(plan=_parallel_false_ignored),
        detects={"chat.tools.parallel_false": NONCONFORMANT},
    ),
    Quirk(
        "tool.history_id_format_restricted",
        "tools",
        "Tool-call ids must be nine alphanumerics (the server's own are); an OpenAI-style id in the history is "
        "refused in Mistral's flat error shape.",
        "https://github.com/jackmpcollins/magentic/issues/276, https://github.com/anomalyco/opencode/issues/1680",
        Effects(completion=_mistral_ids, chat_request=_reject_foreign_ids, error=_flat_error("mistral_flat")),
        detects={"chat.tools.foreign_ids": NONCONFORMANT},
    ),
    Quirk(
        "tool.tool_message_rejected",
        "tools",
        "A `tool` message is refused as not answering a preceding tool call, with a proper 400 envelope.",
        "itmisx/deepx-code#94 ('Messages with role tool must be a response to a preceding message with "
        "tool_calls'), mozilla-ai/any-llm#1401",
        Effects(
            chat_request=lambda r: (
                decline(400, "Messages with role 'tool' must be a response to a preceding message with 'tool_calls'")
                if r.last_role == "tool"
                else None
            )
        ),
        detects={"chat.tools.loop": UNSUPPORTED, "chat.tools.foreign_ids": UNSUPPORTED},
    ),
    Quirk(
        "so.strict_ignored",
        "tools",
        "`strict: true` on a function is not enforced: arguments miss a required field.",
        "https://platform.claude.com/docs/en/api/openai-sdk (strict ignored), "
        "https://github.com/langchain-ai/langchain/issues/35029",
        Effects(plan=_strict_ignored),
        detects={"chat.tools.strict": NONCONFORMANT},
    ),
    # --- streamed deltas ----------------------------------------------------------------------
    Quirk(
        "tool.delta_index_missing",
        "tools",
        "Streamed tool-call deltas carry no `index`.",
        "https://github.com/ollama/ollama/issues/7881, https://github.com/openai/openai-python/issues/3246, "
        "https://github.com/vercel/ai/issues/15879",
        Effects(chunks=_drop_delta_index),
        detects=dict.fromkeys(STREAMED_CALL_READERS, NONCONFORMANT),
    ),
    Quirk(
        "tool.delta_id_repeated",
        "tools",
        "Every streamed tool-call delta repeats the call's `id`, `type` and function name.",
        "https://github.com/SillyTavern/SillyTavern/issues/5948, https://github.com/JetBrains/koog/issues/2052",
        Effects(chunks=_repeat_delta_identity),
        detects=dict.fromkeys(STREAMED_CALL_READERS, NONCONFORMANT),
    ),
    Quirk(
        "tool.delta_type_missing",
        "tools",
        'The first streamed delta of a call lacks `type: "function"`.',
        "https://github.com/vllm-project/vllm/issues/16340",
        Effects(chunks=_drop_delta_type),
        detects=dict.fromkeys(STREAMED_CALL_READERS, NONCONFORMANT),
    ),
    Quirk(
        "tool.tool_calls_not_array",
        "tools",
        "`delta.tool_calls` is an object instead of a list.",
        "https://github.com/huggingface/text-generation-inference/issues/2794",
        Effects(chunks=_tool_calls_as_object),
        detects=dict.fromkeys(STREAMED_CALL_READERS, NONCONFORMANT),
    ),
    Quirk(
        "tool.definition_fields_required",
        "tools",
        "A function tool without `description` fails to parse: 500 \"key 'description' not found\".",
        "https://github.com/lemonade-sdk/lemonade/issues/540, https://github.com/vllm-project/router/issues/277",
        Effects(chat_request=_tool_without_description),
        detects={"chat.tools.minimal_definition": NONCONFORMANT},
    ),
    Quirk(
        "tool.call_left_in_content",
        "tools",
        'Under `tool_choice: "auto"` the model\'s call stays in `content` as `<tool_call>...</tool_call>` markup, '
        'with `finish_reason: "stop"` and no `tool_calls`: the server does not parse its template\'s tool-call syntax.',
        "https://github.com/sgl-project/sglang/pull/17558, "
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/821, https://github.com/jundot/omlx/issues/3153",
        Effects(plan=_call_left_in_content),
        detects={"chat.tools.auto": NONCONFORMANT},
    ),
    Quirk(
        "tool.cut_call_reported_complete",
        "tools",
        "A named call cut by `max_tokens` mid-argument (usage at the limit, the JSON left open) reports "
        '`finish_reason: "tool_calls"`, not "length": clients run a truncated call.',
        "https://github.com/vllm-project/vllm/issues/58228, https://github.com/vllm-project/vllm/pull/46303, "
        "https://github.com/abetlen/llama-cpp-python/blob/main/llama_cpp/llama_chat_format.py "
        "(`_convert_completion_to_chat_function`)",
        Effects(plan=_cut_call_reported_complete),
        detects={"chat.tools.named": NONCONFORMANT},
    ),
)

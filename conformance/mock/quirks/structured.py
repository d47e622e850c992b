"""Structured-output quirks: response_format refused, ignored, or half honoured."""

from __future__ import annotations

from dataclasses import replace

from conformance.mock.chat.generation import Plan, plan_choice
from conformance.mock.chat.request import ChatRequest
from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, UNSUPPORTED, Quirk
from conformance.mock.quirks._shared import FLEXAI, decline, error_body

JSON_READERS = ("chat.response_format.json_object", "chat.response_format.json_schema", "chat.parse")


def _format_ignored(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    if request.response_format.get("type") == "text" or plan.tool_calls:
        return plan
    return plan_choice(replace(request, response_format={"type": "text"}), 0)


def _schema_falls_back_to_json_object(plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
    if request.response_format.get("type") != "json_schema" or plan.tool_calls:
        return plan
    return plan_choice(replace(request, response_format={"type": "json_object"}), 0)


def _lmstudio_format(request: ChatRequest) -> ErrorSpec | None:
    if request.raw.get("response_format") and request.response_format.get("type") != "json_schema":
        return ErrorSpec(400, "'response_format.type' must be 'json_schema'", "lmstudio_format")
    return None


def _string_error(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    return error_body(response, spec, {"error": spec.message}) if spec.kind == "lmstudio_format" else response


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "so.json_object_rejected",
        "structured",
        "`response_format` types other than json_schema are refused, with the error as a bare string.",
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/189, "
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/169",
        Effects(chat_request=_lmstudio_format, error=_string_error),
        detects={"chat.response_format.text": NONCONFORMANT, "chat.response_format.json_object": NONCONFORMANT},
    ),
    Quirk(
        "so.response_format_ignored",
        "structured",
        "`response_format` is accepted and ignored: the reply is prose.",
        "https://platform.claude.com/docs/en/api/openai-sdk, https://github.com/ROCm/FastFlowLM/issues/554, "
        "https://github.com/browser-use/browser-use/issues/5687",
        Effects(plan=_format_ignored),
        detects=dict.fromkeys(JSON_READERS, NONCONFORMANT),
    ),
    Quirk(
        "so.json_schema_falls_back",
        "structured",
        "`json_schema` falls back to JSON mode: valid JSON that ignores the schema (FlexAI's 'Partial').",
        f"{FLEXAI} (FlexAI: json_schema 'falls back to json_object otherwise'); "
        "https://github.com/justrach/codegraff/issues/543",
        Effects(plan=_schema_falls_back_to_json_object),
        detects={"chat.response_format.json_schema": NONCONFORMANT, "chat.parse": NONCONFORMANT},
    ),
    Quirk(
        "so.json_schema_declined",
        "structured",
        "`json_schema` is declined: 400 naming `response_format.type` (DeepSeek accepts only json_object).",
        "https://github.com/BerriAI/litellm/issues/6845, https://github.com/justrach/codegraff/issues/543",
        Effects(
            chat_request=lambda r: (
                decline(
                    400,
                    "This response_format type is unavailable now.",
                    param="response_format.type",
                    code="invalid_request_error",
                )
                if r.response_format.get("type") == "json_schema"
                else None
            )
        ),
        detects={"chat.response_format.json_schema": UNSUPPORTED, "chat.parse": UNSUPPORTED},
    ),
)

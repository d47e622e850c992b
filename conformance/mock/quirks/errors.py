"""Error-envelope and status quirks, and authentication quirks."""

from __future__ import annotations

import json
from typing import Any

from conformance.capabilities import BY_NAME
from conformance.mock.chat.request import ROLES
from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockError, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, Quirk, detected
from conformance.mock.quirks._shared import (
    AUTH_FEATURES,
    ERROR_FEATURES,
    VALIDATION_FEATURES,
    error_body,
    kinds,
    sse_body,
)


def _flat_envelope(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    body = {
        "object": "error",
        "message": spec.message,
        "type": "BadRequestError",
        "param": spec.param,
        "code": spec.status,
    }
    return error_body(response, spec, body)


def _string_error(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    return error_body(response, spec, {"error": spec.message})


def _detail_envelope(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    return error_body(response, spec, {"detail": spec.message})


@kinds("auth")
def _unauthorized_string(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    return error_body(response, spec, {"error": "Unauthorized"})


@kinds("not_found")
def _not_found_as_200(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    body = {"code": 404, "message": spec.message, "object": "error", "type": "NotFoundError"}
    return error_body(response, spec, body, status=200)


@kinds("validation", "json")
def _validation_as_422(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    loc = ["body", *(spec.param or "").split(".")] if spec.param else ["body"]
    body = {
        "detail": [{"type": "json_invalid" if spec.kind == "json" else "value_error", "loc": loc, "msg": spec.message}]
    }
    return error_body(response, spec, body, status=422)


@kinds("validation", "json")
def _validation_as_500(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    body = {"error": {"message": "Internal server error", "type": "server_error", "param": None, "code": None}}
    return error_body(response, spec, body, status=500)


def _crash(message: str) -> MockError:
    """What a Python server's unhandled exception becomes: 500 server_error."""
    return MockError(ErrorSpec(500, message, "server", type="server_error"))


def _drop_unknown_roles(body: Any) -> Any:
    """text-generation-webui, apfel: turns with a role the server does not know are left out of the prompt."""
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        kept = [m for m in body["messages"] if not isinstance(m, dict) or m.get("role") in ROLES]
        body = {**body, "messages": kept}
    return body


def _empty_messages_crash(body: Any) -> Any:
    """letta, AnythingLLM: the handler reads messages[-1] before any check."""
    if isinstance(body, dict) and body.get("messages") == []:
        raise _crash("list index out of range")
    return body


def _default_model(body: Any) -> Any:
    """SGLang's request classes default `model` to the served model: a request without one is served."""
    if isinstance(body, dict) and "model" not in body:
        body = {**body, "model": BY_NAME["chat"].mock_model}
    return body


def _non_object_crash(body: Any) -> Any:
    """A handler that calls body.get(...) on whatever JSON arrived."""
    if isinstance(body, list):
        raise _crash("'list' object has no attribute 'get'")
    return body


@kinds("rate_limit")
def _rate_limit_error_event(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """A gateway that opens the stream (200) before it knows the upstream is limited, then sends an
    `event: error` frame the SDK never raises."""
    if not incoming.asks_to_stream():
        return response
    frame = json.dumps({"message": spec.message, "code": 429})
    return sse_body(response, [f"event: error\ndata: {frame}\n\n", "data: [DONE]\n\n"])


@kinds("rate_limit")
def _rate_limit_data_error(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """OpenRouter: an error met after the 200 is one `data: {"error": {...}}` event, then the stream ends."""
    if not incoming.asks_to_stream():
        return response
    return sse_body(response, [f"data: {json.dumps(spec.envelope())}\n\n"])


def _drop_request_id(response: MockResponse) -> MockResponse:
    response.drop_header("x-request-id")
    return response


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "error.flat_envelope",
        "errors",
        'Errors carry message/type/param/code at the top level (`{"object": "error", ...}`), code an integer.',
        "https://github.com/vllm-project/vllm/issues/12886, https://github.com/llm-d/llm-d-inference-sim/issues/135",
        Effects(error=_flat_envelope),
        detects=detected(ERROR_FEATURES),
    ),
    Quirk(
        "error.string_error",
        "errors",
        'Errors are `{"error": "<text>"}`.',
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/169, https://github.com/ollama/ollama/issues/15934",
        Effects(error=_string_error),
        detects=detected(ERROR_FEATURES),
    ),
    Quirk(
        "error.detail_envelope",
        "errors",
        'Errors are FastAPI\'s `{"detail": "<text>"}`.',
        "https://github.com/xtekky/gpt4free/issues/2149, https://github.com/open-webui/open-webui/issues/8048",
        Effects(error=_detail_envelope),
        detects=detected(ERROR_FEATURES),
    ),
    Quirk(
        "auth.error_not_envelope",
        "auth",
        '401 answers are `{"error": "Unauthorized"}`.',
        "https://github.com/vllm-project/vllm/blob/048027fbbdb8c252560205a6159ba3288ede291e/vllm/entrypoints/openai/api_server.py"
        " (AuthenticationMiddleware); "
        "https://github.com/llm-d/llm-d-inference-sim/issues/482",
        # the SDK still raises AuthenticationError, but its .type/.code are empty
        Effects(error=_unauthorized_string),
        detects=detected(AUTH_FEATURES),
    ),
    Quirk(
        "error.http_200_with_error",
        "errors",
        'An unknown model is answered `200 {"object": "error", "code": 404, ...}`.',
        "https://github.com/runpod-workers/worker-vllm/issues/57, "
        "https://github.com/SillyTavern/SillyTavern/issues/5945",
        Effects(error=_not_found_as_200),
        # a stored completion that does not exist is not-found too: the base URL with /chat/completions
        # appended reaches GET /chat/completions/models, answered 200 here; so is a deleted response, and
        # one created with store: false
        detects=detected(
            (
                "errors.unknown_model",
                "responses.errors.unknown_model",
                "responses.retrieve",
                "responses.store_false",
                "models.retrieve.unknown",
                "errors.sdk_exception",
                "http.path.misconfigured_base_url",
                "files.delete",  # the deleted file, read back
            )
        ),
    ),
    Quirk(
        "params.extra_forbidden_422",
        "errors",
        'Request validation fails with FastAPI\'s `422 {"detail": [...]}`.',
        "https://github.com/mistralai/platform-docs-public/issues/7, "
        "https://github.com/UKGovernmentBEIS/inspect_ai/issues/1612",
        Effects(error=_validation_as_422),
        detects=detected(VALIDATION_FEATURES),
    ),
    Quirk(
        "error.5xx_for_client_fault",
        "errors",
        "Invalid input is answered `500 server_error`.",
        "https://github.com/ggml-org/llama.cpp/issues/19774, https://github.com/theroyallab/tabbyAPI/issues/268",
        Effects(error=_validation_as_500),
        detects=detected(VALIDATION_FEATURES),
    ),
    Quirk(
        "params.unknown_role_dropped",
        "errors",
        'Messages with a role the server does not know (`"wizard"`) are silently dropped; the rest is served.',
        "https://github.com/Arthur-Ficial/apfel/issues/405, https://github.com/oobabooga/textgen/issues/7659",
        Effects(request_body=_drop_unknown_roles),
        detects={"errors.invalid_request.role": NONCONFORMANT},
    ),
    Quirk(
        "params.empty_messages_500",
        "errors",
        "`messages: []` crashes the handler (it reads the last message first): 500 server_error.",
        "https://github.com/letta-ai/letta/issues/3381, https://github.com/Mintplex-Labs/anything-llm/issues/6430, "
        "https://github.com/ai-dynamo/dynamo/issues/2067",
        Effects(request_body=_empty_messages_crash),
        detects={"errors.invalid_request.empty_messages": NONCONFORMANT},
    ),
    Quirk(
        "params.model_defaulted",
        "errors",
        "A chat request without `model` is served by a default model instead of refused.",
        "https://github.com/sgl-project/sglang/issues/9683, https://github.com/Blaizzy/mlx-vlm/issues/1303",
        Effects(request_body=_default_model),
        detects={"errors.invalid_request.no_model": NONCONFORMANT},
    ),
    Quirk(
        "params.non_object_body_500",
        "errors",
        "A JSON body that is not an object (an array) crashes the handler: 500 server_error.",
        "https://github.com/alibaba/MNN/issues/4585, https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/377",
        Effects(request_body=_non_object_crash),
        detects={"errors.invalid_request.array_body": NONCONFORMANT},
    ),
    Quirk(
        "rl.stream_error_unsurfaced",
        "errors",
        'A rate-limited stream request gets a 200, an `event: error` frame `{"message", "code"}` and '
        "`[DONE]`: openai-python yields an empty chunk and raises nothing.",
        "https://github.com/leookun/devin-2api/issues/3, https://github.com/QuantumNous/new-api/issues/6643",
        Effects(error=_rate_limit_error_event),
        detects={"errors.rate_limit.stream": NONCONFORMANT},
    ),
    Quirk(
        "error.request_id_missing",
        "errors",
        "Responses carry no `x-request-id` header (the SDK's `request_id` is None).",
        "vllm-project/vllm#9593 (added in #9594), openai-php/client#283",
        Effects(response=_drop_request_id),
        detects={"errors.request_id": NONCONFORMANT},
    ),
    # --- benign: an allowed variation that must not be failed ------------------------------------
    Quirk(
        "rl.stream_error_as_data_event",
        "errors",
        'A rate-limited stream request gets a 200 and one `data: {"error": {...}}` event (valid: the SDK raises it).',
        "https://openrouter.ai/docs/api-reference/streaming, https://github.com/QwenLM/qwen-code/issues/11216",
        Effects(error=_rate_limit_data_error),
        notes={"errors.rate_limit.stream": "after a 200"},
    ),
)

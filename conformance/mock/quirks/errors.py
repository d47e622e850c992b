"""Error-envelope and status quirks, and authentication quirks."""

from __future__ import annotations

from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, Quirk, detected
from conformance.mock.quirks._shared import AUTH_FEATURES, ERROR_FEATURES, VALIDATION_FEATURES, error_body, kinds


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
        # appended reaches GET /chat/completions/models, answered 200 here
        detects=detected(
            (
                "errors.unknown_model",
                "models.retrieve.unknown",
                "errors.sdk_exception",
                "http.path.misconfigured_base_url",
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
        "error.request_id_missing",
        "errors",
        "Responses carry no `x-request-id` header (the SDK's `request_id` is None).",
        "vllm-project/vllm#9593 (added in #9594), openai-php/client#283",
        Effects(response=_drop_request_id),
        detects={"errors.request_id": NONCONFORMANT},
    ),
)

"""Deviations the seed vendors document on their own compatibility pages (tests/data/README.md).

They are what the vendor profiles (conformance.mock.profiles) are made of, beside quirks from the
other tables. Additive ones are benign: the suite must report them (the docs page lists them) and
fail nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.capabilities import BY_NAME
from conformance.mock.chat.request import ChatRequest
from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, Quirk
from conformance.mock.quirks._shared import FLEXAI, SCAIGRID, error_body

SCAIGRID_MODEL_FIELDS = {"display_name": None, "context_window": 256000, "max_output_tokens": 32768, "modality": "chat"}


def _model_extension_fields(model: dict[str, Any]) -> dict[str, Any]:
    extended = dict(model)
    for name, value in SCAIGRID_MODEL_FIELDS.items():
        extended[name] = model["id"].rsplit("/", 1)[-1].replace("-", " ").title() if value is None else value
    return extended


def _rename_request_id(response: MockResponse) -> MockResponse:
    value = response.header("x-request-id")
    if value is not None:
        response.drop_header("x-request-id")
        response.headers.append(("x-scaigrid-request-id", value))
    return response


def _usage_cache_fields(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    body = copy.deepcopy(body)
    if isinstance(body.get("usage"), dict):
        body["usage"]["cache_read_input_tokens"] = 0
        body["usage"]["cache_creation_input_tokens"] = 0
    return body


def _doc_url(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    envelope = spec.envelope()
    envelope["error"]["doc_url"] = "https://docs.vendor.example/errors#" + (spec.code or spec.kind)
    return error_body(response, spec, envelope)


def _lenient_request(body: Any) -> Any:
    """Drop what the live API refuses but the published spec's types allow, as Prism ignores it."""
    if not isinstance(body, dict):
        return body
    body = copy.deepcopy(body)
    for limit in ("max_tokens", "max_completion_tokens"):
        if isinstance(body.get(limit), int) and body[limit] < 1:
            del body[limit]
    if not body.get("stream"):
        body.pop("stream_options", None)
    if body.get("audio") is not None or "audio" in (body.get("modalities") or ()):
        body.pop("audio", None)
        body.pop("modalities", None)
    body.pop("web_search_options", None)
    for tool in body.get("tools") or ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            isinstance(function, dict)
            and function.get("strict")
            and function.get("parameters", {}).get("type") != "object"
        ):
            function["strict"] = False
    if isinstance(body.get("logit_bias"), dict):
        body["logit_bias"] = {k: v for k, v in body["logit_bias"].items() if str(k).isdigit()}
    return body


def _lenient_responses_request(body: Any) -> Any:
    """Drop what the mock refuses on the Responses routes but the published spec's types allow, and
    fill what the generated tests leave out (they send no model or input at all), as Prism accepts them."""
    if not isinstance(body, dict):
        return body
    body = copy.deepcopy(body)
    for unserved in ("conversation", "prompt", "moderation", "context_management"):
        body.pop(unserved, None)
    if not body.get("stream"):
        body.pop("stream_options", None)
    body.setdefault("model", BY_NAME["chat"].mock_model)
    if body.get("input") is None and body.get("previous_response_id") is None:
        body["input"] = "Say something."
    for tool in body.get("tools") or ():
        parameters = tool.get("parameters") if isinstance(tool, dict) else None
        if isinstance(parameters, dict) and tool.get("strict") and parameters.get("type") != "object":
            tool["strict"] = False
    return body


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "models.extension_fields",
        "models",
        "Model objects carry display_name, context_window, max_output_tokens and modality (additive).",
        f"{SCAIGRID} (ScaiGrid: extended fields on /models)",
        Effects(models=lambda body: {**body, "data": [_model_extension_fields(m) for m in body["data"]]}),
        notes={"models.list": "context_window"},
    ),
    Quirk(
        "headers.request_id_renamed",
        "errors",
        "The request id travels as `x-scaigrid-request-id`, not `x-request-id` (the SDK's request_id is None).",
        f"{SCAIGRID} (ScaiGrid: every response has an x-scaigrid-request-id header)",
        Effects(response=_rename_request_id),
        detects={"errors.request_id": NONCONFORMANT},
    ),
    Quirk(
        "usage.cache_fields_extension",
        "chat",
        "Usage carries cache_read_input_tokens and cache_creation_input_tokens (additive, zero without caching).",
        f"{FLEXAI} (FlexAI: usage.cache_read_input_tokens, usage.cache_creation_input_tokens)",
        Effects(completion=_usage_cache_fields),
        notes={"chat.basic": "usage.cache_read_input_tokens"},
    ),
    Quirk(
        "error.doc_url_extension",
        "errors",
        "Error objects carry a doc_url pointing at the vendor's documentation (additive).",
        f"{FLEXAI} (FlexAI: a doc_url extension on errors)",
        Effects(error=_doc_url),
        notes={"errors.envelope.invalid_param": "doc_url"},
    ),
    Quirk(
        "spec.lenient_requests",
        "chat",
        "Chat values the live API refuses but the published spec's types allow (max_tokens 0, stream_options "
        "without stream, audio, web search, a strict tool without an object schema, non-numeric logit_bias "
        "keys) are ignored, as Prism ignores them.",
        "https://github.com/openai/openai-python/tree/main/tests/api_resources (generated; run upstream against Prism, "
        "see CONTRIBUTING.md)",
        Effects(request_body=_lenient_request),
        harness=True,
    ),
    Quirk(
        "spec.lenient_responses",
        "endpoints",
        "Responses requests the published spec's types allow but the live API (and the mock) refuse are served: "
        "no model or input (a default is used), conversation, stored prompt, moderation and context_management "
        "(dropped), stream_options without stream, a strict tool without an object schema, as Prism serves them.",
        "https://github.com/openai/openai-python/tree/main/tests/api_resources (generated; run upstream against Prism, "
        "see CONTRIBUTING.md)",
        Effects(responses_body=_lenient_responses_request),
        harness=True,
    ),
)

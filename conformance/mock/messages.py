"""The mock's vocabulary: the request it read, the response it sends, and OpenAI's errors.

Handlers, the quirk pipeline and the quirks themselves all speak in these terms, so this module is
at the bottom of the mock: it depends on nothing in the project. The error constructors word each
error as OpenAI does, because the suite's checks compare against OpenAI's answers.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

# Every route is also served under this prefix, so that redirect quirks have somewhere to send clients.
MOVED_PREFIX = "/moved"
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"


@dataclass
class Incoming:
    """A request as the mock read it off the wire."""

    method: str
    path: str  # percent-decoded
    headers: dict[str, str]  # names lower-cased
    body: bytes
    raw_path: str = ""  # as sent, percent-encoding intact
    query: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise MockError(invalid_json()) from None

    def asks_to_stream(self) -> bool:
        """Did the body ask for a stream (whatever else is wrong with it)?"""
        try:
            body = json.loads(self.body)
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("stream") is True


@dataclass
class MockResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # A streamed body: each frame is sent as its own chunk (SSE events, in order).
    frames: list[bytes] | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def drop_header(self, name: str) -> None:
        lowered = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lowered]


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> MockResponse:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return MockResponse(status, [("content-type", JSON_TYPE), *(headers or [])], body)


def request_id() -> str:
    return "req_" + uuid.uuid4().hex


@dataclass(frozen=True)
class ErrorSpec:
    """An error the mock answers, in OpenAI's terms.

    ``kind`` says what went wrong so that quirks can target one class of error: ``auth``,
    ``validation`` (a field is wrong), ``json`` (the body is not JSON), ``not_found`` (unknown
    model), ``route`` (unknown path), ``method`` (wrong method), ``too_large``, ``rate_limit``.
    """

    status: int
    message: str
    kind: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def envelope(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class MockError(Exception):
    """Raised by handlers and validation to answer with an OpenAI error."""

    def __init__(self, spec: ErrorSpec) -> None:
        super().__init__(spec.message)
        self.spec = spec


def render_error(spec: ErrorSpec) -> MockResponse:
    return json_response(spec.status, spec.envelope(), list(spec.headers))


# --- the errors OpenAI answers, worded as OpenAI words them ---------------------------------


def invalid_json() -> ErrorSpec:
    return ErrorSpec(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
        "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
        "valid JSON.)",
        "json",
    )


def missing_parameter(name: str) -> ErrorSpec:
    return ErrorSpec(
        400, f"Missing required parameter: '{name}'.", "validation", param=name, code="missing_required_parameter"
    )


def invalid_type(name: str, expected: str, received: Any) -> ErrorSpec:
    return ErrorSpec(
        400,
        f"Invalid type for '{name}': expected {expected}, but got {_json_type(received)} instead.",
        "validation",
        param=name,
        code="invalid_type",
    )


def out_of_range(
    name: str, value: Any, *, kind: str, minimum: float | None = None, maximum: float | None = None
) -> ErrorSpec:
    if maximum is not None and value > maximum:
        return ErrorSpec(
            400,
            f"Invalid '{name}': {kind} above maximum value. Expected a value <= {maximum}, but got {value} instead.",
            "validation",
            param=name,
            code=f"{kind}_above_max_value",
        )
    return ErrorSpec(
        400,
        f"Invalid '{name}': {kind} below minimum value. Expected a value >= {minimum}, but got {value} instead.",
        "validation",
        param=name,
        code=f"{kind}_below_min_value",
    )


def invalid_value(name: str, message: str, code: str = "invalid_value") -> ErrorSpec:
    return ErrorSpec(400, message, "validation", param=name, code=code)


def unknown_parameter(name: str) -> ErrorSpec:
    return ErrorSpec(400, f"Unknown parameter: '{name}'.", "validation", param=name, code="unknown_parameter")


def model_not_found(model: str) -> ErrorSpec:
    return ErrorSpec(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "not_found",
        code="model_not_found",
    )


def invalid_api_key(key: str) -> ErrorSpec:
    shown = f"{key[:3]}***{key[-2:]}" if len(key) > 8 else "***"
    return ErrorSpec(
        401,
        f"Incorrect API key provided: {shown}. You can find your API key in your account settings.",
        "auth",
        code="invalid_api_key",
    )


def missing_api_key() -> ErrorSpec:
    return ErrorSpec(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header "
        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "auth",
    )


def permission_denied(message: str) -> ErrorSpec:
    return ErrorSpec(403, message, "permission")


def not_found(message: str) -> ErrorSpec:
    return ErrorSpec(404, message, "not_found")


def unknown_route(method: str, path: str) -> ErrorSpec:
    return ErrorSpec(404, f"Invalid URL ({method} {path})", "route")


def wrong_method(method: str, path: str, allowed: list[str]) -> ErrorSpec:
    return ErrorSpec(
        405,
        f"Method {method} is not allowed for {path}; use {', '.join(allowed)}.",
        "method",
        headers=(("allow", ", ".join(allowed)),),
    )


def context_length_exceeded(window: int, prompt: int, completion: int) -> ErrorSpec:
    return ErrorSpec(
        400,
        f"This model's maximum context length is {window} tokens. However, you requested {prompt + completion} "
        f"tokens ({prompt} in the messages, {completion} in the completion). Please reduce the length of the "
        "messages or completion.",
        "context",
        param="messages",
        code="context_length_exceeded",
    )


def rate_limited() -> ErrorSpec:
    return ErrorSpec(
        429,
        "Rate limit reached for requests per minute (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.",
        "rate_limit",
        type="requests",
        code="rate_limit_exceeded",
        headers=(
            ("retry-after", "1"),
            ("retry-after-ms", "1000"),
            ("x-ratelimit-limit-requests", "3"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "1s"),
        ),
    )


def too_large(limit: int) -> ErrorSpec:
    return ErrorSpec(413, f"Request body too large: the limit is {limit} bytes.", "too_large")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"

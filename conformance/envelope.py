"""OpenAI's error envelope, and what counts as declining a feature honestly.

The envelope is ``{"error": {"message", "type", "param", "code"}}``: all four keys required
(OpenAPI spec ``components.schemas.Error``), ``message`` and ``type`` strings, ``param`` and
``code`` a string or null. One module knows this; every check that sees an error asks here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from conformance.sdk import exception_name_for_status

# A feature is declined honestly with 400 (the feature or value is not supported), 404 (the endpoint
# or model does not exist) or 403 (this key may not use it): the SDK raises BadRequestError,
# NotFoundError or PermissionDeniedError, which is what client code catches. 422, 5xx and anything
# else are not honest declines.
DECLINE_STATUSES = (400, 403, 404)
# The field (or fields) an honest decline must name in error.param; None: any or none.
DeclineParam = str | tuple[str, ...] | None

_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|\bFile \"[^\"]+\", line \d+")


@dataclass(frozen=True)
class ErrorBody:
    """What was received for an error, decoded as far as it goes."""

    status: int
    content_type: str
    raw: bytes
    parsed: Any  # the JSON value, or None when the body is not JSON

    @property
    def error(self) -> dict[str, Any] | None:
        if isinstance(self.parsed, dict) and isinstance(self.parsed.get("error"), dict):
            return self.parsed["error"]
        return None

    @property
    def param(self) -> Any:
        return (self.error or {}).get("param")

    @property
    def code(self) -> Any:
        return (self.error or {}).get("code")

    @property
    def message(self) -> str | None:
        message = (self.error or {}).get("message")
        return message if isinstance(message, str) else None

    def summary(self) -> str:
        """Short human description: '400 invalid_request_error param=n: <message>'."""
        if self.error is None:
            snippet = self.raw[:120].decode("utf-8", errors="replace").strip() or "(empty body)"
            return f"{self.status} {snippet}"
        parts = [str(self.status)]
        if self.error.get("type"):
            parts.append(str(self.error["type"]))
        if self.param is not None:
            parts.append(f"param={self.param}")
        if self.code is not None:
            parts.append(f"code={self.code}")
        message = (self.message or "").strip()
        if len(message) > 160:
            message = message[:159] + "…"
        return " ".join(parts) + (f": {message}" if message else "")


def decode_error_body(status: int, content_type: str, raw: bytes) -> ErrorBody:
    try:
        parsed = json.loads(raw) if raw.strip() else None
    except ValueError:
        parsed = None
    return ErrorBody(status, content_type, raw, parsed)


def envelope_problems(body: ErrorBody) -> list[str]:
    """Everything wrong with an error body, judged against OpenAI's envelope."""
    if not body.raw.strip():
        return ["error body is empty: expected the OpenAI error envelope"]
    if body.parsed is None:
        kind = "HTML" if body.raw.lstrip()[:1] == b"<" else "not JSON"
        return [f"error body is {kind} ({body.content_type or 'no content-type'}): expected the OpenAI error envelope"]
    if not isinstance(body.parsed, dict):
        return [f"error body is a JSON {type(body.parsed).__name__}: expected an object with an 'error' object"]
    if "error" not in body.parsed:
        if ("title" in body.parsed and "status" in body.parsed) or "problem+json" in body.content_type:
            return ['error body is RFC 9457 problem details ({"title", "status", "detail"}): expected {"error": {...}}']
        if "detail" in body.parsed:
            return ['error body is a FastAPI-style {"detail": ...}: expected {"error": {...}}']
        if "message" in body.parsed:
            return ["flat error envelope (message/type at the top level): expected them under 'error'"]
        return [f"error body has no 'error' key (keys: {sorted(body.parsed)[:8]})"]
    error = body.parsed["error"]
    if not isinstance(error, dict):
        return [f"'error' is a {type(error).__name__}, expected an object with message/type/param/code"]

    problems: list[str] = []
    message = error.get("message")
    if not isinstance(message, str) or not message.strip():
        problems.append(f"error.message: received {message!r}, expected a non-empty string")
    elif message.lstrip()[:1] in ("{", "["):
        problems.append("error.message is JSON-encoded data, expected human-readable text")
    elif _TRACEBACK.search(message):
        problems.append("error.message carries a stack trace, expected human-readable text")
    if not isinstance(error.get("type"), str) or not error.get("type"):
        problems.append(f"error.type: received {error.get('type')!r}, expected a string")
    for key in ("param", "code"):
        if key not in error:
            problems.append(f"error.{key} is absent: the spec requires it (null when not applicable)")
        elif error[key] is not None and not isinstance(error[key], str):
            problems.append(
                f"error.{key}: received {type(error[key]).__name__} {error[key]!r}, expected a string or null"
            )
    return problems


def param_names(received: Any, fields: str | tuple[str, ...]) -> bool:
    """Does ``error.param`` name one of ``fields`` or a path inside it (``response_format.type``, ``tools[0]``)?"""
    if not isinstance(received, str):
        return False
    for field in (fields,) if isinstance(fields, str) else fields:
        if received == field or received.startswith((field + ".", field + "[")):
            return True
    return False


def message_names(body: ErrorBody, fields: str | tuple[str, ...]) -> bool:
    """Does the error's message name one of ``fields`` (as a word: ``dimensions``, not ``dimension``)?"""
    message = body.error.get("message") if isinstance(body.error, dict) else None
    if not isinstance(message, str):
        return False
    names = (fields,) if isinstance(fields, str) else fields
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message) for name in names)


def judge_decline(body: ErrorBody, *, param: DeclineParam = None) -> tuple[bool, list[str]]:
    """Is this error response an honest "no"? Returns (honest, problems).

    Honest means: status 400, 403 or 404 (``DECLINE_STATUSES``), the full envelope, and
    ``error.param`` naming ``param`` when one was expected (or, with ``param`` null, the message naming
    it, as OpenAI itself sometimes does). A 404 declines the whole endpoint (or
    model), not one parameter, so it names none.
    """
    problems = envelope_problems(body)
    if body.status not in DECLINE_STATUSES:
        exc = exception_name_for_status(body.status)
        if body.status == 422:
            problems.insert(0, f"HTTP 422 (SDK raises {exc}): validation failures must be 400 (BadRequestError)")
        elif body.status >= 500:
            problems.insert(
                0,
                f"HTTP {body.status} (SDK raises {exc} and retries): the server failed; a request it cannot "
                "serve must be declined with 400, 403 or 404",
            )
        else:
            problems.insert(0, f"HTTP {body.status} (SDK raises {exc}): expected 400, 403 or 404 to decline")
    if (
        param is not None
        and body.status != 404
        and body.error is not None
        and not param_names(body.param, param)
        # OpenAI itself sometimes names the field only in the message, with param null ("This model
        # does not support specifying dimensions."): the SDK user still learns which field
        and not (body.param is None and message_names(body, param))
    ):
        problems.append(f"error.param: received {body.param!r}, expected {param!r}")
    return (not problems, problems)

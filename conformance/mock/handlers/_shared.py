"""What the handlers of the endpoints beyond chat and embeddings share: reading a JSON body field by
field with OpenAI's errors, deterministic text for a prompt, and cursor pages for list routes.

Those endpoints answer the pinned SDK's shape for a minimal but honest request: content is derived
from the request (deterministic, like chat), and a parameter the mock cannot honour is refused with
OpenAI's 400 envelope and ``param`` set, never ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from conformance.mock.content import fingerprint, generate_tokens
from conformance.mock.messages import (
    Incoming,
    MockError,
    MockResponse,
    invalid_type,
    invalid_value,
    json_response,
    missing_parameter,
)
from conformance.mock.state import MockState


def body_object(incoming: Incoming) -> dict[str, Any]:
    body = incoming.json()
    if not isinstance(body, dict):
        raise MockError(invalid_type("body", "an object", body))
    return body


def media_request(state: MockState, incoming: Incoming) -> dict[str, Any]:
    """The JSON body of an images, speech or moderations request, as the active quirks let it through."""
    body: dict[str, Any] = state.pipeline.media_body(incoming.path, body_object(incoming))
    return body


def required_string(body: dict[str, Any], name: str) -> str:
    if name not in body:
        raise MockError(missing_parameter(name))
    if not isinstance(body[name], str) or not body[name]:
        raise MockError(invalid_type(name, "a non-empty string", body[name]))
    return str(body[name])


def limit(body: dict[str, Any], name: str, minimum: int, default: int | None) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise MockError(invalid_value(name, f"Invalid '{name}': expected an integer >= {minimum}, got {value!r}."))
    return value


def refuse_streaming(body: dict[str, Any], what: str) -> None:
    if body.get("stream") is True:
        raise MockError(invalid_value("stream", f"The reference mock does not stream {what}.", "unsupported_value"))


def text_for(seed: Any, most: int | None) -> tuple[str, bool]:
    """Deterministic text for a prompt, cut at ``most`` tokens; (text, cut)."""
    tokens = generate_tokens(fingerprint(seed))
    cut = most is not None and len(tokens) > most
    return "".join(tokens[:most] if cut else tokens), cut


def query(incoming: Incoming) -> list[tuple[str, str]]:
    return parse_qsl(incoming.query, keep_blank_values=True)


def page(
    items: list[dict[str, Any]], incoming: Incoming, *, default_limit: int = 20, default_order: str = "asc"
) -> MockResponse:
    """A cursor page of ``items`` (each with an ``id``), after ``after``, at most ``limit``, in ``order``."""
    asked = dict(query(incoming))
    order = asked.get("order", default_order)
    if order not in ("asc", "desc"):
        raise MockError(invalid_value("order", "Invalid 'order': expected 'asc' or 'desc'."))
    try:
        size = int(asked.get("limit", default_limit))
    except ValueError:
        raise MockError(invalid_type("limit", "an integer", asked.get("limit"))) from None
    if size < 0 or size > 100:
        raise MockError(invalid_value("limit", f"Invalid 'limit': expected 0 to 100, got {size}."))
    ordered = items if order == "asc" else list(reversed(items))
    after = asked.get("after")
    if after:
        ids = [item["id"] for item in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    chosen = ordered[:size]
    body: dict[str, Any] = {"object": "list", "data": chosen, "has_more": len(ordered) > len(chosen)}
    if chosen:
        body["first_id"], body["last_id"] = chosen[0]["id"], chosen[-1]["id"]
    return json_response(200, body)

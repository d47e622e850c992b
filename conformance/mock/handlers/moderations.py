"""POST /moderations: one result per input string (in order), or one for a list of content parts;
every category flagged or not, and scored in [0, 1], deterministically from the text.

Scores are small for ordinary text (nothing is flagged unless a score reaches 0.5); what they are is
the "model's", that each category has one and ``flagged`` agrees with them is the server's.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from conformance.capabilities import BY_NAME
from conformance.mock.handlers._shared import media_request
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

# category -> the input types it applies to (omni-moderation: some read text only)
CATEGORIES: dict[str, tuple[str, ...]] = {
    "harassment": ("text",),
    "harassment/threatening": ("text",),
    "hate": ("text",),
    "hate/threatening": ("text",),
    "illicit": ("text",),
    "illicit/violent": ("text",),
    "self-harm": ("text", "image"),
    "self-harm/instructions": ("text", "image"),
    "self-harm/intent": ("text", "image"),
    "sexual": ("text", "image"),
    "sexual/minors": ("text",),
    "violence": ("text", "image"),
    "violence/graphic": ("text", "image"),
}
THRESHOLD = 0.5


def score(text: str, category: str) -> float:
    """A deterministic score in [0, 0.01) for ordinary text."""
    digest = hashlib.sha256(f"{category}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 / 100


def result(text: str, kinds: set[str]) -> dict[str, Any]:
    scores = {category: score(text, category) for category in CATEGORIES}
    flags = {category: value >= THRESHOLD for category, value in scores.items()}
    applied = {category: [k for k in applies if k in kinds] for category, applies in CATEGORIES.items()}
    return {
        "flagged": any(flags.values()),
        "categories": flags,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }


def _inputs(value: Any) -> list[tuple[str, set[str]]]:
    """(text, input kinds) per result: a string or a list of strings is one result each; a list of
    content parts (text and image_url) is one input, so one result."""
    if isinstance(value, str):
        return [(value, {"text"})]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [(v, {"text"}) for v in value]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        texts, kinds = [], set()
        for part in value:
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
                kinds.add("text")
            elif part.get("type") == "image_url" and isinstance((part.get("image_url") or {}).get("url"), str):
                kinds.add("image")
            else:
                raise MockError(invalid_value("input", f"Invalid content part in 'input': {str(part)[:80]}."))
        return [(" ".join(texts), kinds)]
    raise MockError(invalid_type("input", "a string, an array of strings or an array of content parts", value))


async def create(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = media_request(state, incoming)
    if "input" not in body:
        raise MockError(missing_parameter("input"))
    model = body.get("model", BY_NAME["moderation"].mock_model)
    if not isinstance(model, str) or not model:
        raise MockError(invalid_type("model", "a non-empty string", model))
    state.models.require(model, "moderation")
    results = [result(text, kinds) for text, kinds in _inputs(body["input"])]
    answer = {"id": f"modr-{uuid.uuid4().hex[:24]}", "model": model, "results": results}
    return json_response(200, state.pipeline.moderations(answer, body))

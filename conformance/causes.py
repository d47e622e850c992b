"""Root causes: one server behaviour named once, however many features it fails.

A server that answers every absent route with FastAPI's ``{"detail": "Not Found"}`` fails ten
endpoint features; one whose request validation crashes into a 500 fails every feature that sends
a field it dislikes; one that never emits ``tool_calls`` fails every tool feature, although the
parallel-calls feature never reached parallel calls. Reading forty rows to find three bugs is the
vendor's cost; this module finds the three.

A feature's *signature* is the answer that decided it: the last error response in its evidence
(status, and the body's shape: OpenAI's envelope with its type and the first words of its message,
or another JSON object's keys, or the first words of a text body), or, when no error response
decided it, its first problem with quoted values and numbers blanked. Paths are left out on
purpose: a route family shares one cause. Failing features (nonconformant, unsupported) that share
a signature with at least one other become one cause; each keeps its own verdict and reason, and
reports list the cause once with its features (``results.json``: ``causes`` and each feature's
``cause``).

A pure function of results.json features; depends on nothing in the project.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FAILING = ("nonconformant", "unsupported")
WORDS = 4  # of a message: enough to tell "N validation errors" from "Invalid API key", few enough to group
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_LISTED = re.compile(r"\[[^\]]*\]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Cause:
    id: str  # "cause-1", in the order of the first feature it explains
    summary: str  # what the server did, once: '404 with {"detail": ...} instead of OpenAI's error envelope'
    features: tuple[str, ...]
    example: str  # the feature whose evidence shows it

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "summary": self.summary, "features": list(self.features), "example": self.example}


def _words(text: str, count: int = WORDS) -> str:
    """The first words of a message, lower case, with quoted values and numbers blanked."""
    text = _NUMBER.sub("N", _LISTED.sub("[…]", _QUOTED.sub("…", text)))
    words = [word.strip(".,:;(){}") for word in text.lower().split()]
    # "1 validation error" and "7 validation errors" are one behaviour
    return " ".join([word.removesuffix("s") if len(word) > 3 else word for word in words if word][:count])


def _deciding_error(feature: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The last error response in the evidence: the one a failure is about."""
    found = None
    for exchange in feature.get("evidence") or ():
        response = exchange.get("response") or {}
        status = response.get("status")
        if isinstance(status, int) and status >= 400 and not exchange.get("note"):
            found = response
    return found


def _streamed_body(lines: list[Any]) -> Any:
    """The error a streamed request got, from its recorded lines: a plain body (a 404 to a stream
    request) or the first ``data:`` line's JSON (an envelope sent as an event), else the text."""
    text = "\n".join(str(line) for line in lines).strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in lines:
        if str(line).startswith("data:"):
            try:
                return json.loads(str(line)[5:].strip())
            except ValueError:
                break
    return text


def _body_shape(response: Mapping[str, Any]) -> tuple[str, str]:
    """(signature part, human summary) of an error body, sent whole or as stream lines."""
    body = response.get("body", response.get("body_text"))
    if body is None and isinstance(response.get("sse"), list):
        body = _streamed_body(response["sse"])
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        message = error.get("message") if isinstance(error.get("message"), str) else ""
        kind = error.get("type") or error.get("code") or "error"
        shown = " ".join(message.split())
        return f"envelope {kind} {_words(message)}", f'{kind}: "{shown[:70]}{"…" if len(shown) > 70 else ""}"'
    if isinstance(body, dict):
        keys = sorted(body)
        if keys == ["detail"] and isinstance(body["detail"], str):
            return (
                f"detail {_words(body['detail'])}",
                f'{{"detail": "{body["detail"][:60]}"}} instead of OpenAI\'s error envelope',
            )
        return f"object {','.join(keys)}", f"a JSON object with {', '.join(keys)} instead of OpenAI's error envelope"
    if body is None or body == "":
        return "empty", "an empty body"
    text = body if isinstance(body, str) else json.dumps(body)
    return f"text {_words(text)}", f'"{text[:60]}" (not JSON in OpenAI\'s error envelope)'


def signature(feature: Mapping[str, Any]) -> tuple[str, str] | None:
    """(signature, summary) of what decided a failing feature, or None for a passing one."""
    if feature.get("status") not in FAILING:
        return None
    response = _deciding_error(feature)
    if response is not None:
        shape, summary = _body_shape(response)
        return f"{response['status']} {shape}", f"{response['status']} with {summary}"
    problems = feature.get("problems") or ()
    message = problems[0]["message"] if problems else feature.get("reason") or ""
    # the problem's subject (before the first colon) and its first words, values blanked
    return f"problem {_words(message, 8)}", _NUMBER.sub("N", message.split(" (and ")[0])[:140]


def find_causes(features: Mapping[str, Mapping[str, Any]]) -> list[Cause]:
    """The causes shared by two or more failing features, in the order of their first feature."""
    groups: dict[str, list[str]] = {}
    summaries: dict[str, str] = {}
    for feature_id, feature in features.items():
        found = signature(feature)
        if found is None:
            continue
        key, summary = found
        groups.setdefault(key, []).append(feature_id)
        summaries.setdefault(key, summary)
    causes: list[Cause] = []
    for key, members in groups.items():
        if len(members) >= 2:
            causes.append(Cause(f"cause-{len(causes) + 1}", summaries[key], tuple(members), members[0]))
    return causes

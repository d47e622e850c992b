"""What the check modules share to send requests and read answers: payloads, request helpers,
readers of the answers.

Against real models content is not deterministic, so requests force what can be forced
(``temperature: 0``, a ``seed``, tiny ``max_tokens``) and checks assert structure, not wording.
Requests that several features judge are declared in ``_requests`` (sent once per run: a full run
against a paid endpoint must cost cents); judging helpers several areas use are in ``_judges``.

Depends on ``context``, ``envelope``, ``sse``, ``verdict`` and ``wire``; on no other check module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from conformance.context import CheckContext
from conformance.envelope import DeclineParam
from conformance.sse import SSEParse
from conformance.verdict import Findings, Oracle, Outcome, StopCheck, nonconformant, skipped
from conformance.wire import WireResponse

# Typed Any: checks send plain dicts, exactly as users do, not the SDK's TypedDicts.
SHORT_REPLY: Any = [{"role": "user", "content": "Reply with one short sentence about the sea."}]
# One robust outcome at temperature 0, so streamed and non-streamed answers can be compared.
DETERMINISTIC: dict[str, Any] = {
    "messages": [{"role": "user", "content": "Name three primary colours, separated by commas."}],
    "temperature": 0,
    "seed": 7,
    "max_tokens": 24,
}
BASIC_MAX_TOKENS = 24
# A reply long enough to cut (max_tokens) and to place stop sequences in.
COUNT_PROMPT: Any = [{"role": "user", "content": "Count from 1 to 20, separated by single spaces, and nothing else."}]
UNKNOWN_MODEL = "conformance-no-such-model-7f3a"
WRONG_KEY = "sk-conformance-wrong-key-0000000000000000"
# The text embedded alone (the float reference) and first in the batch.
EMBEDDING_SAMPLE = "The sea is calm tonight."


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@cache
def fixture_text(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8")


def fixture_json(relative: str) -> Any:
    return json.loads(fixture_text(relative))


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


# Tools, typed Any: sent as plain dicts, exactly as users send them, not as the SDK's TypedDicts.
WEATHER: Any = fixture_json("tools/get_weather.json")
TOOL_MAX_TOKENS = 96
# A server that cannot do tools declines naming one of these.
TOOL_FIELDS = ("tools", "tool_choice")
WEATHER_QUESTION: Any = [{"role": "user", "content": "What is the weather in Paris right now? Use the tool."}]


def chat_body(ctx: CheckContext, **fields: Any) -> dict[str, Any]:
    return {"model": ctx.chat_model, **fields}


def complete(ctx: CheckContext, *, decline_param: DeclineParam = None, **body: Any) -> dict[str, Any]:
    """A non-streamed completion through the SDK as users run it (lax), read from the raw body.

    The SDK path proves the request is sendable and the answer reachable; the raw JSON is the
    truth the checks judge (the lax parser would hide a wrong type).
    """
    body.setdefault("model", ctx.chat_model)
    raw = ctx.call_sdk(
        lambda: ctx.sdk(strict=False).chat.completions.with_raw_response.create(**body), decline_param=decline_param
    )
    try:
        value = json.loads(raw.http_response.content)
    except ValueError:
        raise StopCheck(
            nonconformant(f"the body is not JSON: {raw.http_response.content[:120]!r}", Oracle.WIRE)
        ) from None
    if not isinstance(value, dict):
        raise StopCheck(nonconformant(f"the body is a JSON {type(value).__name__}, expected an object", Oracle.WIRE))
    return value


def first_choice(body: dict[str, Any]) -> dict[str, Any]:
    choices = body.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    raise StopCheck(
        nonconformant(f"choices: received {compact(choices, 80)}, expected at least one choice", Oracle.BEHAVIOUR)
    )


def first_message(body: dict[str, Any]) -> dict[str, Any]:
    message = first_choice(body).get("message")
    if isinstance(message, dict):
        return message
    raise StopCheck(
        nonconformant(f"choices[0].message: received {compact(message, 80)}, expected an object", Oracle.BEHAVIOUR)
    )


def reply_outcome(
    ctx: CheckContext,
    *,
    messages: Any = SHORT_REPLY,
    accepted: str | None = None,
    decline_param: DeclineParam = None,
    **body: Any,
) -> Outcome:
    """A request that must simply be answered: the verdict rests on there being reply text."""
    findings = Findings()
    answer = complete(ctx, messages=messages, max_tokens=BASIC_MAX_TOKENS, decline_param=decline_param, **body)
    text = expect_reply(findings, answer)
    return findings.outcome(accepted or f"answered: {text[:60]!r}", Oracle.BEHAVIOUR)


def expect_reply(findings: Findings, body: dict[str, Any]) -> str:
    """The reply text of choice 0; a missing, empty or non-string content is a problem."""
    content = first_message(body).get("content")
    findings.expect(
        isinstance(content, str) and content.strip() != "",
        Oracle.BEHAVIOUR,
        f"message.content: received {compact(content, 80)}, expected the reply text",
    )
    return content if isinstance(content, str) else ""


# --- streams ------------------------------------------------------------------------------------


@dataclass
class StreamCapture:
    """A raw chat stream, read whole (bounded) and parsed by the strict SSE reader."""

    response: WireResponse
    sse: SSEParse

    def chunks(self) -> list[tuple[int, dict[str, Any]]]:
        """(line, object) for every data event before [DONE] that is a JSON object."""
        return [(event.line, value) for event, value in self.sse.json_chunks() if isinstance(value, dict)]

    def choice_chunks(self) -> list[tuple[int, dict[str, Any]]]:
        """Chunks that look like chat chunks (have a ``choices`` key)."""
        return [(line, chunk) for line, chunk in self.chunks() if "choices" in chunk]

    def require_chunks(self) -> list[tuple[int, dict[str, Any]]]:
        """The chat chunks; with none, a feature about their details has nothing to judge (a pass
        would be vacuous): it is skipped, and the stream's own features say what is wrong."""
        chunks = self.choice_chunks()
        if not chunks:
            raise StopCheck(
                skipped(
                    "the stream held no chat chunk to judge "
                    f"({self.response.content_type or 'no content-type'}; see chat.stream.chunk_object)"
                )
            )
        return chunks

    def content(self, index: int = 0) -> str:
        parts = []
        for _, chunk in self.choice_chunks():
            for choice in chunk.get("choices") or ():
                if isinstance(choice, dict) and choice.get("index") == index:
                    delta = choice.get("delta") or {}
                    if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                        parts.append(delta["content"])
        return "".join(parts)


def raw_stream(ctx: CheckContext, body: dict[str, Any], *, decline_param: DeclineParam = None) -> StreamCapture:
    response = ctx.wire.post("chat/completions", {**body, "stream": True})
    ctx.require_ok(response, decline_param=decline_param)
    return StreamCapture(response, response.sse())


def json_object(response: WireResponse) -> dict[str, Any]:
    """A success body that must be a JSON object; anything else ends the check."""
    try:
        value = response.json()
    except ValueError:
        raise StopCheck(
            nonconformant(
                f"the {response.status} body is not JSON ({response.content_type or 'no content-type'}): "
                f"{response.body[:120]!r}",
                Oracle.WIRE,
            )
        ) from None
    if not isinstance(value, dict):
        raise StopCheck(
            nonconformant(
                f"the {response.status} body is a JSON {type(value).__name__}, expected an object", Oracle.WIRE
            )
        )
    return value


def strict_sdk_json(ctx: CheckContext, call: Any, findings: Findings) -> tuple[Any, Any]:
    """Send through the strict SDK with the raw response kept.

    Returns (the JSON body, the SDK's parsed object or None). The wire and SDK problems go into
    ``findings``; a body that is not JSON at all ends the check.
    """
    raw = ctx.call_sdk(call)
    content_type = raw.http_response.headers.get("content-type", "")
    findings.expect(
        content_type.startswith("application/json"),
        Oracle.WIRE,
        f"Content-Type: received {content_type!r}, expected application/json",
    )
    try:
        body = json.loads(raw.http_response.content)
    except ValueError:
        findings.add(Oracle.WIRE, f"the body is not JSON: {raw.http_response.content[:120]!r}")
        raise StopCheck(findings.fail()) from None
    parsed = None
    try:
        parsed = ctx.call_sdk(raw.parse)
    except StopCheck as stop:
        findings.add(Oracle.SDK, stop.outcome.reason)
    return body, parsed


def message_text(body: dict[str, Any], index: int = 0) -> Any:
    try:
        return body["choices"][index]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None


def compact(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"

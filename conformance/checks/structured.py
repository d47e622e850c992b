"""Structured outputs: ``response_format`` (text, json_object, json_schema) and the SDK's ``parse()``."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema
from pydantic import BaseModel, Field

from conformance.checks._common import compact, complete, first_choice, first_message, fixture_json, reply_outcome
from conformance.context import CheckContext
from conformance.registry import check
from conformance.verdict import Findings, Oracle, Outcome

COLOUR_SCHEMA: dict[str, Any] = fixture_json("schemas/colour_pick.json")
JSON_MAX_TOKENS = 64
COLOUR_QUESTION: Any = [
    {"role": "user", "content": "Pick one primary colour and a number from 1 to 9. Answer in JSON."}
]


def _json_content(findings: Findings, body: dict[str, Any]) -> Any:
    """The reply parsed as JSON; prose, code fences or a cut reply are problems."""
    choice, message = first_choice(body), first_message(body)
    content = message.get("content")
    if choice.get("finish_reason") == "length":
        findings.add(
            Oracle.BEHAVIOUR, f"the JSON reply was cut at max_tokens={JSON_MAX_TOKENS}: {compact(content, 80)}"
        )
        return None
    if not isinstance(content, str):
        findings.add(Oracle.BEHAVIOUR, f"message.content: received {compact(content, 80)}, expected JSON text")
        return None
    try:
        return json.loads(content)
    except ValueError:
        findings.add(Oracle.BEHAVIOUR, f"message.content is not JSON (the format was ignored): {content[:80]!r}")
        return None


@check("chat.response_format.text")
def response_format_text(ctx: CheckContext) -> Outcome:
    return reply_outcome(
        ctx,
        response_format={"type": "text"},
        decline_param="response_format",
        accepted="response_format 'text' is accepted",
    )


@check("chat.response_format.json_object")
def response_format_json_object(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = complete(
        ctx,
        messages=COLOUR_QUESTION,
        max_tokens=JSON_MAX_TOKENS,
        response_format={"type": "json_object"},
        decline_param="response_format",
    )
    value = _json_content(findings, body)
    if findings.ok:
        findings.expect(
            isinstance(value, dict),
            Oracle.BEHAVIOUR,
            f"json_object answered a JSON {type(value).__name__}, expected an object",
        )
    return findings.outcome("the reply is a JSON object", Oracle.BEHAVIOUR)


@check("chat.response_format.json_schema")
def response_format_json_schema(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = complete(
        ctx,
        messages=COLOUR_QUESTION,
        max_tokens=JSON_MAX_TOKENS,
        decline_param="response_format",
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "colour_pick",
                "description": "A colour and a count.",
                "schema": COLOUR_SCHEMA,
                "strict": True,
            },
        },
    )
    value = _json_content(findings, body)
    if findings.ok:
        for error in jsonschema.Draft202012Validator(COLOUR_SCHEMA).iter_errors(value):
            path = "".join(f"[{p!r}]" for p in error.absolute_path)
            findings.add(
                Oracle.BEHAVIOUR,
                f"the reply {compact(value, 80)} breaks the schema at {path or 'the top'}: {error.message}",
            )
    return findings.outcome(f"the reply validates against the strict schema: {compact(value, 60)}", Oracle.BEHAVIOUR)


class ColourPick(BaseModel):
    colour: Literal["red", "yellow", "blue"]
    count: int = Field(ge=1, le=9)


@check("chat.parse")
def chat_parse(ctx: CheckContext) -> Outcome:
    completion = ctx.call_sdk(
        lambda: ctx.sdk(strict=False).chat.completions.parse(
            model=ctx.chat_model, messages=COLOUR_QUESTION, response_format=ColourPick, max_tokens=JSON_MAX_TOKENS
        ),
        decline_param="response_format",
    )
    findings = Findings()
    message = completion.choices[0].message if completion.choices else None
    parsed = getattr(message, "parsed", None)
    findings.expect(
        isinstance(parsed, ColourPick),
        Oracle.SDK,
        f"parse() gave message.parsed {compact(parsed)}, expected a ColourPick instance",
    )
    return findings.outcome(f"client.chat.completions.parse() returns {parsed!r}", Oracle.SDK)

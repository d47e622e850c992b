"""Structured outputs: ``response_format`` (text, json_object, json_schema) and the SDK's ``parse()``.

A server that accepts a format must honour it, but a model writes the content: whether a reply is
JSON, and fits the schema, is judged over the trials (``_common.run_trials``): a format not honoured
in most of them is nonconformant, a single stray reply is a note. A reply cut by our ``max_tokens`` is
asked again once with a larger budget, never failed. Requests send ``temperature: 0`` and the seed.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema
import openai
import pydantic
from pydantic import BaseModel, Field

from conformance.checks._common import (
    STABLE,
    Trial,
    compact,
    complete,
    first_choice,
    first_message,
    fixture_json,
    reply_outcome,
    run_trials,
)
from conformance.context import CheckContext
from conformance.registry import check
from conformance.verdict import Findings, Oracle, Outcome

COLOUR_SCHEMA: dict[str, Any] = fixture_json("schemas/colour_pick.json")
JSON_MAX_TOKENS = 64
COLOUR_QUESTION: Any = [
    {"role": "user", "content": "Pick one primary colour and a number from 1 to 9. Answer in JSON."}
]


def _json_trial(body: dict[str, Any], judge: Any) -> Trial:
    """A JSON-mode reply judged: cut (our budget), content that is not text (the server's), not JSON
    or not what ``judge(value)`` wants (the model's writing, decided over the trials)."""
    findings = Findings()
    choice, message = first_choice(body), first_message(body)
    content = message.get("content")
    summary = f"content {compact(content, 50)} (finish_reason {choice.get('finish_reason')!r})"
    if choice.get("finish_reason") == "length":
        return Trial(findings, summary, cut=True)
    if not isinstance(content, str):
        findings.add(Oracle.BEHAVIOUR, f"message.content: received {compact(content, 80)}, expected JSON text")
        return Trial(findings, summary)
    try:
        value = json.loads(content)
    except ValueError:
        return Trial(findings, summary, model=f"message.content is not JSON (the format was ignored): {content[:80]!r}")
    return Trial(findings, summary, model=judge(value), value=value)


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
    def attempt(budget: int) -> Trial:
        body = complete(
            ctx,
            messages=COLOUR_QUESTION,
            max_tokens=budget,
            response_format={"type": "json_object"},
            decline_param="response_format",
            **STABLE,
        )
        return _json_trial(
            body,
            lambda value: (
                None
                if isinstance(value, dict)
                else f"json_object answered a JSON {type(value).__name__}, expected an object"
            ),
        )

    return run_trials(ctx, attempt, budget=JSON_MAX_TOKENS).outcome(
        "the reply is a JSON object", Oracle.BEHAVIOUR, model_fails=True
    )


def _schema_error(value: Any) -> str | None:
    for error in jsonschema.Draft202012Validator(COLOUR_SCHEMA).iter_errors(value):
        path = "".join(f"[{p!r}]" for p in error.absolute_path)
        return f"the reply {compact(value, 80)} breaks the schema at {path or 'the top'}: {error.message}"
    return None


@check("chat.response_format.json_schema")
def response_format_json_schema(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        body = complete(
            ctx,
            messages=COLOUR_QUESTION,
            max_tokens=budget,
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
            **STABLE,
        )
        return _json_trial(body, _schema_error)

    trials = run_trials(ctx, attempt, budget=JSON_MAX_TOKENS)
    return trials.outcome(
        f"the reply validates against the strict schema: {compact(trials.last.value, 60)}",
        Oracle.BEHAVIOUR,
        model_fails=True,
    )


class ColourPick(BaseModel):
    colour: Literal["red", "yellow", "blue"]
    count: int = Field(ge=1, le=9)


@check("chat.parse")
def chat_parse(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        def parse() -> Any:
            try:
                return ctx.sdk(strict=False).chat.completions.parse(
                    model=ctx.chat_model,
                    messages=COLOUR_QUESTION,
                    response_format=ColourPick,
                    max_tokens=budget,
                    **STABLE,
                )
            except (openai.LengthFinishReasonError, pydantic.ValidationError) as raised:
                # a 'length' finish (our budget), or content parse() cannot read (docs/sdk-facts.md#parse-helper)
                return raised

        result = ctx.call_sdk(parse, decline_param="response_format")
        findings = Findings()
        if isinstance(result, openai.LengthFinishReasonError):
            return Trial(findings, "LengthFinishReasonError (finish_reason 'length')", cut=True)
        if isinstance(result, pydantic.ValidationError):
            return Trial(
                findings,
                "ValidationError",
                model=f"parse() raised ValidationError on the content: {str(result).splitlines()[0]}",
            )
        message = result.choices[0].message if result.choices else None
        parsed = getattr(message, "parsed", None)
        if message is None:
            findings.add(Oracle.SDK, "parse() returned no choice")
        model = (
            None
            if isinstance(parsed, ColourPick)
            else (
                f"parse() gave message.parsed {compact(parsed)}, expected a ColourPick instance"
                + (f" (refusal {compact(message.refusal, 60)})" if message is not None and message.refusal else "")
            )
        )
        return Trial(findings, f"parsed {parsed!r}", model=model, value=parsed)

    trials = run_trials(ctx, attempt, budget=JSON_MAX_TOKENS)
    return trials.outcome(
        f"client.chat.completions.parse() returns {trials.last.value!r}", Oracle.SDK, model_fails=True
    )

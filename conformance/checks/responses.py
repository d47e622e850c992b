"""The Responses API in depth: the Response object, its request fields, function calls, stored
responses and ``previous_response_id``, and the typed event stream.

A server that has no Responses API answers 404 in the envelope, which the engine reads as
``unsupported`` for every feature here. Most checks send through the raw client and judge the one
thing their feature names, so that one deviation fails the feature it concerns rather than the
whole area; ``responses.create.shape`` and ``responses.stream.sdk_helper`` are where the strict SDK
and OpenAI's ``Response`` schema judge the whole object. What the model writes (the wording, the
arguments of a non-strict call) is never judged.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pydantic

from conformance.checks._common import (
    RESPONSES_PROMPT,
    UNKNOWN_FIELD,
    UNKNOWN_MODEL,
    WEATHER,
    Decision,
    Trial,
    compact,
    fixture_bytes,
    json_object,
    run_trials,
    strict_sdk_json,
)
from conformance.checks._judges import error_body_of, expect_named, judge_error, judge_invalid_value
from conformance.checks._requests import responses_text_stream
from conformance.context import CheckContext, StatusError
from conformance.envelope import envelope_problems
from conformance.registry import check
from conformance.sdk import exception_name_for_status, oracle
from conformance.verdict import Findings, Oracle, Outcome, StopCheck, nonconformant, skipped
from conformance.wire import WireResponse

PROMPT = RESPONSES_PROMPT
MAX_OUTPUT = 64
CUT_AT = 16  # output tokens (OpenAI's minimum): far fewer than a 300-word essay takes
ESSAY = "Write a 300-word essay about the sea."
# get_weather in the Responses form: the function's fields at the top level of the tool
WEATHER_TOOL: Any = {"type": "function", **WEATHER["function"], "strict": True}
WEATHER_INPUT = "What is the weather in Paris right now? Use the tool."
ANSWER_SCHEMA: Any = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "additionalProperties": False,
}


class Place(pydantic.BaseModel):
    """ANSWER_SCHEMA as a model: what ``client.responses.parse(text_format=...)`` takes."""

    model_config = pydantic.ConfigDict(extra="forbid")
    city: str
    country: str


def _create(ctx: CheckContext, *, decline_param: Any = None, **fields: Any) -> dict[str, Any]:
    """POST /responses through the raw client; a 4xx escapes for the engine to judge."""
    body = {"model": ctx.chat_model, "temperature": 0, **fields}
    return json_object(ctx.require_ok(ctx.wire.post("responses", body), decline_param=decline_param))


def _items(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    output = body.get("output")
    return (
        [item for item in output if isinstance(item, dict) and item.get("type") == kind]
        if isinstance(output, list)
        else []
    )


def _text(body: dict[str, Any]) -> str | None:
    """The output_text parts of every message item joined, as the SDK's ``output_text`` joins them."""
    parts = [
        part.get("text")
        for item in _items(body, "message")
        for part in item.get("content") or ()
        if isinstance(part, dict) and part.get("type") == "output_text"
    ]
    return "".join(p for p in parts if isinstance(p, str)) if parts else None


# --- the Response object ----------------------------------------------------------------------


@check("responses.create.shape")
def create_shape(ctx: CheckContext) -> Outcome:
    findings = Findings()
    create = ctx.sdk(strict=True).responses.with_raw_response.create
    body, parsed = strict_sdk_json(
        ctx, lambda: create(model=ctx.chat_model, input=PROMPT, max_output_tokens=MAX_OUTPUT, temperature=0), findings
    )
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "Response"))
    if not isinstance(body, dict):
        return findings.fail()
    findings.expect(body.get("object") == "response", Oracle.SCHEMA, f"object: received {body.get('object')!r}")
    findings.expect(
        body.get("status") in ("completed", "incomplete"),
        Oracle.BEHAVIOUR,
        f"status: received {body.get('status')!r}, expected 'completed' (or 'incomplete' when cut)",
    )
    messages = _items(body, "message")
    findings.expect(
        bool(messages) and all(m.get("role") == "assistant" and m.get("id") for m in messages),
        Oracle.BEHAVIOUR,
        f"output: received {compact(body.get('output'), 100)}, expected assistant message items with ids",
    )
    text = getattr(parsed, "output_text", None)
    if parsed is not None:  # a Response the strict SDK rejected has no output_text: that failure is already told
        findings.expect(bool(text), Oracle.SDK, f"response.output_text: received {text!r}, expected the reply")
    usage = body.get("usage")
    if isinstance(usage, dict):
        counts: list[Any] = [usage.get(k) for k in ("input_tokens", "output_tokens", "total_tokens")]
        findings.expect(
            all(isinstance(c, int) for c in counts) and counts[0] + counts[1] == counts[2],
            Oracle.BEHAVIOUR,
            f"usage: input_tokens + output_tokens != total_tokens ({compact(usage, 100)})",
        )
    return findings.outcome(f"a Response the strict SDK parses; output_text {str(text)[:40]!r}", Oracle.SCHEMA)


@check("responses.max_output_tokens")
def max_output_tokens(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = _create(
        ctx,
        input=ESSAY,
        max_output_tokens=CUT_AT,
        decline_param="max_output_tokens",
    )
    usage: Any = body.get("usage")
    used = usage.get("output_tokens") if isinstance(usage, dict) else None
    status, details = body.get("status"), body.get("incomplete_details")
    if status == "completed" and isinstance(used, int) and used < CUT_AT:
        return skipped(
            f"the reply ended by itself after {used} tokens, below max_output_tokens {CUT_AT}: nothing was cut"
        )
    findings.expect(
        not (isinstance(used, int) and used > CUT_AT),
        Oracle.BEHAVIOUR,
        f"usage.output_tokens {used} exceeds max_output_tokens {CUT_AT}",
    )
    findings.expect(
        status == "incomplete",
        Oracle.BEHAVIOUR,
        f"status: received {status!r} for a reply that used all {CUT_AT} output tokens, expected 'incomplete'",
    )
    findings.expect(
        isinstance(details, dict) and details.get("reason") == "max_output_tokens",
        Oracle.BEHAVIOUR,
        f"incomplete_details: received {compact(details)}, expected {{'reason': 'max_output_tokens'}}",
    )
    return findings.outcome(f"cut at {CUT_AT} tokens: status incomplete, reason max_output_tokens", Oracle.BEHAVIOUR)


@check("responses.text.json_schema")
def text_json_schema(ctx: CheckContext) -> Outcome:
    findings = Findings()
    client = ctx.sdk(strict=True)
    text_format = {"type": "json_schema", "name": "place", "schema": ANSWER_SCHEMA, "strict": True}
    body = _create(
        ctx,
        input="Name the capital of France and its country.",
        max_output_tokens=MAX_OUTPUT,
        text={"format": text_format},
        decline_param="text",
    )
    if body.get("status") == "incomplete":
        return skipped(f"the reply was cut by max_output_tokens {MAX_OUTPUT}: the check needs the whole JSON")
    text = _text(body)
    try:
        value = json.loads(text or "")
    except ValueError:
        findings.add(Oracle.BEHAVIOUR, f"output_text is not JSON with a strict json_schema format: {str(text)[:80]!r}")
        return findings.fail()
    missing = [key for key in ANSWER_SCHEMA["required"] if not isinstance(value, dict) or key not in value]
    findings.expect(not missing, Oracle.BEHAVIOUR, f"the JSON lacks {missing} the strict schema requires: {text!r}")
    parsed = ctx.call_sdk(
        lambda: client.responses.parse(
            model=ctx.chat_model,
            input="Name the capital of France and its country.",
            max_output_tokens=MAX_OUTPUT,
            text_format=Place,
            temperature=0,
        )
    )
    findings.expect(
        isinstance(parsed.output_parsed, Place),
        Oracle.SDK,
        f"responses.parse(): output_parsed is {type(parsed.output_parsed).__name__}, expected the parsed object",
    )
    return findings.outcome(f"schema-valid JSON: {str(text)[:60]}", Oracle.BEHAVIOUR)


# --- request fields ---------------------------------------------------------------------------

INSTRUCTIONS = "You are a terse assistant. Answer in one short sentence."
METADATA = {"suite": "openai-conformance", "feature": "responses.metadata"}
# a multi-turn history: every role, content as a string, as input_text parts, and the explicit item form
HISTORY: Any = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "developer", "content": [{"type": "input_text", "text": "Answer in one short sentence."}]},
    {"role": "user", "content": "My favourite colour is blue."},
    {"role": "assistant", "content": "Noted: blue."},
    {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Reply with one short sentence"},
            {"type": "input_text", "text": "about my favourite colour."},
        ],
    },
]
IMAGE_QUESTION = "What colour is this square? Answer in one word."


def _expect_text(findings: Findings, body: dict[str, Any]) -> str:
    """The reply text; none (no assistant message with output_text) is a problem, unless the model spent
    the whole max_output_tokens before writing any (a reasoning model may): that is its choice."""
    text = _text(body)
    if not (text and text.strip()) and body.get("status") == "incomplete":
        findings.note(f"max_output_tokens {MAX_OUTPUT} ran out before any reply text (the model's choice)")
        return ""
    findings.expect(
        bool(text and text.strip()),
        Oracle.BEHAVIOUR,
        f"output: received {compact(body.get('output'), 100)}, expected an assistant message with text",
    )
    return text or ""


def _input_tokens(body: dict[str, Any]) -> Any:
    usage = body.get("usage")
    return usage.get("input_tokens") if isinstance(usage, dict) else None


def _expect_read(findings: Findings, what: str, with_it: dict[str, Any], without: dict[str, Any]) -> None:
    """``what`` reached the model: the input it counts (usage.input_tokens) grows with it. A server
    that reports no usage is not measured here (responses.create.shape judges usage)."""
    after, before = _input_tokens(with_it), _input_tokens(without)
    if not (isinstance(after, int) and isinstance(before, int)):
        findings.note(f"usage.input_tokens not reported ({after!r}, {before!r}): whether {what} was read is unknown")
        return
    findings.expect(
        after > before,
        Oracle.BEHAVIOUR,
        f"usage.input_tokens {after} with {what}, {before} without: {what} never reached the model",
    )


@check("responses.instructions")
def instructions(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = _create(
        ctx, input=PROMPT, instructions=INSTRUCTIONS, max_output_tokens=MAX_OUTPUT, decline_param="instructions"
    )
    text = _expect_text(findings, body)
    if "instructions" not in body:
        findings.add(Oracle.SCHEMA, "the Response has no `instructions` (OpenAI's Response always carries it)")
    elif body["instructions"] is None:
        findings.add(Oracle.BEHAVIOUR, f"instructions: received None (none given, it says), expected {INSTRUCTIONS!r}")
    else:
        findings.expect(
            body["instructions"] == INSTRUCTIONS,
            Oracle.BEHAVIOUR,
            f"instructions: received {compact(body['instructions'], 80)}, expected {INSTRUCTIONS!r}",
        )
    _expect_read(findings, "the instructions", body, _create(ctx, input=PROMPT, max_output_tokens=CUT_AT))
    return findings.outcome(f"answered {text[:40]!r}; the Response echoes the instructions", Oracle.BEHAVIOUR)


@check("responses.input.items")
def input_items(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = _create(ctx, input=HISTORY, max_output_tokens=MAX_OUTPUT, decline_param="input")
    text = _expect_text(findings, body)
    return findings.outcome(
        f"a history of system, developer, user and assistant items answered: {text[:40]!r}", Oracle.BEHAVIOUR
    )


def _same_number(received: Any, sent: float) -> bool:
    return isinstance(received, (int, float)) and not isinstance(received, bool) and abs(received - sent) < 1e-6


def _sampled(ctx: CheckContext, field: str, good: list[float], bad: float) -> Outcome:
    """In-range values are honoured (200) and echoed by the Response; an out-of-range value is a 400
    naming the field: chat's rule (``judge_invalid_value``). Nothing else is sampled, so that a server
    refusing temperature and top_p together is not provoked."""

    def send(value: float, decline_param: str | None) -> dict[str, Any]:
        request = {"model": ctx.chat_model, "input": PROMPT, "max_output_tokens": CUT_AT, field: value}
        return json_object(ctx.require_ok(ctx.wire.post("responses", request), decline_param=decline_param))

    findings = Findings()
    for value in good:
        body = send(value, field)
        echoed = repr(body[field]) if field in body else "nothing"
        findings.expect(
            _same_number(body.get(field), value),
            Oracle.BEHAVIOUR,
            f"{field}: the Response reports {echoed} for a request sampled at {value}",
        )
    try:
        send(bad, None)
        refusal = None
    except StatusError as error:
        refusal = error.body
    judge_invalid_value(findings, field, bad, refusal)
    return findings.outcome(
        f"{field} {', '.join(map(str, good))} accepted and echoed; {bad} rejected with 400 param {field!r}",
        Oracle.BEHAVIOUR,
    )


@check("responses.params.temperature")
def params_temperature(ctx: CheckContext) -> Outcome:
    return _sampled(ctx, "temperature", [0, 1.5], 2.5)


@check("responses.params.top_p")
def params_top_p(ctx: CheckContext) -> Outcome:
    return _sampled(ctx, "top_p", [0.5], 1.5)


@check("responses.metadata")
def metadata(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = _create(ctx, input=PROMPT, metadata=METADATA, max_output_tokens=CUT_AT, decline_param="metadata")
    findings.expect(
        body.get("metadata") == METADATA,
        Oracle.BEHAVIOUR,
        f"metadata: received {compact(body.get('metadata'), 100)}, expected {METADATA}",
    )
    response_id = body.get("id")
    if not isinstance(response_id, str) or not response_id:  # responses.create.shape judges the id
        findings.note("the Response has no id: the stored metadata was not read")
        return findings.outcome("metadata echoed in the Response", Oracle.BEHAVIOUR)
    kept = ctx.wire.get(f"responses/{response_id}")
    again = kept.json_or_none() if 200 <= kept.status < 300 else None
    if isinstance(again, dict) and again.get("id") == response_id:
        findings.expect(
            again.get("metadata") == METADATA,
            Oracle.BEHAVIOUR,
            f"GET /responses/{{id}}: metadata {compact(again.get('metadata'), 100)}, expected {METADATA}",
        )
    else:  # whether responses are kept is responses.retrieve's business
        ctx.aside(kept, "whether the stored Response keeps its metadata")
        findings.note(f"GET /responses/{{id}} answered HTTP {kept.status}: the stored metadata was not read")
    return findings.outcome("metadata echoed in the Response", Oracle.BEHAVIOUR)


@check("responses.store_false")
def store_false(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = _create(ctx, input=PROMPT, store=False, max_output_tokens=CUT_AT, decline_param="store")
    response_id = body.get("id")
    if not isinstance(response_id, str) or not response_id:
        raise StopCheck(nonconformant(f"id: received {response_id!r}, expected the response's id", Oracle.BEHAVIOUR))
    kept = ctx.wire.get(f"responses/{response_id}")
    if 200 <= kept.status < 300:
        again = kept.json_or_none()
        if isinstance(again, dict) and again.get("id") == response_id:
            return nonconformant(
                f"GET /responses/{{id}} returns the response created with store: false (HTTP {kept.status}): "
                "it was kept although the caller asked that it not be",
                Oracle.BEHAVIOUR,
            )
        findings.add(
            Oracle.WIRE,
            f"GET /responses/{{id}} of a response created with store: false answered HTTP {kept.status} "
            f"({kept.body[:80]!r}), expected 404",
        )
    elif kept.status != 404:
        findings.add(
            Oracle.SDK,
            f"GET /responses/{{id}} of a response created with store: false: HTTP {kept.status} makes the SDK "
            f"raise {exception_name_for_status(kept.status)}, expected 404 (NotFoundError)",
        )
    elif problems := envelope_problems(error_body_of(kept)):
        findings.note(f"the 404 is not in OpenAI's error envelope: {problems[0]}")
    return findings.outcome("not kept: GET /responses/{id} answers 404", Oracle.BEHAVIOUR)


@check("responses.image_input")
def image_input(ctx: CheckContext) -> Outcome:
    findings = Findings()
    png = base64.b64encode(fixture_bytes("images/red-square.png")).decode()
    question = {"type": "input_text", "text": IMAGE_QUESTION}
    image = {"type": "input_image", "image_url": f"data:image/png;base64,{png}", "detail": "low"}
    with_image, text_only = [{"role": "user", "content": [question, image]}], [{"role": "user", "content": [question]}]
    body = _create(ctx, model=ctx.vision_model, input=with_image, max_output_tokens=MAX_OUTPUT)
    text = _expect_text(findings, body)
    alone = _create(ctx, model=ctx.vision_model, input=text_only, max_output_tokens=CUT_AT)
    _expect_read(findings, "the image", body, alone)
    return findings.outcome(f"an input_image part (data URL) answered: {text[:40]!r}", Oracle.BEHAVIOUR)


# --- errors -----------------------------------------------------------------------------------

UNKNOWN_RESPONSE_ID = "resp_conformance_no_such_response_7f3a"


def _refusal(ctx: CheckContext, **fields: Any) -> WireResponse:
    """POST /responses that the server must refuse. A 404 is also what a server without a Responses
    API answers: then a valid request is sent, and its decline (unsupported) escapes for the engine."""
    response = ctx.wire.post(
        "responses", {"model": ctx.chat_model, "input": PROMPT, "max_output_tokens": CUT_AT, **fields}
    )
    if response.status == 404:
        _create(ctx, input=PROMPT, max_output_tokens=CUT_AT)
    return response


@check("responses.errors.unknown_model")
def errors_unknown_model(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = error_body_of(_refusal(ctx, model=UNKNOWN_MODEL))
    judge_error(findings, body, status=404, what=f"POST /responses with model {UNKNOWN_MODEL!r}")
    if findings.ok and body.code != "model_not_found":
        findings.note(f"error.code is {body.code!r}; OpenAI sends 'model_not_found' (recommended)")
    return findings.outcome("404 in the OpenAI envelope (NotFoundError) for an unknown model", Oracle.WIRE)


@check("responses.unknown_parameter")
def unknown_parameter(ctx: CheckContext) -> Outcome:
    """Judged as chat's ``errors.unknown_parameter`` judges it: ignoring an unknown field (200) and
    refusing it (400 naming it, as OpenAI does) are both honest; 422, 5xx or a nameless refusal is not."""
    what = f"{UNKNOWN_FIELD}: true"
    findings = Findings()
    response = _refusal(ctx, **{UNKNOWN_FIELD: True})
    if 200 <= response.status < 300:
        findings.note(
            f"{UNKNOWN_FIELD!r} was accepted and ignored ({response.status}); OpenAI refuses it with 400 naming it"
        )
        return findings.outcome("accepted and ignored (200), which is honest", Oracle.WIRE)
    body = error_body_of(response)
    judge_error(findings, body, status=400, what=what)
    expect_named(findings, body, what, param=UNKNOWN_FIELD, word=UNKNOWN_FIELD)
    return findings.outcome(f"refused: 400 in the OpenAI envelope naming {UNKNOWN_FIELD!r}", Oracle.WIRE)


@check("responses.previous_response_id.unknown")
def previous_response_id_unknown(ctx: CheckContext) -> Outcome:
    findings = Findings()
    response = _refusal(ctx, previous_response_id=UNKNOWN_RESPONSE_ID)
    if 200 <= response.status < 300:
        return nonconformant(
            f"previous_response_id {UNKNOWN_RESPONSE_ID!r}, which names no response, was answered HTTP "
            f"{response.status}: the conversation the caller meant to continue was silently lost",
            Oracle.BEHAVIOUR,
        )
    body = error_body_of(response)
    status = body.status if body.status in (400, 404) else 400
    judge_error(findings, body, status=status, param="previous_response_id", what="an unknown previous_response_id")
    return findings.outcome(f"HTTP {body.status} in the OpenAI envelope with param 'previous_response_id'", Oracle.WIRE)


# What a server must refuse in `input`, how the refusal must name it, and what serving it means. The
# unknown role comes before a valid turn: a server that drops what it does not know still has a
# prompt and answers 200, which is how the silent loss shows.
INVALID_INPUTS: Any = (
    (
        'an input item with role "wizard"',
        [{"role": "wizard", "content": "You are a wizard."}, {"role": "user", "content": "Say hi."}],
        "role",
        "the unknown role was dropped or reinterpreted, and the caller never learns it",
    ),
    ("input: 42", 42, "input", "an input that is neither a string nor a list of items was served"),
)


@check("responses.errors.invalid_input")
def errors_invalid_input(ctx: CheckContext) -> Outcome:
    findings = Findings()
    for what, value, word, accepted in INVALID_INPUTS:
        response = _refusal(ctx, input=value)
        if 200 <= response.status < 300:
            findings.add(Oracle.BEHAVIOUR, f"{what} was answered HTTP {response.status}: {accepted}")
            continue
        body = error_body_of(response)
        judge_error(findings, body, status=400, what=what)
        expect_named(findings, body, what, param="input", word=word)
    return findings.outcome("400 in the OpenAI envelope naming `input` (an unknown role, a wrong type)", Oracle.WIRE)


# --- function calls ---------------------------------------------------------------------------


def _function_call_problems(calls: list[dict[str, Any]], where: str = "output") -> list[str]:
    problems = []
    if not calls:
        return [f"{where}: no function_call item where tool_choice forces one"]
    for position, call in enumerate(calls):
        at = f"{where} function_call[{position}]"
        if not (isinstance(call.get("call_id"), str) and call["call_id"]):
            problems.append(f"{at}.call_id: received {call.get('call_id')!r}, expected a non-empty string")
        if call.get("name") != WEATHER_TOOL["name"]:
            problems.append(f"{at}.name: received {call.get('name')!r}, expected {WEATHER_TOOL['name']!r}")
        if not isinstance(call.get("arguments"), str):
            problems.append(f"{at}.arguments is a {type(call.get('arguments')).__name__}, expected a JSON string")
    return problems


@check("responses.tools.function")
def tools_function(ctx: CheckContext) -> Outcome:
    findings = Findings()
    for choice in ("required", {"type": "function", "name": WEATHER_TOOL["name"]}):
        body = _create(
            ctx,
            model=ctx.tools_model,
            input=WEATHER_INPUT,
            tools=[WEATHER_TOOL],
            tool_choice=choice,
            max_output_tokens=96,
            decline_param=("tools", "tool_choice"),
        )
        findings.extend(
            Oracle.BEHAVIOUR, _function_call_problems(_items(body, "function_call"), f"tool_choice {choice!r}:")
        )
    return findings.outcome("tool_choice required and named each answer a function_call item", Oracle.BEHAVIOUR)


@check("responses.tools.round_trip")
def tools_round_trip(ctx: CheckContext) -> Outcome:
    findings = Findings()
    call_id = "call_conformance_weather"
    history = [
        {"role": "user", "content": WEATHER_INPUT},
        {
            "type": "function_call",
            "call_id": call_id,
            "name": WEATHER_TOOL["name"],
            "arguments": json.dumps({"city": "Paris", "unit": "celsius"}),
        },
        {"type": "function_call_output", "call_id": call_id, "output": json.dumps({"temperature": 18, "sky": "clear"})},
    ]
    body = _create(
        ctx,
        model=ctx.tools_model,
        input=history,
        tools=[WEATHER_TOOL],
        max_output_tokens=MAX_OUTPUT,
        decline_param="tools",
    )
    answered = _items(body, "message") or _items(body, "function_call")
    findings.expect(
        bool(answered), Oracle.BEHAVIOUR, f"output: received {compact(body.get('output'), 100)}, expected an answer"
    )
    if _items(body, "function_call") and not _items(body, "message"):
        findings.note("the model called the tool again instead of answering (the model's choice)")
    return findings.outcome("a history of function_call and function_call_output is answered", Oracle.BEHAVIOUR)


# --- stored responses -------------------------------------------------------------------------


@check("responses.previous_response_id")
def previous_response_id(ctx: CheckContext) -> Outcome:
    findings = Findings()
    first = _create(ctx, input="Remember the word lighthouse.", max_output_tokens=MAX_OUTPUT)
    alone = _create(ctx, input="Which word did I ask you to remember?", max_output_tokens=MAX_OUTPUT, store=False)
    then = _create(
        ctx,
        input="Which word did I ask you to remember?",
        max_output_tokens=MAX_OUTPUT,
        previous_response_id=first.get("id"),
        decline_param="previous_response_id",
    )
    findings.expect(
        then.get("previous_response_id") == first.get("id"),
        Oracle.BEHAVIOUR,
        f"previous_response_id: received {then.get('previous_response_id')!r}, expected {first.get('id')!r}",
    )
    before = (alone.get("usage") or {}).get("input_tokens")
    after = (then.get("usage") or {}).get("input_tokens")
    findings.expect(
        isinstance(before, int) and isinstance(after, int) and after > before,
        Oracle.BEHAVIOUR,
        f"usage.input_tokens {after} with previous_response_id, {before} without: the earlier turn was not "
        "part of the input",
    )
    return findings.outcome(f"continued: input_tokens {before} alone, {after} with the earlier turn", Oracle.BEHAVIOUR)


@check("responses.retrieve")
def retrieve(ctx: CheckContext) -> Outcome:
    findings = Findings()
    created = _create(ctx, input=PROMPT, max_output_tokens=MAX_OUTPUT)
    response_id = created.get("id")
    if not isinstance(response_id, str) or not response_id:
        raise StopCheck(nonconformant(f"id: received {response_id!r}, expected the response's id", Oracle.BEHAVIOUR))
    again = json_object(ctx.require_ok(ctx.wire.get(f"responses/{response_id}")))
    findings.expect(again.get("id") == response_id, Oracle.BEHAVIOUR, f"GET returned id {again.get('id')!r}")
    findings.expect(
        _text(again) == _text(created),
        Oracle.BEHAVIOUR,
        f"the retrieved text {_text(again)!r} differs from the created {_text(created)!r}",
    )
    items = json_object(ctx.require_ok(ctx.wire.get(f"responses/{response_id}/input_items")))
    data = items.get("data")
    findings.expect(
        isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict) and data[0].get("role") == "user",
        Oracle.BEHAVIOUR,
        f"GET /responses/{{id}}/input_items: received {compact(data, 100)}, expected the one user message",
    )
    # OpenAI's spec gives DELETE a bare 200 and the SDK returns None whatever the body: an empty body is
    # as good as OpenAI's {"id", "object", "deleted": true}, but a body that says it was not deleted is not
    deleted = ctx.require_ok(ctx.wire.request("DELETE", f"responses/{response_id}"))
    said = deleted.json_or_none()
    findings.expect(
        not isinstance(said, dict) or said.get("deleted") is not False,
        Oracle.BEHAVIOUR,
        f"DELETE /responses/{{id}}: received {compact(said, 100)}",
    )
    gone = ctx.wire.get(f"responses/{response_id}")
    findings.expect(gone.status == 404, Oracle.BEHAVIOUR, f"GET after DELETE: HTTP {gone.status}, expected 404")
    return findings.outcome("retrieved by id, its input items listed, deleted (then 404)", Oracle.BEHAVIOUR)


# --- the event stream -------------------------------------------------------------------------


@check("responses.stream.event_lines")
def stream_event_lines(ctx: CheckContext) -> Outcome:
    findings = Findings()
    stream = responses_text_stream(ctx)
    content_type = stream.response.content_type
    findings.expect(
        content_type.lower().startswith("text/event-stream"),
        Oracle.WIRE,
        f"`stream: true`: Content-Type received {content_type or 'none'!r}, expected text/event-stream",
    )
    if not any(True for _ in stream.sse.data_events()):
        findings.add(Oracle.WIRE, "`stream: true` was answered with no event")
    for event in stream.sse.data_events():
        data = event.json() if event.data.strip().startswith("{") else None
        kind = data.get("type") if isinstance(data, dict) else None
        if event.event != kind:
            findings.add(
                Oracle.WIRE, f"line {event.line}: `event: {event.event}` for data of type {kind!r}, expected them equal"
            )
            break
    return findings.outcome("every event's `event:` line names its data's type", Oracle.WIRE)


# the events that end a stream with its final Response: a reply cut by max_output_tokens (the model
# wrote past the suite's budget) ends incomplete, which is as final
FINISHED = ("response.completed", "response.incomplete")


def _events(ctx: CheckContext) -> list[dict[str, Any]]:
    """The typed events of the shared stream. None at all is responses.stream.event_lines' failure:
    the features that judge the events' details have nothing to judge (as for chat's chunks)."""
    stream = responses_text_stream(ctx)
    events = [value for _, value in stream.sse.json_chunks() if isinstance(value, dict)]
    if not events:
        content_type = stream.response.content_type or "none"
        raise StopCheck(skipped(f"no Responses event to judge: `stream: true` was answered {content_type}"))
    return events


@check("responses.stream.lifecycle")
def stream_lifecycle(ctx: CheckContext) -> Outcome:
    findings = Findings()
    events = _events(ctx)
    kinds = [str(event.get("type")) for event in events]
    findings.expect(
        kinds[:2] == ["response.created", "response.in_progress"], Oracle.BEHAVIOUR, f"first events: {kinds[:2]}"
    )
    findings.expect(kinds[-1] in FINISHED, Oracle.BEHAVIOUR, f"last event: {kinds[-1]!r}, expected one of {FINISHED}")
    if kinds[-1] == "response.incomplete":
        findings.note(f"the reply was cut by max_output_tokens {MAX_OUTPUT} (the model's length): response.incomplete")
    for needed in ("response.output_item.added", "response.content_part.added", "response.output_text.delta"):
        findings.expect(needed in kinds, Oracle.BEHAVIOUR, f"no {needed} event in {compact(sorted(set(kinds)), 160)}")
    findings.extend(Oracle.BEHAVIOUR, _addressing_problems(events)[:3])
    return findings.outcome(
        f"{len(kinds)} events, created → in_progress → … → {kinds[-1]}, each addressed to its item and part",
        Oracle.BEHAVIOUR,
    )


# events about one output item (they carry item_id and output_index), and those about one of its
# content parts (content_index too); the item's own added/done events carry output_index and the item
PART_EVENTS = ("response.content_part.", "response.output_text.", "response.refusal.")
ITEM_EVENTS = (*PART_EVENTS, "response.function_call_arguments.")


def _addressing_problems(events: list[dict[str, Any]]) -> list[str]:
    """Where each item event points: the ``output_index`` of an item added before it, that item's id
    as ``item_id``, and for a part's events the ``content_index`` of a part added before them. A
    client places every delta by these (the Vercel AI SDK drops an event without ``output_index``)."""
    problems: list[str] = []
    items: dict[int, Any] = {}  # output_index -> the added item's id
    parts: set[tuple[int, int]] = set()
    for event in events:
        kind, at = str(event.get("type")), f"{event.get('type')} (sequence_number {event.get('sequence_number')})"
        index: Any = event.get("output_index")
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = event.get("item")
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(index, int):
                problems.append(f"{at}: output_index {index!r}, expected the item's integer position")
            elif kind.endswith(".added"):
                items[index] = item_id
            elif index in items and items[index] != item_id:
                problems.append(f"{at}: item.id {item_id!r} at output_index {index}, added as {items[index]!r}")
            continue
        if not kind.startswith(ITEM_EVENTS):
            continue
        if not isinstance(index, int) or index not in items:
            problems.append(f"{at}: output_index {index!r} names no item added before it (added: {sorted(items)})")
            continue
        if event.get("item_id") != items[index]:
            problems.append(
                f"{at}: item_id {event.get('item_id')!r}, but the item at output_index {index} is {items[index]!r}"
            )
        if kind.startswith(PART_EVENTS):
            part: Any = event.get("content_index")
            if kind == "response.content_part.added" and isinstance(part, int):
                parts.add((index, part))
            elif (index, part) not in parts:
                problems.append(f"{at}: content_index {part!r} names no content part added to item {index}")
    return problems


@check("responses.stream.sequence_number")
def stream_sequence_number(ctx: CheckContext) -> Outcome:
    findings = Findings()
    numbers: list[Any] = [event.get("sequence_number") for event in _events(ctx)]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        findings.add(Oracle.SCHEMA, f"sequence_number missing or not an integer: {compact(numbers, 100)}")
    elif any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
        findings.add(Oracle.BEHAVIOUR, f"sequence_number not strictly increasing: {compact(numbers, 100)}")
    return findings.outcome(f"sequence_number {numbers[0]}…{numbers[-1]}, strictly increasing", Oracle.SCHEMA)


@check("responses.stream.deltas")
def stream_deltas(ctx: CheckContext) -> Outcome:
    findings = Findings()
    events = _events(ctx)
    deltas = "".join(str(e.get("delta")) for e in events if e.get("type") == "response.output_text.delta")
    done = [e.get("text") for e in events if e.get("type") == "response.output_text.done"]
    final = [e.get("response") for e in events if e.get("type") in FINISHED]
    final_text = _text(final[-1]) if final and isinstance(final[-1], dict) else None
    findings.expect(bool(deltas), Oracle.BEHAVIOUR, "no response.output_text.delta carried text")
    findings.expect(
        done == [deltas], Oracle.BEHAVIOUR, f"output_text.done {compact(done, 80)} != the deltas {deltas!r}"
    )
    findings.expect(final_text == deltas, Oracle.BEHAVIOUR, f"the final response's text {final_text!r} != the deltas")
    return findings.outcome(f"deltas, done text and final text agree: {deltas[:40]!r}", Oracle.BEHAVIOUR)


@check("responses.stream.sdk_helper")
def stream_sdk_helper(ctx: CheckContext) -> Outcome:
    client = ctx.sdk(strict=True)

    def attempt(budget: int) -> Trial:
        def run() -> tuple[str, Any]:
            deltas, cut = [], False
            with client.responses.stream(
                model=ctx.chat_model, input=PROMPT, max_output_tokens=budget, temperature=0
            ) as stream:
                for event in stream:
                    if event.type == "response.output_text.delta":
                        deltas.append(event.delta)
                    cut = cut or event.type == "response.incomplete"
                # get_final_response() wants response.completed, by design: a reply cut by the suite's
                # budget (response.incomplete) says nothing about the server
                return "".join(deltas), None if cut else stream.get_final_response()

        try:
            deltas, final = ctx.call_sdk(run)
        except RuntimeError as error:  # the helper's own complaint: an event it needs never came
            raise StopCheck(nonconformant(f"client.responses.stream(): {error}", Oracle.SDK)) from None
        findings = Findings()
        if final is None:
            return Trial(findings, f"{len(deltas)} characters, then response.incomplete", cut=True)
        findings.expect(
            final.output_text == deltas and deltas != "",
            Oracle.SDK,
            f"get_final_response().output_text {final.output_text!r} != the streamed deltas {deltas!r}",
        )
        return Trial(findings, f"assembled {deltas[:40]!r}", value=deltas)

    trials = run_trials(ctx, attempt, budget=MAX_OUTPUT, repeat=False, budget_field="max_output_tokens")
    if trials.decision is Decision.BUDGET:
        return skipped(
            f"the reply ended with response.incomplete at max_output_tokens {MAX_OUTPUT}, then at "
            f"{trials.runs[-1][0]}: get_final_response() needs response.completed, and the budget is the suite's"
        )
    return trials.outcome(
        f"client.responses.stream() assembled {str(trials.last.value)[:40]!r}", Oracle.SDK, model_fails=False
    )


@check("responses.stream.function_call_arguments")
def stream_function_call_arguments(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = {
        "model": ctx.tools_model,
        "input": WEATHER_INPUT,
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
        "max_output_tokens": 96,
        "temperature": 0,
        "stream": True,
    }
    response = ctx.require_ok(ctx.wire.post("responses", body), decline_param=("tools", "tool_choice"))
    events = [value for _, value in response.sse().json_chunks() if isinstance(value, dict)]
    if not events:  # responses.stream.event_lines judges a stream with no event at all
        raise StopCheck(
            skipped(f"no Responses event to judge: `stream: true` was answered {response.content_type or 'none'}")
        )
    deltas: dict[Any, list[str]] = {}
    done: dict[Any, Any] = {}
    for event in events:
        if event.get("type") == "response.function_call_arguments.delta":
            deltas.setdefault(event.get("item_id"), []).append(str(event.get("delta")))
        elif event.get("type") == "response.function_call_arguments.done":
            done[event.get("item_id")] = event.get("arguments")
    final = next((e.get("response") for e in reversed(events) if e.get("type") in FINISHED), None)
    calls = {item.get("id"): item.get("arguments") for item in _items(final, "function_call")} if final else {}
    if not done:
        raise StopCheck(
            nonconformant(
                f"no response.function_call_arguments.done event where tool_choice 'required' forces a call "
                f"(function_call items in the final Response: {len(calls)})",
                Oracle.BEHAVIOUR,
            )
        )
    # the SDK's stream helper places each delta in the item output_item.added announced at its
    # output_index (a delta before it raises), and takes the finished call from output_item.done
    findings.extend(Oracle.BEHAVIOUR, _addressing_problems(events)[:3])
    finished_items = {
        event["item"].get("id"): event["item"].get("arguments")
        for event in events
        if event.get("type") == "response.output_item.done"
        and isinstance(event.get("item"), dict)
        and event["item"].get("type") == "function_call"
    }
    for item_id, arguments in done.items():
        findings.expect(
            finished_items.get(item_id) == arguments,
            Oracle.BEHAVIOUR,
            f"item {item_id!r}: response.output_item.done carried arguments {finished_items.get(item_id)!r}, "
            f"expected the .done arguments {arguments!r}",
        )
        if item_id not in deltas:
            # OpenAI's own models do this (gpt-5.3-codex-spark: BerriAI/litellm#27144), so clients must
            # read .done: a note, though Open Responses' streamed tool-calling test asks for a delta
            findings.note(f"item {item_id!r}: the arguments came whole in .done, with no delta before it")
        else:
            streamed = "".join(deltas[item_id])
            findings.expect(
                streamed == arguments,
                Oracle.BEHAVIOUR,
                f"item {item_id!r}: the argument deltas {streamed!r} != the .done arguments {arguments!r}",
            )
        if final is not None:
            findings.expect(
                calls.get(item_id) == arguments,
                Oracle.BEHAVIOUR,
                f"item {item_id!r}: the completed Response's arguments {calls.get(item_id)!r} "
                f"!= the .done arguments {arguments!r}",
            )
    findings.expect(final is not None, Oracle.BEHAVIOUR, f"none of {FINISHED} carried the final Response")
    return findings.outcome(
        f"{len(done)} call(s): the argument deltas, .done and the final item agree", Oracle.BEHAVIOUR
    )


@check("responses.stream.default_json")
def stream_default_json(ctx: CheckContext) -> Outcome:
    """POST /responses without ``stream`` (as the SDK sends ``create()`` without stream=True): one
    Response as JSON, since ``stream`` defaults to false."""
    findings = Findings()
    body = {"model": ctx.chat_model, "input": PROMPT, "max_output_tokens": MAX_OUTPUT, "temperature": 0}
    response = ctx.require_ok(ctx.wire.post("responses", body))
    content_type = response.content_type
    if content_type.lower().startswith("text/event-stream") or response.body.lstrip().startswith((b"event:", b"data:")):
        return nonconformant(
            f"a request without `stream` was answered with an event stream ({content_type or 'no content-type'}), "
            "where `stream` defaults to false: client.responses.create() without stream=True gets the raw SSE "
            "text as a str instead of a Response",
            Oracle.WIRE,
        )
    findings.expect(
        content_type.split(";")[0].strip().lower().endswith("json"),
        Oracle.WIRE,
        f"Content-Type: received {content_type!r}, expected application/json",
    )
    value = json_object(response)
    findings.expect(
        value.get("object") == "response", Oracle.WIRE, f"object: received {value.get('object')!r}, expected 'response'"
    )
    return findings.outcome(f"without `stream`: one Response, {content_type}", Oracle.WIRE)


def _stream_error_problems(event: Any, value: dict[str, Any]) -> list[str]:
    """What keeps one error-reporting event from being one of OpenAI's typed stream errors."""
    at = f"line {event.line}"
    kind = value.get("type")
    if kind == "error":
        problems = [f"{at}: the error event {p}" for p in oracle.validate(value, "ResponseErrorEvent")]
        if not (isinstance(value.get("message"), str) and value["message"]):
            problems.append(f"{at}: the error event {compact(value, 100)} carries no top-level message")
        return problems
    if kind == "response.failed":
        response = value.get("response")
        error = response.get("error") if isinstance(response, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"]:
            return []
        return [f"{at}: response.failed without response.error {{code, message}} ({compact(error, 100)})"]
    if kind is None and "error" in value:
        return [
            f"{at}: the error came as the HTTP error envelope {compact(value, 100)} in a data frame, not as a "
            "typed event: Responses clients dispatch on `type`, and OpenAI's stream has no such event "
            "(openai-python raises it only because it looks for data.error)"
        ]
    return [f"{at}: `event: error` whose data {compact(value, 100)} is not a typed `error` event"]


@check("responses.stream.error_event")
def stream_error_event(ctx: CheckContext) -> Outcome:
    """A streamed request the server must refuse (``temperature: "hot"``): refused before streaming, or
    reported inside the stream as a typed ``error`` event or ``response.failed``."""
    findings = Findings()
    what = 'stream: true with temperature: "hot"'
    body = {"model": ctx.chat_model, "input": PROMPT, "max_output_tokens": CUT_AT, "temperature": "hot"}
    response = ctx.wire.post("responses", {**body, "stream": True})
    if response.status >= 300:
        # a server that streams no Responses (a 404, or a 400 naming `stream`) declines a valid stream
        # too: that decline escapes for the engine (unsupported); the stream is shared, so seldom resent
        responses_text_stream(ctx)
        judge_error(findings, error_body_of(response), status=400, param="temperature", what=what)
        return findings.outcome("refused before streaming: 400 in the OpenAI envelope (BadRequestError)", Oracle.WIRE)
    events = [(event, value) for event, value in response.sse().json_chunks() if isinstance(value, dict)]
    reported = [
        (event, value)
        for event, value in events
        if event.event == "error"
        or value.get("type") in ("error", "response.failed")
        or ("type" not in value and "error" in value)
    ]
    kinds = [value.get("type") for _, value in events]
    if not reported:
        if any(kind in FINISHED for kind in kinds):
            findings.add(
                Oracle.BEHAVIOUR,
                f"{what} was answered 200 with an ordinary stream: the invalid request is silently accepted",
            )
        else:
            findings.add(
                Oracle.WIRE,
                f"the 200 stream ended after {len(events)} event(s) ({compact(kinds, 100)}) with no terminal event "
                "and no error: the client is left with a cut stream and nothing to raise",
            )
        return findings.fail()
    for event, value in reported:
        findings.extend(Oracle.WIRE, _stream_error_problems(event, value))
    typed = f"`{reported[0][1].get('type')}` event"
    if findings.ok:
        findings.note(f"the error came after a 200, as a {typed}, which openai-python yields rather than raises")
    return findings.outcome(f"refused in the stream, with a typed {typed}", Oracle.WIRE)

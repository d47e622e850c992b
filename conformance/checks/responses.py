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

import json
from typing import Any

import pydantic

from conformance.checks._common import (
    RESPONSES_PROMPT,
    UNKNOWN_FIELD,
    UNKNOWN_MODEL,
    WEATHER,
    compact,
    json_object,
    strict_sdk_json,
)
from conformance.checks._judges import error_body_of, judge_error
from conformance.checks._requests import responses_text_stream
from conformance.context import CheckContext
from conformance.registry import check
from conformance.sdk import oracle
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
    findings = Findings()
    response = _refusal(ctx, **{UNKNOWN_FIELD: True})
    if 200 <= response.status < 300:
        return nonconformant(
            f"{UNKNOWN_FIELD!r} was accepted and ignored (HTTP {response.status}): a misspelt field is dropped "
            "unseen, where OpenAI's Responses API refuses it with 400 naming it",
            Oracle.BEHAVIOUR,
        )
    judge_error(findings, error_body_of(response), status=400, param=UNKNOWN_FIELD, what=f"{UNKNOWN_FIELD}: true")
    return findings.outcome(f"400 in the OpenAI envelope with param {UNKNOWN_FIELD!r}", Oracle.WIRE)


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
    body = _create(ctx, input=history, tools=[WEATHER_TOOL], max_output_tokens=MAX_OUTPUT, decline_param="tools")
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
    deleted = json_object(ctx.require_ok(ctx.wire.request("DELETE", f"responses/{response_id}")))
    findings.expect(
        deleted.get("deleted") is True and deleted.get("id") == response_id,
        Oracle.BEHAVIOUR,
        f"DELETE /responses/{{id}}: received {compact(deleted, 100)}",
    )
    gone = ctx.wire.get(f"responses/{response_id}")
    findings.expect(gone.status == 404, Oracle.BEHAVIOUR, f"GET after DELETE: HTTP {gone.status}, expected 404")
    return findings.outcome("retrieved by id, its input items listed, deleted (then 404)", Oracle.BEHAVIOUR)


# --- the event stream -------------------------------------------------------------------------


@check("responses.stream.event_lines")
def stream_event_lines(ctx: CheckContext) -> Outcome:
    findings = Findings()
    stream = responses_text_stream(ctx)
    for event in stream.sse.data_events():
        data = event.json() if event.data.strip().startswith("{") else None
        kind = data.get("type") if isinstance(data, dict) else None
        if event.event != kind:
            findings.add(
                Oracle.WIRE, f"line {event.line}: `event: {event.event}` for data of type {kind!r}, expected them equal"
            )
            break
    return findings.outcome("every event's `event:` line names its data's type", Oracle.WIRE)


def _events(ctx: CheckContext) -> list[dict[str, Any]]:
    events = [value for _, value in responses_text_stream(ctx).sse.json_chunks() if isinstance(value, dict)]
    if not events:
        raise StopCheck(nonconformant("the stream held no JSON event", Oracle.WIRE))
    return events


@check("responses.stream.lifecycle")
def stream_lifecycle(ctx: CheckContext) -> Outcome:
    findings = Findings()
    kinds = [str(event.get("type")) for event in _events(ctx)]
    findings.expect(
        kinds[:2] == ["response.created", "response.in_progress"], Oracle.BEHAVIOUR, f"first events: {kinds[:2]}"
    )
    findings.expect(kinds[-1] == "response.completed", Oracle.BEHAVIOUR, f"last event: {kinds[-1]!r}")
    for needed in ("response.output_item.added", "response.content_part.added", "response.output_text.delta"):
        findings.expect(needed in kinds, Oracle.BEHAVIOUR, f"no {needed} event in {compact(sorted(set(kinds)), 160)}")
    return findings.outcome(f"{len(kinds)} events, created → in_progress → … → completed", Oracle.BEHAVIOUR)


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
    final = [e.get("response") for e in events if e.get("type") == "response.completed"]
    final_text = _text(final[-1]) if final and isinstance(final[-1], dict) else None
    findings.expect(bool(deltas), Oracle.BEHAVIOUR, "no response.output_text.delta carried text")
    findings.expect(
        done == [deltas], Oracle.BEHAVIOUR, f"output_text.done {compact(done, 80)} != the deltas {deltas!r}"
    )
    findings.expect(
        final_text == deltas, Oracle.BEHAVIOUR, f"the completed response's text {final_text!r} != the deltas"
    )
    return findings.outcome(f"deltas, done text and final text agree: {deltas[:40]!r}", Oracle.BEHAVIOUR)


@check("responses.stream.sdk_helper")
def stream_sdk_helper(ctx: CheckContext) -> Outcome:
    findings = Findings()
    client = ctx.sdk(strict=True)

    def run() -> tuple[str, Any]:
        deltas = []
        with client.responses.stream(
            model=ctx.chat_model, input=PROMPT, max_output_tokens=MAX_OUTPUT, temperature=0
        ) as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    deltas.append(event.delta)
            return "".join(deltas), stream.get_final_response()

    try:
        deltas, final = ctx.call_sdk(run)
    except RuntimeError as error:  # the helper's own complaint: an event it needs never came
        return nonconformant(f"client.responses.stream(): {error}", Oracle.SDK)
    findings.expect(
        final.output_text == deltas and deltas != "",
        Oracle.SDK,
        f"get_final_response().output_text {final.output_text!r} != the streamed deltas {deltas!r}",
    )
    return findings.outcome(f"client.responses.stream() assembled {deltas[:40]!r}", Oracle.SDK)


@check("responses.stream.function_call_arguments")
def stream_function_call_arguments(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = {
        "model": ctx.chat_model,
        "input": WEATHER_INPUT,
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
        "max_output_tokens": 96,
        "temperature": 0,
        "stream": True,
    }
    response = ctx.require_ok(ctx.wire.post("responses", body), decline_param=("tools", "tool_choice"))
    events = [value for _, value in response.sse().json_chunks() if isinstance(value, dict)]
    deltas: dict[Any, list[str]] = {}
    done: dict[Any, Any] = {}
    for event in events:
        if event.get("type") == "response.function_call_arguments.delta":
            deltas.setdefault(event.get("item_id"), []).append(str(event.get("delta")))
        elif event.get("type") == "response.function_call_arguments.done":
            done[event.get("item_id")] = event.get("arguments")
    final = next((e.get("response") for e in reversed(events) if e.get("type") == "response.completed"), None)
    calls = {item.get("id"): item.get("arguments") for item in _items(final, "function_call")} if final else {}
    if not done:
        raise StopCheck(
            nonconformant(
                f"no response.function_call_arguments.done event where tool_choice 'required' forces a call "
                f"(function_call items in the final Response: {len(calls)})",
                Oracle.BEHAVIOUR,
            )
        )
    for item_id, arguments in done.items():
        if item_id not in deltas:
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
    findings.expect(final is not None, Oracle.BEHAVIOUR, "no response.completed event carried the final Response")
    return findings.outcome(
        f"{len(done)} call(s): the argument deltas, .done and the final item agree", Oracle.BEHAVIOUR
    )

"""Tool calling: forced, named, automatic and refused calls, parallel calls, streamed call deltas,
strict schemas, and the whole agent loop.

Which tool a model calls, and with which words, is the model's business; the checks force what can
be forced (``tool_choice``) and judge the structure: ids, ``type``, names, ``arguments`` as a JSON
string that validates against the tool's schema, ``finish_reason``, and for streams the integer
``index`` every delta needs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

import openai
from pydantic import BaseModel

from conformance.checks._common import (
    TOOL_FIELDS,
    TOOL_MAX_TOKENS,
    WEATHER,
    WEATHER_QUESTION,
    compact,
    complete,
    first_choice,
    first_message,
    fixture_json,
    raw_stream,
)
from conformance.checks._judges import schemas_by_name, tool_call_problems
from conformance.checks._requests import required_tool_call
from conformance.context import CheckContext, StatusError
from conformance.envelope import DeclineParam
from conformance.registry import check
from conformance.verdict import Findings, Oracle, Outcome

# Typed Any: sent as a plain dict, exactly as users send it (get_weather, the shared one, is in _common).
TIME: Any = fixture_json("tools/get_time.json")
BOTH_QUESTION: Any = [
    {
        "role": "user",
        "content": "Call both tools at once: get_weather for Paris in celsius, and get_time for Europe/Paris.",
    }
]
# An id in OpenAI's own format, as a history carried over from another provider holds.
FOREIGN_CALL_ID = "call_Zq4MXr8ECdObm8U9SYtMS056"


def _calls(message: dict[str, Any]) -> Any:
    return message.get("tool_calls")


def _forced(
    ctx: CheckContext,
    *,
    tools: list[dict[str, Any]],
    tool_choice: Any,
    messages: Any = None,
    decline_param: DeclineParam = TOOL_FIELDS,
    **extra: Any,
) -> dict[str, Any]:
    return complete(
        ctx,
        model=ctx.tools_model,
        messages=messages or WEATHER_QUESTION,
        tools=tools,
        tool_choice=tool_choice,
        max_tokens=TOOL_MAX_TOKENS,
        decline_param=decline_param,
        **extra,
    )


@check("chat.tools.required")
def tools_required(ctx: CheckContext) -> Outcome:
    body = required_tool_call(ctx)
    findings = Findings()
    choice, message = first_choice(body), first_message(body)
    findings.extend(Oracle.BEHAVIOUR, tool_call_problems(_calls(message), schemas_by_name(WEATHER)))
    findings.expect(
        choice.get("finish_reason") == "tool_calls",
        Oracle.BEHAVIOUR,
        f"finish_reason: received {choice.get('finish_reason')!r} with tool_choice 'required', expected "
        "'tool_calls' (agents branch on it)",
    )
    if isinstance(message.get("content"), str) and message["content"].strip():
        findings.note(f"text content beside the tool call: {message['content'][:60]!r}")
    return findings.outcome(
        "tool_choice 'required' gives a well-formed get_weather call, finish_reason 'tool_calls'", Oracle.BEHAVIOUR
    )


@check("chat.tools.named")
def tools_named(ctx: CheckContext) -> Outcome:
    body = _forced(
        ctx,
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        messages=[{"role": "user", "content": "What time is it in Tokyo? Use a tool."}],
    )
    findings = Findings()
    choice, message = first_choice(body), first_message(body)
    calls = _calls(message)
    findings.extend(Oracle.BEHAVIOUR, tool_call_problems(calls, schemas_by_name(WEATHER, TIME)))
    names = [c.get("function", {}).get("name") for c in calls or () if isinstance(c, dict)]
    findings.expect(
        bool(names) and set(names) == {"get_time"},
        Oracle.BEHAVIOUR,
        f"tool_choice named get_time, but the calls are {names}",
    )
    # OpenAI itself answers 'stop' for a named function and 'tool_calls' otherwise; both are fine here.
    findings.expect(
        choice.get("finish_reason") in ("tool_calls", "stop"),
        Oracle.BEHAVIOUR,
        f"finish_reason: received {choice.get('finish_reason')!r}, expected 'tool_calls' or 'stop'",
    )
    return findings.outcome("the named function is called, and only it", Oracle.BEHAVIOUR)


@check("chat.tools.auto")
def tools_auto(ctx: CheckContext) -> Outcome:
    body = _forced(ctx, tools=[WEATHER], tool_choice="auto")
    findings = Findings()
    choice, message = first_choice(body), first_message(body)
    calls = _calls(message)
    if calls:
        findings.extend(Oracle.BEHAVIOUR, tool_call_problems(calls, schemas_by_name(WEATHER)))
        findings.expect(
            choice.get("finish_reason") == "tool_calls",
            Oracle.BEHAVIOUR,
            f"finish_reason: received {choice.get('finish_reason')!r} with tool calls, expected 'tool_calls'",
        )
        return findings.outcome("tool_choice 'auto': the model called the tool, well formed", Oracle.BEHAVIOUR)
    content = message.get("content")
    findings.expect(
        isinstance(content, str) and content.strip() != "",
        Oracle.BEHAVIOUR,
        f"tool_choice 'auto' gave neither a tool call nor text (content {compact(content)})",
    )
    findings.note("the model answered in text instead of calling the tool (its choice under 'auto')")
    return findings.outcome("tool_choice 'auto' is accepted (the model answered in text)", Oracle.BEHAVIOUR)


@check("chat.tools.none")
def tools_none(ctx: CheckContext) -> Outcome:
    body = _forced(ctx, tools=[WEATHER], tool_choice="none")
    findings = Findings()
    choice, message = first_choice(body), first_message(body)
    findings.expect(
        not _calls(message),
        Oracle.BEHAVIOUR,
        f"tool_choice 'none', yet the reply calls tools: {compact(_calls(message), 100)}",
    )
    findings.expect(
        choice.get("finish_reason") != "tool_calls",
        Oracle.BEHAVIOUR,
        "tool_choice 'none', yet finish_reason is 'tool_calls'",
    )
    content = message.get("content")
    findings.expect(
        isinstance(content, str) and content.strip() != "",
        Oracle.BEHAVIOUR,
        f"message.content: received {compact(content)}, expected a text answer",
    )
    return findings.outcome("tool_choice 'none' gives a text answer and no call", Oracle.BEHAVIOUR)


@check("chat.tools.parallel")
def tools_parallel(ctx: CheckContext) -> Outcome:
    body = _forced(ctx, tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=True, messages=BOTH_QUESTION)
    findings = Findings()
    calls = _calls(first_message(body))
    findings.extend(Oracle.BEHAVIOUR, tool_call_problems(calls, schemas_by_name(WEATHER, TIME)))
    count = len(calls) if isinstance(calls, list) else 0
    if findings.ok and count < 2:
        findings.note("the model made one call where two were asked for (its choice, not a wire fault)")
    return findings.outcome(f"parallel_tool_calls: {count} well-formed calls with distinct ids", Oracle.BEHAVIOUR)


@check("chat.tools.parallel_false")
def tools_parallel_false(ctx: CheckContext) -> Outcome:
    body = _forced(
        ctx,
        tools=[WEATHER, TIME],
        tool_choice="required",
        parallel_tool_calls=False,
        messages=BOTH_QUESTION,
        decline_param=(*TOOL_FIELDS, "parallel_tool_calls"),
    )
    findings = Findings()
    calls = _calls(first_message(body))
    findings.extend(Oracle.BEHAVIOUR, tool_call_problems(calls, schemas_by_name(WEATHER, TIME)))
    count = len(calls) if isinstance(calls, list) else 0
    findings.expect(
        count <= 1,
        Oracle.BEHAVIOUR,
        f"parallel_tool_calls=false, yet the reply holds {count} tool calls (silently ignored)",
    )
    return findings.outcome("parallel_tool_calls=false gives a single call", Oracle.BEHAVIOUR)


@check("chat.tools.stream")
def tools_stream(ctx: CheckContext) -> Outcome:
    stream = raw_stream(
        ctx,
        {
            "model": ctx.tools_model,
            "messages": WEATHER_QUESTION,
            "tools": [WEATHER],
            "tool_choice": "required",
            "max_tokens": TOOL_MAX_TOKENS,
        },
        decline_param=TOOL_FIELDS,
    )
    findings = Findings()
    opened: dict[int, dict[str, Any]] = {}
    arguments: dict[int, list[str]] = defaultdict(list)
    finishes = []
    for line, chunk in stream.choice_chunks():
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            if choice.get("finish_reason") is not None:
                finishes.append(choice["finish_reason"])
            deltas = (choice.get("delta") or {}).get("tool_calls")
            if deltas is None:
                continue
            if not isinstance(deltas, list):
                findings.add(
                    Oracle.WIRE, f"line {line}: delta.tool_calls is a {type(deltas).__name__}, expected a list"
                )
                continue
            for delta in deltas:
                _judge_delta(findings, line, delta, opened, arguments)
        if len(findings.problems) > 5:
            break
    findings.expect(bool(opened), Oracle.WIRE, "no tool-call delta in the stream for tool_choice 'required'")
    for index, pieces in sorted(arguments.items()):
        call = {
            "id": opened[index].get("id"),
            "type": opened[index].get("type", "function"),
            "function": {"name": opened[index].get("name"), "arguments": "".join(pieces)},
        }
        findings.extend(Oracle.BEHAVIOUR, tool_call_problems([call], schemas_by_name(WEATHER), f"tool_calls[{index}]"))
    findings.expect(
        finishes == ["tool_calls"],
        Oracle.BEHAVIOUR,
        f"finish_reason values in the stream: {finishes}, expected exactly one 'tool_calls'",
    )
    return findings.outcome(
        f"{len(opened)} streamed call(s): integer index, id and name first, arguments concatenating to valid JSON",
        Oracle.WIRE,
    )


def _judge_delta(
    findings: Findings, line: int, delta: Any, opened: dict[int, dict[str, Any]], arguments: dict[int, list[str]]
) -> None:
    if not isinstance(delta, dict):
        findings.add(Oracle.WIRE, f"line {line}: a tool-call delta is {compact(delta)}, expected an object")
        return
    index = delta.get("index")
    if not isinstance(index, int) or isinstance(index, bool):
        findings.add(
            Oracle.WIRE,
            f"line {line}: tool-call delta without an integer index ({compact(delta, 80)}): "
            "the SDK's stream helper raises TypeError",
        )
        return
    function: dict[str, Any] = delta["function"] if isinstance(delta.get("function"), dict) else {}
    if index not in opened:
        opened[index] = {"id": delta.get("id"), "type": delta.get("type"), "name": function.get("name")}
        for key, value in (("id", delta.get("id")), ("function.name", function.get("name"))):
            if not (isinstance(value, str) and value):
                findings.add(Oracle.WIRE, f"line {line}: the first delta of call {index} has {key} {value!r}")
        if delta.get("type") != "function":
            findings.add(
                Oracle.WIRE,
                f"line {line}: the first delta of call {index} has type {delta.get('type')!r}, expected 'function'",
            )
    else:
        for key, value in (("id", delta.get("id")), ("function.name", function.get("name"))):
            if isinstance(value, str) and value:
                findings.add(
                    Oracle.WIRE,
                    f"line {line}: call {index} repeats {key} {value!r} in a later delta "
                    "(accumulating clients glue the copies together)",
                )
    if isinstance(function.get("arguments"), str):
        arguments[index].append(function["arguments"])
    elif function.get("arguments") is not None:
        findings.add(
            Oracle.WIRE,
            f"line {line}: arguments delta is a {type(function['arguments']).__name__}, expected a string piece",
        )


@check("chat.tools.stream_helper")
def tools_stream_helper(ctx: CheckContext) -> Outcome:
    def run() -> Any:
        with ctx.sdk(strict=False).chat.completions.stream(
            model=ctx.tools_model,
            messages=WEATHER_QUESTION,
            tools=[WEATHER],
            tool_choice="required",
            max_tokens=TOOL_MAX_TOKENS,
        ) as stream:
            for _ in stream:
                pass
            return stream.get_final_completion()

    final = ctx.call_sdk(run)
    findings = Findings()
    message = final.choices[0].message if final.choices else None
    calls = [call.model_dump() for call in (message.tool_calls or [])] if message is not None else []
    findings.extend(Oracle.SDK, tool_call_problems(calls, schemas_by_name(WEATHER)))
    return findings.outcome("client.chat.completions.stream() assembles a well-formed tool call", Oracle.SDK)


@check("chat.tools.loop")
def tools_loop(ctx: CheckContext) -> Outcome:
    first = required_tool_call(ctx)
    message = first_message(first)
    calls = _calls(message)
    findings = Findings()
    findings.extend(Oracle.BEHAVIOUR, tool_call_problems(calls, schemas_by_name(WEATHER)))
    if not _answerable(calls):
        return findings.fail()  # no call id to answer: chat.tools.required says why
    # The assistant message goes back exactly as received (content null beside tool_calls), even when
    # its arguments are off: the loop itself is still worth judging.
    history = [*WEATHER_QUESTION, {k: v for k, v in message.items() if k in ("role", "content", "tool_calls")}]
    history += [
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temperature_c": 18, "sky": "clear"}'}
        for call in calls
    ]
    try:
        answer = complete(
            ctx, model=ctx.tools_model, messages=history, tools=[WEATHER], tool_choice="auto", max_tokens=48
        )
    except StatusError as error:
        if findings.ok:
            raise
        findings.add(
            Oracle.BEHAVIOUR, f"the history built from the server's own call was refused: {error.body.summary()}"
        )
        return findings.fail()
    reply = first_message(answer)
    if _calls(reply):
        findings.extend(Oracle.BEHAVIOUR, tool_call_problems(_calls(reply), schemas_by_name(WEATHER)))
        findings.note("the model called the tool again instead of answering (its choice)")
    else:
        content = reply.get("content")
        findings.expect(
            isinstance(content, str) and content.strip() != "",
            Oracle.BEHAVIOUR,
            f"after the tool result the reply has content {compact(content)}, expected the final answer",
        )
        findings.expect(
            first_choice(answer).get("finish_reason") == "stop",
            Oracle.BEHAVIOUR,
            f"final answer finish_reason {first_choice(answer).get('finish_reason')!r}, expected 'stop'",
        )
    return findings.outcome("call, result, final answer: the whole agent loop works", Oracle.BEHAVIOUR)


def _answerable(calls: Any) -> bool:
    """Calls a client can answer: each with an id and a function name."""
    return (
        isinstance(calls, list)
        and bool(calls)
        and all(
            isinstance(c, dict)
            and isinstance(c.get("id"), str)
            and c["id"]
            and isinstance((c.get("function") or {}).get("name"), str)
            for c in calls
        )
    )


@check("chat.tools.foreign_ids")
def tools_foreign_ids(ctx: CheckContext) -> Outcome:
    history = [
        *WEATHER_QUESTION,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": FOREIGN_CALL_ID,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris","unit":"celsius"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": FOREIGN_CALL_ID, "content": '{"temperature_c": 18, "sky": "clear"}'},
    ]
    body = complete(ctx, model=ctx.tools_model, messages=history, tools=[WEATHER], max_tokens=48)
    findings = Findings()
    message = first_message(body)
    if not _calls(message):
        content = message.get("content")
        findings.expect(
            isinstance(content, str) and content.strip() != "",
            Oracle.BEHAVIOUR,
            f"the reply has content {compact(content)}, expected an answer",
        )
    return findings.outcome(
        f"a history with an OpenAI-style tool call id ({FOREIGN_CALL_ID}) is accepted", Oracle.BEHAVIOUR
    )


class WeatherArgs(BaseModel):
    city: str
    unit: Literal["celsius", "fahrenheit"]


@check("chat.tools.strict")
def tools_strict(ctx: CheckContext) -> Outcome:
    tool: Any = openai.pydantic_function_tool(
        WeatherArgs, name="get_weather", description="Current weather for a city."
    )
    completion = ctx.call_sdk(
        lambda: ctx.sdk(strict=False).chat.completions.parse(
            model=ctx.tools_model,
            messages=WEATHER_QUESTION,
            tools=[tool],
            tool_choice="required",
            max_tokens=TOOL_MAX_TOKENS,
        )
    )
    findings = Findings()
    message = completion.choices[0].message if completion.choices else None
    calls = message.tool_calls if message is not None and message.tool_calls else []
    findings.expect(bool(calls), Oracle.BEHAVIOUR, "a strict tool with tool_choice 'required' gave no call")
    strict_schema = tool["function"]["parameters"]
    raw_calls = [call.model_dump(exclude={"function": {"parsed_arguments"}}) for call in calls]
    findings.extend(Oracle.BEHAVIOUR, tool_call_problems(raw_calls, {"get_weather": dict(strict_schema)}))
    for call in calls:
        parsed = getattr(call.function, "parsed_arguments", None)
        findings.expect(
            isinstance(parsed, WeatherArgs),
            Oracle.SDK,
            f"parse() gave parsed_arguments {compact(parsed)}, expected a WeatherArgs instance",
        )
    return findings.outcome("strict: true arguments validate, and parse() returns WeatherArgs", Oracle.SDK)

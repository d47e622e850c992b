"""Tool calling: forced, named, automatic and refused calls, parallel calls, streamed call deltas,
strict schemas, and the whole agent loop.

Only what the server controls can fail a feature: that a forced call is made, its shape (ids,
``type``, an offered name, ``arguments`` as a string), ``finish_reason`` (``"length"`` for a cut),
for streams the integer ``index`` every delta needs, and that a call the model wrote is parsed out of
the text (a ``<tool_call>`` left in ``content`` is the server's miss). What the model chooses is
reported: the words of non-strict arguments (OpenAI promises schema-valid arguments only with
``strict: true``, which chat.tools.strict judges), text instead of a call under ``auto``, one call
where two were asked for. Every request sends ``temperature: 0`` and the suite's seed; a reply cut by
our ``max_tokens`` is asked again once with a larger budget, and where the model decides what can be
judged the check may try again (``_common.run_trials``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Literal

import openai
import pydantic
from pydantic import BaseModel

from conformance.checks._common import (
    STABLE,
    TOOL_FIELDS,
    TOOL_MAX_TOKENS,
    WEATHER,
    WEATHER_QUESTION,
    Decision,
    Trial,
    compact,
    complete,
    ended_by_length,
    first_choice,
    first_message,
    fixture_json,
    raw_stream,
    run_trials,
)
from conformance.checks._judges import (
    NOT_STRICT,
    argument_problems,
    content_beside_calls,
    schemas_by_name,
    tool_call_problems,
    unparsed_tool_call,
    unreported_cut,
)
from conformance.checks._requests import required_tool_call, required_tool_call_larger, required_tool_call_within
from conformance.context import CheckContext, StatusError
from conformance.envelope import DeclineParam
from conformance.registry import check
from conformance.verdict import Findings, Oracle, Outcome, StopCheck, skipped

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
TOOL_RESULT = '{"temperature_c": 18, "sky": "clear"}'
ANSWER_MAX_TOKENS = 48


def _calls(message: dict[str, Any]) -> Any:
    return message.get("tool_calls")


def _forced(
    ctx: CheckContext,
    *,
    tools: list[dict[str, Any]],
    tool_choice: Any,
    messages: Any = None,
    decline_param: DeclineParam = TOOL_FIELDS,
    max_tokens: int = TOOL_MAX_TOKENS,
    **extra: Any,
) -> dict[str, Any]:
    return complete(
        ctx,
        model=ctx.tools_model,
        messages=messages or WEATHER_QUESTION,
        tools=tools,
        tool_choice=tool_choice,
        max_tokens=max_tokens,
        decline_param=decline_param,
        **STABLE,
        **extra,
    )


def _unparsed_hint(content: Any, schemas: dict[str, Any]) -> str:
    found = unparsed_tool_call(content, schemas)
    return f"; the content holds {found}: the server did not parse the model's call" if found else ""


def _describe(choice: dict[str, Any], message: dict[str, Any]) -> str:
    """One line for the list of trials: what the reply was."""
    calls = _calls(message)
    finish = choice.get("finish_reason")
    if isinstance(calls, list) and calls:
        names = [(c.get("function") or {}).get("name") if isinstance(c, dict) else None for c in calls]
        return f"called {', '.join(map(str, names))} (finish_reason {finish!r})"
    return f"content {compact(message.get('content'), 50)} (finish_reason {finish!r})"


def _judge_reply(
    findings: Findings, body: dict[str, Any], tools: list[dict[str, Any]], *, max_tokens: int, need_call: bool
) -> tuple[dict[str, Any], dict[str, Any], Any, bool]:
    """Judge a non-streamed reply to non-strict tools: the server's part (the calls' shape, a call made
    where one is forced, a cut reported as 'length') as problems, the model's (the arguments' words)
    as notes. Returns (choice, message, calls, cut): ``cut`` when our budget ended the reply, so that
    neither a missing call nor its finish_reason can be judged."""
    choice, message = first_choice(body), first_message(body)
    calls = _calls(message)
    cut = choice.get("finish_reason") == "length"
    schemas = schemas_by_name(*tools)
    if calls or (need_call and not cut):
        hint = "" if calls else _unparsed_hint(message.get("content"), schemas)
        findings.extend(Oracle.BEHAVIOUR, [problem + hint for problem in tool_call_problems(calls, schemas)])
    if not cut:
        for problem in argument_problems(calls, schemas):
            findings.note(f"{problem} {NOT_STRICT}")
    unreported = unreported_cut(body, max_tokens)
    if unreported is not None:
        findings.add(Oracle.BEHAVIOUR, unreported)
    beside = content_beside_calls(message)
    if beside is not None:
        findings.note(beside)
    return choice, message, calls, cut


@check("chat.tools.required")
def tools_required(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        body = required_tool_call_within(ctx, budget)
        findings = Findings()
        choice, message, _, cut = _judge_reply(findings, body, [WEATHER], max_tokens=budget, need_call=True)
        if not cut:
            findings.expect(
                choice.get("finish_reason") == "tool_calls",
                Oracle.BEHAVIOUR,
                f"finish_reason: received {choice.get('finish_reason')!r} with tool_choice 'required', expected "
                "'tool_calls' (agents branch on it)",
            )
        return Trial(findings, _describe(choice, message), cut=cut)

    return run_trials(ctx, attempt, budget=TOOL_MAX_TOKENS, repeat=False).outcome(
        "tool_choice 'required' gives a well-formed get_weather call, finish_reason 'tool_calls'",
        Oracle.BEHAVIOUR,
        model_fails=False,
    )


@check("chat.tools.named")
def tools_named(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        body = _forced(
            ctx,
            tools=[WEATHER, TIME],
            tool_choice={"type": "function", "function": {"name": "get_time"}},
            messages=[{"role": "user", "content": "What time is it in Tokyo? Use a tool."}],
            max_tokens=budget,
        )
        findings = Findings()
        choice, message, calls, cut = _judge_reply(findings, body, [WEATHER, TIME], max_tokens=budget, need_call=True)
        names = [c.get("function", {}).get("name") for c in calls or () if isinstance(c, dict)]
        if names or not cut:
            findings.expect(
                bool(names) and set(names) == {"get_time"},
                Oracle.BEHAVIOUR,
                f"tool_choice named get_time, but the calls are {names}",
            )
        # OpenAI itself answers 'stop' for a named function and 'tool_calls' otherwise; both are fine here.
        if not cut:
            findings.expect(
                choice.get("finish_reason") in ("tool_calls", "stop"),
                Oracle.BEHAVIOUR,
                f"finish_reason: received {choice.get('finish_reason')!r}, expected 'tool_calls' or 'stop'",
            )
        return Trial(findings, _describe(choice, message), cut=cut)

    return run_trials(ctx, attempt, budget=TOOL_MAX_TOKENS, repeat=False).outcome(
        "the named function is called, and only it", Oracle.BEHAVIOUR, model_fails=False
    )


@check("chat.tools.auto")
def tools_auto(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        body = _forced(ctx, tools=[WEATHER], tool_choice="auto", max_tokens=budget)
        findings = Findings()
        choice, message, calls, cut = _judge_reply(findings, body, [WEATHER], max_tokens=budget, need_call=False)
        summary = _describe(choice, message)
        if calls:
            if not cut:
                findings.expect(
                    choice.get("finish_reason") == "tool_calls",
                    Oracle.BEHAVIOUR,
                    f"finish_reason: received {choice.get('finish_reason')!r} with tool calls, expected 'tool_calls'",
                )
            return Trial(findings, summary, cut=cut, value=True)
        if cut:
            return Trial(findings, summary, cut=True)
        content = message.get("content")
        unparsed = unparsed_tool_call(content, ["get_weather"])
        if unparsed is not None:
            # under "auto" a call can only reach the client parsed: this is not the model answering in text
            findings.add(
                Oracle.BEHAVIOUR,
                f"the content holds {unparsed} ({compact(content, 80)}) with finish_reason "
                f"{choice.get('finish_reason')!r} and no tool_calls: the server did not parse the model's call, "
                "so clients never see it",
            )
        findings.expect(
            isinstance(content, str) and content.strip() != "",
            Oracle.BEHAVIOUR,
            f"tool_choice 'auto' gave neither a tool call nor text (content {compact(content)})",
        )
        return Trial(
            findings, summary, model="the model answered in text instead of calling the tool (its choice under 'auto')"
        )

    trials = run_trials(ctx, attempt, budget=TOOL_MAX_TOKENS)
    if any(trial.value for trial in trials.judged):
        supported = "tool_choice 'auto': the model called the tool, well formed"
    else:
        supported = "tool_choice 'auto' is accepted (the model answered in text)"
    return trials.outcome(supported, Oracle.BEHAVIOUR, model_fails=False)


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
    unparsed = unparsed_tool_call(content, ["get_weather"])
    if unparsed is not None:
        findings.note(f"the text answer is {unparsed}: the model's, rightly left unparsed under tool_choice 'none'")
    return findings.outcome("tool_choice 'none' gives a text answer and no call", Oracle.BEHAVIOUR)


@check("chat.tools.parallel")
def tools_parallel(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        body = _forced(
            ctx,
            tools=[WEATHER, TIME],
            tool_choice="required",
            parallel_tool_calls=True,
            messages=BOTH_QUESTION,
            max_tokens=budget,
        )
        findings = Findings()
        choice, message, calls, cut = _judge_reply(findings, body, [WEATHER, TIME], max_tokens=budget, need_call=True)
        count = len(calls) if isinstance(calls, list) else 0
        one = None if count >= 2 or cut else "the model made one call where two were asked for (not a wire fault)"
        return Trial(findings, _describe(choice, message), model=one, cut=cut, value=count)

    trials = run_trials(ctx, attempt, budget=TOOL_MAX_TOKENS)
    count = max((trial.value for trial in trials.judged), default=0)
    distinct = " with distinct ids" if count >= 2 else ""
    return trials.outcome(
        f"parallel_tool_calls: {count} well-formed call(s){distinct}", Oracle.BEHAVIOUR, model_fails=False
    )


@check("chat.tools.parallel_false")
def tools_parallel_false(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        body = _forced(
            ctx,
            tools=[WEATHER, TIME],
            tool_choice="required",
            parallel_tool_calls=False,
            messages=BOTH_QUESTION,
            decline_param=(*TOOL_FIELDS, "parallel_tool_calls"),
            max_tokens=budget,
        )
        findings = Findings()
        choice, message, calls, cut = _judge_reply(findings, body, [WEATHER, TIME], max_tokens=budget, need_call=True)
        count = len(calls) if isinstance(calls, list) else 0
        # the server enforces the limit (OpenAI never returns two calls here): two are its fault, at once
        findings.expect(
            count <= 1,
            Oracle.BEHAVIOUR,
            f"parallel_tool_calls=false, yet the reply holds {count} tool calls (silently ignored)",
        )
        return Trial(findings, _describe(choice, message), cut=cut)

    return run_trials(ctx, attempt, budget=TOOL_MAX_TOKENS, repeat=False).outcome(
        "parallel_tool_calls=false gives a single call", Oracle.BEHAVIOUR, model_fails=False
    )


@check("chat.tools.stream")
def tools_stream(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        stream = raw_stream(
            ctx,
            {
                "model": ctx.tools_model,
                "messages": WEATHER_QUESTION,
                "tools": [WEATHER],
                "tool_choice": "required",
                "max_tokens": budget,
                **STABLE,
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
        cut = finishes == ["length"]
        if not opened and not cut:
            findings.add(
                Oracle.WIRE,
                "no tool-call delta in the stream for tool_choice 'required'"
                + _unparsed_hint(stream.content(), schemas_by_name(WEATHER)),
            )
        # the calls as a client assembles them, in index order
        calls = [
            {
                "id": opened[index].get("id"),
                "type": opened[index].get("type", "function"),
                "function": {"name": opened[index].get("name"), "arguments": "".join(arguments[index])},
            }
            for index in sorted(arguments)
        ]
        if calls:
            findings.extend(Oracle.BEHAVIOUR, tool_call_problems(calls, schemas_by_name(WEATHER)))
        if not cut:
            for problem in argument_problems(calls, schemas_by_name(WEATHER)):
                findings.note(f"{problem} {NOT_STRICT}")
        if not cut:
            findings.expect(
                finishes == ["tool_calls"],
                Oracle.BEHAVIOUR,
                f"finish_reason values in the stream: {finishes}, expected exactly one 'tool_calls'",
            )
        return Trial(findings, f"{len(opened)} streamed call(s), finish_reason {finishes}", cut=cut, value=len(opened))

    trials = run_trials(ctx, attempt, budget=TOOL_MAX_TOKENS, repeat=False)
    return trials.outcome(
        f"{trials.last.value} streamed call(s): integer index, id and name first, arguments concatenating to a string",
        Oracle.WIRE,
        model_fails=False,
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
    def attempt(budget: int) -> Trial:
        def run() -> Any:
            try:
                with ctx.sdk(strict=False).chat.completions.stream(
                    model=ctx.tools_model,
                    messages=WEATHER_QUESTION,
                    tools=[WEATHER],
                    tool_choice="required",
                    max_tokens=budget,
                    **STABLE,
                ) as stream:
                    for _ in stream:
                        pass
                    return stream.get_final_completion()
            except openai.LengthFinishReasonError as cut:
                # by the SDK's design on a 'length' finish (docs/sdk-facts.md#stream-helper): our budget
                return cut

        final = ctx.call_sdk(run)
        findings = Findings()
        if isinstance(final, openai.LengthFinishReasonError):
            return Trial(findings, "LengthFinishReasonError (finish_reason 'length')", cut=True)
        message = final.choices[0].message if final.choices else None
        calls = [call.model_dump() for call in (message.tool_calls or [])] if message is not None else []
        hint = "" if calls or message is None else _unparsed_hint(message.content, schemas_by_name(WEATHER))
        findings.extend(Oracle.SDK, [problem + hint for problem in tool_call_problems(calls, schemas_by_name(WEATHER))])
        for problem in argument_problems(calls, schemas_by_name(WEATHER)):
            findings.note(f"{problem} {NOT_STRICT}")
        return Trial(findings, f"{len(calls)} call(s) assembled")

    return run_trials(ctx, attempt, budget=TOOL_MAX_TOKENS, repeat=False).outcome(
        "client.chat.completions.stream() assembles a well-formed tool call", Oracle.SDK, model_fails=False
    )


@check("chat.tools.loop")
def tools_loop(ctx: CheckContext) -> Outcome:
    first = required_tool_call(ctx)
    if ended_by_length(first):  # a call cut by our budget cannot be answered: the larger budget, once
        first = required_tool_call_larger(ctx)
        if ended_by_length(first):
            return skipped("the forced call was cut by max_tokens twice (finish_reason 'length'): nothing to answer")
    message = first_message(first)
    calls = _calls(message)
    findings = Findings()
    findings.extend(Oracle.BEHAVIOUR, tool_call_problems(calls, schemas_by_name(WEATHER)))
    for problem in argument_problems(calls, schemas_by_name(WEATHER)):
        findings.note(f"{problem} {NOT_STRICT}")
    if not _answerable(calls):
        return findings.fail()  # no call id to answer: chat.tools.required says why
    # The assistant message goes back exactly as received (content null beside tool_calls), even when
    # its arguments are off: the loop itself is still worth judging.
    history = [*WEATHER_QUESTION, {k: v for k, v in message.items() if k in ("role", "content", "tool_calls")}]
    history += [{"role": "tool", "tool_call_id": call["id"], "content": TOOL_RESULT} for call in calls]

    called_again: list[bool] = []  # what each answer was, for a reason that says what happened

    def answer(budget: int) -> Trial:
        try:
            body = complete(
                ctx,
                model=ctx.tools_model,
                messages=history,
                tools=[WEATHER],
                tool_choice="auto",
                max_tokens=budget,
                **STABLE,
            )
        except StatusError as error:
            if findings.ok and not _unparseable(calls):
                raise  # the engine judges the refusal
            if findings.ok:  # the model's arguments are not JSON: a server may refuse them back
                raise StopCheck(
                    skipped(
                        "the history was refused, and it holds the model's call whose arguments are not JSON "
                        f"({error.body.summary()}): the loop could not be judged"
                    )
                ) from None
            refused = Findings()
            refused.add(
                Oracle.BEHAVIOUR, f"the history built from the server's own call was refused: {error.body.summary()}"
            )
            return Trial(refused, "refused")
        reply, judged = first_message(body), Findings()
        choice = first_choice(body)
        if choice.get("finish_reason") == "length":
            return Trial(judged, "cut (finish_reason 'length')", cut=True)
        called_again.append(bool(_calls(reply)))
        if _calls(reply):
            judged.extend(Oracle.BEHAVIOUR, tool_call_problems(_calls(reply), schemas_by_name(WEATHER)))
            # calling again is the model's choice; the finish_reason that goes with a call is the server's
            judged.expect(
                choice.get("finish_reason") == "tool_calls",
                Oracle.BEHAVIOUR,
                f"finish_reason: received {choice.get('finish_reason')!r} with tool calls, expected 'tool_calls'",
            )
            judged.note("the model called the tool again instead of answering (its choice)")
        else:
            content = reply.get("content")
            judged.expect(
                isinstance(content, str) and content.strip() != "",
                Oracle.BEHAVIOUR,
                f"after the tool result the reply has content {compact(content)}, expected the final answer",
            )
            judged.expect(
                choice.get("finish_reason") == "stop",
                Oracle.BEHAVIOUR,
                f"final answer finish_reason {choice.get('finish_reason')!r}, expected 'stop'",
            )
        return Trial(judged, _describe(choice, reply))

    trials = run_trials(ctx, answer, budget=ANSWER_MAX_TOKENS, repeat=False)
    answered = trials.findings()
    merged = Findings(
        [*findings.problems, *(p for p in answered.problems if p not in findings.problems)],
        [*findings.notes, *(n for n in answered.notes if n not in findings.notes)],
    )
    if trials.decision is Decision.BUDGET and merged.ok:
        return skipped(trials.budget_reason())
    if called_again and called_again[-1]:
        # the round trip worked; only the model's last step was another call, not an answer
        return merged.outcome(
            "call and tool result accepted; the model called the tool again instead of answering (its choice)",
            Oracle.BEHAVIOUR,
        )
    return merged.outcome("call, result, final answer: the whole agent loop works", Oracle.BEHAVIOUR)


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


def _unparseable(calls: Any) -> bool:
    """Whether some call's arguments (the model's words) are not JSON."""
    for call in calls if isinstance(calls, list) else ():
        arguments = (call.get("function") or {}).get("arguments") if isinstance(call, dict) else None
        try:
            json.loads(arguments if isinstance(arguments, str) else "")
        except ValueError:
            return True
    return False


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
        {"role": "tool", "tool_call_id": FOREIGN_CALL_ID, "content": TOOL_RESULT},
    ]
    body = complete(
        ctx, model=ctx.tools_model, messages=history, tools=[WEATHER], max_tokens=ANSWER_MAX_TOKENS, **STABLE
    )
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
    strict_schema = {"get_weather": dict(tool["function"]["parameters"])}

    def attempt(budget: int) -> Trial:
        def parse() -> Any:
            try:
                return ctx.sdk(strict=False).chat.completions.parse(
                    model=ctx.tools_model,
                    messages=WEATHER_QUESTION,
                    tools=[tool],
                    tool_choice="required",
                    max_tokens=budget,
                    **STABLE,
                )
            except (openai.LengthFinishReasonError, pydantic.ValidationError) as raised:
                # a 'length' finish (our budget), or arguments parse() cannot validate (judged below)
                return raised

        result = ctx.call_sdk(parse)
        findings = Findings()
        if isinstance(result, openai.LengthFinishReasonError):
            return Trial(findings, "LengthFinishReasonError (finish_reason 'length')", cut=True)
        body = _last_json(ctx)
        choice, message = first_choice(body), first_message(body)
        calls = _calls(message)
        problems = tool_call_problems(calls, strict_schema)
        if not calls:
            problems = [
                "a strict tool with tool_choice 'required' gave no call"
                + _unparsed_hint(message.get("content"), strict_schema)
            ]
        findings.extend(Oracle.BEHAVIOUR, problems)
        problem = unreported_cut(body, budget)
        if problem is not None:
            findings.add(Oracle.BEHAVIOUR, problem)
        # strict: true promises the schema, so the arguments are judged; the model writes them, so by a
        # majority of trials
        invalid = argument_problems(calls, strict_schema)
        if isinstance(result, pydantic.ValidationError) and not invalid:
            invalid = [f"parse() raised ValidationError on the arguments: {str(result).splitlines()[0]}"]
        if not invalid and not isinstance(result, pydantic.ValidationError):
            parsed_calls = (result.choices[0].message.tool_calls or []) if result.choices else []
            for call in parsed_calls:
                parsed = getattr(call.function, "parsed_arguments", None)
                findings.expect(
                    isinstance(parsed, WeatherArgs),
                    Oracle.SDK,
                    f"parse() gave parsed_arguments {compact(parsed)}, expected a WeatherArgs instance",
                )
        model = f"strict: true arguments break the schema: {invalid[0]}" if invalid else None
        return Trial(findings, _describe(choice, message), model=model)

    return run_trials(ctx, attempt, budget=TOOL_MAX_TOKENS).outcome(
        "strict: true arguments validate, and parse() returns WeatherArgs", Oracle.SDK, model_fails=True
    )


def _last_json(ctx: CheckContext) -> dict[str, Any]:
    """The JSON body of this check's last answer (what the SDK's helper just read)."""
    answered = [e for e in ctx.observed.exchanges_so_far if e.status is not None]
    try:
        value = json.loads(answered[-1].content()) if answered else None
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {}


@check("chat.tools.minimal_definition")
def tools_minimal_definition(ctx: CheckContext) -> Outcome:
    """A function tool with a name only: `description` and `parameters` are optional in OpenAI's
    contract (omitting `parameters` defines a function without arguments), and zero-argument tools
    (MCP servers, Home Assistant scripts) often omit both. Only acceptance is judged (max_tokens 1)."""
    minimal: Any = {"type": "function", "function": {"name": "get_status"}}
    try:
        body = complete(
            ctx,
            model=ctx.tools_model,
            messages=[{"role": "user", "content": "Is the service up?"}],
            tools=[minimal],
            max_tokens=1,
            decline_param=TOOL_FIELDS,
        )
    except StatusError as error:
        said = f"{error.body.param or ''} {error.body.message or ''}".lower()
        if "description" not in said and "parameters" not in said:
            raise  # not about the optional fields: an honest decline of tools, or not (the engine judges)
        findings = Findings()
        findings.add(
            Oracle.WIRE,
            f"a tool without description/parameters was refused ({error.body.summary()}): both are optional "
            "in OpenAI's contract",
        )
        return findings.fail()
    first_message(body)
    return Findings().outcome("a function tool with only a name is accepted", Oracle.BEHAVIOUR)

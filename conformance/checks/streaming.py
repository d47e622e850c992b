"""POST /chat/completions with ``stream: true``, judged on the raw bytes and through the SDK.

Most features here judge the same plain stream (``_requests.plain_stream``), so a run sends it once.
The strict SSE reader reports framing facts; each feature owns one class of them, so one bug
moves one verdict.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import openai

from conformance.checks._common import (
    DETERMINISTIC,
    SHORT_REPLY,
    StreamCapture,
    Trial,
    chat_body,
    compact,
    json_object,
    raw_stream,
    run_trials,
)
from conformance.checks._judges import error_body_of, judge_error, usage_problems
from conformance.checks._requests import plain_stream, reference_completion, usage_stream
from conformance.context import CheckContext
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome

# Framing facts that break real clients (docs/sdk-facts.md#sse-framing,
# docs/sdk-facts.md#sse-server-requirements), and what each breaks.
FRAMING_FAILURES = {
    "undispatched_at_eof": "the last event has no blank line after it: SSE clients (the SDK included) drop it",
    "empty_data": "an event with empty data: the SDK raises json.JSONDecodeError (openai-python #2722)",
    "non_json_data": "a data line that is neither JSON nor [DONE]: the SDK raises json.JSONDecodeError",
    "event_field": "a named event on a chat stream: the SDK ignores the name and parses the data as a chunk",
    "bom": "a UTF-8 BOM: the SDK reads the first field as '\\ufeffdata' and loses the first event",
    "invalid_utf8": "bytes that are not UTF-8: the SDK raises UnicodeDecodeError",
    "unknown_field": "a line with an unknown SSE field name",
}
# Valid SSE that some naive parsers mishandle: reported, never failed.
FRAMING_NOTES = {
    "crlf": "CRLF line endings (valid SSE)",
    "cr": "lone CR line endings (valid SSE)",
    "comment": "comment lines (valid SSE, ignored by clients)",
    "no_space_after_colon": "`data:` without the optional space (valid SSE; naive parsers break)",
    "multi_line_data": "events with several data lines (valid SSE when the joined data is JSON)",
    "id_field": "`id:` fields (valid SSE; after one, a stray blank line makes the SDK parse empty data)",
    "retry_field": "`retry:` fields (valid SSE)",
}


def _first(facts: list[tuple[str, int, str]]) -> str:
    code, line, detail = facts[0]
    more = f" (+{len(facts) - 1} more)" if len(facts) > 1 else ""
    return f"line {line}: {detail!r}{more}" if line else f"{detail}{more}"


@check("chat.stream.content_type")
def stream_content_type(ctx: CheckContext) -> Outcome:
    stream = plain_stream(ctx)
    content_type = stream.response.content_type
    findings = Findings()
    findings.expect(
        content_type.lower().startswith("text/event-stream"),
        Oracle.WIRE,
        f"Content-Type: received {content_type!r}, expected text/event-stream",
    )
    return findings.outcome(f"Content-Type: {content_type}", Oracle.WIRE)


@check("chat.stream.sse_framing")
def stream_sse_framing(ctx: CheckContext) -> Outcome:
    sse = plain_stream(ctx).sse
    findings = Findings()
    for code, explanation in FRAMING_FAILURES.items():
        facts = sse.facts_of(code)
        if facts:
            findings.add(Oracle.WIRE, f"{explanation} — {_first(facts)}")
    for code, explanation in FRAMING_NOTES.items():
        if sse.has(code):
            findings.note(f"{explanation}: {len(sse.facts_of(code))} seen")
    return findings.outcome(
        f"{len(sse.events)} events, each a JSON data line or [DONE] ended by a blank line", Oracle.WIRE
    )


@check("chat.stream.chunk_object")
def stream_chunk_object(ctx: CheckContext) -> Outcome:
    stream = plain_stream(ctx)
    findings = Findings()
    checked = 0
    for event, value in stream.sse.json_chunks():
        checked += 1
        if not isinstance(value, dict):
            findings.add(
                Oracle.SCHEMA,
                f"line {event.line}: the event's JSON is a {type(value).__name__}, expected a chunk object",
            )
            continue
        for problem in oracle.validate(value, "ChatCompletionChunk")[:3]:
            findings.add(Oracle.SCHEMA, f"line {event.line}: {problem}")
        if len(findings.problems) >= 8:
            break
    findings.expect(checked > 0, Oracle.WIRE, "the stream holds no JSON chunk at all")
    return findings.outcome(f"{checked} chunks, each a valid ChatCompletionChunk", Oracle.SCHEMA)


@check("chat.stream.done_sentinel")
def stream_done_sentinel(ctx: CheckContext) -> Outcome:
    sse = plain_stream(ctx).sse
    findings = Findings()
    done = sse.done_event
    if done is None:
        pending = sse.undispatched
        if pending is not None and pending.data == "[DONE]":
            findings.add(Oracle.WIRE, "`data: [DONE]` is sent but never ended by a blank line, so clients never see it")
        else:
            last = sse.events[-1].data[:80] if sse.events else "(no events)"
            findings.add(Oracle.WIRE, f"the stream ends without `data: [DONE]` (last event: {last!r})")
    else:
        findings.expect(
            sse.events[-1] is done,
            Oracle.WIRE,
            f"events follow `[DONE]` (line {done.line}): [DONE] must be the last event",
        )
        findings.expect(
            not sse.bytes_after_done,
            Oracle.WIRE,
            f"bytes after `[DONE]`: {sse.bytes_after_done[:80]!r} (the body must end there)",
        )
    if sse.has("done_with_suffix"):
        findings.note("an event starts with [DONE] but carries more text (the SDK still stops there)")
    return findings.outcome("`data: [DONE]` is the last event and the body ends after it", Oracle.WIRE)


@check("chat.stream.finish_reason")
def stream_finish_reason(ctx: CheckContext) -> Outcome:
    stream = plain_stream(ctx)
    findings = Findings()
    finishes: dict[Any, list[tuple[int, Any]]] = defaultdict(list)
    last_content: dict[Any, int] = {}
    seen: set[Any] = set()
    for line, chunk in stream.choice_chunks():
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            index = choice.get("index")
            seen.add(index)
            if choice.get("finish_reason") is not None:
                finishes[index].append((line, choice.get("finish_reason")))
            delta = choice.get("delta") or {}
            if isinstance(delta, dict) and delta.get("content"):
                last_content[index] = line
    findings.expect(bool(seen), Oracle.BEHAVIOUR, "no chunk carries a choice")
    for index in sorted(seen, key=str):
        marks = finishes.get(index, [])
        if not marks:
            findings.add(Oracle.BEHAVIOUR, f"choice {index}: no chunk carries a finish_reason")
        elif len(marks) > 1:
            findings.add(
                Oracle.BEHAVIOUR,
                f"choice {index}: {len(marks)} chunks carry a non-null finish_reason "
                f"({', '.join(repr(v) for _, v in marks[:4])}), expected exactly one",
            )
        elif index in last_content and marks[0][0] < last_content[index]:
            findings.add(
                Oracle.BEHAVIOUR, f"choice {index}: content arrives after the finish_reason chunk (line {marks[0][0]})"
            )
    reasons = ", ".join(f"{i}: {m[0][1]}" for i, m in finishes.items() if m)
    return findings.outcome(f"exactly one finish chunk per choice ({reasons})", Oracle.BEHAVIOUR)


@check("chat.stream.matches_non_stream")
def stream_matches_non_stream(ctx: CheckContext) -> Outcome:
    """The same deterministic request streamed and not: the same structure (choices, roles, content
    where content is, finish reasons, tool calls). The wording is the model's: OpenAI promises no
    equality, not even with a seed and temperature 0, so a different text is a note."""

    asked: list[int] = []

    def attempt(budget: int) -> Trial:
        if not asked:  # the first trial: the pair the run shares
            stream, reference = plain_stream(ctx), reference_completion(ctx)
        else:  # a later one: the same pair again, this check's own
            stream = raw_stream(ctx, chat_body(ctx, **DETERMINISTIC))
            reference = json_object(ctx.require_ok(ctx.wire.post("chat/completions", chat_body(ctx, **DETERMINISTIC))))
        asked.append(budget)
        stream.require_chunks()
        return _compare_shapes(_stream_shape(stream), _body_shape(reference))

    trials = run_trials(ctx, attempt, budget=DETERMINISTIC["max_tokens"])
    return trials.outcome(
        "the streamed answer has the non-streamed answer's structure (choices, role, content, finish_reason)",
        Oracle.BEHAVIOUR,
        model_fails=True,
    )


def _stream_shape(stream: StreamCapture) -> dict[Any, dict[str, Any]]:
    """Per choice index: the first role, the joined content (None: no content delta), the finish_reason
    and the number of tool calls, as a client assembles them."""
    shape: dict[Any, dict[str, Any]] = {}
    for _, chunk in stream.choice_chunks():
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            entry = shape.setdefault(choice.get("index"), {"role": None, "text": None, "finish": None, "calls": set()})
            delta = choice["delta"] if isinstance(choice.get("delta"), dict) else {}
            if entry["role"] is None:
                entry["role"] = delta.get("role")
            if isinstance(delta.get("content"), str):
                entry["text"] = (entry["text"] or "") + delta["content"]
            for call in delta.get("tool_calls") or () if isinstance(delta.get("tool_calls"), list) else ():
                entry["calls"].add(call.get("index") if isinstance(call, dict) else None)
            if choice.get("finish_reason"):
                entry["finish"] = choice["finish_reason"]
    return {index: {**entry, "calls": len(entry["calls"])} for index, entry in shape.items()}


def _body_shape(body: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    shape: dict[Any, dict[str, Any]] = {}
    choices = body.get("choices")
    for position, choice in enumerate(choices if isinstance(choices, list) else ()):
        if not isinstance(choice, dict):
            continue
        message = choice["message"] if isinstance(choice.get("message"), dict) else {}
        calls = message.get("tool_calls")
        shape[choice.get("index", position)] = {
            "role": message.get("role"),
            "text": message.get("content"),
            "finish": choice.get("finish_reason"),
            "calls": len(calls) if isinstance(calls, list) else 0,
        }
    return shape


def _compare_shapes(streamed: dict[Any, dict[str, Any]], reference: dict[Any, dict[str, Any]]) -> Trial:
    """What the server controls (the choices, each one's role, content as text) decides at once; what
    sampling can change (the finish_reason, text or calls at all) needs a majority; wording is a note."""
    findings = Findings()
    differences: list[str] = []
    if set(streamed) != set(reference):
        findings.add(
            Oracle.BEHAVIOUR,
            f"the stream answers choices {sorted(streamed, key=str)}, the non-streamed answer "
            f"{sorted(reference, key=str)}",
        )
    for index in sorted(set(streamed) & set(reference), key=str):
        ours, theirs = streamed[index], reference[index]
        if ours["role"] is not None and theirs["role"] is not None and ours["role"] != theirs["role"]:
            findings.add(
                Oracle.BEHAVIOUR,
                f"choice {index}: streamed role {ours['role']!r}, non-streamed role {theirs['role']!r}",
            )
        if theirs["text"] is not None and not isinstance(theirs["text"], str):
            findings.add(
                Oracle.BEHAVIOUR,
                f"choice {index}: the non-streamed content is {compact(theirs['text'], 60)} where the stream "
                "sends text",
            )
            continue
        # a finish_reason missing on one side is chat.stream.finish_reason's (or chat.basic's) to judge
        if None not in (ours["finish"], theirs["finish"]) and ours["finish"] != theirs["finish"]:
            differences.append(f"finish_reason {ours['finish']!r} streamed, {theirs['finish']!r} not")
        if bool(ours["text"]) != bool(theirs["text"]):
            differences.append(
                f"streamed content {compact(ours['text'], 50)}, non-streamed {compact(theirs['text'], 50)}"
            )
        elif ours["text"] != theirs["text"]:
            findings.note(
                f"choice {index}: the streamed text differs in wording from the non-streamed text "
                f"({compact(ours['text'], 50)} vs {compact(theirs['text'], 50)}); OpenAI promises no equality"
            )
        if ours["calls"] != theirs["calls"]:
            differences.append(f"{ours['calls']} streamed tool call(s), {theirs['calls']} not")
    summary = "; ".join(differences) or "the same structure"
    model = f"the streamed answer differs in structure: {differences[0]}" if differences else None
    return Trial(findings, summary, model=model)


@check("chat.stream.include_usage")
def stream_include_usage(ctx: CheckContext) -> Outcome:
    stream = usage_stream(ctx)
    findings = Findings()
    chunks = stream.chunks()
    with_usage = [(line, chunk) for line, chunk in chunks if chunk.get("usage") is not None]
    if not with_usage:
        findings.add(Oracle.BEHAVIOUR, "stream_options.include_usage is true but no chunk carries usage")
        return findings.fail()
    findings.expect(
        len(with_usage) == 1, Oracle.BEHAVIOUR, f"{len(with_usage)} chunks carry usage, expected exactly one (the last)"
    )
    line, final = with_usage[-1]
    findings.expect(
        final.get("choices") == [],
        Oracle.BEHAVIOUR,
        f"line {line}: the usage chunk has choices {compact(final.get('choices'), 60)}, expected []",
    )
    findings.expect(
        bool(chunks) and chunks[-1][1] is final,
        Oracle.BEHAVIOUR,
        f"line {line}: the usage chunk is not the last chunk before [DONE]",
    )
    findings.extend(Oracle.BEHAVIOUR, usage_problems(final.get("usage"), "usage"))
    usage = final.get("usage") or {}
    return findings.outcome(
        f"one final usage chunk (choices: [], total_tokens {usage.get('total_tokens')})", Oracle.BEHAVIOUR
    )


@check("chat.stream.no_unrequested_usage")
def stream_no_unrequested_usage(ctx: CheckContext) -> Outcome:
    stream = plain_stream(ctx)
    stream.require_chunks()
    findings = Findings()
    for line, chunk in stream.chunks():
        if chunk.get("choices") == [] or ("usage" in chunk and "choices" not in chunk):
            findings.add(
                Oracle.BEHAVIOUR,
                f"line {line}: a chunk without choices in a stream that did not ask for "
                f"usage ({compact(chunk, 100)}): `chunk.choices[0]` raises IndexError",
            )
        elif chunk.get("usage") is not None:
            findings.note(f"line {line}: usage attached to a content chunk without include_usage (tolerated)")
    return findings.outcome("without include_usage every chunk carries a choice", Oracle.BEHAVIOUR)


@check("chat.stream.stable_id")
def stream_stable_id(ctx: CheckContext) -> Outcome:
    chunks = plain_stream(ctx).require_chunks()
    findings = Findings()
    ids = [(line, chunk.get("id")) for line, chunk in chunks]
    first = next((value for _, value in ids if isinstance(value, str) and value), None)
    for line, value in ids:
        if not (isinstance(value, str) and value):
            findings.add(Oracle.BEHAVIOUR, f"line {line}: chunk id {value!r}, expected a non-empty string")
        elif value != first:
            findings.add(Oracle.BEHAVIOUR, f"line {line}: chunk id {value!r} differs from the first chunk's {first!r}")
        if len(findings.problems) >= 4:
            break
    for key in ("created", "model"):
        values = {compact(chunk.get(key)) for _, chunk in chunks if key in chunk}
        if len(values) > 1:
            findings.note(f"`{key}` varies across chunks: {sorted(values)[:3]}")
    return findings.outcome(f"every chunk carries the same id {first!r}", Oracle.BEHAVIOUR)


@check("chat.stream.role_first_delta")
def stream_role_first_delta(ctx: CheckContext) -> Outcome:
    findings = Findings()
    first_seen: set[Any] = set()
    for line, chunk in plain_stream(ctx).require_chunks():
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or not isinstance(choice.get("delta"), dict):
                continue
            index, role = choice.get("index"), choice["delta"].get("role")
            if index not in first_seen:
                first_seen.add(index)
                findings.expect(
                    role == "assistant",
                    Oracle.BEHAVIOUR,
                    f"line {line}: choice {index}'s first delta has role {role!r}, expected 'assistant'",
                )
            elif role is not None:
                findings.add(
                    Oracle.BEHAVIOUR,
                    f"line {line}: choice {index} repeats role {role!r} in a later delta "
                    "(clients start a new message on each role)",
                )
                break
    return findings.outcome("role 'assistant' in the first delta only", Oracle.BEHAVIOUR)


@check("chat.stream.sdk_iteration")
def stream_sdk_iteration(ctx: CheckContext) -> Outcome:
    def read() -> list[Any]:
        stream = ctx.sdk(strict=False).chat.completions.create(**chat_body(ctx, **DETERMINISTIC), stream=True)
        return list(stream)

    chunks = ctx.call_sdk(read)
    text = "".join(
        (choice.delta.content or "")
        for chunk in chunks
        for choice in (getattr(chunk, "choices", None) or ())
        if getattr(choice, "delta", None) is not None
    )
    findings = Findings()
    findings.expect(len(chunks) > 0, Oracle.SDK, "the SDK's stream yields no chunk at all")
    findings.expect(text != "", Oracle.SDK, "the SDK's stream yields no content")
    return findings.outcome(f"the SDK iterates the stream: {len(chunks)} chunks, {len(text)} characters", Oracle.SDK)


@check("chat.stream.error_shape")
def stream_error_shape(ctx: CheckContext) -> Outcome:
    """A stream request the server must refuse: refused before streaming, or refused in a frame the SDK raises."""
    body = chat_body(ctx, messages=SHORT_REPLY, max_tokens=8, stream=True, temperature="hot")
    response = ctx.wire.post("chat/completions", body)
    findings = Findings()
    if response.status >= 300:
        judge_error(
            findings, error_body_of(response), status=400, param="temperature", what='stream with temperature: "hot"'
        )
        return findings.outcome("refused before streaming: 400 in the OpenAI envelope", Oracle.WIRE)
    error_frames = [
        (event, value)
        for event, value in response.sse().json_chunks()
        if event.event == "error" or (isinstance(value, dict) and "error" in value)
    ]
    if not error_frames:
        findings.add(
            Oracle.BEHAVIOUR,
            'temperature: "hot" was answered 200 with an ordinary stream: the invalid request is silently accepted',
        )
        return findings.fail()
    for event, value in error_frames:
        error = value.get("error") if isinstance(value, dict) else None
        if not (isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"]):
            named = " (`event: error`)" if event.event == "error" else ""
            findings.add(
                Oracle.WIRE,
                f"line {event.line}: the error frame{named} {compact(value, 100)} carries no "
                "`error` object with a message: openai-python raises only on data.error, so "
                "users see a garbage chunk or nothing",
            )
    if findings.ok:
        raised = _sdk_raises_in_stream(ctx, body)
        findings.expect(raised, Oracle.SDK, "the SDK iterated the stream without raising the error")
        findings.note("the error arrives after a 200 (in the stream), which the SDK raises as openai.APIError")
    return findings.outcome(
        'the in-stream error is `data: {"error": {...}}`, raised by the SDK as APIError', Oracle.SDK
    )


def _sdk_raises_in_stream(ctx: CheckContext, body: dict[str, Any]) -> bool:
    fields = {k: v for k, v in body.items() if k not in ("stream", "temperature")}
    try:
        stream = ctx.sdk(strict=False).chat.completions.create(**fields, stream=True, extra_body={"temperature": "hot"})
        for _ in stream:
            pass
    except openai.APIError:
        return True
    return False


@check("chat.stream.sdk_helper")
def stream_sdk_helper(ctx: CheckContext) -> Outcome:
    def attempt(budget: int) -> Trial:
        def run() -> tuple[list[str], Any]:
            deltas: list[str] = []
            body = chat_body(ctx, **{**DETERMINISTIC, "max_tokens": budget})
            try:
                with ctx.sdk(strict=False).chat.completions.stream(**body) as stream:
                    for event in stream:
                        if event.type == "content.delta":
                            deltas.append(event.delta)
                    return deltas, stream.get_final_completion()
            except openai.LengthFinishReasonError:
                # get_final_completion() raises on a 'length' finish by design (docs/sdk-facts.md#stream-helper):
                # the reply outgrew our budget, which says nothing about the server
                return deltas, None

        deltas, final = ctx.call_sdk(run)
        findings = Findings()
        if final is None:
            return Trial(findings, f"{len(deltas)} deltas, then LengthFinishReasonError", cut=True)
        streamed = "".join(deltas)
        findings.expect(
            bool(deltas),
            Oracle.SDK,
            "the stream helper emitted no content.delta event (it drops chunks "
            "whose object is not 'chat.completion.chunk')",
        )
        choice = final.choices[0] if final.choices else None
        content = choice.message.content if choice is not None else None
        findings.expect(
            content == streamed and bool(content),
            Oracle.SDK,
            f"get_final_completion() content {compact(content, 60)} differs from the streamed deltas "
            f"{compact(streamed, 60)}",
        )
        findings.expect(
            choice is not None and choice.finish_reason is not None,
            Oracle.SDK,
            "get_final_completion() has no finish_reason",
        )
        return Trial(findings, f"{len(deltas)} deltas, final completion assembled", value=len(deltas))

    trials = run_trials(ctx, attempt, budget=DETERMINISTIC["max_tokens"], repeat=False)
    return trials.outcome(
        f"client.chat.completions.stream(): {trials.last.value} deltas, final completion assembled",
        Oracle.SDK,
        model_fails=False,
    )

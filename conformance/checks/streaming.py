"""POST /chat/completions with ``stream: true``, judged on the raw bytes and through the SDK.

Most features here judge the same plain stream (``_requests.plain_stream``), so a run sends it once.
The strict SSE reader reports framing facts; each feature owns one class of them, so one bug
moves one verdict.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import openai

from conformance.checks._common import DETERMINISTIC, SHORT_REPLY, chat_body, compact, message_text
from conformance.checks._judges import error_body_of, judge_error, usage_problems
from conformance.checks._requests import plain_stream, reference_completion, usage_stream
from conformance.context import CheckContext
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome, skipped

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
    streamed = plain_stream(ctx).content()
    reference = message_text(reference_completion(ctx))
    findings = Findings()
    if streamed == reference:
        return findings.outcome(
            f"streamed text equals the non-streamed text ({len(streamed)} characters)", Oracle.BEHAVIOUR
        )
    # Tell a server that streams something else from one that is merely not deterministic.
    again = message_text(
        ctx.require_ok(ctx.wire.post("chat/completions", chat_body(ctx, **DETERMINISTIC))).json_or_none() or {}
    )
    if again != reference:
        return skipped(
            "the server is not deterministic at temperature 0 with a seed "
            "(two identical non-streamed requests differ), so equality cannot be judged"
        )
    findings.add(
        Oracle.BEHAVIOUR,
        f"streamed text {compact(streamed, 80)} differs from the non-streamed text "
        f"{compact(reference, 80)} (the non-streamed answer is repeatable)",
    )
    return findings.fail()


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
    def run() -> tuple[list[str], str, Any]:
        deltas: list[str] = []
        with ctx.sdk(strict=False).chat.completions.stream(**chat_body(ctx, **DETERMINISTIC)) as stream:
            for event in stream:
                if event.type == "content.delta":
                    deltas.append(event.delta)
            final = stream.get_final_completion()
        return deltas, "".join(deltas), final

    deltas, streamed, final = ctx.call_sdk(run)
    findings = Findings()
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
    return findings.outcome(
        f"client.chat.completions.stream(): {len(deltas)} deltas, final completion assembled", Oracle.SDK
    )

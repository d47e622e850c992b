"""POST /chat/completions without streaming: shape, messages, limits, sampling parameters, usage."""

from __future__ import annotations

import base64
import json
from typing import Any

from conformance.checks._common import (
    BASIC_MAX_TOKENS,
    COUNT_PROMPT,
    SHORT_REPLY,
    compact,
    complete,
    first_choice,
    fixture_bytes,
    reply_outcome,
    strict_sdk_json,
)
from conformance.checks._judges import judge_invalid_value, unreported_cut, usage_problems
from conformance.checks._requests import basic_completion, count_reference
from conformance.context import CheckContext, StatusError
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome, skipped, unsupported


def basic_body(ctx: CheckContext) -> dict[str, Any] | None:
    try:
        body = json.loads(basic_completion(ctx).http_response.content)
    except ValueError:
        return None  # chat.basic reports the body itself
    return body if isinstance(body, dict) else None


@check("chat.basic")
def chat_basic(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: basic_completion(ctx), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "ChatCompletion"))
    if not isinstance(body, dict):
        return findings.fail()
    findings.expect(
        isinstance(body.get("id"), str) and bool(body.get("id")),
        Oracle.BEHAVIOUR,
        f"id: received {body.get('id')!r}, expected a non-empty string",
    )
    choices = body.get("choices")
    if isinstance(choices, list):
        findings.expect(
            len(choices) == 1, Oracle.BEHAVIOUR, f"choices: received {len(choices)}, expected 1 (n not set)"
        )
        if choices and isinstance(choices[0], dict):
            content = (choices[0].get("message") or {}).get("content")
            findings.expect(
                isinstance(content, str) and content.strip() != "",
                Oracle.BEHAVIOUR,
                f"message.content: received {compact(content, 80)}, expected the reply text",
            )
    # usage above the limit the request set, with another finish_reason than "length": the limit was
    # not honoured, or its cut not reported (a reply that merely reaches the limit may have ended there)
    cut = unreported_cut(body, BASIC_MAX_TOKENS)
    if cut is not None:
        findings.add(Oracle.BEHAVIOUR, cut)
    findings.extension("ChatCompletion", oracle.extension_fields(body, "ChatCompletion"))
    for choice in choices if isinstance(choices, list) else ():
        if isinstance(choice, dict) and (choice.get("message") or {}).get("tool_calls") == []:
            findings.note("choices[].message.tool_calls is an empty list on a plain answer (null is usual)")
    return findings.outcome("the completion parses in the strict SDK and matches its schema", Oracle.SCHEMA)


# --- messages ------------------------------------------------------------------------------------


@check("chat.messages.system")
def chat_messages_system(ctx: CheckContext) -> Outcome:
    return reply_outcome(ctx, messages=[{"role": "system", "content": "You are a terse assistant."}, *SHORT_REPLY])


@check("chat.messages.developer")
def chat_messages_developer(ctx: CheckContext) -> Outcome:
    return reply_outcome(ctx, messages=[{"role": "developer", "content": "You are a terse assistant."}, *SHORT_REPLY])


@check("chat.messages.multi_turn")
def chat_messages_multi_turn(ctx: CheckContext) -> Outcome:
    history = [
        {"role": "user", "content": "My favourite colour is blue."},
        {"role": "assistant", "content": "Noted: blue."},
        {"role": "user", "content": "Reply with one short sentence about my favourite colour."},
    ]
    return reply_outcome(ctx, messages=history)


@check("chat.messages.content_parts")
def chat_messages_content_parts(ctx: CheckContext) -> Outcome:
    parts = [{"type": "text", "text": "Reply with one short sentence"}, {"type": "text", "text": "about the sea."}]
    return reply_outcome(ctx, messages=[{"role": "user", "content": parts}])


@check("chat.messages.name")
def chat_messages_name(ctx: CheckContext) -> Outcome:
    return reply_outcome(ctx, messages=[{"role": "user", "name": "alice", "content": SHORT_REPLY[0]["content"]}])


@check("chat.messages.image_url")
def chat_messages_image_url(ctx: CheckContext) -> Outcome:
    png = base64.b64encode(fixture_bytes("images/red-square.png")).decode()
    parts = [
        {"type": "text", "text": "What colour is this square? Answer in one word."},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}", "detail": "low"}},
    ]
    return reply_outcome(ctx, model=ctx.vision_model, messages=[{"role": "user", "content": parts}])


# --- limits --------------------------------------------------------------------------------------


def _cut_by_limit(ctx: CheckContext, field: str) -> Outcome:
    limit = 5
    limits: dict[str, Any] = {field: limit}
    body = complete(ctx, messages=COUNT_PROMPT, **limits)
    findings = Findings()
    choice = first_choice(body)
    completion_tokens = (body.get("usage") or {}).get("completion_tokens")
    content = (choice.get("message") or {}).get("content")
    words = len(content.split()) if isinstance(content, str) else 0
    # The prompt asks for twenty numbers: a reply that reaches the limit (a word is at least one token,
    # or usage says so) was cut, whatever finish_reason claims. One that ended well within it had
    # nothing to cut, and "stop" is then right: no verdict (a static mock answering "string").
    longer = words >= limit or (isinstance(completion_tokens, int) and completion_tokens >= limit)
    if choice.get("finish_reason") != "length" and not longer:
        return skipped(f"the reply ended on its own within {field}={limit} ({compact(content, 60)}): nothing was cut")
    findings.expect(
        choice.get("finish_reason") == "length",
        Oracle.BEHAVIOUR,
        f"finish_reason: received {choice.get('finish_reason')!r} for a reply that reached {field}={limit}, "
        "expected 'length'",
    )
    if isinstance(completion_tokens, int):
        findings.expect(
            completion_tokens <= limit,
            Oracle.BEHAVIOUR,
            f"usage.completion_tokens: received {completion_tokens}, expected at most {field}={limit}",
        )
    return findings.outcome(f"{field}={limit} cuts the reply with finish_reason 'length'", Oracle.BEHAVIOUR)


@check("chat.max_tokens.length")
def chat_max_tokens_length(ctx: CheckContext) -> Outcome:
    return _cut_by_limit(ctx, "max_tokens")


@check("chat.max_completion_tokens.length")
def chat_max_completion_tokens_length(ctx: CheckContext) -> Outcome:
    return _cut_by_limit(ctx, "max_completion_tokens")


def _stop(ctx: CheckContext, as_array: bool) -> Outcome:
    reference = count_reference(ctx)
    words = reference.split()
    if len(words) < 6:
        return skipped(f"the reference reply is too short to place stop sequences in: {reference[:60]!r}")
    stops = [" " + words[2], " " + words[4]] if as_array else [" " + words[2]]
    stop: Any = stops if as_array else stops[0]
    body = complete(ctx, messages=COUNT_PROMPT, max_tokens=24, temperature=0, stop=stop, decline_param="stop")
    findings = Findings()
    choice = first_choice(body)
    content = (choice.get("message") or {}).get("content")
    text = content if isinstance(content, str) else ""
    for sequence in stops:
        findings.expect(
            sequence not in text, Oracle.BEHAVIOUR, f"the reply contains the stop sequence {sequence!r}: {text[:80]!r}"
        )
    findings.expect(
        choice.get("finish_reason") == "stop",
        Oracle.BEHAVIOUR,
        f"finish_reason: received {choice.get('finish_reason')!r} after a stop sequence, expected 'stop'",
    )
    return findings.outcome(f"stops before {stop!r}: {text[:60]!r}", Oracle.BEHAVIOUR)


@check("chat.stop.string")
def chat_stop_string(ctx: CheckContext) -> Outcome:
    return _stop(ctx, as_array=False)


@check("chat.stop.array")
def chat_stop_array(ctx: CheckContext) -> Outcome:
    return _stop(ctx, as_array=True)


@check("chat.n")
def chat_n(ctx: CheckContext) -> Outcome:
    body = complete(ctx, messages=SHORT_REPLY, max_tokens=12, n=2, temperature=1, decline_param="n")
    findings = Findings()
    choices: list[Any] = body["choices"] if isinstance(body.get("choices"), list) else []
    indexes = sorted(c["index"] for c in choices if isinstance(c, dict) and isinstance(c.get("index"), int))
    findings.expect(
        len(choices) == 2,
        Oracle.BEHAVIOUR,
        f"n=2 answered with {len(choices)} choice(s): silently ignored (decline with 400 and param 'n')",
    )
    findings.expect(
        indexes == [0, 1] or len(choices) != 2, Oracle.BEHAVIOUR, f"choice indexes {indexes}, expected [0, 1]"
    )
    for choice in choices:
        content = (choice.get("message") or {}).get("content") if isinstance(choice, dict) else None
        findings.expect(
            isinstance(content, str) and content != "",
            Oracle.BEHAVIOUR,
            f"choice {choice.get('index') if isinstance(choice, dict) else '?'} has no reply text",
        )
    return findings.outcome("n=2 gives two choices with indexes 0 and 1", Oracle.BEHAVIOUR)


@check("chat.seed")
def chat_seed(ctx: CheckContext) -> Outcome:
    def seeded() -> str:
        body = complete(
            ctx,
            messages=[{"role": "user", "content": "Invent a name for a boat."}],
            max_tokens=12,
            temperature=1,
            seed=4242,
            decline_param="seed",
        )
        content = (first_choice(body).get("message") or {}).get("content")
        return content if isinstance(content, str) else ""

    first, second = seeded(), seeded()
    findings = Findings()
    if first == second:
        return findings.outcome("the same seed reproduces the same reply at temperature 1", Oracle.BEHAVIOUR)
    # Determinism is best effort (OpenAI says so): one disagreement gets one more try, on record.
    third = seeded()
    if third in (first, second):
        findings.note("needed a third request: two of three replies with the same seed agree (best effort)")
        return findings.outcome("the same seed reproduces the reply (two of three)", Oracle.BEHAVIOUR)
    findings.add(
        Oracle.BEHAVIOUR,
        f"three requests with seed 4242 gave three different replies: {first[:30]!r}, "
        f"{second[:30]!r}, {third[:30]!r} (seed is accepted and ignored)",
    )
    return findings.fail()


@check("chat.response.system_fingerprint")
def chat_system_fingerprint(ctx: CheckContext) -> Outcome:
    body = basic_body(ctx) or {}
    value = body.get("system_fingerprint")
    if value is None:
        return unsupported(
            "the completion carries no system_fingerprint (optional; clients tracking backend changes cannot)",
            Oracle.BEHAVIOUR,
        )
    findings = Findings()
    findings.expect(
        isinstance(value, str) and value != "",
        Oracle.SCHEMA,
        f"system_fingerprint: received {compact(value)}, expected a non-empty string",
    )
    return findings.outcome(f"system_fingerprint {value!r}", Oracle.SCHEMA)


# --- sampling parameters ---------------------------------------------------------------------------


def _accepts_and_bounds(ctx: CheckContext, field: str, good: list[Any], bad: Any) -> Outcome:
    """In-range values are honoured (200); an out-of-range value is a 400 naming the field."""
    for value in good:
        complete(ctx, messages=SHORT_REPLY, max_tokens=4, decline_param=field, **{field: value})
    findings = Findings()
    try:
        complete(ctx, messages=SHORT_REPLY, max_tokens=4, **{field: bad})
        refusal = None
    except StatusError as error:
        refusal = error.body
    judge_invalid_value(findings, field, bad, refusal)
    return findings.outcome(
        f"{field} {', '.join(map(str, good))} accepted; {bad} rejected with 400 param {field!r}", Oracle.BEHAVIOUR
    )


@check("chat.params.temperature")
def chat_params_temperature(ctx: CheckContext) -> Outcome:
    return _accepts_and_bounds(ctx, "temperature", [0, 1.5], 2.5)


@check("chat.params.top_p")
def chat_params_top_p(ctx: CheckContext) -> Outcome:
    return _accepts_and_bounds(ctx, "top_p", [0.5], 1.5)


@check("chat.params.penalties")
def chat_params_penalties(ctx: CheckContext) -> Outcome:
    complete(ctx, messages=SHORT_REPLY, max_tokens=4, frequency_penalty=0.5, decline_param="frequency_penalty")
    return _accepts_and_bounds(ctx, "presence_penalty", [0.5], 2.5)


@check("chat.params.logit_bias")
def chat_params_logit_bias(ctx: CheckContext) -> Outcome:
    return reply_outcome(
        ctx, logit_bias={"100": -1, "200": 1}, decline_param="logit_bias", accepted="logit_bias is accepted"
    )


@check("chat.params.identifiers")
def chat_params_identifiers(ctx: CheckContext) -> Outcome:
    return reply_outcome(
        ctx,
        user="conformance-user",
        safety_identifier="conformance-suite",
        prompt_cache_key="openai-conformance",
        metadata={"suite": "openai-conformance"},
        accepted="user, safety_identifier, prompt_cache_key and metadata are accepted",
    )


@check("chat.params.reasoning_effort")
def chat_params_reasoning_effort(ctx: CheckContext) -> Outcome:
    return reply_outcome(
        ctx, reasoning_effort="low", decline_param="reasoning_effort", accepted="reasoning_effort 'low' is accepted"
    )


@check("chat.logprobs")
def chat_logprobs(ctx: CheckContext) -> Outcome:
    body = complete(ctx, messages=SHORT_REPLY, max_tokens=8, logprobs=True, top_logprobs=2, decline_param="logprobs")
    findings = Findings()
    choice = first_choice(body)
    logprobs = choice.get("logprobs")
    entries = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(entries, list) or not entries:
        findings.add(
            Oracle.BEHAVIOUR,
            f"logprobs=true answered with logprobs {compact(logprobs, 100)}: expected "
            "{'content': [{'token', 'logprob', 'bytes', 'top_logprobs'}, ...]}",
        )
        return findings.fail()
    for position, entry in enumerate(entries[:50]):
        where = f"logprobs.content[{position}]"
        if not isinstance(entry, dict):
            findings.add(Oracle.BEHAVIOUR, f"{where}: received {compact(entry)}, expected an object")
            continue
        findings.expect(isinstance(entry.get("token"), str), Oracle.BEHAVIOUR, f"{where}.token is not a string")
        logprob = entry.get("logprob")
        findings.expect(
            isinstance(logprob, (int, float)) and logprob <= 0,
            Oracle.BEHAVIOUR,
            f"{where}.logprob: received {logprob!r}, expected a number <= 0",
        )
        top = entry.get("top_logprobs")
        findings.expect(
            isinstance(top, list) and len(top) == 2,
            Oracle.BEHAVIOUR,
            f"{where}.top_logprobs: received {compact(top, 60)}, expected 2 entries (top_logprobs=2)",
        )
        if len(findings.problems) > 4:
            break
    content = (choice.get("message") or {}).get("content")
    tokens = "".join(e.get("token", "") for e in entries if isinstance(e, dict) and isinstance(e.get("token"), str))
    if isinstance(content, str) and findings.ok:
        findings.expect(
            tokens == content,
            Oracle.BEHAVIOUR,
            f"the logprob tokens spell {tokens[:60]!r}, the content is {content[:60]!r}",
        )
    return findings.outcome(f"{len(entries)} token logprobs with 2 alternatives each", Oracle.BEHAVIOUR)


# --- usage -----------------------------------------------------------------------------------------


@check("chat.usage")
def chat_usage(ctx: CheckContext) -> Outcome:
    body = basic_body(ctx)
    findings = Findings()
    usage = body.get("usage") if isinstance(body, dict) else None
    findings.extend(Oracle.BEHAVIOUR, usage_problems(usage, "usage"))
    if isinstance(usage, dict) and not findings.problems:
        return findings.outcome(
            f"prompt {usage['prompt_tokens']} + completion {usage['completion_tokens']} "
            f"= total {usage['total_tokens']}",
            Oracle.BEHAVIOUR,
        )
    return findings.fail()

"""POST /chat/completions without streaming: shape, messages, limits, usage."""

from __future__ import annotations

import json
from typing import Any

from conformance import schemas
from conformance.checks._common import (
    BASIC_MAX_TOKENS,
    SHORT_REPLY,
    declared_extension_note,
    strict_sdk_json,
)
from conformance.context import CheckContext
from conformance.registry import check
from conformance.verdict import Findings, Oracle, Outcome


def basic_completion(ctx: CheckContext) -> Any:
    """The run's plain completion through the strict SDK, raw response kept (shared)."""
    return ctx.shared(
        "chat.basic",
        lambda: ctx.call_sdk(
            lambda: ctx.sdk(strict=True).chat.completions.with_raw_response.create(
                model=ctx.chat_model, messages=SHORT_REPLY, max_tokens=BASIC_MAX_TOKENS
            )
        ),
    )


def _extension_fields(body: dict[str, Any]) -> list[str]:
    found = [key for key in body if key not in schemas.declared_fields("ChatCompletion")]
    choice_fields = {"index", "message", "finish_reason", "logprobs"}
    message_fields = {"content", "refusal", "role", "annotations", "audio", "function_call", "tool_calls"}
    for choice in body.get("choices") or ():
        if isinstance(choice, dict):
            found += [f"choices[].{k}" for k in choice if k not in choice_fields]
            message = choice.get("message")
            if isinstance(message, dict):
                found += [f"choices[].message.{k}" for k in message if k not in message_fields]
    return sorted(set(found))


@check("chat.basic")
def chat_basic(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: basic_completion(ctx), findings)
    findings.extend(Oracle.SCHEMA, schemas.validate(body, "ChatCompletion"))
    if not isinstance(body, dict):
        return findings.verdict("")
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
                f"message.content: received {content!r}, expected the reply text",
            )
    extensions = _extension_fields(body)
    if extensions:
        findings.note(declared_extension_note("completion", extensions))
    return findings.verdict("the completion parses in the strict SDK and matches its schema", Oracle.SCHEMA)


def _reply_text(ctx: CheckContext, messages: Any) -> Outcome:
    completion = ctx.call_sdk(
        lambda: ctx.sdk(strict=False).chat.completions.create(
            model=ctx.chat_model, messages=messages, max_tokens=BASIC_MAX_TOKENS
        )
    )
    findings = Findings()
    choices = getattr(completion, "choices", None) or []
    content = choices[0].message.content if choices and getattr(choices[0], "message", None) else None
    findings.expect(
        isinstance(content, str) and content.strip() != "",
        Oracle.BEHAVIOUR,
        f"message.content: received {content!r}, expected a reply",
    )
    return findings.verdict(f"answered: {str(content)[:60]!r}", Oracle.BEHAVIOUR)


@check("chat.messages.system")
def chat_messages_system(ctx: CheckContext) -> Outcome:
    return _reply_text(
        ctx,
        [
            {"role": "system", "content": "You are a terse assistant."},
            *SHORT_REPLY,
        ],
    )


@check("chat.messages.multi_turn")
def chat_messages_multi_turn(ctx: CheckContext) -> Outcome:
    return _reply_text(
        ctx,
        [
            {"role": "user", "content": "My favourite colour is blue."},
            {"role": "assistant", "content": "Noted: blue."},
            {"role": "user", "content": "Reply with one short sentence about my favourite colour."},
        ],
    )


@check("chat.max_tokens.length")
def chat_max_tokens_length(ctx: CheckContext) -> Outcome:
    limit = 5
    completion = ctx.call_sdk(
        lambda: ctx.sdk(strict=False).chat.completions.create(
            model=ctx.chat_model,
            max_tokens=limit,
            messages=[{"role": "user", "content": "Count from 1 to 100, separated by spaces."}],
        )
    )
    findings = Findings()
    choice = completion.choices[0] if completion.choices else None
    finish = getattr(choice, "finish_reason", None)
    findings.expect(
        finish == "length",
        Oracle.BEHAVIOUR,
        f"finish_reason: received {finish!r} for a reply cut at max_tokens={limit}, expected 'length'",
    )
    usage = completion.usage
    if usage is not None and isinstance(usage.completion_tokens, int):
        findings.expect(
            usage.completion_tokens <= limit,
            Oracle.BEHAVIOUR,
            f"usage.completion_tokens: received {usage.completion_tokens}, expected at most max_tokens={limit}",
        )
    return findings.verdict(f"max_tokens={limit} cuts the reply with finish_reason 'length'", Oracle.BEHAVIOUR)


def usage_problems(usage: Any, where: str) -> list[str]:
    """Usage arithmetic, the same rule for completions and for the streamed usage chunk."""
    if not isinstance(usage, dict):
        return [f"{where}: received {usage!r}, expected an object with token counts"]
    problems = []
    counts: dict[str, Any] = {k: usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
    for key, value in counts.items():
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            problems.append(f"{where}.{key}: received {value!r}, expected a non-negative integer")
    if problems:
        return problems
    if counts["total_tokens"] != counts["prompt_tokens"] + counts["completion_tokens"]:
        problems.append(
            f"{where}: total_tokens {counts['total_tokens']} != prompt_tokens {counts['prompt_tokens']}"
            f" + completion_tokens {counts['completion_tokens']}"
        )
    if counts["prompt_tokens"] == 0:
        problems.append(f"{where}.prompt_tokens is 0 for a non-empty prompt")
    if counts["completion_tokens"] == 0:
        problems.append(f"{where}.completion_tokens is 0 although text was generated")
    return problems


@check("chat.usage")
def chat_usage(ctx: CheckContext) -> Outcome:
    raw = basic_completion(ctx)
    try:
        body = json.loads(raw.http_response.content)
    except ValueError:
        body = None  # chat.basic reports the body itself
    findings = Findings()
    usage = body.get("usage") if isinstance(body, dict) else None
    findings.extend(Oracle.BEHAVIOUR, usage_problems(usage, "usage"))
    if isinstance(usage, dict) and not findings.problems:
        return findings.verdict(
            f"prompt {usage['prompt_tokens']} + completion {usage['completion_tokens']} "
            f"= total {usage['total_tokens']}",
            Oracle.BEHAVIOUR,
        )
    return findings.verdict("")

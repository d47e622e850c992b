"""Judging helpers that several features apply: provoked errors and their envelope, usage
arithmetic, tool calls (the server's part of them, and the model's).

A helper here only judges what it is given and returns the problems (or records them in the
caller's :class:`~conformance.verdict.Findings`); it sends nothing. Keeping them out of the check
modules means that no check module imports another: streamed usage and a completion's usage are
judged by the same rule, and a streamed tool call and a returned one too.

Depends on ``envelope``, ``sdk``, ``verdict``, ``wire`` and ``checks._common``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from types import EllipsisType
from typing import Any

import jsonschema

from conformance.checks._common import compact
from conformance.envelope import ErrorBody, decode_error_body, envelope_problems, judge_decline, param_names
from conformance.sdk import exception_name_for_status, oracle
from conformance.verdict import Findings, Oracle
from conformance.wire import WireResponse

# --- errors -------------------------------------------------------------------------------------


def error_body_of(response: WireResponse) -> ErrorBody:
    return decode_error_body(response.status, response.content_type, response.body)


def judge_error(
    findings: Findings,
    body: ErrorBody,
    *,
    status: int,
    param: str | None | EllipsisType = ...,
    what: str,
) -> None:
    """The common judgement of a provoked error: status (hence SDK class), envelope, param."""
    expected_exc = exception_name_for_status(status)
    if body.status < 400:
        findings.add(
            Oracle.WIRE,
            f"{what}: answered HTTP {body.status} (no exception in the SDK), expected {status} ({expected_exc})",
        )
        return  # a success body is no error envelope: reading one there (a Response's `error: null`) says nothing more
    if body.status != status:
        findings.add(
            Oracle.SDK,
            f"{what}: HTTP {body.status} makes the SDK raise "
            f"{exception_name_for_status(body.status)}, expected {status} ({expected_exc})",
        )
    findings.extend(Oracle.WIRE, [f"{what}: {p}" for p in envelope_problems(body)])
    if param is not ... and body.error is not None and body.param != param:
        findings.add(Oracle.WIRE, f"{what}: error.param: received {body.param!r}, expected {param!r}")


def expect_named(findings: Findings, body: ErrorBody, what: str, *, param: str, word: str) -> None:
    """A refusal must say what is wrong: ``error.param`` names the field, or the message mentions it.

    OpenAI itself sets ``param`` for most invalid fields but leaves it null for some (an unrecognized
    argument, a missing model) and names the field in the message instead; either tells the user.
    """
    if body.error is None or body.status < 400:
        return  # the status or the envelope is already reported
    message = body.message or ""
    if not (param_names(body.param, param) or word.lower() in message.lower()):
        findings.add(
            Oracle.WIRE,
            f"{what}: the error names no field (param {body.param!r}, message {message[:80]!r}): "
            f"expected param {param!r} or a message about {word!r}",
        )


def judge_invalid_value(
    findings: Findings,
    field: str,
    bad: Any,
    refusal: ErrorBody | None,
    *,
    invalid: str = "is out of range",
    served: str = "silently clamped or ignored",
) -> None:
    """A value OpenAI refuses (``refusal``: the error it got, None when it was served) must be refused
    with 400 naming the field, not clamped, ignored or replaced: one rule for every API and field that
    takes it (sampling ranges, an image size). ``invalid`` says what is wrong with ``bad``, ``served``
    what a server that serves it may have done instead."""
    if refusal is None:
        findings.add(
            Oracle.BEHAVIOUR,
            f"{field}={bad!r} {invalid} and was accepted ({served}), expected 400 with param '{field}'",
        )
        return
    _, problems = judge_decline(refusal, param=field)
    if refusal.status in (403, 404):  # an honest "no" elsewhere, but a bad value is a 400
        problems.insert(0, f"HTTP {refusal.status}, expected 400")
    findings.extend(Oracle.WIRE, [f"{field}={bad!r}: {p}" for p in problems])


def listed_ids(findings: Findings, body: Any, what: str, item_schema: str) -> list[Any] | None:
    """The ids on a list page (``{"object": "list", "data": [...]}``), its first items checked against
    the SDK type ``item_schema``; None, with the finding, when the body is no list page."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        expected = "{'object': 'list', 'data': [...]}"
        findings.add(Oracle.SCHEMA, f"{what}: received {compact(body, 100)}, expected {expected}")
        return None
    for position, item in enumerate(data[:20]):
        findings.extend(Oracle.SCHEMA, [f"data[{position}] {p}" for p in oracle.validate(item, item_schema)][:2])
    return [item.get("id") for item in data if isinstance(item, dict)]


# --- usage --------------------------------------------------------------------------------------


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
    # details, where present: each a count, none above the total it details
    for details_key, total_key in (
        ("prompt_tokens_details", "prompt_tokens"),
        ("completion_tokens_details", "completion_tokens"),
    ):
        details = usage.get(details_key)
        if details is None:
            continue
        if not isinstance(details, dict):
            problems.append(f"{where}.{details_key}: received {compact(details)}, expected an object")
            continue
        for key, value in details.items():
            if value is None:
                continue
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                problems.append(f"{where}.{details_key}.{key}: received {value!r}, expected a non-negative integer")
            elif value > counts[total_key]:
                problems.append(f"{where}.{details_key}.{key} = {value} exceeds {total_key} = {counts[total_key]}")
    return problems


# --- tool calls ---------------------------------------------------------------------------------
#
# What the server controls in a tool call: that it is made where tool_choice forces one, its shape
# (a list of objects with a unique non-empty id, type "function", an offered name, arguments as a
# string) and finish_reason. What the model writes in the arguments is the model's: OpenAI's API
# reference says "the model does not always generate valid JSON, and may hallucinate parameters not
# defined by your function schema" (`Function.arguments`, openai-python's
# types/chat/chat_completion_message_function_tool_call.py, the same text as the OpenAPI spec's
# ChatCompletionMessageToolCall), and promises the exact schema only "if set to true" (`strict`,
# types/shared/function_definition.py). So argument problems are notes, except for a strict tool.

# The tool-call syntax of common chat templates (Hermes and Qwen, Mistral, Llama 3.1, DeepSeek,
# Granite, Functionary): left in `content`, it is a call the server did not parse.
TOOL_MARKUP = re.compile(
    r"</?tool_call>|<\|tool_call\|>|\[TOOL_CALLS\]|<\|python_tag\|>|<｜tool▁calls?▁begin｜>|<function=\w+>",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
NOT_STRICT = "(the model's: the tool is not strict, and OpenAI promises schema-valid arguments only with strict: true)"


def schemas_by_name(*tools: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The parameters schema of each offered tool, by function name."""
    return {tool["function"]["name"]: tool["function"]["parameters"] for tool in tools}


def tool_call_problems(calls: Any, schemas: dict[str, dict[str, Any]], where: str = "tool_calls") -> list[str]:
    """What the server got wrong in a message's tool_calls (their shape), judged against the tools
    offered. The arguments' content is the model's: see :func:`argument_problems`."""
    if not isinstance(calls, list) or not calls:
        return [f"{where}: received {compact(calls, 80)}, expected a non-empty list of tool calls"]
    problems: list[str] = []
    seen_ids: set[str] = set()
    for position, call in enumerate(calls):
        at = f"{where}[{position}]"
        if not isinstance(call, dict):
            problems.append(f"{at}: received {compact(call)}, expected an object")
            continue
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            problems.append(f"{at}.id: received {call_id!r}, expected a non-empty string (tool results cite it)")
        elif call_id in seen_ids:
            problems.append(f"{at}.id {call_id!r} repeats an earlier call's id: results cannot be told apart")
        else:
            seen_ids.add(call_id)
        if call.get("type") != "function":
            problems.append(f"{at}.type: received {call.get('type')!r}, expected 'function'")
        function: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
        name = function.get("name")
        if name not in schemas:
            problems.append(f"{at}.function.name: received {name!r}, expected one of {sorted(schemas)}")
            continue
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            problems.append(
                f"{at}.function.arguments is a {type(arguments).__name__}, expected a JSON string "
                "(json.loads(arguments) raises TypeError in user code)"
            )
    return problems


def argument_problems(calls: Any, schemas: dict[str, dict[str, Any]], where: str = "tool_calls") -> list[str]:
    """What is wrong with the arguments the model wrote: not JSON, or not the tool's schema. A problem
    only for a strict tool; for any other, a note (:data:`NOT_STRICT`). Calls whose shape is wrong
    are :func:`tool_call_problems`' and skipped here."""
    problems: list[str] = []
    for position, call in enumerate(calls if isinstance(calls, list) else ()):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or function.get("name") not in schemas:
            continue
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            continue
        at = f"{where}[{position}].function.arguments"
        try:
            value = json.loads(arguments)
        except ValueError:
            problems.append(f"{at} is not JSON: {arguments[:80]!r}")
            continue
        for error in jsonschema.Draft202012Validator(schemas[function["name"]]).iter_errors(value):
            path = "".join(f"[{p!r}]" for p in error.absolute_path)
            problems.append(f"{at}{path}: {error.message} (the tool's parameters schema)")
            break
    return problems


def unparsed_tool_call(content: Any, names: Collection[str]) -> str | None:
    """What in ``content`` is a tool call the server left unparsed: a template's tool-call markup, or
    a JSON object (alone, or in a code fence) naming an offered function with its arguments."""
    if not isinstance(content, str) or not content.strip():
        return None
    marker = TOOL_MARKUP.search(content)
    if marker is not None:
        return f"`{marker.group(0)}` tool-call markup"
    text = content.strip()
    fenced = _FENCE.match(text)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return None
    for item in value if isinstance(value, list) else [value]:
        if (
            isinstance(item, dict)
            and item.get("name") in names
            and isinstance(item.get("arguments", item.get("parameters")), (dict, str))
        ):
            return f"a JSON object calling {item['name']} with its arguments"
    return None


def content_beside_calls(message: dict[str, Any]) -> str | None:
    """A note on ``content`` beside tool calls: OpenAI sends null. ``""`` is allowed by the OpenAPI
    schema (a nullable string) and read by the SDK, so it is reported, never failed."""
    content = message.get("content")
    if not message.get("tool_calls") or content is None:
        return None
    if content == "":
        return 'message.content is "" beside tool_calls, where OpenAI sends null (the SDK reads both)'
    if isinstance(content, str) and content.strip():
        return f"text content beside the tool call: {content[:60]!r}"
    return None


def json_unclosed(text: str) -> bool:
    """Whether JSON text stops before it is complete (an open string, object or array), as a cut does;
    JSON that is merely invalid (a raw control character, a stray comma) is not."""
    try:
        json.loads(text, strict=False)
    except json.JSONDecodeError as error:
        return error.msg.startswith("Unterminated string") or error.pos >= len(text.rstrip())
    return False


def unreported_cut(body: dict[str, Any], max_tokens: int) -> str | None:
    """A reply cut by the token limit but reported with another finish_reason than "length", which
    OpenAI's spec gives "if the maximum number of tokens specified in the request was reached"
    (`finish_reason`, types/chat/chat_completion.py). Conservative, as a reply may end naturally on its
    last allowed token: only usage above the limit, or usage at the limit with tool arguments visibly
    cut (JSON left open). One choice only (usage counts every choice's tokens)."""
    choices = body.get("choices")
    if not (isinstance(choices, list) and len(choices) == 1 and isinstance(choices[0], dict)):
        return None
    finish = choices[0].get("finish_reason")
    usage = body.get("usage")
    used = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if finish == "length" or not isinstance(used, int) or isinstance(used, bool) or used < max_tokens:
        return None
    if used > max_tokens:
        return (
            f"usage.completion_tokens {used} exceeds max_tokens {max_tokens}, with finish_reason {finish!r}: "
            "the limit was not honoured, or its cut not reported as 'length'"
        )
    message = choices[0].get("message")
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    for position, call in enumerate(calls if isinstance(calls, list) else ()):
        function = call.get("function") if isinstance(call, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        if isinstance(arguments, str) and json_unclosed(arguments):
            return (
                f"finish_reason {finish!r} for a reply cut by max_tokens: it used all {max_tokens} tokens "
                f"(usage.completion_tokens {used}) and tool_calls[{position}].function.arguments stops "
                f"mid-JSON (…{arguments[-30:]!r}); a cut must be reported as 'length', or clients run a "
                "truncated call"
            )
    return None

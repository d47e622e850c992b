"""Judging helpers that several features apply: provoked errors and their envelope, usage
arithmetic, tool calls.

A helper here only judges what it is given and returns the problems (or records them in the
caller's :class:`~conformance.verdict.Findings`); it sends nothing. Keeping them out of the check
modules means that no check module imports another: streamed usage and a completion's usage are
judged by the same rule, and a streamed tool call and a returned one too.

Depends on ``envelope``, ``sdk``, ``verdict``, ``wire`` and ``checks._common``.
"""

from __future__ import annotations

import json
from types import EllipsisType
from typing import Any

import jsonschema

from conformance.checks._common import compact
from conformance.envelope import ErrorBody, decode_error_body, envelope_problems
from conformance.sdk import exception_name_for_status
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
    elif body.status != status:
        findings.add(
            Oracle.SDK,
            f"{what}: HTTP {body.status} makes the SDK raise "
            f"{exception_name_for_status(body.status)}, expected {status} ({expected_exc})",
        )
    findings.extend(Oracle.WIRE, [f"{what}: {p}" for p in envelope_problems(body)])
    if param is not ... and body.error is not None and body.param != param:
        findings.add(Oracle.WIRE, f"{what}: error.param: received {body.param!r}, expected {param!r}")


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


def schemas_by_name(*tools: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The parameters schema of each offered tool, by function name."""
    return {tool["function"]["name"]: tool["function"]["parameters"] for tool in tools}


def tool_call_problems(calls: Any, schemas: dict[str, dict[str, Any]], where: str = "tool_calls") -> list[str]:
    """Everything wrong with a message's tool_calls, judged against the tools that were offered."""
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
            continue
        try:
            value = json.loads(arguments)
        except ValueError:
            problems.append(f"{at}.function.arguments is not JSON: {arguments[:80]!r}")
            continue
        for error in jsonschema.Draft202012Validator(schemas[name]).iter_errors(value):
            path = "".join(f"[{p!r}]" for p in error.absolute_path)
            problems.append(f"{at}.function.arguments{path}: {error.message} (the tool's parameters schema)")
            break
    return problems

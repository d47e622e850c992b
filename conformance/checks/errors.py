"""Errors the suite provokes on purpose: status, envelope, ``param``, and what the SDK makes of them."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from conformance.checks._common import SHORT_REPLY, UNKNOWN_FIELD, UNKNOWN_MODEL, chat_body, compact
from conformance.checks._judges import error_body_of, expect_named, judge_error
from conformance.checks._requests import basic_completion, invalid_key, invalid_param, unknown_model
from conformance.context import CheckContext, StatusError
from conformance.cost import IMPOSSIBLE_MAX_TOKENS
from conformance.envelope import ErrorBody, decode_error_body, envelope_problems
from conformance.registry import check
from conformance.sdk import exception_class_for_status, exception_name_for_status
from conformance.verdict import Findings, Oracle, Outcome, skipped
from conformance.wire import RecordedExchange, WireResponse, retry_after_seconds


@check("errors.envelope.invalid_param")
def envelope_invalid_param(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = invalid_param(ctx).body
    judge_error(findings, body, status=400, param="temperature", what='temperature: "hot"')
    if isinstance(body.error, dict):  # fields beyond message/type/param/code: the docs page lists them
        findings.extension("error", sorted(set(body.error) - {"message", "type", "param", "code"}))
    return findings.outcome("400 in the OpenAI envelope with param 'temperature' (BadRequestError)", Oracle.WIRE)


@check("errors.envelope.missing_field")
def envelope_missing_field(ctx: CheckContext) -> Outcome:
    findings = Findings()
    response = ctx.wire.post("chat/completions", {"model": ctx.chat_model, "max_tokens": 8})
    judge_error(findings, error_body_of(response), status=400, param="messages", what="no messages")
    return findings.outcome("400 in the OpenAI envelope with param 'messages'", Oracle.WIRE)


@check("errors.invalid_json")
def invalid_json(ctx: CheckContext) -> Outcome:
    findings = Findings()
    broken = f'{{"model": "{ctx.chat_model}", "messages": [{{"role": "user", "content": "hi"'.encode()
    response = ctx.wire.post("chat/completions", content=broken)
    judge_error(findings, error_body_of(response), status=400, what="a truncated JSON body")
    return findings.outcome("400 in the OpenAI envelope for a body that is not JSON", Oracle.WIRE)


def _refused(
    findings: Findings, response: WireResponse, what: str, *, accepted: str, param: str | None, word: str = ""
) -> None:
    """An invalid request must get 400 in the envelope naming the field; a 2xx means it was served."""
    if 200 <= response.status < 300:
        findings.add(Oracle.BEHAVIOUR, f"{what} was answered HTTP {response.status}: {accepted}")
        return
    body = error_body_of(response)
    judge_error(findings, body, status=400, what=what)
    if param is not None:
        expect_named(findings, body, what, param=param, word=word or param)


@check("errors.unknown_parameter")
def unknown_parameter(ctx: CheckContext) -> Outcome:
    """An unknown body field, sent as users send vendor extensions (the SDK's ``extra_body``).

    Ignoring it (200) and refusing it (400 naming it, as OpenAI does) are both honest: the user can
    handle either. 422 or 5xx is not (UnprocessableEntityError, or InternalServerError after retries).
    """
    what = f"{UNKNOWN_FIELD}: true"
    findings = Findings()
    try:
        ctx.call_sdk(
            lambda: ctx.sdk(strict=False).chat.completions.create(
                model=ctx.chat_model, messages=SHORT_REPLY, max_tokens=1, extra_body={UNKNOWN_FIELD: True}
            )
        )
    except StatusError as error:
        judge_error(findings, error.body, status=400, what=what)
        expect_named(findings, error.body, what, param=UNKNOWN_FIELD, word=UNKNOWN_FIELD)
        return findings.outcome(f"refused: 400 in the OpenAI envelope naming {UNKNOWN_FIELD!r}", Oracle.WIRE)
    findings.note(f"{UNKNOWN_FIELD!r} was accepted and ignored (200); OpenAI refuses it with 400 naming it")
    return findings.outcome("accepted and ignored (200), which is honest", Oracle.WIRE)


# A bogus role first, then a valid turn: a server that drops what it does not know still has a
# prompt and answers 200, which is how the silent loss shows.
BOGUS_ROLE: Any = [
    {"role": "wizard", "content": "You are a wizard."},
    {"role": "user", "content": "Say hi."},
]


@check("errors.invalid_request.role")
def invalid_role(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = {"model": ctx.chat_model, "messages": BOGUS_ROLE, "max_tokens": 1}
    response = ctx.wire.post("chat/completions", body)
    _refused(
        findings,
        response,
        'a message with role "wizard"',
        accepted="the unknown role was dropped or reinterpreted, and the caller never learns it",
        param="messages",
        word="role",
    )
    return findings.outcome("400 in the OpenAI envelope naming the message's role", Oracle.WIRE)


@check("errors.invalid_request.empty_messages")
def empty_messages(ctx: CheckContext) -> Outcome:
    findings = Findings()
    response = ctx.wire.post("chat/completions", {"model": ctx.chat_model, "messages": [], "max_tokens": 1})
    _refused(
        findings,
        response,
        "messages: []",
        accepted="a reply to no conversation at all (the spec's minItems is 1)",
        param="messages",
    )
    return findings.outcome("400 in the OpenAI envelope naming 'messages'", Oracle.WIRE)


@check("errors.invalid_request.no_model")
def no_model(ctx: CheckContext) -> Outcome:
    findings = Findings()
    response = ctx.wire.post("chat/completions", {"messages": SHORT_REPLY, "max_tokens": 1})
    chosen = None
    if 200 <= response.status < 300:
        try:
            served = response.json()
        except ValueError:
            served = None
        chosen = served.get("model") if isinstance(served, dict) else None
    _refused(
        findings,
        response,
        "a request without 'model'",
        accepted=f"the server picked a model itself ({chosen!r}): a client that forgot the field runs a "
        "model nobody chose",
        param="model",
    )
    return findings.outcome("400 in the OpenAI envelope naming 'model'", Oracle.WIRE)


@check("errors.invalid_request.array_body")
def array_body(ctx: CheckContext) -> Outcome:
    findings = Findings()
    request = [{"model": ctx.chat_model, "messages": SHORT_REPLY, "max_tokens": 1}]
    response = ctx.wire.post("chat/completions", content=json.dumps(request).encode())
    _refused(
        findings,
        response,
        "a JSON array as the body",
        accepted="a body that is not an object was served",
        param=None,
    )
    return findings.outcome("400 in the OpenAI envelope for a body that is a JSON array", Oracle.WIRE)


@check("errors.unknown_model")
def unknown_model_error(ctx: CheckContext) -> Outcome:
    findings = Findings()
    provoked = unknown_model(ctx)
    judge_error(findings, provoked.body, status=404, what=f"model {UNKNOWN_MODEL!r}")
    if findings.ok and provoked.body.code != "model_not_found":
        findings.note(f"error.code is {provoked.body.code!r}; OpenAI sends 'model_not_found' (recommended)")
    return findings.outcome("404 in the OpenAI envelope (NotFoundError) for an unknown model", Oracle.WIRE)


def _open_server(body: ErrorBody, what: str) -> Outcome | None:
    """A server that serves without a valid key: a security finding, not a compatibility failure."""
    if 200 <= body.status < 300:
        finding = f"the server answers HTTP {body.status} to {what}: it does not enforce authentication"
        return replace(skipped(f"{finding} (security finding, not a compatibility failure)"), security=(finding,))
    return None


@check("errors.auth.missing_key")
def auth_missing_key(ctx: CheckContext) -> Outcome:
    response = ctx.wire.post("chat/completions", chat_body(ctx, messages=SHORT_REPLY, max_tokens=1), auth=False)
    body = error_body_of(response)
    findings = Findings()
    judge_error(findings, body, status=401, what="no Authorization header")
    return _open_server(body, "a request without an Authorization header") or findings.outcome(
        "401 in the OpenAI envelope (AuthenticationError)", Oracle.WIRE
    )


@check("errors.auth.invalid_key")
def auth_invalid_key(ctx: CheckContext) -> Outcome:
    body = invalid_key(ctx).body
    findings = Findings()
    judge_error(findings, body, status=401, what="a wrong API key")
    return _open_server(body, "a request with a wrong API key (it does not check keys)") or findings.outcome(
        "401 in the OpenAI envelope (AuthenticationError)", Oracle.WIRE
    )


@check("errors.auth.no_bearer_prefix")
def auth_no_bearer_prefix(ctx: CheckContext) -> Outcome:
    """The key sent bare, without the word Bearer: the mistake people make when crafting requests by hand."""
    body = chat_body(ctx, messages=SHORT_REPLY, max_tokens=1)
    response = ctx.wire.post("chat/completions", body, auth=ctx.target.api_key.reveal())
    error = error_body_of(response)
    findings = Findings()
    if 200 <= response.status < 300:
        findings.note("the bare key (no 'Bearer ') is accepted: lenient, but clients that send it get no hint")
        return findings.outcome("a key without the 'Bearer ' prefix is accepted (lenient)", Oracle.WIRE)
    judge_error(findings, error, status=401, what="Authorization: <key> without 'Bearer '")
    return findings.outcome("a key without the 'Bearer ' prefix gives 401 in the envelope", Oracle.WIRE)


# The condition provoked, and the SDK exception a user's `except` clause expects for it.
_EXPECTED = (
    ("an invalid parameter", invalid_param, 400),
    ("a wrong API key", invalid_key, 401),
    ("an unknown model", unknown_model, 404),
)


@check("errors.sdk_exception")
def sdk_exception(ctx: CheckContext) -> Outcome:
    findings = Findings()
    for what, provoke, status in _EXPECTED:
        provoked = provoke(ctx)
        expected = exception_class_for_status(status)
        exc = provoked.exception
        if status == 401 and 200 <= provoked.body.status < 300:
            findings.note("no 401 to judge: the server does not enforce authentication (see errors.auth.*)")
            continue
        if exc is None:
            findings.add(
                Oracle.SDK,
                f"{what}: the SDK raised nothing (HTTP {provoked.body.status}), expected {expected.__name__}",
            )
            continue
        if not isinstance(exc, expected):
            findings.add(
                Oracle.SDK,
                f"{what}: the SDK raised {type(exc).__name__} (HTTP {exc.status_code}), "
                f"expected {expected.__name__} (HTTP {status})",
            )
        error = provoked.body.error
        if error is None:
            findings.add(
                Oracle.SDK,
                f"{what}: {type(exc).__name__}.type/.code/.param are empty: the body has no "
                "error object for the SDK to read",
            )
            continue
        message = error.get("message")
        if isinstance(message, str) and message and message not in str(exc.message):
            findings.add(
                Oracle.SDK,
                f"{what}: the exception message {str(exc.message)[:80]!r} does not carry the server's error.message",
            )
        for attribute in ("type", "param", "code"):
            wire_value = error.get(attribute)
            wire_value = str(wire_value) if attribute == "code" and wire_value is not None else wire_value
            if getattr(exc, attribute, None) != wire_value:
                findings.add(
                    Oracle.SDK,
                    f"{what}: exception.{attribute} is {getattr(exc, attribute, None)!r}, "
                    f"the envelope says {wire_value!r}",
                )
    return findings.outcome(
        "400/401/404 raise BadRequestError/AuthenticationError/NotFoundError carrying the "
        "server's message, type, param and code",
        Oracle.SDK,
    )


@check("errors.request_id")
def request_id(ctx: CheckContext) -> Outcome:
    findings = Findings()
    success = basic_completion(ctx)
    success_id = success.http_response.headers.get("x-request-id")
    findings.expect(bool(success_id), Oracle.WIRE, "no x-request-id header on a successful completion")
    if success_id:
        findings.expect(
            success.request_id == success_id,
            Oracle.SDK,
            f"the SDK's request_id is {success.request_id!r}, the header says {success_id!r}",
        )
    error = invalid_param(ctx)
    error_id = error.headers.get("x-request-id")
    findings.expect(
        bool(error_id),
        Oracle.WIRE,
        f"no x-request-id header on the answer to an invalid request (HTTP {error.body.status})",
    )
    if error_id and error.exception is not None:
        findings.expect(
            error.exception.request_id == error_id,
            Oracle.SDK,
            f"exception.request_id is {error.exception.request_id!r}, the header says {error_id!r}",
        )
    return findings.outcome(
        "x-request-id on success and error responses, exposed by the SDK as request_id", Oracle.WIRE
    )


@check("errors.oversized")
def oversized(ctx: CheckContext) -> Outcome:
    """A request no model can serve (a completion limit of a billion tokens): refused up front, cheaply."""
    exception = None
    try:
        ctx.call_sdk(
            lambda: ctx.sdk(strict=False).chat.completions.create(
                model=ctx.chat_model, messages=SHORT_REPLY, max_tokens=IMPOSSIBLE_MAX_TOKENS
            )
        )
    except StatusError as error:
        exception = error
    findings = Findings()
    if exception is None:
        findings.add(
            Oracle.BEHAVIOUR,
            f"max_tokens={IMPOSSIBLE_MAX_TOKENS} was accepted (200): an impossible limit is "
            "silently capped, so clients never learn the model's real limit",
        )
        return findings.fail()
    judge_error(findings, exception.body, status=400, what=f"max_tokens={IMPOSSIBLE_MAX_TOKENS}")
    if findings.ok and exception.body.code not in ("context_length_exceeded", "invalid_value", None):
        findings.note(f"error.code {exception.body.code!r}; OpenAI says 'context_length_exceeded' or 'invalid_value'")
    return findings.outcome("an impossible max_tokens gives 400 in the OpenAI envelope", Oracle.WIRE)


@check("errors.rate_limit.stream")
def rate_limit_stream(ctx: CheckContext) -> Outcome:
    """The rate-limited model asked to stream: the limit is known before a token is generated, so the
    429 belongs before the stream starts (RateLimitError, retried by the SDK). A server that has
    already sent its 200 can only report it in the stream, as `data: {"error": {...}}`, the one form
    the SDK raises (docs/sdk-facts.md#sse-errors). Retry-After on the 429 is errors.rate_limit's to judge:
    it observes every 429 of the run, this one included."""
    body = {"model": ctx.target.models["rate_limited"], "messages": SHORT_REPLY, "max_tokens": 1, "stream": True}
    response = ctx.wire.post("chat/completions", body, no_backoff=True)
    what = "the rate-limited model with stream: true"
    findings = Findings()
    if response.status == 401:
        return skipped("the configured rate-limited model answered HTTP 401, not 429: nothing to judge")
    if response.status == 429:
        judge_error(findings, error_body_of(response), status=429, what=what)
        return findings.outcome(
            "429 in the OpenAI envelope before any SSE frame (RateLimitError, which the SDK retries)", Oracle.WIRE
        )
    if response.status >= 500:
        findings.add(
            Oracle.WIRE,
            f"{what}: HTTP {response.status} ({error_body_of(response).summary()}) makes the SDK raise "
            f"{exception_name_for_status(response.status)}, expected 429 with the envelope before the stream",
        )
        return findings.fail()
    ctx.require_ok(response, decline_param="stream")  # another 4xx: an honest decline of streaming, or not
    error_frames = [
        (event, value)
        for event, value in response.sse().json_chunks()
        if event.event == "error" or (isinstance(value, dict) and "error" in value)
    ]
    if not error_frames:
        return skipped(
            f"the configured rate-limited model streamed an answer (HTTP {response.status}), not a rate-limit "
            "error: nothing to judge"
        )
    for event, value in error_frames:
        error = value.get("error") if isinstance(value, dict) else None
        if not (isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"]):
            named = " (`event: error`)" if event.event == "error" else ""
            findings.add(
                Oracle.SDK,
                f"line {event.line}: the rate-limit frame{named} {compact(value, 100)} carries no `error` object "
                "with a message: openai-python raises only on data.error, so the user sees an empty reply, "
                "no RateLimitError and no retry",
            )
    if findings.ok:
        findings.note(
            "the limit arrives after a 200, inside the stream: the SDK raises openai.APIError, not "
            "RateLimitError, and cannot retry it; a 429 before the stream is what clients expect"
        )
    return findings.outcome(
        'the limit is reported in the stream as `data: {"error": {...}}`, raised by the SDK', Oracle.SDK
    )


def _limited_model_met(ctx: CheckContext) -> bool:
    """Has the run already met a 429 from the rate-limited model (errors.rate_limit.stream's probe)?"""
    model = ctx.target.models["rate_limited"]
    for exchange in ctx.observed.rate_limits:
        try:
            sent = json.loads(exchange.request_body or b"null")
        except ValueError:
            continue
        if isinstance(sent, dict) and sent.get("model") == model:
            return True
    return False


@check("errors.rate_limit")
def rate_limit(ctx: CheckContext) -> Outcome:
    """Judge every 429 of the run (and one provoked, when a rate-limited model is configured).

    A 429 the rate-limited model already gave this run (errors.rate_limit.stream's probe) stands for
    the provoked one: the same model's limit, and one request fewer."""
    if ctx.target.has("rate_limited") and not _limited_model_met(ctx):
        body = {"model": ctx.target.models["rate_limited"], "messages": SHORT_REPLY, "max_tokens": 1}
        probe = ctx.wire.post("chat/completions", body, no_backoff=True)
        if probe.status < 400 or probe.status == 401:
            return skipped(f"the configured rate-limited model answered HTTP {probe.status}, not 429: nothing to judge")
        if probe.status != 429:
            findings = Findings()
            findings.add(
                Oracle.WIRE,
                f"the rate-limited model answered HTTP {probe.status} "
                f"({error_body_of(probe).summary()}), expected 429 with Retry-After "
                "(the SDK retries 5xx too fast to wait a limit out)",
            )
            return findings.fail()
    limited = ctx.observed.rate_limits
    if not limited:
        return skipped("no 429 was met in this run, and no rate-limited model is configured to provoke one")
    findings = Findings()
    ctx.cite(limited[:3])
    for exchange in limited[:3]:
        _judge_429(findings, exchange)
    return findings.outcome(
        f"{len(limited)} 429(s): RateLimitError, the envelope, and a Retry-After the SDK honours", Oracle.WIRE
    )


def _judge_429(findings: Findings, exchange: RecordedExchange) -> None:
    body = decode_error_body(429, exchange.response_header("content-type") or "", exchange.content())
    findings.extend(Oracle.WIRE, [f"429: {p}" for p in envelope_problems(body)])
    delay, source = retry_after_seconds(exchange.response_headers)
    if delay is None:
        findings.add(
            Oracle.SDK,
            "429 without Retry-After or retry-after-ms: the SDK backs off 0.5-8 s and gives up "
            "after two retries, long before a per-minute window resets",
        )
    elif delay <= 0:
        findings.add(Oracle.SDK, f"429 with {source} {delay:g}: the SDK ignores a value that is not positive")
    elif delay > 60:
        findings.note(
            f"{source} asks for {delay:g} s: openai-python 1.x ignores waits over 60 s, 3.x gives up over 120 s"
        )
    limits = sorted(k for k, _ in exchange.response_headers if k.lower().startswith("x-ratelimit-"))
    if limits:
        findings.note(f"rate-limit headers: {', '.join(dict.fromkeys(limits))}")
    else:
        findings.note("no x-ratelimit-* headers (recommended: clients use them to pace themselves)")

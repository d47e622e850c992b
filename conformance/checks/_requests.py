"""Every request the run shares between features, in one file: the reviewable part of the run's cost.

A request that several features judge is sent once per run. ``@shared_request`` declares it: the
first feature that calls the function sends it, and every later caller, whatever its module, gets
the same answer (or the same exception) with the request's exchanges cited as its evidence. It is
memoized by the function itself, like a session-scoped pytest fixture, so there are no keys to
collide. Each docstring says what goes over the wire. Any other request is a check's own and is
written in that check.

Depends on ``context`` (the memo), ``envelope``, ``wire`` and ``checks._common`` (payloads,
request helpers); on no check module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import openai

from conformance.checks._common import (
    BASIC_MAX_TOKENS,
    BUDGET_FACTOR,
    COUNT_PROMPT,
    DETERMINISTIC,
    EMBEDDING_SAMPLE,
    RESPONSES_PROMPT,
    SHORT_REPLY,
    STABLE,
    TOOL_FIELDS,
    TOOL_MAX_TOKENS,
    UNKNOWN_MODEL,
    WEATHER,
    WEATHER_QUESTION,
    WRONG_KEY,
    StreamCapture,
    chat_body,
    compact,
    complete,
    first_choice,
    json_object,
    raw_stream,
)
from conformance.context import CheckContext, StatusError
from conformance.envelope import ErrorBody, decode_error_body
from conformance.verdict import Oracle, StopCheck, nonconformant
from conformance.wire import WireResponse

T = TypeVar("T")

# Every shared request, in declaration order (what a full run sends at most once each).
SHARED_REQUESTS: list[Callable[[CheckContext], Any]] = []


def shared_request(send: Callable[[CheckContext], T]) -> Callable[[CheckContext], T]:
    """Declare ``send`` a request shared by features: sent on first use, once per run."""

    @functools.wraps(send)
    def shared(ctx: CheckContext) -> T:
        return ctx.shared(send)

    SHARED_REQUESTS.append(shared)
    return shared


# --- chat -----------------------------------------------------------------------------------------


@shared_request
def basic_completion(ctx: CheckContext) -> Any:
    """POST /chat/completions through the strict SDK, raw response kept: one short reply
    (``SHORT_REPLY``, ``max_tokens`` 24). Judged by chat.basic, chat.usage,
    chat.response.system_fingerprint and errors.request_id."""
    return ctx.call_sdk(
        lambda: ctx.sdk(strict=True).chat.completions.with_raw_response.create(
            model=ctx.chat_model, messages=SHORT_REPLY, max_tokens=BASIC_MAX_TOKENS
        )
    )


@shared_request
def count_reference(ctx: CheckContext) -> str:
    """POST /chat/completions through the lax SDK: count to twenty (``max_tokens`` 24,
    ``temperature`` 0). Its words are where chat.stop.string and chat.stop.array place their stop
    sequences; a reply without text content ends both."""
    body = complete(ctx, messages=COUNT_PROMPT, max_tokens=24, temperature=0)
    content = first_choice(body).get("message", {}).get("content")
    if not isinstance(content, str):
        raise StopCheck(
            nonconformant(f"the reference reply's content is {compact(content, 60)}, expected text", Oracle.BEHAVIOUR)
        )
    return content


# --- streaming ------------------------------------------------------------------------------------


@shared_request
def plain_stream(ctx: CheckContext) -> StreamCapture:
    """POST /chat/completions with ``stream: true`` and no ``stream_options`` (raw client,
    ``DETERMINISTIC``). Most chat.stream.* features judge this one stream."""
    return raw_stream(ctx, chat_body(ctx, **DETERMINISTIC))


@shared_request
def usage_stream(ctx: CheckContext) -> StreamCapture:
    """POST /chat/completions, the same stream as :func:`plain_stream` with ``stream_options:
    {"include_usage": true}`` (raw client). Judged by chat.stream.include_usage; a decline must
    name ``stream_options``."""
    body = chat_body(ctx, **DETERMINISTIC, stream_options={"include_usage": True})
    return raw_stream(ctx, body, decline_param="stream_options")


@shared_request
def reference_completion(ctx: CheckContext) -> dict[str, Any]:
    """POST /chat/completions, not streamed, with the same body as :func:`plain_stream` (raw
    client): the text chat.stream.matches_non_stream compares the streamed text with."""
    response = ctx.require_ok(ctx.wire.post("chat/completions", chat_body(ctx, **DETERMINISTIC)))
    return json_object(response)


@shared_request
def responses_text_stream(ctx: CheckContext) -> StreamCapture:
    """POST /responses with ``stream: true`` (raw client): one short reply (``max_output_tokens`` 64,
    ``temperature`` 0). Judged by responses.stream.event_lines, .lifecycle, .sequence_number and .deltas."""
    body = {"model": ctx.chat_model, "input": RESPONSES_PROMPT, "max_output_tokens": 64, "temperature": 0}
    response = ctx.wire.post("responses", {**body, "stream": True})
    ctx.require_ok(response)
    return StreamCapture(response, response.sse())


# --- tools ----------------------------------------------------------------------------------------


def _required_tool_call(ctx: CheckContext, max_tokens: int) -> dict[str, Any]:
    return complete(
        ctx,
        model=ctx.tools_model,
        messages=WEATHER_QUESTION,
        tools=[WEATHER],
        tool_choice="required",
        max_tokens=max_tokens,
        decline_param=TOOL_FIELDS,
        **STABLE,
    )


@shared_request
def required_tool_call(ctx: CheckContext) -> dict[str, Any]:
    """POST /chat/completions through the lax SDK with the get_weather tool and ``tool_choice``
    'required' (``max_tokens`` 96, ``temperature`` 0, the suite's seed). Judged by chat.tools.required;
    chat.tools.loop answers its call."""
    return _required_tool_call(ctx, TOOL_MAX_TOKENS)


@shared_request
def required_tool_call_larger(ctx: CheckContext) -> dict[str, Any]:
    """POST /chat/completions, the request of :func:`required_tool_call` with ``BUDGET_FACTOR`` times its
    ``max_tokens`` (384): sent only when that reply was cut (finish_reason 'length'), for the features
    that need a complete call (budgets never decide a verdict)."""
    return _required_tool_call(ctx, TOOL_MAX_TOKENS * BUDGET_FACTOR)


def required_tool_call_within(ctx: CheckContext, max_tokens: int) -> dict[str, Any]:
    """The forced get_weather call asked with ``max_tokens``: :func:`required_tool_call` at its budget,
    :func:`required_tool_call_larger` at the larger one (what ``run_trials`` asks after a cut)."""
    return required_tool_call(ctx) if max_tokens == TOOL_MAX_TOKENS else required_tool_call_larger(ctx)


# --- embeddings -----------------------------------------------------------------------------------


@shared_request
def float_embedding(ctx: CheckContext) -> Any:
    """POST /embeddings through the strict SDK, raw response kept: one text, ``encoding_format``
    'float'. Judged by embeddings.basic; the vector base64 and batch answers are compared with."""
    return ctx.call_sdk(
        lambda: ctx.sdk(strict=True).embeddings.with_raw_response.create(
            model=ctx.embedding_model, input=EMBEDDING_SAMPLE, encoding_format="float"
        )
    )


# --- http -----------------------------------------------------------------------------------------


@shared_request
def redirect_probes(ctx: CheckContext) -> list[tuple[str, WireResponse]]:
    """GET /models, POST /chat/completions (``max_tokens`` 1) and, with an embeddings model, POST
    /embeddings, redirects not followed (raw client). Judged by http.redirect.post and
    http.redirect.same_origin."""
    probes = [
        ("GET /models", ctx.wire.get("models", follow_redirects=False)),
        (
            "POST /chat/completions",
            ctx.wire.post(
                "chat/completions",
                {"model": ctx.chat_model, "messages": SHORT_REPLY, "max_tokens": 1},
                follow_redirects=False,
            ),
        ),
    ]
    if ctx.target.has("embeddings"):
        probes.append(
            (
                "POST /embeddings",
                ctx.wire.post(
                    "embeddings",
                    {"model": ctx.embedding_model, "input": "redirect probe", "encoding_format": "float"},
                    follow_redirects=False,
                ),
            )
        )
    return probes


# --- errors provoked on purpose -------------------------------------------------------------------


@dataclass(frozen=True)
class Provoked:
    """An error provoked through the SDK: what it raised and what came over the wire."""

    exception: openai.APIStatusError | None
    body: ErrorBody
    headers: dict[str, str]


def _provoke(ctx: CheckContext, call: Callable[[], Any]) -> Provoked:
    start = len(ctx.observed.exchanges_so_far)
    exception: openai.APIStatusError | None = None
    try:
        ctx.call_sdk(call)
    except StatusError as error:
        exception = error.__cause__ if isinstance(error.__cause__, openai.APIStatusError) else None
    answered = [e for e in ctx.observed.exchanges_so_far[start:] if e.status is not None]
    last = answered[-1]
    body = decode_error_body(last.status or 0, last.response_header("content-type") or "", last.content())
    return Provoked(exception, body, {k.lower(): v for k, v in last.response_headers})


@shared_request
def invalid_param(ctx: CheckContext) -> Provoked:
    """POST /chat/completions through the lax SDK with ``temperature: "hot"`` in ``extra_body`` (a
    wrong type on a well-known field, sent the way users send what the SDK's types forbid): every
    server must reject it (OpenAI: 400 invalid_type). Judged by errors.envelope.invalid_param,
    errors.sdk_exception and errors.request_id."""
    return _provoke(
        ctx,
        lambda: ctx.sdk(strict=False).chat.completions.create(
            model=ctx.chat_model, messages=SHORT_REPLY, max_tokens=8, extra_body={"temperature": "hot"}
        ),
    )


@shared_request
def unknown_model(ctx: CheckContext) -> Provoked:
    """POST /chat/completions through the lax SDK naming a model that does not exist (``max_tokens``
    8). Judged by errors.unknown_model and errors.sdk_exception."""
    return _provoke(
        ctx,
        lambda: ctx.sdk(strict=False).chat.completions.create(model=UNKNOWN_MODEL, messages=SHORT_REPLY, max_tokens=8),
    )


@shared_request
def invalid_key(ctx: CheckContext) -> Provoked:
    """POST /chat/completions through an SDK client holding a wrong API key (``max_tokens`` 1).
    Judged by errors.auth.invalid_key and errors.sdk_exception."""
    return _provoke(
        ctx,
        lambda: ctx.sdk_with(api_key=WRONG_KEY).chat.completions.create(
            model=ctx.chat_model, messages=SHORT_REPLY, max_tokens=1
        ),
    )

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
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

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
    fixture_bytes,
    json_object,
    raw_stream,
)
from conformance.context import CheckContext, StatusError
from conformance.envelope import ErrorBody, decode_error_body, param_names
from conformance.verdict import Oracle, StopCheck, nonconformant, skipped
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


# --- images, audio, moderations -------------------------------------------------------------------

IMAGE_PROMPT = "a red square"
IMAGE_SIZE = "1024x1024"  # a size every image model serves (DALL-E 2 and 3, the GPT image models)
SPEECH_INPUT = "Hello."
SPEECH_VOICE = "alloy"
AUDIO_FIXTURE = "audio/tone.wav"  # a one-second tone: what is heard in it is the model's
MODERATION_SAMPLE = "I would like to bake a cake for my friend's birthday."


@dataclass(frozen=True)
class GeneratedImage:
    """The answer to an image request through the strict SDK, raw response kept."""

    raw: Any
    # a 400 naming response_format, after which the request was sent again without the field
    refused_format: ErrorBody | None = None


def audio_upload() -> tuple[str, bytes, str]:
    """The fixture WAV as the SDK uploads a file: (name, bytes, content type)."""
    return ("conformance.wav", fixture_bytes(AUDIO_FIXTURE), "audio/wav")


@shared_request
def image_b64(ctx: CheckContext) -> GeneratedImage:
    """POST /images/generations through the strict SDK, raw response kept: one ``IMAGE_SIZE`` image
    of ``IMAGE_PROMPT`` as ``b64_json``. A 400 naming ``response_format`` (the GPT image models refuse
    the field and answer b64_json anyway) is followed by the same request without it. Judged by
    endpoints.images and images.b64_json; images.errors.size reads it to know the endpoint is there."""
    generate = ctx.sdk(strict=True).images.with_raw_response.generate
    fields: Any = {"model": ctx.target.models["images"], "prompt": IMAGE_PROMPT, "n": 1, "size": IMAGE_SIZE}
    try:
        return GeneratedImage(ctx.call_sdk(lambda: generate(**fields, response_format="b64_json")))
    except StatusError as error:
        if error.body.status != 400 or not param_names(error.body.param, "response_format"):
            raise
        return GeneratedImage(ctx.call_sdk(lambda: generate(**fields)), error.body)


@shared_request
def transcription_json(ctx: CheckContext) -> Any:
    """POST /audio/transcriptions through the strict SDK, raw response kept: the fixture WAV, no
    ``response_format`` (json). Judged by endpoints.audio.transcriptions and audio.transcriptions.formats."""
    create = ctx.sdk(strict=True).audio.transcriptions.with_raw_response.create
    return ctx.call_sdk(lambda: create(model=ctx.target.models["transcription"], file=audio_upload()))


@shared_request
def speech_wav(ctx: CheckContext) -> Any:
    """POST /audio/speech through the strict SDK, raw response kept: ``SPEECH_INPUT`` in ``SPEECH_VOICE``
    as ``wav``. Judged by endpoints.audio.speech and audio.speech.formats; audio.speech.errors.voice
    reads it to know the endpoint is there."""
    create = ctx.sdk(strict=True).audio.speech.with_raw_response.create
    return ctx.call_sdk(
        lambda: create(model=ctx.target.models["speech"], voice=SPEECH_VOICE, input=SPEECH_INPUT, response_format="wav")
    )


@shared_request
def speech_mp3_streamed(ctx: CheckContext) -> tuple[str, bytes]:
    """POST /audio/speech as ``mp3`` (the default format), read as users stream it:
    ``client.audio.speech.with_streaming_response.create(...)`` and ``iter_bytes()``. Returns the
    Content-Type and the bytes. Judged by audio.speech.formats (mp3) and audio.speech.stream."""
    client = ctx.sdk(strict=True)

    def stream() -> tuple[str, bytes]:
        with client.audio.speech.with_streaming_response.create(
            model=ctx.target.models["speech"], voice=SPEECH_VOICE, input=SPEECH_INPUT, response_format="mp3"
        ) as response:
            return response.headers.get("content-type", ""), b"".join(response.iter_bytes())

    return ctx.call_sdk(stream, decline_param="response_format")


@shared_request
def speech_pcm_sse(ctx: CheckContext) -> WireResponse:
    """POST /audio/speech as ``pcm`` with ``stream_format: "sse"`` (raw client), answered whatever its
    status: events, raw audio (a model without SSE) or a refusal. Judged by audio.speech.stream;
    audio.speech.formats reads its pcm from the events, or sends a plain pcm request when there are none."""
    body = {
        "model": ctx.target.models["speech"],
        "voice": SPEECH_VOICE,
        "input": SPEECH_INPUT,
        "response_format": "pcm",
        "stream_format": "sse",
    }
    return ctx.wire.post("audio/speech", body)


@shared_request
def moderation_single(ctx: CheckContext) -> Any:
    """POST /moderations through the strict SDK, raw response kept: ``MODERATION_SAMPLE`` alone.
    Judged by moderations.shape; moderations.batch finds its result in the batch's."""
    create = ctx.sdk(strict=True).moderations.with_raw_response.create
    return ctx.call_sdk(lambda: create(model=ctx.target.models["moderation"], input=MODERATION_SAMPLE))


# --- files and batches ----------------------------------------------------------------------------

BATCH_FILENAME = "conformance-batch.jsonl"
BATCH_ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
BATCH_WINDOW: Literal["24h"] = "24h"
BATCH_METADATA = {"suite": "openai-conformance"}
BATCH_MAX_TOKENS = 16
# how long a check waits for a batch to end: OpenAI allows 24 h (completion_window), a server that
# runs two short requests at once needs seconds; one still running then is skipped, never failed
BATCH_WAIT_S = 30.0
# the polls' pauses grow to this; no poll is sent closer than this to the run's deadline
BATCH_POLL_MAX_S = 4.0
DEADLINE_MARGIN_S = 5.0
BATCH_FINISHED = ("completed", "failed", "expired", "cancelled")
# what each answered line of the batch asks: a short reply each, told apart by its custom_id
BATCH_PROMPTS = {"conformance-1": "Say hello in three words.", "conformance-2": "Name a colour in one word."}
# and the line every server must refuse (it has no messages): a failed request, for the error file
BATCH_REFUSED = "conformance-bad"


def batch_line(ctx: CheckContext, custom_id: str, prompt: str | None) -> dict[str, Any]:
    """One request of a batch input file; ``prompt`` None leaves ``messages`` out (a request every
    server refuses with 400)."""
    body: dict[str, Any] = {"model": ctx.chat_model, "max_tokens": BATCH_MAX_TOKENS}
    if prompt is not None:
        body["messages"] = [{"role": "user", "content": prompt}]
    return {"custom_id": custom_id, "method": "POST", "url": BATCH_ENDPOINT, "body": body}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()


@dataclass(frozen=True)
class Upload:
    """A file the suite uploaded: the bytes it sent, and the SDK's raw answer."""

    content: bytes
    raw: Any

    def body(self) -> Any:
        try:
            return json.loads(self.raw.http_response.content)
        except ValueError:
            return None


def upload_jsonl(ctx: CheckContext, content: bytes, *, filename: str = BATCH_FILENAME, strict: bool = True) -> Upload:
    """POST /files (multipart, ``purpose`` batch) through the SDK, raw response kept."""
    create = ctx.sdk(strict=strict).files.with_raw_response.create
    return Upload(content, ctx.call_sdk(lambda: create(file=(filename, content, "application/jsonl"), purpose="batch")))


@shared_request
def batch_input_file(ctx: CheckContext) -> Upload:
    """POST /files (multipart, ``purpose`` batch) through the strict SDK, raw response kept: a JSONL
    of three chat completions requests, two answerable (``BATCH_PROMPTS``, ``max_tokens`` 16) and one
    without ``messages`` (``BATCH_REFUSED``). Judged by files.upload; files.retrieve, files.content and
    files.list read the file back, and the batch runs it."""
    lines = [batch_line(ctx, cid, prompt) for cid, prompt in BATCH_PROMPTS.items()]
    return upload_jsonl(ctx, jsonl([*lines, batch_line(ctx, BATCH_REFUSED, None)]))


def uploaded_id(upload: Upload) -> str:
    """The id of an uploaded file; an answer without one leaves nothing to read back (files.upload
    judges the answer)."""
    body = upload.body()
    file_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(file_id, str) or not file_id:
        raise StopCheck(
            skipped(f"the upload was answered without a file id ({compact(body, 100)}): nothing to read back")
        )
    return file_id


@shared_request
def batches_listed(ctx: CheckContext) -> Any:
    """GET /batches (``limit`` 1) through the lax SDK, raw response kept: sent only when no batch
    input could be uploaded, to tell a server without the Batch API (its decline escapes:
    unsupported) from one without the Files API (the batch features are skipped)."""
    return ctx.call_sdk(lambda: ctx.sdk(strict=False).batches.with_raw_response.list(limit=1))


def batch_input_id(ctx: CheckContext, upload: Callable[[CheckContext], Upload]) -> str:
    """The id of a batch input file the suite uploaded. Without one no batch can run: the batch
    features are skipped, unless the server has no Batch API either (then they are unsupported)."""
    try:
        sent = upload(ctx)
    except StatusError as error:
        batches_listed(ctx)
        raise StopCheck(
            skipped(f"POST /files answered {error.body.summary()}, so no batch input could be uploaded")
        ) from None
    return uploaded_id(sent)


@shared_request
def created_batch(ctx: CheckContext) -> Any:
    """POST /batches through the strict SDK, raw response kept: the file of :func:`batch_input_file`,
    ``endpoint`` /v1/chat/completions, ``completion_window`` 24h, ``metadata``. Judged by
    batches.create; :func:`finished_batch` polls it."""
    file_id = batch_input_id(ctx, batch_input_file)
    create = ctx.sdk(strict=True).batches.with_raw_response.create
    return ctx.call_sdk(
        lambda: create(
            input_file_id=file_id, endpoint=BATCH_ENDPOINT, completion_window=BATCH_WINDOW, metadata=BATCH_METADATA
        )
    )


def created_batch_id(ctx: CheckContext) -> str:
    try:
        body = json.loads(created_batch(ctx).http_response.content)
    except ValueError:
        body = None
    batch_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(batch_id, str) or not batch_id:
        raise StopCheck(skipped(f"POST /batches was answered without a batch id ({compact(body, 100)})"))
    return batch_id


@dataclass(frozen=True)
class Polled:
    """A batch polled until it ended: the Batch object it ended with, and each poll's status."""

    batch: dict[str, Any]
    statuses: tuple[Any, ...]
    seconds: float


def poll_batch(ctx: CheckContext, batch_id: str, ended: tuple[str, ...] = BATCH_FINISHED) -> Polled:
    """GET /batches/{id} (raw client) until its status is one of ``ended``: at once, then after pauses
    that double up to ``BATCH_POLL_MAX_S``, for at most ``BATCH_WAIT_S`` and never past the run's
    deadline. Still running then: the check is skipped (the server may be slow, not wrong)."""
    start = time.monotonic()
    left = ctx.seconds_left
    wait = BATCH_WAIT_S if left is None else min(BATCH_WAIT_S, left - DEADLINE_MARGIN_S)
    statuses: list[Any] = []
    pause = 0.25
    while True:
        batch = json_object(ctx.require_ok(ctx.wire.get(f"batches/{batch_id}")))
        statuses.append(batch.get("status"))
        elapsed = time.monotonic() - start
        if batch.get("status") in ended:
            return Polled(batch, tuple(statuses), elapsed)
        if elapsed + pause > wait:
            raise StopCheck(
                skipped(
                    f"the batch was still {batch.get('status')!r} after {elapsed:.0f} s and {len(statuses)} polls "
                    f"(the suite waits at most {BATCH_WAIT_S:g} s of the {BATCH_WINDOW} OpenAI allows)"
                )
            )
        time.sleep(pause)
        pause = min(pause * 2, BATCH_POLL_MAX_S)


@shared_request
def finished_batch(ctx: CheckContext) -> Polled:
    """GET /batches/{id} (raw client) for the batch of :func:`created_batch` until it ends
    (:func:`poll_batch`). Judged by batches.complete; batches.output, batches.request_counts and
    batches.error_file read the batch it ended as."""
    return poll_batch(ctx, created_batch_id(ctx))


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

"""Which endpoints exist beyond chat: legacy completions, Responses, images, audio, and the
management APIs (batches, files, fine-tuning, assistants).

Each feature makes the smallest honest request through the strict SDK. Served and well-formed is
``supported``; a 404 (or 400) in OpenAI's envelope is ``unsupported`` (the engine judges declines);
anything else is ``nonconformant``. The management APIs are probed with their list call: it has
no side effects and costs nothing (files and batches are tested in depth in ``files.py`` and
``batches.py``).
"""

from __future__ import annotations

import base64
from typing import Any

from conformance.checks._common import strict_sdk_json
from conformance.checks._requests import image_b64, speech_wav, transcription_json
from conformance.context import CheckContext
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome

PROMPT = "Say hello in five words."
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMAGE_MAGIC = (PNG_MAGIC, b"\xff\xd8\xff", b"RIFF", b"GIF8")  # png, jpeg, webp, gif


@check("endpoints.completions")
def completions(ctx: CheckContext) -> Outcome:
    findings = Findings()
    create = ctx.sdk(strict=True).completions.with_raw_response.create
    body, _ = strict_sdk_json(ctx, lambda: create(model=ctx.chat_model, prompt=PROMPT, max_tokens=8), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "Completion"))
    text = (body.get("choices") or [{}])[0].get("text") if isinstance(body, dict) else None
    findings.expect(
        isinstance(text, str) and text.strip() != "", Oracle.BEHAVIOUR, f"choices[0].text: received {text!r}"
    )
    return findings.outcome("POST /completions answers a text_completion the strict SDK parses", Oracle.SCHEMA)


@check("endpoints.responses")
def responses(ctx: CheckContext) -> Outcome:
    findings = Findings()
    client = ctx.sdk(strict=True)
    create = client.responses.with_raw_response.create
    body, parsed = strict_sdk_json(
        ctx, lambda: create(model=ctx.chat_model, input=PROMPT, max_output_tokens=16), findings
    )
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "Response"))
    text = getattr(parsed, "output_text", None)
    findings.expect(bool(text), Oracle.BEHAVIOUR, f"output_text: received {text!r}, expected the reply")
    response_id = body.get("id") if isinstance(body, dict) else None
    if isinstance(response_id, str) and body.get("store", True) is not False:
        again = ctx.call_sdk(lambda: client.responses.retrieve(response_id))
        findings.expect(
            getattr(again, "id", None) == response_id,
            Oracle.BEHAVIOUR,
            f"GET /responses/{response_id} returned id {getattr(again, 'id', None)!r}",
        )
    return findings.outcome("POST /responses answers a Response, retrievable by id", Oracle.SCHEMA)


@check("endpoints.images")
def images(ctx: CheckContext) -> Outcome:
    findings = Findings()
    generated = image_b64(ctx)
    body, _ = strict_sdk_json(ctx, lambda: generated.raw, findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "ImagesResponse"))
    data = body.get("data") if isinstance(body, dict) else None
    encoded = data[0].get("b64_json") if isinstance(data, list) and data and isinstance(data[0], dict) else None
    findings.expect(_is_image(encoded), Oracle.BEHAVIOUR, "data[0].b64_json is not a base64 image (PNG, JPEG, WebP)")
    return findings.outcome("POST /images/generations returns a base64 image", Oracle.SCHEMA)


def _is_image(encoded: Any) -> bool:
    try:
        return isinstance(encoded, str) and base64.b64decode(encoded, validate=True).startswith(IMAGE_MAGIC)
    except ValueError:
        return False


@check("endpoints.audio.transcriptions")
def transcriptions(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: transcription_json(ctx), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "Transcription"))
    return findings.outcome("POST /audio/transcriptions takes a WAV upload and returns its text", Oracle.SCHEMA)


@check("endpoints.audio.speech")
def speech(ctx: CheckContext) -> Outcome:
    findings = Findings()
    raw = speech_wav(ctx)
    content_type = raw.http_response.headers.get("content-type", "")
    audio = raw.http_response.content
    findings.expect(
        content_type.startswith("audio/"), Oracle.WIRE, f"Content-Type: received {content_type!r}, expected audio/wav"
    )
    findings.expect(
        audio.startswith(b"RIFF") and b"WAVE" in audio[:16],
        Oracle.BEHAVIOUR,
        f"response_format=wav: the body is not a WAV file ({len(audio)} bytes, starting {audio[:8]!r})",
    )
    return findings.outcome(f"POST /audio/speech returns {len(audio)} bytes of WAV audio", Oracle.WIRE)


def _listing(ctx: CheckContext, what: str, call: Any) -> Outcome:
    """A management API probed by its list call: served means a list page the strict SDK parses."""
    findings = Findings()
    body, _ = strict_sdk_json(ctx, call, findings)
    findings.expect(
        isinstance(body, dict) and isinstance(body.get("data"), list),
        Oracle.SCHEMA,
        f"{what}: received {str(body)[:80]}, expected {{'object': 'list', 'data': [...]}}",
    )
    return findings.outcome(f"{what} answers a list page", Oracle.SCHEMA)


@check("endpoints.batches")
def batches(ctx: CheckContext) -> Outcome:
    return _listing(ctx, "GET /batches", lambda: ctx.sdk(strict=True).batches.with_raw_response.list(limit=1))


@check("endpoints.files")
def files(ctx: CheckContext) -> Outcome:
    return _listing(ctx, "GET /files", lambda: ctx.sdk(strict=True).files.with_raw_response.list(limit=1))


@check("endpoints.fine_tuning")
def fine_tuning(ctx: CheckContext) -> Outcome:
    client = ctx.sdk(strict=True)
    return _listing(ctx, "GET /fine_tuning/jobs", lambda: client.fine_tuning.jobs.with_raw_response.list(limit=1))


@check("endpoints.assistants")
def assistants(ctx: CheckContext) -> Outcome:
    client = ctx.sdk(strict=True)
    return _listing(ctx, "GET /assistants", lambda: client.beta.assistants.with_raw_response.list(limit=1))

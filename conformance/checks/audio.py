"""The audio endpoints in depth: transcriptions in every ``response_format``, translations, speech in
every format, streamed speech, and an unknown voice refused.

What a model hears in the suite's one-second tone, and how it speaks, is the model's: the words are
never judged. The server controls the rest: that ``srt`` is SubRip and not JSON, that ``wav`` bytes
are a WAV file, that a streamed answer adds up, that a refusal is a 400 naming the field. A format a
model does not offer may be declined (400 naming ``response_format``): that is noted, not failed.
A server without the endpoint answers 404 in the envelope (``unsupported``).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import wave
from collections.abc import Callable
from typing import Any

from conformance.checks._common import compact, fixture_bytes, strict_sdk_json
from conformance.checks._judges import error_body_of
from conformance.checks._requests import (
    AUDIO_FIXTURE,
    SPEECH_INPUT,
    SPEECH_VOICE,
    audio_upload,
    speech_mp3_streamed,
    speech_pcm_sse,
    speech_wav,
    transcription_json,
)
from conformance.context import CheckContext, StatusError
from conformance.envelope import ErrorBody, judge_decline, param_names
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome
from conformance.wire import WireResponse

UNKNOWN_VOICE = "conformance-no-such-voice"
SRT_CUE = re.compile(r"^\d+\r?\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\r?\n")
VTT_CUE = re.compile(r"^(?:\d{2}:)?\d{2}:\d{2}\.\d{3} --> (?:\d{2}:)?\d{2}:\d{2}\.\d{3}", re.MULTILINE)


def _declined(findings: Findings, error: StatusError, what: str, field: str) -> bool:
    """A refusal of one value: an honest one (400/403/404 in the envelope, naming ``field``) is
    noted and True; anything else is a problem, and False."""
    honest, problems = judge_decline(error.body, param=field)
    if honest:
        findings.note(f"{what} declined: {error.body.summary()}")
    else:
        findings.extend(Oracle.WIRE, [f"{what}: {p}" for p in problems])
    return honest


# --- transcriptions ------------------------------------------------------------------------------


def _fixture_duration() -> float:
    with wave.open(io.BytesIO(fixture_bytes(AUDIO_FIXTURE))) as reader:
        return reader.getnframes() / reader.getframerate()


def _text_problems(text: str, what: str) -> list[str]:
    """A plain-text answer (``text``) that is JSON in disguise: a string in quotes, or the json format."""
    try:
        value = json.loads(text)
    except ValueError:
        return []
    if isinstance(value, (str, dict)):
        return [f"{what}: the body is JSON ({compact(value, 60)}), expected the plain text"]
    return []


def _transcript_problems(response_format: str, content_type: str, body: bytes) -> list[str]:
    """What keeps a transcription body from being ``response_format``."""
    what = f"response_format {response_format!r}"
    try:
        text = body.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return [f"{what}: the body is not UTF-8 text ({body[:20]!r})"]
    if response_format == "text":
        return _text_problems(text, what)
    if response_format == "srt":
        return [] if SRT_CUE.match(text.lstrip()) else [f"{what}: not SubRip cues ({text[:60]!r})"]
    if response_format == "vtt":
        ok = text.startswith("WEBVTT") and VTT_CUE.search(text)
        return [] if ok else [f"{what}: not WebVTT (a WEBVTT header, then cues) ({text[:60]!r})"]
    try:
        value = json.loads(text)
    except ValueError:
        return [f"{what}: the body is not JSON ({content_type or 'no content-type'}: {text[:60]!r})"]
    problems = [f"{what}: {p}" for p in oracle.validate(value, "TranscriptionVerbose")]
    if isinstance(value, dict) and not isinstance(value.get("segments"), list):
        problems.append(f"{what}: segments: received {compact(value.get('segments'), 40)}, expected a list")
    duration = value.get("duration") if isinstance(value, dict) else None
    actual = _fixture_duration()
    if isinstance(duration, (int, float)) and abs(duration - actual) > 0.1 + actual / 10:
        problems.append(f"{what}: duration {duration} for an upload of {actual:.2f} s")
    return problems


@check("audio.transcriptions.formats")
def transcriptions_formats(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: transcription_json(ctx), findings)  # json, the default
    findings.extend(Oracle.SCHEMA, [f"response_format 'json': {p}" for p in oracle.validate(body, "Transcription")])
    create = ctx.sdk(strict=False).audio.transcriptions.with_raw_response.create
    served, refusals = ["json"], []
    for response_format in ("text", "srt", "verbose_json", "vtt"):

        def send(f: Any = response_format) -> Any:
            return create(model=ctx.target.models["transcription"], file=audio_upload(), response_format=f)

        try:
            raw = ctx.call_sdk(send)
        except StatusError as error:
            refusals.append(error)
            _declined(findings, error, f"response_format {response_format!r}", "response_format")
            continue
        served.append(response_format)
        response = raw.http_response
        findings.extend(
            Oracle.BEHAVIOUR,
            _transcript_problems(response_format, response.headers.get("content-type", ""), response.content),
        )
    if len(served) == 1 and refusals and findings.ok:
        raise refusals[0]  # json only: the formats are declined, every one honestly
    return findings.outcome(f"answered in {', '.join(served)}, each in its own format", Oracle.BEHAVIOUR)


@check("audio.translations")
def translations(ctx: CheckContext) -> Outcome:
    findings = Findings()
    create = ctx.sdk(strict=True).audio.translations.with_raw_response.create
    body, _ = strict_sdk_json(
        ctx, lambda: create(model=ctx.target.models["transcription"], file=audio_upload()), findings
    )
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "Translation"))
    return findings.outcome("POST /audio/translations takes a WAV upload and returns English text", Oracle.SCHEMA)


# --- speech ---------------------------------------------------------------------------------------


def audio_kind(data: bytes) -> str | None:
    """The container or stream a speech body's first bytes name (None: no known header, as raw PCM)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE6 == 0xE2):
        return "mp3"  # an ID3 tag, or an MPEG audio frame sync of Layer III
    if data.startswith(b"fLaC"):
        return "flac"
    if data.startswith(b"OggS"):
        return "opus" if b"OpusHead" in data[:80] else "ogg"
    if (len(data) > 1 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0) or data.startswith(b"ADIF"):
        return "aac"  # an ADTS frame sync (layer 00), or an ADIF header
    if data[4:8] == b"ftyp":
        return "aac"  # AAC in an MP4 (m4a) container
    return None


def is_audio(content_type: str) -> bool:
    """A Content-Type speech may come with: audio/*, or the spec's application/octet-stream."""
    media = content_type.split(";")[0].strip().lower()
    return media.startswith("audio/") or media == "application/octet-stream"


def speech_problems(response_format: str, content_type: str, data: bytes) -> list[str]:
    what = f"response_format {response_format!r}"
    problems = []
    if not is_audio(content_type):
        problems.append(f"{what}: Content-Type {content_type!r}, expected audio/*")
    found = audio_kind(data)
    if not data:
        problems.append(f"{what}: the body is empty")
    elif response_format == "pcm":
        if found is not None or len(data) % 2:
            problems.append(
                f"{what}: {len(data)} bytes starting {data[:8]!r} ({found or 'odd length'}), "
                "expected raw 16-bit samples"
            )
    elif found != response_format:
        problems.append(f"{what}: the bytes are {found or 'no known audio'} (starting {data[:8]!r})")
    return problems


def _speech(ctx: CheckContext, **fields: Any) -> Any:
    create = ctx.sdk(strict=False).audio.speech.with_raw_response.create
    return ctx.call_sdk(
        lambda: create(model=ctx.target.models["speech"], voice=SPEECH_VOICE, input=SPEECH_INPUT, **fields)
    )


@check("audio.speech.formats")
def speech_formats(ctx: CheckContext) -> Outcome:
    findings = Findings()
    wav = speech_wav(ctx)
    answers: dict[str, Callable[[], tuple[str, bytes]]] = {
        "wav": lambda: (wav.http_response.headers.get("content-type", ""), wav.http_response.content),
        "mp3": lambda: speech_mp3_streamed(ctx),
    }
    streamed = _pcm_of(speech_pcm_sse(ctx))  # the pcm audio.speech.stream asked for, when it came
    if streamed is not None:
        answers["pcm"] = lambda: streamed
    served = []
    for response_format in ("wav", "mp3", "flac", "opus", "aac", "pcm"):

        def send(f: str = response_format) -> tuple[str, bytes]:
            raw = _speech(ctx, response_format=f)
            return raw.http_response.headers.get("content-type", ""), raw.http_response.content

        try:
            content_type, data = answers.get(response_format, send)()
        except StatusError as error:
            _declined(findings, error, f"response_format {response_format!r}", "response_format")
            continue
        served.append(response_format)
        findings.extend(Oracle.BEHAVIOUR, speech_problems(response_format, content_type, data))
    return findings.outcome(f"{', '.join(served)}: each answered in its own format", Oracle.BEHAVIOUR)


def _pcm_of(response: WireResponse) -> tuple[str, bytes] | None:
    """The pcm audio of the ``stream_format: "sse"`` request: its events' audio (with pcm's Content-Type),
    or the body of a server that answered raw audio; None when it holds none (a refusal, no delta)."""
    if response.status >= 300:
        return None
    if is_audio(response.content_type):
        return response.content_type, response.body
    _, audio = _sse_problems(response)
    return ("audio/pcm", audio) if audio else None


def _done_usage_problems(usage: Any) -> list[str]:
    """speech.audio.done's usage (OpenAI's spec, SpeechAudioDoneEvent: the SDK has no type for it)."""
    found = [
        usage.get(k) if isinstance(usage, dict) else None for k in ("input_tokens", "output_tokens", "total_tokens")
    ]
    counts = [c for c in found if isinstance(c, int) and not isinstance(c, bool)]
    if len(counts) != 3:
        return [f"speech.audio.done: usage {compact(usage, 80)}, expected input_tokens, output_tokens, total_tokens"]
    if counts[0] + counts[1] != counts[2]:
        return [f"speech.audio.done: usage.total_tokens {counts[2]} != {counts[0]} + {counts[1]}"]
    return []


def _sse_problems(response: Any) -> tuple[list[str], bytes]:
    """The events of ``stream_format: "sse"``: speech.audio.delta with base64 ``audio``, then one
    speech.audio.done with usage; returns the problems and the audio the deltas add up to."""
    events = [value for _, value in response.sse().json_chunks()]
    problems: list[str] = []
    audio = b""
    kinds = [event.get("type") if isinstance(event, dict) else None for event in events]
    if not events:
        return [f"no JSON event in the {response.content_type or 'untyped'} stream ({response.body[:60]!r})"], audio
    for number, event in enumerate(events):
        kind = kinds[number]
        if kind == "speech.audio.delta":
            chunk = event.get("audio")
            try:
                audio += base64.b64decode(chunk, validate=True) if isinstance(chunk, str) else b""
            except (binascii.Error, ValueError):
                problems.append(f"event {number}: audio is not base64 ({str(chunk)[:40]!r})")
            if not isinstance(chunk, str):
                problems.append(
                    f"event {number}: speech.audio.delta carries audio {compact(chunk, 60)}, expected base64"
                )
        elif kind != "speech.audio.done":
            problems.append(f"event {number}: {compact(event, 80)} is neither speech.audio.delta nor speech.audio.done")
    if kinds.count("speech.audio.done") != 1 or kinds[-1] != "speech.audio.done":
        problems.append(f"the stream does not end with one speech.audio.done (events: {compact(kinds, 100)})")
    else:
        problems += _done_usage_problems(events[-1].get("usage"))
    if not audio:
        problems.append("the speech.audio.delta events carry no audio")
    return problems, audio


@check("audio.speech.stream")
def speech_stream(ctx: CheckContext) -> Outcome:
    findings = Findings()
    # read as users stream it; which format the bytes are is audio.speech.formats' to judge
    content_type, data = speech_mp3_streamed(ctx)
    findings.expect(
        is_audio(content_type),
        Oracle.WIRE,
        f"streamed: Content-Type {content_type!r}, expected audio/*",
    )
    findings.expect(
        audio_kind(data) is not None,
        Oracle.BEHAVIOUR,
        f"streamed: iter_bytes() read {len(data)} bytes starting {data[:8]!r}, no audio file",
    )
    response = speech_pcm_sse(ctx)
    if response.status >= 300:
        _declined(findings, StatusError(error_body_of(response)), "stream_format 'sse'", "stream_format")
    elif is_audio(response.content_type):
        findings.note(
            f"stream_format 'sse' answered with raw audio ({response.content_type}), as OpenAI's tts-1 and "
            "tts-1-hd do: a client reading events finds none, but can tell by the Content-Type"
        )
    else:
        problems, audio = _sse_problems(response)
        if response.content_type.split(";")[0].strip().lower() != "text/event-stream":
            problems.insert(0, f"Content-Type {response.content_type!r}, expected text/event-stream")
        findings.extend(Oracle.WIRE, [f"stream_format 'sse': {p}" for p in problems])
        if audio:
            findings.extend(
                Oracle.BEHAVIOUR, [f"stream_format 'sse': {p}" for p in speech_problems("pcm", "audio/pcm", audio)]
            )
    return findings.outcome(
        f"{len(data)} bytes of mp3 read with iter_bytes(); stream_format 'sse' events add up", Oracle.WIRE
    )


@check("audio.speech.errors.voice")
def errors_voice(ctx: CheckContext) -> Outcome:
    speech_wav(ctx)  # the endpoint is there (or its decline escapes: unsupported)
    findings = Findings()
    body = {
        "model": ctx.target.models["speech"],
        "voice": UNKNOWN_VOICE,
        "input": SPEECH_INPUT,
        "response_format": "wav",
    }
    response = ctx.wire.post("audio/speech", body)
    if response.status < 300:
        findings.add(
            Oracle.BEHAVIOUR,
            f"voice {UNKNOWN_VOICE!r} was accepted (HTTP {response.status}, {len(response.body)} bytes): another "
            "voice silently stands in, expected 400 naming 'voice'",
        )
        return findings.fail()
    refusal: ErrorBody = error_body_of(response)
    _, problems = judge_decline(refusal, param="voice")
    if refusal.status == 404 and not param_names(refusal.param, "voice"):
        problems.insert(0, "HTTP 404 naming no voice, expected 400 naming 'voice'")
    findings.extend(Oracle.WIRE, [f"voice {UNKNOWN_VOICE!r}: {p}" for p in problems])
    return findings.outcome(f"voice {UNKNOWN_VOICE!r} refused, naming 'voice'", Oracle.WIRE)

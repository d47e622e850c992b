"""POST /audio/transcriptions (WAV in, deterministic text out) and POST /audio/speech (a short tone
as WAV or raw PCM)."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import math
import re
import struct
import wave

from conformance.mock.content import count_tokens
from conformance.mock.handlers._shared import body_object, required_string, text_for
from conformance.mock.messages import (
    ErrorSpec,
    Incoming,
    MockError,
    MockResponse,
    invalid_value,
    json_response,
    missing_parameter,
)
from conformance.mock.state import MockState

SPEECH_FORMATS = {"wav": "audio/wav", "pcm": "audio/pcm"}
SAMPLE_RATE = 8000


def wav(seconds: float, pitch: float = 440.0) -> bytes:
    """A mono 16-bit tone."""
    frames = int(SAMPLE_RATE * seconds)
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * pitch * i / SAMPLE_RATE))) for i in range(frames)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(samples)
    return out.getvalue()


def _form(incoming: Incoming) -> dict[str, tuple[str | None, bytes]]:
    """multipart/form-data fields: name -> (filename, content)."""
    content_type = incoming.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise MockError(ErrorSpec(400, "Expected a multipart/form-data body.", "validation"))
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + incoming.body
    )
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


async def transcribe(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    fields = _form(incoming)
    if "model" not in fields:
        raise MockError(missing_parameter("model"))
    state.models.require(fields["model"][1].decode(errors="replace"), "transcription")
    if "file" not in fields or not fields["file"][1]:
        raise MockError(missing_parameter("file"))
    audio = fields["file"][1]
    if not audio.startswith(b"RIFF"):
        raise MockError(invalid_value("file", "The reference mock transcribes WAV files only.", "unsupported_value"))
    text, _ = text_for(["transcription", hashlib.sha256(audio).hexdigest()], 12)
    return json_response(200, {"text": text, "usage": {"type": "duration", "seconds": 1}})


async def speech(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = body_object(incoming)
    state.models.require(required_string(body, "model"), "speech")
    text = required_string(body, "input")
    required_string(body, "voice")
    response_format = body.get("response_format", "mp3")
    if response_format not in SPEECH_FORMATS:
        raise MockError(
            invalid_value(
                "response_format",
                f"The reference mock speaks {', '.join(SPEECH_FORMATS)} only, not {response_format!r}.",
                "unsupported_value",
            )
        )
    audio = wav(min(0.05 * max(count_tokens(text), 1), 1.0))
    payload = audio if response_format == "wav" else audio[44:]  # pcm: the samples without the header
    return MockResponse(200, [("content-type", SPEECH_FORMATS[response_format])], payload)

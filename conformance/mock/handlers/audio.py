"""The audio routes: POST /audio/transcriptions and /audio/translations (a WAV upload in,
deterministic text out, in every ``response_format``), and POST /audio/speech (a short tone).

Speech is real audio in each format the mock claims: WAV, raw PCM (24 kHz, 16-bit little-endian
mono, OpenAI's ``pcm``), MP3 (a sequence of silent MPEG-2 Layer III frames) and FLAC (verbatim
frames of the tone). ``opus`` and ``aac`` it declines in OpenAI's envelope, naming
``response_format``, as a server honest about what it cannot encode. The audio is sent in chunks,
as OpenAI streams it; ``stream_format: "sse"`` answers ``speech.audio.delta`` events and a
``speech.audio.done`` with usage. What is transcribed is derived from the upload's bytes: the words
are the "model's", the formats, shapes and headers the server's.
"""

from __future__ import annotations

import array
import base64
import email.parser
import email.policy
import hashlib
import io
import json
import math
import re
import struct
import sys
import wave

from conformance.mock.content import count_tokens
from conformance.mock.handlers._shared import media_request, required_string, text_for
from conformance.mock.messages import (
    ErrorSpec,
    Incoming,
    MockError,
    MockResponse,
    invalid_type,
    invalid_value,
    json_response,
    missing_parameter,
    out_of_range,
)
from conformance.mock.state import MockState

SAMPLE_RATE = 24000  # OpenAI's pcm: 24 kHz, 16-bit signed little-endian, mono
SPEECH_TYPES = {"wav": "audio/wav", "pcm": "audio/pcm", "mp3": "audio/mpeg", "flac": "audio/flac"}
SPEECH_DECLINED = ("opus", "aac")  # in the spec, not encoded by the mock: declined, naming the field
VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
TEXT_TYPE = "text/plain; charset=utf-8"  # what OpenAI answers text, srt and vtt as
TRANSCRIPT_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
CHUNK = 4096  # bytes of audio per streamed chunk (and per SSE delta)
Form = dict[str, tuple[str | None, bytes]]


# --- speech: the tone, and its encodings ---------------------------------------------------------


def tone(seconds: float, pitch: float = 440.0) -> array.array[int]:
    """A mono 16-bit sine tone at SAMPLE_RATE."""
    step = 2 * math.pi * pitch / SAMPLE_RATE
    return array.array("h", (int(8000 * math.sin(step * i)) for i in range(int(SAMPLE_RATE * seconds))))


def _little_endian(samples: array.array[int]) -> bytes:
    if sys.byteorder == "little":
        return samples.tobytes()
    swapped = array.array("h", samples)
    swapped.byteswap()
    return swapped.tobytes()


def wav(seconds: float, pitch: float = 440.0) -> bytes:
    """A mono 16-bit tone as a WAV file."""
    return _wav(tone(seconds, pitch))


def _wav(samples: array.array[int]) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(_little_endian(samples))
    return out.getvalue()


# MPEG-2 Layer III, 24 kHz, 32 kbit/s, mono, no CRC: 576 samples in 72 * 32000 / 24000 = 96 bytes.
# All-zero side information and main data decode to silence.
MP3_FRAME = b"\xff\xf3\x44\xc0" + bytes(92)
MP3_FRAME_SAMPLES = 576


def _mp3(samples: array.array[int]) -> bytes:
    return MP3_FRAME * max(1, math.ceil(len(samples) / MP3_FRAME_SAMPLES))


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


FLAC_BLOCK = 4096


def _flac(samples: array.array[int]) -> bytes:
    """FLAC: STREAMINFO, then one frame per block with a verbatim subframe (no compression, still FLAC)."""
    total = len(samples)
    # STREAMINFO: block sizes, frame sizes unknown (0), rate (20 bits), channels-1 (3), bits-1 (5),
    # total samples (36), MD5 unknown (zeros)
    packed = (SAMPLE_RATE << 44) | (0 << 41) | (15 << 36) | total
    info = struct.pack(">HH", FLAC_BLOCK, FLAC_BLOCK) + bytes(6) + packed.to_bytes(8, "big") + bytes(16)
    out = [b"fLaC", bytes([0x80]) + len(info).to_bytes(3, "big"), info]
    for number, start in enumerate(range(0, total, FLAC_BLOCK)):
        block = samples[start : start + FLAC_BLOCK]
        # sync, fixed blocksize; blocksize-1 in 16 bits at the end (0b0111), 24 kHz (0b0111);
        # mono, 16 bits per sample; the frame number as one byte (UTF-8 coded, < 128 frames)
        header = b"\xff\xf8" + bytes([0x77, 0x08, number]) + struct.pack(">H", len(block) - 1)
        header += bytes([_crc8(header)])
        frame = header + b"\x02" + struct.pack(f">{len(block)}h", *block)  # verbatim subframe
        out.append(frame + struct.pack(">H", _crc16(frame)))
    return b"".join(out)


ENCODERS = {"wav": _wav, "pcm": _little_endian, "mp3": _mp3, "flac": _flac}


def _voice(body: dict[str, object]) -> str:
    if "voice" not in body:
        raise MockError(missing_parameter("voice"))
    voice = body["voice"]
    name = voice.get("id") if isinstance(voice, dict) else voice
    if not isinstance(name, str) or name not in VOICES:
        raise MockError(
            invalid_value(
                "voice",
                f"Invalid value for 'voice': {name!r} is not one of the supported voices ({', '.join(VOICES)}).",
            )
        )
    return name


async def speech(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = media_request(state, incoming)
    state.models.require(required_string(body, "model"), "speech")
    text = required_string(body, "input")
    voice = _voice(body)
    response_format = body.get("response_format") or "mp3"
    if response_format in SPEECH_DECLINED or response_format not in SPEECH_TYPES:
        raise MockError(
            invalid_value(
                "response_format",
                f"The reference mock speaks {', '.join(SPEECH_TYPES)}, not {response_format!r}.",
                "unsupported_value",
            )
        )
    speed = body.get("speed", 1.0)
    if not isinstance(speed, (int, float)) or isinstance(speed, bool):
        raise MockError(invalid_type("speed", "a number", speed))
    if not 0.25 <= speed <= 4.0:
        raise MockError(out_of_range("speed", speed, kind="decimal", minimum=0.25, maximum=4.0))
    stream_format = body.get("stream_format") or "audio"
    if stream_format not in ("audio", "sse"):
        raise MockError(invalid_value("stream_format", "Invalid 'stream_format': expected 'audio' or 'sse'."))
    pitch = 300 + VOICES.index(voice) * 20
    audio = ENCODERS[response_format](tone(min(0.05 * max(count_tokens(text), 1), 0.5) / speed, pitch))
    chunks = [audio[i : i + CHUNK] for i in range(0, len(audio), CHUNK)]
    if stream_format == "sse":
        tokens = max(count_tokens(text), 1)
        usage = {"input_tokens": tokens, "output_tokens": len(chunks) * 8, "total_tokens": tokens + len(chunks) * 8}
        events: list[dict[str, object]] = [
            {"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()} for chunk in chunks
        ]
        events.append({"type": "speech.audio.done", "usage": usage})
        frames = [f"data: {json.dumps(event)}\n\n".encode() for event in events]
        answer = MockResponse(
            200, [("content-type", "text/event-stream"), ("cache-control", "no-cache")], frames=frames
        )
    else:
        answer = MockResponse(200, [("content-type", SPEECH_TYPES[response_format])], frames=chunks)
    return state.pipeline.audio(answer, incoming)


# --- transcriptions and translations ---------------------------------------------------------------


def _form(incoming: Incoming) -> Form:
    """multipart/form-data fields: name -> (filename, content)."""
    content_type = incoming.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise MockError(ErrorSpec(400, "Expected a multipart/form-data body.", "validation"))
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + incoming.body
    )
    fields: Form = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        key = name.removesuffix("[]")
        if name.endswith("[]") and key in fields:  # a list (timestamp_granularities[]): its values comma-joined
            content = fields[key][1] + b"," + content
        fields[key] = (part.get_filename(), content)
    return fields


def _field(fields: Form, name: str, default: str = "") -> str:
    return fields[name][1].decode(errors="replace") if name in fields else default


def _duration(audio: bytes) -> float:
    try:
        with wave.open(io.BytesIO(audio)) as reader:
            return round(reader.getnframes() / reader.getframerate(), 3)
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error, ZeroDivisionError):  # not a readable WAV
        raise MockError(
            invalid_value("file", "The reference mock transcribes WAV files only.", "unsupported_value")
        ) from None


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3600000:02d}:{millis // 60000 % 60:02d}:{millis // 1000 % 60:02d}{separator}{millis % 1000:03d}"


def _segment(text: str, duration: float) -> dict[str, object]:
    return {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": duration,
        "text": " " + text,
        "tokens": [50364 + i for i in range(count_tokens(text))],
        "temperature": 0.0,
        "avg_logprob": -0.25,
        "compression_ratio": 1.0,
        "no_speech_prob": 0.01,
    }


def _answer(task: str, fields: Form, response_format: str, text: str, duration: float) -> MockResponse:
    if response_format == "text":
        return MockResponse(200, [("content-type", TEXT_TYPE)], f"{text}\n".encode())
    if response_format == "srt":
        cue = f"1\n{_timestamp(0, ',')} --> {_timestamp(duration, ',')}\n{text}\n\n"
        return MockResponse(200, [("content-type", TEXT_TYPE)], cue.encode())
    if response_format == "vtt":
        cue = f"WEBVTT\n\n{_timestamp(0, '.')} --> {_timestamp(duration, '.')}\n{text}\n\n"
        return MockResponse(200, [("content-type", TEXT_TYPE)], cue.encode())
    usage = {"type": "duration", "seconds": math.ceil(duration)}
    if response_format == "json":
        return json_response(200, {"text": text} if task == "translate" else {"text": text, "usage": usage})
    verbose: dict[str, object] = {
        "task": task,
        "language": "english",
        "duration": duration,
        "text": text,
        "segments": [_segment(text, duration)],
    }
    if task == "transcribe":
        verbose["usage"] = usage
        if "word" in _field(fields, "timestamp_granularities").split(","):
            words = text.split()
            step = duration / max(len(words), 1)
            verbose["words"] = [
                {"word": word, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
                for i, word in enumerate(words)
            ]
    return json_response(200, verbose)


def _stream(text: str) -> MockResponse:
    """``stream=true``: ``transcript.text.delta`` events, then ``transcript.text.done`` with usage."""
    words = re.findall(r"\S+\s*", text) or [text]
    events: list[dict[str, object]] = [{"type": "transcript.text.delta", "delta": word} for word in words]
    tokens = count_tokens(text)
    usage = {"type": "tokens", "input_tokens": 16, "output_tokens": tokens, "total_tokens": 16 + tokens}
    events.append({"type": "transcript.text.done", "text": text, "usage": usage})
    frames = [f"data: {json.dumps(event)}\n\n".encode() for event in events]
    return MockResponse(200, [("content-type", "text/event-stream"), ("cache-control", "no-cache")], frames=frames)


async def _recognise(state: MockState, incoming: Incoming, task: str) -> MockResponse:
    fields = state.pipeline.audio_form(_form(incoming))
    if "model" not in fields:
        raise MockError(missing_parameter("model"))
    state.models.require(_field(fields, "model"), "transcription")
    if "file" not in fields or not fields["file"][1]:
        raise MockError(missing_parameter("file"))
    audio = fields["file"][1]
    duration = _duration(audio)
    response_format = _field(fields, "response_format", "json") or "json"
    if response_format not in TRANSCRIPT_FORMATS:
        raise MockError(
            invalid_value(
                "response_format",
                f"Invalid 'response_format': {response_format!r} is not one of {', '.join(TRANSCRIPT_FORMATS)}.",
            )
        )
    text, _ = text_for([task, hashlib.sha256(audio).hexdigest()], 12)
    if task == "transcribe" and _field(fields, "stream") == "true":
        answer = _stream(text)
    else:
        answer = _answer(task, fields, response_format, text, duration)
    return state.pipeline.audio(answer, incoming)


async def transcribe(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    return await _recognise(state, incoming, "transcribe")


async def translate(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    return await _recognise(state, incoming, "translate")

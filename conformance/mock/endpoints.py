"""The mock's endpoints beyond chat and embeddings: legacy completions, Responses, images, audio,
and the list routes of the management APIs (batches, files, fine-tuning, assistants).

Each answers the pinned SDK's shape for a minimal but honest request: content is derived from the
request (deterministic, like chat), parameters the mock cannot honour are refused with OpenAI's
400 envelope and ``param`` set, never ignored.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import io
import json
import math
import re
import struct
import time
import uuid
import wave
import zlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from conformance.mock.content import count_tokens, fingerprint, generate_tokens
from conformance.mock.http import (
    SSE_TYPE,
    ErrorSpec,
    MockError,
    MockResponse,
    invalid_type,
    invalid_value,
    json_response,
    missing_parameter,
    not_found,
)
from conformance.mock.stored import page

if TYPE_CHECKING:
    from conformance.mock.app import Incoming, MockApp

IMAGE_SIZES = ("256x256", "512x512", "1024x1024", "auto")
SPEECH_FORMATS = {"wav": "audio/wav", "pcm": "audio/pcm"}
SAMPLE_RATE = 8000
STORED_RESPONSES = 256  # Responses kept for GET /responses/{id}, oldest dropped first


def _body(incoming: Incoming) -> dict[str, Any]:
    body = incoming.json()
    if not isinstance(body, dict):
        raise MockError(invalid_type("body", "an object", body))
    return body


def _required_string(body: dict[str, Any], name: str) -> str:
    if name not in body:
        raise MockError(missing_parameter(name))
    if not isinstance(body[name], str) or not body[name]:
        raise MockError(invalid_type(name, "a non-empty string", body[name]))
    return str(body[name])


def _limit(body: dict[str, Any], name: str, minimum: int, default: int | None) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise MockError(invalid_value(name, f"Invalid '{name}': expected an integer >= {minimum}, got {value!r}."))
    return value


def _refuse_streaming(body: dict[str, Any], what: str) -> None:
    if body.get("stream") is True:
        raise MockError(invalid_value("stream", f"The reference mock does not stream {what}.", "unsupported_value"))


def _text(seed: Any, limit: int | None) -> tuple[str, bool]:
    """Deterministic text for a prompt, cut at ``limit`` tokens; (text, cut)."""
    tokens = generate_tokens(fingerprint(seed))
    cut = limit is not None and len(tokens) > limit
    return "".join(tokens[:limit] if cut else tokens), cut


# --- POST /completions (legacy) -------------------------------------------------------------------


async def completions(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = _body(incoming)
    model = app._model(_required_string(body, "model"), "chat")
    prompt = body.get("prompt")
    if prompt is None:
        raise MockError(missing_parameter("prompt"))
    prompts = prompt if isinstance(prompt, list) else [prompt]
    if not prompts or not all(isinstance(p, str) for p in prompts):
        raise MockError(invalid_type("prompt", "a string or an array of strings", prompt))
    limit = _limit(body, "max_tokens", 0, 16)
    n = _limit(body, "n", 1, 1) or 1
    choices = []
    completion_tokens = 0
    for index in range(len(prompts) * n):
        text, cut = _text([prompts[index // n], index % n], limit)
        completion_tokens += count_tokens(text)
        choices.append({"text": text, "index": index, "logprobs": None, "finish_reason": "length" if cut else "stop"})
    prompt_tokens = sum(count_tokens(p) for p in prompts)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    identity = {"id": "cmpl-" + uuid.uuid4().hex[:24], "object": "text_completion", "created": int(time.time())}
    if body.get("stream") is True:
        options = body.get("stream_options") or {}
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return _completion_stream(identity, model.id, choices, usage if include_usage else None)
    return json_response(200, {**identity, "model": model.id, "choices": choices, "usage": usage})


def _completion_stream(
    identity: dict[str, Any], model: str, choices: list[dict[str, Any]], usage: dict[str, Any] | None
) -> MockResponse:
    """Legacy completions streamed: one chunk per word of each choice, the last with its finish_reason."""
    chunks = []
    for choice in choices:
        words = re.findall(r"\S+\s*|\s+", choice["text"]) or [""]
        for position, word in enumerate(words):
            last = position == len(words) - 1
            piece = {"text": word, "index": choice["index"], "logprobs": None, "finish_reason": None}
            if last:
                piece["finish_reason"] = choice["finish_reason"]
            chunks.append({**identity, "model": model, "choices": [piece]})
    if usage is not None:
        chunks.append({**identity, "model": model, "choices": [], "usage": usage})
    frames = [f"data: {json.dumps(c, separators=(',', ':'))}\n\n".encode() for c in chunks]
    frames.append(b"data: [DONE]\n\n")
    return MockResponse(200, [("content-type", SSE_TYPE), ("cache-control", "no-cache")], frames=frames)


# --- POST /responses, GET /responses/{id} ------------------------------------------------------------


class ResponseStore:
    """The Responses the mock created, for retrieval by id."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def put(self, response: dict[str, Any]) -> None:
        self._items[response["id"]] = response
        while len(self._items) > STORED_RESPONSES:
            self._items.popitem(last=False)

    def get(self, response_id: str) -> dict[str, Any] | None:
        return self._items.get(response_id)


def _input_text(value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value:
        parts = []
        for item in value:
            content = item.get("content") if isinstance(item, dict) else None
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts += [c.get("text", "") for c in content if isinstance(c, dict)]
        if parts:
            return " ".join(parts)
    raise MockError(invalid_type("input", "a string or an array of input items", value))


async def create_response(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = _body(incoming)
    model = app._model(_required_string(body, "model"), "chat")
    if "input" not in body:
        raise MockError(missing_parameter("input"))
    prompt = _input_text(body["input"])
    _refuse_streaming(body, "Responses")
    limit = _limit(body, "max_output_tokens", 16, None)
    text, cut = _text(["responses", prompt], limit)
    input_tokens, output_tokens = count_tokens(prompt), count_tokens(text)
    response = {
        "id": "resp_" + uuid.uuid4().hex,
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if cut else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "error": None,
        "model": model.id,
        "instructions": body.get("instructions"),
        "max_output_tokens": limit,
        "metadata": body.get("metadata") or {},
        "output": [
            {
                "type": "message",
                "id": "msg_" + uuid.uuid4().hex,
                "status": "incomplete" if cut else "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        ],
        "parallel_tool_calls": True,
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "store": body.get("store", True),
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }
    if response["store"]:
        app.responses.put(response)
    return json_response(200, response)


async def retrieve_response(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    response = app.responses.get(match.group("response_id"))
    if response is None:
        raise MockError(not_found(f"No response found with id '{match.group('response_id')}'."))
    return json_response(200, response)


# --- POST /images/generations ------------------------------------------------------------------------


def png(colour: bytes, side: int = 8) -> bytes:
    """A small solid-colour PNG (valid, so clients that decode it succeed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + colour[:3] * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def generate_images(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = _body(incoming)
    prompt = _required_string(body, "prompt")
    if "model" in body:
        app._model(_required_string(body, "model"), "images")
    n = _limit(body, "n", 1, 1) or 1
    if n > 10:
        raise MockError(invalid_value("n", f"Invalid 'n': expected at most 10, got {n}."))
    size = body.get("size", "auto")
    if size not in IMAGE_SIZES:
        raise MockError(invalid_value("size", f"Invalid 'size': expected one of {', '.join(IMAGE_SIZES)}."))
    response_format = body.get("response_format", "b64_json")
    if response_format not in ("b64_json", "url"):
        raise MockError(invalid_value("response_format", "Invalid 'response_format': expected 'b64_json' or 'url'."))
    data = []
    for index in range(n):
        encoded = base64.b64encode(png(hashlib.sha256(f"{prompt}\x00{index}".encode()).digest())).decode()
        item = {"b64_json": encoded} if response_format == "b64_json" else {"url": "data:image/png;base64," + encoded}
        data.append({**item, "revised_prompt": prompt})
    return json_response(200, {"created": int(time.time()), "data": data})


# --- POST /audio/transcriptions, POST /audio/speech ------------------------------------------------


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


async def transcribe(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    fields = _form(incoming)
    if "model" not in fields:
        raise MockError(missing_parameter("model"))
    app._model(fields["model"][1].decode(errors="replace"), "transcription")
    if "file" not in fields or not fields["file"][1]:
        raise MockError(missing_parameter("file"))
    audio = fields["file"][1]
    if not audio.startswith(b"RIFF"):
        raise MockError(invalid_value("file", "The reference mock transcribes WAV files only.", "unsupported_value"))
    text, _ = _text(["transcription", hashlib.sha256(audio).hexdigest()], 12)
    return json_response(200, {"text": text, "usage": {"type": "duration", "seconds": 1}})


async def speech(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = _body(incoming)
    app._model(_required_string(body, "model"), "speech")
    text = _required_string(body, "input")
    _required_string(body, "voice")
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


# --- list routes of the management APIs ------------------------------------------------------------


# What the management APIs' list calls show: a sample file and a sample assistant (OpenAI's spec
# requires first_id and last_id on those lists, which an empty list cannot give); batches and
# fine-tuning jobs are listed empty.
LISTED: dict[str, list[dict[str, Any]]] = {
    "files": [
        {
            "id": "file-conformance-sample",
            "object": "file",
            "bytes": 120,
            "created_at": 1_700_000_000,
            "filename": "sample.jsonl",
            "purpose": "batch",
            "status": "processed",
        }
    ],
    "assistants": [
        {
            "id": "asst_conformance_sample",
            "object": "assistant",
            "created_at": 1_700_000_000,
            "name": "Sample",
            "description": None,
            "model": "mock-chat",
            "instructions": None,
            "tools": [],
            "metadata": {},
        }
    ],
    "batches": [],
    "fine_tuning/jobs": [],
}


async def listing(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    """GET /batches, /files, /fine_tuning/jobs, /assistants: a cursor page of the sample objects."""
    return page(LISTED[match.group("kind")], incoming)

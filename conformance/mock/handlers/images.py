"""POST /images/generations: ``n`` solid-colour PNGs of the requested size, derived from the prompt,
inline (``b64_json``) or as data URLs (``url``), or streamed as ``image_generation.completed`` events.

Each image is a real PNG whose IHDR carries the size asked for (``auto`` is 1024x1024), so that a
client decoding it gets what it asked for; a solid colour compresses to a few kilobytes at any size.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import time
import zlib
from functools import lru_cache

from conformance.mock.handlers._shared import limit, media_request, required_string
from conformance.mock.messages import Incoming, MockError, MockResponse, invalid_value, json_response
from conformance.mock.state import MockState

# the sizes the SDK's ImageGenerateParams lists (the legacy DALL-E ones included)
SIZES = ("256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "1792x1024", "1024x1792")
AUTO_SIZE = "1024x1024"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@lru_cache(maxsize=64)
def png(colour: bytes, width: int = 8, height: int | None = None) -> bytes:
    """A solid-colour RGB PNG of ``width`` x ``height`` (valid, so clients that decode it succeed)."""
    height = width if height is None else height
    row = b"\x00" + colour[:3] * width
    packer = zlib.compressobj(6)
    # every row is the same: compress one and repeat the compressor's work row by row
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_MAGIC + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def dimensions(size: str) -> tuple[int, int]:
    width, _, height = (AUTO_SIZE if size == "auto" else size).partition("x")
    return int(width), int(height)


async def generate(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = media_request(state, incoming)
    prompt = required_string(body, "prompt")
    if "model" in body:
        state.models.require(required_string(body, "model"), "images")
    n = limit(body, "n", 1, 1) or 1
    if n > 10:
        raise MockError(invalid_value("n", f"Invalid 'n': expected at most 10, got {n}."))
    size = body.get("size") or "auto"
    if size != "auto" and size not in SIZES:
        raise MockError(invalid_value("size", f"Invalid 'size': {size!r} is not one of {', '.join(SIZES)} or 'auto'."))
    response_format = body.get("response_format") or "b64_json"
    if response_format not in ("b64_json", "url"):
        raise MockError(invalid_value("response_format", "Invalid 'response_format': expected 'b64_json' or 'url'."))
    width, height = dimensions(size)
    encoded = [
        base64.b64encode(png(hashlib.sha256(f"{prompt}\x00{index}".encode()).digest()[:3], width, height)).decode()
        for index in range(n)
    ]
    created = int(time.time())
    if body.get("stream") is True:
        return _stream(encoded, created, f"{width}x{height}")
    data = [
        {"b64_json": image} if response_format == "b64_json" else {"url": "data:image/png;base64," + image}
        for image in encoded
    ]
    answer = {"created": created, "data": [{**item, "revised_prompt": prompt} for item in data]}
    return json_response(200, state.pipeline.images(answer, body))


def _stream(encoded: list[str], created: int, size: str) -> MockResponse:
    """``stream: true``: one ``image_generation.completed`` event per image, as the GPT image models send."""
    usage = {
        "input_tokens": 8,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": 8},
        "output_tokens": 16,
        "total_tokens": 24,
    }
    frames = []
    for image in encoded:
        event = {
            "type": "image_generation.completed",
            "b64_json": image,
            "created_at": created,
            "size": size,
            "quality": "auto",
            "background": "opaque",
            "output_format": "png",
            "usage": usage,
        }
        frames.append(f"event: image_generation.completed\ndata: {json.dumps(event)}\n\n".encode())
    return MockResponse(200, [("content-type", "text/event-stream"), ("cache-control", "no-cache")], frames=frames)

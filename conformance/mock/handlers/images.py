"""POST /images/generations: ``n`` small solid-colour PNGs derived from the prompt, inline or as data URLs."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import time
import zlib

from conformance.mock.handlers._shared import body_object, limit, required_string
from conformance.mock.messages import Incoming, MockError, MockResponse, invalid_value, json_response
from conformance.mock.state import MockState

SIZES = ("256x256", "512x512", "1024x1024", "auto")


def png(colour: bytes, side: int = 8) -> bytes:
    """A small solid-colour PNG (valid, so clients that decode it succeed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + colour[:3] * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def generate(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = body_object(incoming)
    prompt = required_string(body, "prompt")
    if "model" in body:
        state.models.require(required_string(body, "model"), "images")
    n = limit(body, "n", 1, 1) or 1
    if n > 10:
        raise MockError(invalid_value("n", f"Invalid 'n': expected at most 10, got {n}."))
    size = body.get("size", "auto")
    if size not in SIZES:
        raise MockError(invalid_value("size", f"Invalid 'size': expected one of {', '.join(SIZES)}."))
    response_format = body.get("response_format", "b64_json")
    if response_format not in ("b64_json", "url"):
        raise MockError(invalid_value("response_format", "Invalid 'response_format': expected 'b64_json' or 'url'."))
    data = []
    for index in range(n):
        encoded = base64.b64encode(png(hashlib.sha256(f"{prompt}\x00{index}".encode()).digest())).decode()
        item = {"b64_json": encoded} if response_format == "b64_json" else {"url": "data:image/png;base64," + encoded}
        data.append({**item, "revised_prompt": prompt})
    return json_response(200, {"created": int(time.time()), "data": data})

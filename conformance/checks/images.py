"""POST /images/generations in depth: the image inline (``b64_json``) of the size asked for, as a
URL, ``n`` images, and an invalid ``size`` refused.

A server without image generation answers 404 (or 400) in the envelope, which the engine reads as
``unsupported`` for every feature here. The picture is the model's; that the bytes are an image of
the requested size, in the format and number asked for, is the server's. Image requests cost money
against a paid endpoint: every feature asks for the fewest images at one size every image model
serves (``IMAGE_SIZE``), and images.b64_json shares endpoints.images' request.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

from conformance.checks._common import compact, json_object, strict_sdk_json
from conformance.checks._judges import error_body_of, judge_invalid_value
from conformance.checks._requests import IMAGE_PROMPT, IMAGE_SIZE, image_b64
from conformance.context import CheckContext
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome

INVALID_SIZE = "13x13"  # in no model's list, and not a multiple of 16 (the GPT image models' free sizes)


# --- reading images -------------------------------------------------------------------------------


def image_kind(data: bytes) -> str | None:
    """The format the bytes' signature names: png, jpeg, webp or gif (None: not an image)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image's own header, where its format puts it; None when unreadable."""
    kind = image_kind(data)
    try:
        if kind == "png" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return int(width), int(height)
        if kind == "gif":
            width, height = struct.unpack("<HH", data[6:10])
            return int(width), int(height)
        if kind == "jpeg":
            return _jpeg_size(data)
        if kind == "webp":
            return _webp_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start-of-frame segment
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def decoded(value: Any) -> bytes | None:
    """A base64 string's bytes, or None when it is not strict base64."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _items(findings: Findings, body: Any, expected: int) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        findings.add(Oracle.SCHEMA, f"data: received {compact(data, 80)}, expected a list of image objects")
        return []
    findings.expect(
        len(data) == expected, Oracle.BEHAVIOUR, f"data: received {len(data)} image(s), expected {expected}"
    )
    return data


def _expect_image(findings: Findings, data: bytes | None, where: str, size: str | None = IMAGE_SIZE) -> None:
    """``data`` is an image (PNG, JPEG, WebP or GIF) and, when ``size`` is given, of that size."""
    if data is None:
        findings.add(Oracle.BEHAVIOUR, f"{where}: not base64")
        return
    kind = image_kind(data)
    if kind is None:
        findings.add(
            Oracle.BEHAVIOUR, f"{where}: {len(data)} bytes starting {data[:8]!r}, not a PNG, JPEG, WebP or GIF"
        )
        return
    if size is None:
        return
    found = image_size(data)
    if found is None:
        findings.note(f"{where}: a {kind} whose size the suite could not read")
        return
    findings.expect(
        f"{found[0]}x{found[1]}" == size,
        Oracle.BEHAVIOUR,
        f"{where}: a {found[0]}x{found[1]} {kind}, for size {size!r}",
    )


def _generate(ctx: CheckContext, *, decline_param: Any, **fields: Any) -> dict[str, Any]:
    """POST /images/generations through the raw client; a 4xx escapes for the engine to judge."""
    body = {"model": ctx.target.models["images"], "prompt": IMAGE_PROMPT, "size": IMAGE_SIZE, **fields}
    return json_object(ctx.require_ok(ctx.wire.post("images/generations", body), decline_param=decline_param))


# --- checks ---------------------------------------------------------------------------------------


@check("images.b64_json")
def b64_json(ctx: CheckContext) -> Outcome:
    findings = Findings()
    generated = image_b64(ctx)
    if generated.refused_format is not None:
        findings.note(
            f"response_format 'b64_json' refused ({generated.refused_format.summary()}): sent again without it, "
            "as the GPT image models want"
        )
    body, _ = strict_sdk_json(ctx, lambda: generated.raw, findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "ImagesResponse"))
    for index, item in enumerate(_items(findings, body, 1)):
        if "b64_json" not in item and "url" in item:
            findings.add(Oracle.BEHAVIOUR, f"data[{index}]: a url where b64_json was asked for")
            continue
        _expect_image(findings, decoded(item.get("b64_json")), f"data[{index}].b64_json")
    return findings.outcome(f"b64_json decodes to a {IMAGE_SIZE} image", Oracle.BEHAVIOUR)


@check("images.url")
def url(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body = _generate(ctx, n=1, response_format="url", decline_param="response_format")
    for index, item in enumerate(_items(findings, body, 1)):
        link = item.get("url")
        where = f"data[{index}].url"
        if not isinstance(link, str):
            findings.add(
                Oracle.BEHAVIOUR, f"{where}: received {compact(link, 60)}, expected a URL (response_format url)"
            )
        elif link.startswith("data:"):
            header, _, payload = link.partition(",")
            findings.expect(
                header.startswith("data:image/") and header.endswith(";base64"),
                Oracle.BEHAVIOUR,
                f"{where}: a data URL {header!r}, expected data:image/...;base64",
            )
            _expect_image(findings, decoded(payload), where, None)
        else:
            findings.expect(
                link.startswith(("https://", "http://")),
                Oracle.BEHAVIOUR,
                f"{where}: {link[:80]!r} is neither an absolute http(s) URL nor a data URL: a client cannot fetch it",
            )
    return findings.outcome("response_format url answers a URL to the image", Oracle.BEHAVIOUR)


@check("images.n")
def n_images(ctx: CheckContext) -> Outcome:
    findings = Findings()
    generated = image_b64(ctx)  # how this server answers b64_json (with the field, or without it)
    extra = {} if generated.refused_format is not None else {"response_format": "b64_json"}
    body = _generate(ctx, n=2, decline_param="n", **extra)
    items = _items(findings, body, 2)
    for index, item in enumerate(items):
        _expect_image(findings, decoded(item.get("b64_json")), f"data[{index}].b64_json", None)
    return findings.outcome(f"n=2 answered with {len(items)} images", Oracle.BEHAVIOUR)


@check("images.errors.size")
def errors_size(ctx: CheckContext) -> Outcome:
    image_b64(ctx)  # the endpoint is there (or its decline escapes: unsupported)
    findings = Findings()
    response = ctx.wire.post(
        "images/generations",
        {"model": ctx.target.models["images"], "prompt": IMAGE_PROMPT, "n": 1, "size": INVALID_SIZE},
    )
    refusal = error_body_of(response) if response.status >= 300 else None
    judge_invalid_value(
        findings, "size", INVALID_SIZE, refusal, invalid="is no size any model serves", served="ignored or replaced"
    )
    return findings.outcome(f"size {INVALID_SIZE!r} refused with 400 naming 'size'", Oracle.WIRE)

"""Images, audio and moderations served wrongly, as real servers served them: a size or ``n``
ignored, a server-side path for a URL, text formats as JSON, one audio format for every
``response_format``, speech events in another shape, a crash on an unknown voice, a provider's own
moderation categories, a batch of inputs joined into one."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from conformance.mock.effects import Effects
from conformance.mock.handlers.audio import VOICES, wav
from conformance.mock.handlers.images import SIZES, png
from conformance.mock.messages import ErrorSpec, Incoming, MockError, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, Quirk

IMAGES = "/v1/images/generations"
SPEECH = "/v1/audio/speech"
RECOGNITION = ("/v1/audio/transcriptions", "/v1/audio/translations")
MODERATIONS = "/v1/moderations"


def _json_body(incoming: Incoming, path: str) -> dict[str, Any] | None:
    if incoming.method != "POST" or incoming.path != path:
        return None
    try:
        body = incoming.json()
    except MockError:
        return None
    return body if isinstance(body, dict) else None


# --- images ---------------------------------------------------------------------------------------


def _always_512(body: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Every image 512x512, whatever ``size`` asked for."""
    data = []
    for index, item in enumerate(body.get("data") or ()):
        image = base64.b64encode(png(bytes([40 * index % 256, 90, 160]), 512, 512)).decode()
        data.append(
            {**item, **({"b64_json": image} if "b64_json" in item else {"url": "data:image/png;base64," + image})}
        )
    return {**body, "data": data}


def _server_path_url(body: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """``url`` answered with the file's path on the server (Xinference's image cache)."""
    data = [
        {**item, "url": f"/home/admin/.xinference/image/{index:032x}.png"} if "url" in item else item
        for index, item in enumerate(body.get("data") or ())
    ]
    return {**body, "data": data}


def _first_image_only(body: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    return {**body, "data": list(body.get("data") or ())[:1]}


def _invalid_size_500(incoming: Incoming) -> ErrorSpec | None:
    size = (_json_body(incoming, IMAGES) or {}).get("size")
    if isinstance(size, str) and size != "auto" and size not in SIZES:
        return ErrorSpec(500, f"Upstream image service failed: InvalidParameter size {size}", "server", "server_error")
    return None


# --- audio ----------------------------------------------------------------------------------------


def _content(response: MockResponse) -> bytes:
    return b"".join(response.frames) if response.frames is not None else response.body


def _text_as_json(response: MockResponse, incoming: Incoming) -> MockResponse:
    """text, srt and vtt answered as a JSON string: quoted, newlines escaped, application/json."""
    if incoming.path not in RECOGNITION or not (response.header("content-type") or "").startswith("text/plain"):
        return response
    text = _content(response).decode()
    return MockResponse(200, [("content-type", "application/json")], json.dumps(text).encode())


def _verbose_text_only(response: MockResponse, incoming: Incoming) -> MockResponse:
    """verbose_json answered with the text alone: no duration, language or segments."""
    if incoming.path not in RECOGNITION or not (response.header("content-type") or "").startswith("application/json"):
        return response
    try:
        body = json.loads(_content(response))
    except ValueError:
        return response
    if isinstance(body, dict) and "segments" in body:
        return MockResponse(200, [("content-type", "application/json")], json.dumps({"text": body["text"]}).encode())
    return response


def _always_wav(response: MockResponse, incoming: Incoming) -> MockResponse:
    """Speech as WAV whatever ``response_format`` asked for (the Content-Type follows the bytes)."""
    if incoming.path != SPEECH or not (response.header("content-type") or "").startswith("audio/"):
        return response
    return MockResponse(200, [("content-type", "audio/wav")], frames=[wav(0.2)])


def _chat_shaped_speech_events(response: MockResponse, incoming: Incoming) -> MockResponse:
    """``stream_format: "sse"`` events shaped like chat chunks: ``{"audio": {"data": ...}}``, then ``[DONE]``."""
    if incoming.path != SPEECH or response.header("content-type") != "text/event-stream":
        return response
    frames = []
    for frame in response.frames or ():
        event = json.loads(frame.decode().removeprefix("data: "))
        if event.get("type") == "speech.audio.delta":
            frames.append(f"data: {json.dumps({'audio': {'data': event['audio']}})}\n\n".encode())
    frames.append(b"data: [DONE]\n\n")
    return MockResponse(200, list(response.headers), frames=frames)


def _unknown_voice_500(incoming: Incoming) -> ErrorSpec | None:
    voice = (_json_body(incoming, SPEECH) or {}).get("voice")
    if isinstance(voice, str) and voice not in VOICES:
        return ErrorSpec(500, f"KeyError: '{voice}'", "server", "server_error")
    return None


# --- moderations ----------------------------------------------------------------------------------

HAZARDS = [f"S{number}" for number in range(1, 15)]  # Llama Guard 3's hazard categories


def _provider_categories(body: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Each result in the moderation model's own hazard codes (S1-S14), without the applied input types."""
    results = [
        {
            "flagged": result["flagged"],
            "categories": dict.fromkeys(HAZARDS, False),
            "category_scores": dict.fromkeys(HAZARDS, 0.0),
        }
        for result in body.get("results") or ()
    ]
    return {**body, "results": results}


def _batch_joined(path: str, body: Any) -> Any:
    """An array of strings moderated as one text: the strings joined, one result."""
    if path == MODERATIONS and isinstance(body, dict):
        value = body.get("input")
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return {**body, "input": " ".join(value)}
    return body


# --- the harness: openai-python's generated tests -------------------------------------------------

_WAV_SIGNATURE = re.compile(rb"^RIFF....WAVE", re.DOTALL)


def _any_upload_as_audio(fields: dict[str, tuple[str | None, bytes]]) -> dict[str, tuple[str | None, bytes]]:
    """An upload that is not WAV (the generated tests send b"Example data") transcribed as a short tone."""
    upload = fields.get("file")
    if upload is not None and not _WAV_SIGNATURE.match(upload[1]):
        return {**fields, "file": (upload[0], wav(0.2))}
    return fields


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "images.size_ignored",
        "images",
        "Every generated image is 512x512, whatever `size` asked for.",
        "https://github.com/mudler/LocalAI/issues/2430",
        Effects(images=_always_512),
        detects={"images.b64_json": NONCONFORMANT},
    ),
    Quirk(
        "images.url_server_path",
        "images",
        '`response_format: "url"` is answered with the image\'s path on the server '
        "(`/home/admin/.xinference/image/...png`), which no client can fetch.",
        "https://github.com/MODSetter/SurfSense/issues/1496",
        Effects(images=_server_path_url),
        detects={"images.url": NONCONFORMANT},
    ),
    Quirk(
        "images.n_ignored",
        "images",
        "`n` is never read: one image comes back whatever number was asked for.",
        "https://github.com/ai-dynamo/dynamo/pull/12970",
        Effects(images=_first_image_only),
        detects={"images.n": NONCONFORMANT},
    ),
    Quirk(
        "images.invalid_size_500",
        "images",
        "A `size` the model does not offer fails upstream and is answered 500 instead of 400.",
        "https://github.com/pollinations/pollinations/issues/6465",
        Effects(decline_route=_invalid_size_500),
        detects={"images.errors.size": NONCONFORMANT},
    ),
    Quirk(
        "transcription.text_formats_as_json",
        "audio",
        "Transcriptions in `text`, `srt` and `vtt` come back JSON-encoded: a quoted string with escaped "
        "newlines, as application/json.",
        "https://github.com/Nyralei/whisperx-api-server/issues/4",
        Effects(audio=_text_as_json),
        detects={"audio.transcriptions.formats": NONCONFORMANT},
    ),
    Quirk(
        "transcription.verbose_json_text_only",
        "audio",
        "`verbose_json` is answered with the text alone: no duration, language or segments.",
        "https://github.com/BerriAI/litellm/issues/25633",
        Effects(audio=_verbose_text_only),
        detects={"audio.transcriptions.formats": NONCONFORMANT},
    ),
    Quirk(
        "speech.format_ignored",
        "audio",
        "Speech is WAV whatever `response_format` asked for (mp3, flac, pcm).",
        "https://github.com/mudler/LocalAI/issues/2732",
        Effects(audio=_always_wav),
        detects={"audio.speech.formats": NONCONFORMANT},
    ),
    Quirk(
        "speech.sse_chunk_shape",
        "audio",
        '`stream_format: "sse"` events carry `{"audio": {"data": ...}}` and end with `[DONE]`, not '
        "`speech.audio.delta` events and a `speech.audio.done` with usage.",
        "https://github.com/sgl-project/sglang-omni/pull/157",
        Effects(audio=_chat_shaped_speech_events),
        detects={"audio.speech.stream": NONCONFORMANT},
    ),
    Quirk(
        "speech.unknown_voice_500",
        "audio",
        "An unknown `voice` crashes the voice lookup: 500 `KeyError` instead of 400 naming `voice`.",
        "https://github.com/matatonic/openedai-speech/issues/3",
        Effects(decline_route=_unknown_voice_500),
        detects={"audio.speech.errors.voice": NONCONFORMANT},
    ),
    Quirk(
        "moderation.provider_categories",
        "moderations",
        "Moderation results carry the model's own hazard codes (S1-S14) as categories, not OpenAI's, and no "
        "category_applied_input_types: the SDK's Moderation type rejects them.",
        "https://github.com/ogx-ai/ogx/pull/3098",
        Effects(moderations=_provider_categories),
        detects={"moderations.shape": NONCONFORMANT},
    ),
    Quirk(
        "moderation.batch_joined",
        "moderations",
        "An array of input strings is joined and moderated as one text: one result for N inputs.",
        "https://github.com/CopilotKit/aimock/pull/433",
        Effects(media_body=_batch_joined),
        detects={"moderations.batch": NONCONFORMANT},
    ),
    Quirk(
        "spec.lenient_audio",
        "audio",
        "Uploads the published spec's types allow but no audio model decodes (the generated tests' "
        'b"Example data") are transcribed as a short tone, as Prism accepts them.',
        "https://github.com/openai/openai-python/tree/main/tests/api_resources (generated; run upstream against Prism, "
        "see CONTRIBUTING.md)",
        Effects(audio_form=_any_upload_as_audio),
        harness=True,
    ),
)

"""Endpoints a server does not have, or serves in a shape the SDK rejects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse, unknown_route
from conformance.mock.quirks._model import NONCONFORMANT, SKIPPED, UNSUPPORTED, Quirk
from conformance.mock.quirks._shared import FLEXAI, RESPONSES_FEATURES, SCAIGRID, THE_GRID, error_body
from conformance.mock.quirks.batches import BATCHES_FEATURES, FILES_FEATURES


def _absent(*patterns: str) -> Callable[[Incoming], ErrorSpec | None]:
    """Answer these routes (under /v1) as a server without them does: 404 in the envelope."""
    compiled = [re.compile(rf"/v1/{pattern}") for pattern in patterns]

    def decline(incoming: Incoming) -> ErrorSpec | None:
        if any(p.fullmatch(incoming.path) for p in compiled):
            return unknown_route(incoming.method, incoming.path)
        return None

    return decline


def _absent_quirk(
    name: str,
    feature: str,
    patterns: tuple[str, ...],
    what: str,
    source: str,
    also: tuple[str, ...] = (),
    skips: tuple[str, ...] = (),
) -> Quirk:
    """``also``: the deeper features of the endpoint (declined too); ``skips``: those of another
    endpoint that need this one (the Batch API without a Files API has no input to run)."""
    return Quirk(
        f"endpoint.{name}_absent",
        "endpoints",
        f"No {what}: {', '.join('/v1/' + p for p in patterns)} answers 404 in the envelope.",
        source,
        Effects(decline_route=_absent(*patterns)),
        detects={feature: UNSUPPORTED, **dict.fromkeys(also, UNSUPPORTED), **dict.fromkeys(skips, SKIPPED)},
    )


def _route_detail_404(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """FastAPI's default answer for a route it does not have, in place of OpenAI's envelope."""
    return error_body(response, spec, {"detail": "Not Found"}) if spec.kind == "route" else response


def _responses_usage_details_missing(response: MockResponse) -> MockResponse:
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    if not (isinstance(body, dict) and body.get("object") == "response" and isinstance(body.get("usage"), dict)):
        return response
    body["usage"].pop("output_tokens_details", None)
    response.body = json.dumps(body).encode()
    return response


# the deeper features of an endpoint: a server without it declines them all
IMAGES_FEATURES = ("images.b64_json", "images.url", "images.n", "images.errors.size")
SPEECH_FEATURES = ("audio.speech.formats", "audio.speech.stream", "audio.speech.errors.voice")

# every route of the Responses API: create, retrieve, delete, cancel, input_items, input_tokens, compact
RESPONSES_ROUTES = (r"responses(/.*)?",)

SEEDS = f"{SCAIGRID} (ScaiGrid: 'via ScaiMind/ScaiDrive/ScaiCore'), {THE_GRID} (The Grid), {FLEXAI} (FlexAI)"

TABLE: tuple[Quirk, ...] = (
    _absent_quirk(
        "responses",
        "endpoints.responses",
        RESPONSES_ROUTES,
        "Responses API",
        "https://github.com/ollama/ollama/issues/9659, https://github.com/iBUHub/AIStudioToAPI/issues/83; "
        f"{THE_GRID} (The Grid)",
        also=RESPONSES_FEATURES,
    ),
    _absent_quirk(
        "completions", "endpoints.completions", ("completions",), "legacy completions", f"{THE_GRID} (The Grid)"
    ),
    Quirk(
        "endpoint.embeddings_absent",
        "endpoints",
        "No embeddings: /v1/embeddings answers 404 in the envelope.",
        f"{THE_GRID} (The Grid: embeddings are not supported)",
        Effects(decline_route=_absent("embeddings")),
        detects={
            "embeddings.basic": UNSUPPORTED,
            "embeddings.base64": UNSUPPORTED,
            "embeddings.batch": UNSUPPORTED,
            "embeddings.dimensions": UNSUPPORTED,
            "embeddings.input.token_array": UNSUPPORTED,
            "embeddings.input.empty_string": UNSUPPORTED,
        },
    ),
    _absent_quirk(
        "images",
        "endpoints.images",
        (r"images/.+",),
        "image generation",
        f"{THE_GRID} (The Grid), {FLEXAI} (FlexAI)",
        also=IMAGES_FEATURES,
    ),
    _absent_quirk(
        "transcriptions",
        "endpoints.audio.transcriptions",
        ("audio/transcriptions",),
        "transcription",
        f"{THE_GRID} (The Grid)",
        also=("audio.transcriptions.formats",),
    ),
    _absent_quirk(
        "translations",
        "audio.translations",
        ("audio/translations",),
        "audio translation",
        "https://github.com/BerriAI/litellm/issues/38012, https://github.com/LlamaEdge/whisper-api-server/issues/2",
    ),
    _absent_quirk(
        "speech",
        "endpoints.audio.speech",
        ("audio/speech",),
        "text to speech",
        f"{THE_GRID} (The Grid), {FLEXAI} (FlexAI)",
        also=SPEECH_FEATURES,
    ),
    _absent_quirk(
        "moderations",
        "moderations.shape",
        ("moderations",),
        "moderation",
        "https://github.com/pollinations/pollinations/pull/13423 (moderation only through chat before it), "
        "https://github.com/ogx-ai/ogx/issues/2367",
        also=("moderations.batch",),
    ),
    _absent_quirk("batches", "endpoints.batches", (r"batches(/.*)?",), "Batch API", SEEDS, also=BATCHES_FEATURES),
    _absent_quirk(
        "files", "endpoints.files", (r"files(/.*)?",), "Files API", SEEDS, also=FILES_FEATURES, skips=BATCHES_FEATURES
    ),
    _absent_quirk("fine_tuning", "endpoints.fine_tuning", (r"fine_tuning/.*",), "fine-tuning API", SEEDS),
    _absent_quirk("assistants", "endpoints.assistants", (r"(assistants|threads)(/.*)?",), "Assistants API", SEEDS),
    Quirk(
        "endpoint.responses_absent_detail",
        "endpoints",
        'No Responses API, and the absent route answers FastAPI\'s `404 {"detail": "Not Found"}`: the SDK still raises '
        "NotFoundError (unsupported when compatible), but the body breaks OpenAI's error contract (strict).",
        "https://github.com/xtekky/gpt4free/issues/2980",
        Effects(decline_route=_absent(*RESPONSES_ROUTES), error=_route_detail_404),
        # every unknown route answers so: the route-family features all see it (one root cause)
        detects={
            "endpoints.responses": UNSUPPORTED,
            **dict.fromkeys(RESPONSES_FEATURES, UNSUPPORTED),
            "http.path.unknown_route": NONCONFORMANT,
            "http.path.trailing_slash": NONCONFORMANT,
            "http.path.misconfigured_base_url": NONCONFORMANT,
        },
    ),
    Quirk(
        "responses.usage_details_missing",
        "endpoints",
        "Responses carry usage without output_tokens_details (four of the five fields).",
        "https://github.com/ggml-org/llama.cpp/issues/22659",
        Effects(response=_responses_usage_details_missing),
        # the strict SDK reads every Response it is given: the features that send through it
        detects={
            "endpoints.responses": NONCONFORMANT,
            "responses.create.shape": NONCONFORMANT,
            "responses.text.json_schema": NONCONFORMANT,
        },
    ),
)

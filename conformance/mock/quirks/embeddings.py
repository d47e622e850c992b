"""POST /embeddings quirks."""

from __future__ import annotations

import copy
import json
from typing import Any

from conformance.floats import encode_base64
from conformance.mock.content import embedding_vector
from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse, json_response
from conformance.mock.quirks._model import NONCONFORMANT, UNSUPPORTED, Quirk
from conformance.mock.quirks._shared import decline, error_body, kinds
from conformance.mock.validation import EmbeddingRequest

NATIVE_DIMENSIONS = 256


def _reject_base64(request: EmbeddingRequest) -> ErrorSpec | None:
    if request.encoding_format == "base64":
        return decline(400, "base64 encoding is not currently supported", param="encoding_format")
    return None


def _reject_dimensions(request: EmbeddingRequest) -> ErrorSpec | None:
    if request.dimensions is not None:
        return decline(
            400,
            f'Model "{request.model}" does not support matryoshka representation, changing '
            "output dimensions will lead to poor results.",
            param="dimensions",
        )
    return None


def _floats_for_base64(body: dict[str, Any], request: EmbeddingRequest) -> dict[str, Any]:
    if request.encoding_format != "base64":
        return body
    body = copy.deepcopy(body)
    for item, text in zip(body["data"], request.inputs, strict=True):
        item["embedding"] = embedding_vector(text, request.dimensions or NATIVE_DIMENSIONS)
    return body


def _full_dimensions(body: dict[str, Any], request: EmbeddingRequest) -> dict[str, Any]:
    if not request.dimensions:
        return body
    body = copy.deepcopy(body)
    for item, text in zip(body["data"], request.inputs, strict=True):
        vector = embedding_vector(text, NATIVE_DIMENSIONS)
        item["embedding"] = encode_base64(vector) if request.encoding_format == "base64" else vector
    return body


def _reject_token_ids(request: EmbeddingRequest) -> ErrorSpec | None:
    """Infinity's request model types `input` as strings only: pydantic refuses token ids."""
    value = request.raw.get("input")
    if isinstance(value, list) and value and not all(isinstance(item, str) for item in value):
        return ErrorSpec(422, "Input should be a valid string", "token_input", param="input")
    return None


@kinds("token_input")
def _fastapi_detail(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    detail = [{"type": "string_type", "loc": ["body", "input", 0], "msg": spec.message, "input": 1212}]
    return error_body(response, spec, {"detail": detail})


def _embed_empty_string(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """A server that embeds `input: ""` as it embeds any text, instead of refusing it."""
    if not incoming.path.rstrip("/").endswith("/embeddings") or spec.param != "input":
        return response
    try:
        body = json.loads(incoming.body)
    except ValueError:
        return response
    if not isinstance(body, dict) or body.get("input") != "":
        return response
    vector = embedding_vector("", NATIVE_DIMENSIONS)
    answer = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": vector}],
        "model": body.get("model"),
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }
    return json_response(200, answer, [(k, v) for k, v in response.headers if k != "content-type"])


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "emb.base64_rejected",
        "embeddings",
        '`encoding_format: "base64"` (the SDK\'s default) is declined: 400 with `param: "encoding_format"`.',
        "https://github.com/vllm-project/vllm/issues/6174, https://github.com/michaelfeil/infinity/issues/349",
        Effects(embeddings_request=_reject_base64),
        detects={"embeddings.base64": UNSUPPORTED},
    ),
    Quirk(
        "emb.base64_ignored",
        "embeddings",
        '`encoding_format: "base64"` is answered with float arrays.',
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/756, "
        "https://github.com/runpod-workers/worker-infinity-embedding/issues/30",
        Effects(embeddings=_floats_for_base64),
        detects={"embeddings.base64": NONCONFORMANT},
    ),
    Quirk(
        "emb.usage_or_model_missing",
        "embeddings",
        "Embeddings responses carry `model: null` and `usage: null`.",
        "https://github.com/api7/aisix/issues/474, https://github.com/opea-project/GenAIComps/issues/926",
        Effects(embeddings=lambda body, request: {**body, "model": None, "usage": None}),
        detects={"embeddings.basic": NONCONFORMANT},
    ),
    Quirk(
        "emb.dimensions_ignored",
        "embeddings",
        "`dimensions` is accepted and ignored: full-size vectors come back.",
        "https://github.com/ggml-org/llama.cpp/issues/25210",
        Effects(embeddings=_full_dimensions),
        detects={"embeddings.dimensions": NONCONFORMANT},
    ),
    Quirk(
        "emb.dimensions_rejected",
        "embeddings",
        '`dimensions` is declined: 400 with `param: "dimensions"` (the model has no matryoshka support).',
        "https://github.com/garrytan/gbrain/issues/3699, https://github.com/plastic-labs/honcho/issues/772, "
        "https://github.com/BerriAI/litellm/issues/26787",
        Effects(embeddings_request=_reject_dimensions),
        detects={"embeddings.dimensions": UNSUPPORTED},
    ),
    Quirk(
        "emb.index_wrong",
        "embeddings",
        "Every item of a batch answer carries `index: 0`.",
        "BerriAI/litellm#25656 (Gemini batch), samfoy/pi-session-search#13, xorbitsai/inference#5240",
        Effects(embeddings=lambda body, request: {**body, "data": [{**item, "index": 0} for item in body["data"]]}),
        detects={"embeddings.batch": NONCONFORMANT},
    ),
    Quirk(
        "emb.token_array_rejected",
        "embeddings",
        'Token-id input (`input: [1212, 318, ...]`) fails request validation: FastAPI\'s `422 {"detail": [...]}`.',
        "https://github.com/michaelfeil/infinity/issues/295, "
        "https://github.com/huggingface/text-embeddings-inference/issues/273",
        Effects(embeddings_request=_reject_token_ids, error=_fastapi_detail),
        detects={"embeddings.input.token_array": NONCONFORMANT},
    ),
    Quirk(
        "emb.empty_string_accepted",
        "embeddings",
        '`input: ""` is embedded (200 and a vector) instead of refused.',
        "https://github.com/openclaw/openclaw/issues/117615, https://github.com/ollama/ollama/issues/5781",
        Effects(error=_embed_empty_string),
        detects={"embeddings.input.empty_string": NONCONFORMANT},
    ),
)

"""OpenAI's published OpenAPI spec (../shared/data/openai-openapi.yml), with its documented errata.

The spec disagrees with OpenAI's own API (and with openai-python) in a few places; validating the
mock against the uncorrected spec would demand the spec's mistakes. Each erratum names the public
report of it. Also here: 3.0-style ``nullable: true`` turned into 2020-12 types, for validating
with ``jsonschema`` (the spec says 3.1 but writes ``nullable`` about a hundred times).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "openai-openapi.yml"
AUDIO_TYPES = ("audio/mpeg", "audio/wav", "audio/aac", "audio/flac", "audio/opus", "audio/pcm")

# (what, public report) for each correction applied by patched_spec()
ERRATA = (
    (
        "Embedding.embedding may be a base64 string (encoding_format: base64), not only a float array",
        "openai/openai-openapi#424",
    ),
    (
        "POST /audio/speech answers audio/* media types (audio/mpeg, audio/wav, ...), not only "
        "application/octet-stream",
        "openai/openai-openapi#141",
    ),
    (
        "every operation may answer 4xx/5xx with the documented error envelope (ErrorResponse); the spec "
        "declares almost no error responses",
        "the spec's own ErrorResponse schema and OpenAI's error-codes guide",
    ),
)


def load_spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(SPEC, encoding="utf-8") as handle:
        return dict(yaml.load(handle, Loader=loader))


def patched_spec(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    embedding = schemas["Embedding"]["properties"]["embedding"]
    schemas["Embedding"]["properties"]["embedding"] = {"anyOf": [embedding, {"type": "string"}]}
    speech = spec["paths"]["/audio/speech"]["post"]["responses"]["200"]["content"]
    for media_type in AUDIO_TYPES:
        speech[media_type] = {"schema": {"type": "string", "format": "binary"}}
    error = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    for operations in spec["paths"].values():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete") and isinstance(operation, dict):
                operation.setdefault("responses", {}).setdefault("default", error)
    return spec


def nullable_to_2020(node: Any) -> Any:
    """``{"type": "string", "nullable": true}`` -> ``{"type": ["string", "null"]}`` (and refs to anyOf)."""
    if isinstance(node, list):
        return [nullable_to_2020(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: nullable_to_2020(v) for k, v in node.items()}
    if node.pop("nullable", False) is True:
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        elif "$ref" in node or "allOf" in node or "anyOf" in node or "oneOf" in node:
            return {"anyOf": [node, {"type": "null"}]}
    return node

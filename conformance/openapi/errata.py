"""Where OpenAI's published OpenAPI spec disagrees with OpenAI's API, and the fix for each: one place.

The spec (openai/openai-openapi, ``openapi.yaml``) disagrees with OpenAI's own API, and with
openai-python, in a few places; validating against the uncorrected spec would demand the spec's
mistakes. Each erratum names the public report of it. :func:`patched_spec` applies them to the whole
spec (``tests/test_prism_proxy.py`` hands the result to Prism); ``scripts/extract_spec_schemas.py``
applies them before it extracts the schemas the strict oracle ships. Also here: 3.0-style
``nullable: true`` turned into 2020-12 types, for ``jsonschema`` (the spec says 3.1 but writes
``nullable`` about a hundred times).

Pure functions over the parsed spec; depends on nothing in the project.
"""

from __future__ import annotations

import copy
from typing import Any

AUDIO_TYPES = ("audio/mpeg", "audio/wav", "audio/aac", "audio/flac", "audio/opus", "audio/pcm")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# (what, public report) for each correction patched_spec() applies
ERRATA: tuple[tuple[str, str], ...] = (
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
    (
        "POST /completions with stream: true answers text/event-stream chunks shaped as CreateCompletionResponse; "
        "the spec declares only application/json",
        "the spec's own CreateCompletionRequest.stream (data-only server-sent events) and openai-python's "
        "Stream[Completion]",
    ),
    (
        "Batch and OpenAIFile: a field the object does not require may be null when unset (output_file_id, "
        "error_file_id, the timestamps, expires_at, status_details), as OpenAI sends them, not only absent",
        "the spec's own examples of the Batch and File objects, and openai-python's Batch and FileObject (Optional)",
    ),
    (
        "POST /audio/transcriptions and /audio/translations: the JSON answer is anyOf its formats, not oneOf: "
        "the plain json format requires only `text` and allows more, so a verbose_json answer is both",
        "openai/openai-openapi#567",
    ),
    (
        "POST /audio/transcriptions and /audio/translations answer text, srt and vtt as text/plain, which the "
        "spec does not declare",
        "openai/openai-openapi#361",
    ),
    (
        "GET /files/{file_id}/content answers the file's bytes (application/octet-stream), not a JSON string",
        "openai-python's files.content() (the raw bytes, HttpxBinaryResponseContent)",
    ),
)


def patched_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the parsed spec with every erratum of :data:`ERRATA` applied."""
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
            if method in HTTP_METHODS and isinstance(operation, dict):
                operation.setdefault("responses", {}).setdefault("default", error)
    completions = spec["paths"]["/completions"]["post"]["responses"]["200"]["content"]
    completions.setdefault("text/event-stream", copy.deepcopy(completions["application/json"]))
    for name in ("Batch", "OpenAIFile"):
        required = set(schemas[name].get("required", ()))
        for field, schema in schemas[name]["properties"].items():
            if field not in required:
                schema["nullable"] = True
    for path in ("/audio/transcriptions", "/audio/translations"):
        answer = spec["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        if "oneOf" in answer:
            answer["anyOf"] = answer.pop("oneOf")
        content = spec["paths"][path]["post"]["responses"]["200"]["content"]
        content.setdefault("text/plain", {"schema": {"type": "string"}})
    downloaded = spec["paths"]["/files/{file_id}/content"]["get"]["responses"]["200"]
    downloaded["content"] = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    return spec


def nullable_to_2020(node: Any) -> Any:
    """``{"type": "string", "nullable": true}`` -> ``{"type": ["string", "null"]}`` (and refs to anyOf)."""
    if isinstance(node, list):
        return [nullable_to_2020(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: nullable_to_2020(v) for k, v in node.items()}
    nullable = node.get("nullable")
    if isinstance(nullable, bool):  # the keyword, not a property named "nullable"
        del node["nullable"]
    if nullable is True:
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        elif "$ref" in node or "allOf" in node or "anyOf" in node or "oneOf" in node:
            return {"anyOf": [node, {"type": "null"}]}
    return node

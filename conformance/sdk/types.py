"""The SDK's types by the short names the catalog uses, and the JSON Schema of each.

``ROOTS`` is the one table from a name a reader knows from the SDK's docs (``ChatCompletion``) to
the class that defines it: catalog paths start there (:mod:`conformance.sdk.paths`), the schema
oracle validates against it (:mod:`conformance.sdk.oracle`), and a stored surface keys its types
by the same module path. A name the table does not pin is found where openai-python exports it
(:func:`locate`), so a new endpoint's types need no row here: its catalog entry naming them is
enough. :func:`catalog_roots` is every root the catalog uses, the scope of surfaces and pin diffs.
The status-to-exception table is here too, so that a module needing only an exception's name
(``conformance.envelope``) imports neither the SDK nor the wire layer.

Depends on nothing in the project but the catalog (for :func:`catalog_roots`, imported there); the
SDK itself (and pydantic) load only when a class or a schema is asked for.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

# Root name -> (defining module, class). The module is where the class is defined, which is also
# its key in a stored surface (conformance.sdk.surface), and the same in every supported SDK line.
ROOTS: dict[str, tuple[str, str]] = {
    "ChatCompletionCreateParams": ("openai.types.chat.completion_create_params", "CompletionCreateParamsBase"),
    "ChatCompletion": ("openai.types.chat.chat_completion", "ChatCompletion"),
    "ChatCompletionChunk": ("openai.types.chat.chat_completion_chunk", "ChatCompletionChunk"),
    "Model": ("openai.types.model", "Model"),
    "EmbeddingCreateParams": ("openai.types.embedding_create_params", "EmbeddingCreateParams"),
    "CreateEmbeddingResponse": ("openai.types.create_embedding_response", "CreateEmbeddingResponse"),
    # endpoints probed for presence (conformance/checks/endpoints.py)
    "CompletionCreateParams": ("openai.types.completion_create_params", "CompletionCreateParamsBase"),
    "Completion": ("openai.types.completion", "Completion"),
    "ResponseCreateParams": ("openai.types.responses.response_create_params", "ResponseCreateParamsBase"),
    "Response": ("openai.types.responses.response", "Response"),
    "ImageGenerateParams": ("openai.types.image_generate_params", "ImageGenerateParamsBase"),
    "ImagesResponse": ("openai.types.images_response", "ImagesResponse"),
    "TranscriptionCreateParams": ("openai.types.audio.transcription_create_params", "TranscriptionCreateParamsBase"),
    "Transcription": ("openai.types.audio.transcription", "Transcription"),
    "SpeechCreateParams": ("openai.types.audio.speech_create_params", "SpeechCreateParams"),
    "BatchListParams": ("openai.types.batch_list_params", "BatchListParams"),
    "FileListParams": ("openai.types.file_list_params", "FileListParams"),
    "JobListParams": ("openai.types.fine_tuning.job_list_params", "JobListParams"),
    "AssistantListParams": ("openai.types.beta.assistant_list_params", "AssistantListParams"),
    "APIError": ("openai", "APIError"),
    "APIStatusError": ("openai", "APIStatusError"),
}
# Roots probed for presence only: a pin-bump diff counts their own fields in the catalog's scope,
# not everything nested in them (a Response nests hundreds of types the presence check never reads;
# `conformance coverage` accounts for each of those, covered or excused, all the same).
PRESENCE_ROOTS = frozenset(
    {
        "CompletionCreateParams",
        "Completion",
        "ResponseCreateParams",
        "Response",
        "JobListParams",
        "AssistantListParams",
    }
)
# Body fields that live on the create() call, not on the params TypedDict
# (docs/sdk-facts.md#request-bodies): a path may name them right after the root.
# The streaming and non-streaming params variants (ResponseCreateParamsStreaming...) differ only there.
CALL_FIELDS: dict[str, frozenset[str]] = {
    "ChatCompletionCreateParams": frozenset({"stream"}),
    "ResponseCreateParams": frozenset({"stream"}),
}

# openai-python's status -> exception table (``OpenAI._make_status_error``, identical in 1.109.1
# and 3.54.0, docs/sdk-facts.md#status-exceptions). Every other status >= 500 is
# InternalServerError; any other status is a plain APIStatusError. tests/test_sdk.py proves this
# table against the installed SDK.
STATUS_EXCEPTIONS: dict[int, str] = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


def exception_name_for_status(status: int) -> str:
    if status in STATUS_EXCEPTIONS:
        return STATUS_EXCEPTIONS[status]
    if status >= 500:
        return "InternalServerError"
    return "APIStatusError"


# Where openai-python exports its types, searched in this order for a name ROOTS does not pin.
EXPORTED_FROM = (
    "openai.types",
    "openai.types.chat",
    "openai.types.audio",
    "openai.types.responses",
    "openai.types.beta",
    "openai.types.fine_tuning",
    "openai",
)


@cache
def locate(name: str) -> tuple[str, str] | None:
    """(defining module, class) of a root name: the table's pin, else the class the installed SDK
    exports under that name (a Union, such as a create-params alias, is no class: pin it in ROOTS)."""
    if name in ROOTS:
        return ROOTS[name]
    for package in EXPORTED_FROM:
        exported = getattr(importlib.import_module(package), name, None)
        if isinstance(exported, type):
            return exported.__module__, exported.__name__
    return None


@cache
def catalog_roots() -> dict[str, tuple[str, str]]:
    """Every root the catalog's paths start from: ROOTS first, then the others in catalog order."""
    from conformance.catalog import load_catalog  # here: the status table must stay cheap to import

    roots = dict(ROOTS)
    for feature in load_catalog():
        for path in feature.sdk_fields:
            name = path.partition(".")[0]
            located = locate(name)
            if name not in roots and located is not None:
                roots[name] = located
    return roots


def sdk_class(name: str) -> Any:
    """The installed SDK's class for a root name."""
    located = locate(name)
    if located is None:
        raise KeyError(name)
    module, attr = located
    return getattr(importlib.import_module(module), attr)


@cache
def schema_for(name: str) -> dict[str, Any]:
    """The JSON Schema (validation mode) of a root type, or of ``ModelList``."""
    from pydantic import TypeAdapter  # here, not above: the status table must not cost a pydantic import

    if name == "ModelList":
        # The SDK reads /models into a page object; the wire shape is OpenAI's ListModelsResponse.
        model = schema_for("Model")
        return {
            "type": "object",
            "required": ["object", "data"],
            "properties": {
                "object": {"const": "list"},
                "data": {"type": "array", "items": {"$ref": "#/$defs/Model"}},
            },
            "$defs": {**model.get("$defs", {}), "Model": {k: v for k, v in model.items() if k != "$defs"}},
        }
    return TypeAdapter(sdk_class(name)).json_schema(mode="validation")

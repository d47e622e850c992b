"""Vendor profiles: the mock configured to behave as a seed vendor documents its endpoint.

A profile is data: its models, the quirks that make up its documented behaviour, the models a run
uses for each capability, and how the rows of the vendor's own support table (in its seed document)
map to the rows of our docs page. The generated page must reproduce the vendor's table row by row,
except where the suite finds the documented behaviour breaks the SDK (``disagreements``: the page
says Broken, with evidence); ``tests/test_vendor_profiles.py`` compares them. Model names the seeds
do not give are marked as such: they are ours, chosen to look like the vendor's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.capabilities import CAPABILITIES, mock_models
from conformance.mock.quirks._shared import FLEXAI as FLEXAI_PAGE
from conformance.mock.quirks._shared import SCAIGRID as SCAIGRID_PAGE
from conformance.mock.quirks._shared import THE_GRID as THE_GRID_PAGE
from conformance.mock.quirks.model_behaviour import CHATTY as CHATTY_MODEL
from conformance.mock.served import MockModel


@dataclass(frozen=True)
class Profile:
    id: str
    vendor: str
    source: str
    models: tuple[MockModel, ...]  # empty: the mock's own
    quirks: tuple[str, ...]
    # capability -> model, what `conformance run --mock-profile ID` configures (empty: the mock's own,
    # capabilities.mock_models(); target_models() below says which applies)
    target_models: dict[str, str]
    # the seed document, and its support table's rows (their own words) -> our docs page's rows
    seed: str = ""
    seed_rows: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # docs rows where the suite, on purpose, disagrees with the vendor's page (it says Broken), and why
    disagreements: dict[str, str] = field(default_factory=dict)


def probing_absent(**models: str) -> dict[str, str]:
    """Target models, with the chat model standing in for the capabilities the vendor lacks: those
    endpoints are still probed, so the page can say "No" (the route answers 404 whatever the model)."""
    return {c.name: models["chat"] for c in CAPABILITIES if c.probed_when_absent} | models


def target_models(profile: Profile | None) -> dict[str, str]:
    """Capability -> model for a run against the mock with this profile (None: the mock's own models)."""
    return dict(profile.target_models if profile and profile.target_models else mock_models())


ENDPOINTS_ABSENT = (
    "endpoint.responses_absent",
    "endpoint.completions_absent",
    "endpoint.images_absent",
    "endpoint.transcriptions_absent",
    "endpoint.speech_absent",
    "endpoint.batches_absent",
    "endpoint.files_absent",
    "endpoint.fine_tuning_absent",
    "endpoint.assistants_absent",
)

# the docs page's "Responses API" rows (matrix.yaml): what a vendor's one line about /responses answers for
RESPONSES_API_ROWS = (
    "responses_api.basics",
    "responses_api.input_items",
    "responses_api.instructions",
    "responses_api.temperature",
    "responses_api.top_p",
    "responses_api.max_output_tokens",
    "responses_api.metadata",
    "responses_api.images",
    "responses_api.streaming",
    "responses_api.tools",
    "responses_api.tools_streaming",
    "responses_api.tool_round_trip",
    "responses_api.previous_response_id",
    "responses_api.stored",
    "responses_api.store_false",
    "responses_api.text_format",
    "responses_api.errors",
    "responses_api.stream_errors",
)
RESPONSES_STORED_ROWS = ("responses_api.stored", "responses_api.store_false", "responses_api.previous_response_id")

SCAIGRID = Profile(
    id="scaigrid",
    vendor="ScaiGrid",
    source=SCAIGRID_PAGE,
    models=(
        MockModel("scailabs/poolnoodle-omni", "chat"),
        MockModel("openai/gpt-4o", "chat"),
        MockModel("scailabs/embed-multilingual", "embeddings"),  # ours: the seed names no embedding model
        MockModel("openai/gpt-image-1", "images"),  # ours
        MockModel("openai/whisper-1", "transcription"),  # ours
        MockModel("openai/tts-1", "speech"),  # ours
    ),
    quirks=(
        "models.extension_fields",
        "stream.error_event_frame",
        "headers.request_id_renamed",
        # not in the compat layer: "via ScaiMind / ScaiDrive / ScaiCore"
        "endpoint.fine_tuning_absent",
        "endpoint.files_absent",
        "endpoint.assistants_absent",
        "endpoint.completions_absent",  # the seed's table has no /completions row
    ),
    target_models={
        "chat": "scailabs/poolnoodle-omni",
        "tools": "scailabs/poolnoodle-omni",
        "vision": "scailabs/poolnoodle-omni",
        "embeddings": "scailabs/embed-multilingual",
        "images": "openai/gpt-image-1",
        "transcription": "openai/whisper-1",
        "speech": "openai/tts-1",
    },
    seed="000_26d320fd6ce84d13.txt",
    seed_rows={
        "`POST /chat/completions`": ("endpoint.chat_completions",),
        "`GET /models`": ("endpoint.models",),
        "`GET /models/{id}`": ("endpoint.models_retrieve",),
        "`POST /embeddings`": ("endpoint.embeddings",),
        "`POST /images/generations`": ("endpoint.images",),
        "`POST /audio/transcriptions`": ("endpoint.audio_transcriptions",),
        "`POST /audio/speech`": ("endpoint.audio_speech",),
        "`POST /batches`": ("endpoint.batches",),
        "`GET /batches/{id}`": ("endpoint.batches",),
        "`POST /batches/{id}/cancel`": ("endpoint.batches",),
        "`POST /responses`": ("endpoint.responses", *RESPONSES_API_ROWS),
        "`GET /responses/{id}`": ("endpoint.responses", *RESPONSES_STORED_ROWS),
        "`POST /fine-tuning/jobs`": ("endpoint.fine_tuning",),
        "`POST /files`": ("endpoint.files",),
        "`POST /assistants`": ("endpoint.assistants",),
    },
    disagreements={
        "headers.request_id": "the id travels as x-scaigrid-request-id, so the SDK's request_id is None",
        "streaming.errors": "an `event: error` frame is ignored by openai-python: the user sees a short answer, "
        "no error",
    },
)

THEGRID = Profile(
    id="thegrid",
    vendor="The Grid",
    source=THE_GRID_PAGE,
    models=tuple(
        MockModel(f"{kind}-{tier}", "chat")
        for kind in ("text", "code", "agent")
        for tier in ("standard", "prime", "max")
    ),
    quirks=(*ENDPOINTS_ABSENT, "endpoint.embeddings_absent", "path.trailing_slash_redirect"),
    target_models=probing_absent(chat="text-prime", tools="agent-prime"),
    seed="001_1badc60d5130d121.txt",
    seed_rows={
        "Streaming (server-sent events)": ("request.streaming",),
        "Function and tool calling": ("request.tools",),
        "Structured outputs (JSON mode and JSON schema)": (
            "request.response_format_json_object",
            "request.response_format_json_schema",
        ),
        "System, user, and assistant messages": ("request.messages",),
        "Multi-turn conversations": ("request.messages",),
        "`max_tokens`, `temperature`, `top_p`, `stop`, and standard generation parameters": (
            "request.basics",
            "request.max_tokens",
            "request.temperature",
            "request.top_p",
            "request.stop",
            "request.seed",
        ),
        # every row but image input, which needs a vision model the vendor does not list (Not tested)
        "The Responses API (`/v1/responses`) and any tool built on it (Codex and similar)": (
            "endpoint.responses",
            *(row for row in RESPONSES_API_ROWS if row != "responses_api.images"),
        ),
        "The Assistants API and Threads": ("endpoint.assistants",),
        "File uploads and retrieval": ("endpoint.files",),
        "Image generation (DALL-E)": ("endpoint.images",),
        "Audio (Whisper, TTS)": ("endpoint.audio_transcriptions", "endpoint.audio_speech"),
        "Embeddings": ("endpoint.embeddings",),
        "Fine-tuning": ("endpoint.fine_tuning",),
        "Batch API": ("endpoint.batches",),
    },
)

FLEXAI = Profile(
    id="flexai",
    vendor="FlexAI",
    source=FLEXAI_PAGE,
    models=(
        MockModel("flexai/llama-3.3-70b-instruct", "chat"),  # ours: the seed names no chat model
        MockModel("BAAI/bge-m3", "embeddings"),
    ),
    quirks=(
        "params.n_rejected",
        "params.logprobs_rejected",
        "params.system_fingerprint_missing",
        "so.json_schema_falls_back",
        "usage.cache_fields_extension",
        "error.doc_url_extension",
        # every endpoint the gateway lacks: all but legacy completions, which its table lists
        *(quirk for quirk in ENDPOINTS_ABSENT if quirk != "endpoint.completions_absent"),
    ),
    target_models=probing_absent(
        chat="flexai/llama-3.3-70b-instruct",
        tools="flexai/llama-3.3-70b-instruct",
        vision="flexai/llama-3.3-70b-instruct",
        embeddings="BAAI/bge-m3",
    ),
    seed="004_7f27e0b554abc71e.txt",
    seed_rows={
        "POST /v1/chat/completions": ("endpoint.chat_completions",),
        "POST /v1/completions": ("endpoint.completions",),
        "GET /v1/models": ("endpoint.models",),
        "POST /v1/embeddings": ("endpoint.embeddings",),
        "POST /v1/fine-tuning": ("endpoint.fine_tuning",),
        "POST /v1/assistants, /v1/threads, /v1/runs": ("endpoint.assistants",),
        "POST /v1/batches": ("endpoint.batches",),
        "GET /v1/files, /v1/files/*": ("endpoint.files",),
        "model, messages, temperature, top_p, max_tokens, stop, seed, user": (
            "request.basics",
            "request.temperature",
            "request.top_p",
            "request.max_tokens",
            "request.stop",
            "request.seed",
            "request.identifiers",
        ),
        "stream, stream_options.include_usage": ("request.streaming", "request.stream_usage"),
        "tools, tool_choice": ("request.tools",),
        'response_format: { type: "json_object" }': ("request.response_format_json_object",),
        'response_format: { type: "json_schema", ... }': ("request.response_format_json_schema",),
        "logprobs, top_logprobs": ("request.logprobs",),
        "n (multiple completions per request)": ("request.n",),
        "presence_penalty, frequency_penalty": ("request.penalties",),
        "id, created, model, choices, usage": ("response.basics",),
        "usage.cache_read_input_tokens, usage.cache_creation_input_tokens": ("response.usage_extensions",),
        "system_fingerprint": ("response.system_fingerprint",),
    },
    disagreements={
        "request.response_format_json_schema": "falling back to json_object ignores the schema the caller asked "
        "for: parse() fails on the result",
    },
)

# Not a vendor: what openai-python's generated API tests assume of the server they run against (Prism
# serving the published spec): embeddings as the spec's float arrays (openai/openai-openapi#424; the
# SDK's strict mode rejects the live API's base64 string before decoding it), and requests checked
# against the spec's types only. scripts/sdk_api_tests.py runs those tests against the mock with it.
SDK_TESTS = Profile(
    id="sdk-tests",
    vendor="openai-python's generated tests",
    source="openai-python tests/api_resources (run upstream against Prism)",
    models=(),
    quirks=("emb.base64_ignored", "spec.lenient_requests", "spec.lenient_responses", "spec.lenient_audio"),
    target_models={},
)

# Not a vendor: a server that is exact on everything it controls, in front of a small real chat model
# that is not (verbose, sampling, leaving out arguments, answering in text under "auto"; the rows of
# mock/quirks/model_behaviour.py). The suite must give it no nonconformant verdict, whatever the mock's
# seed (`conformance run --mock-profile chatty --mock-seed N`); tests/test_chatty_profile.py runs five.
CHATTY = Profile(
    id="chatty",
    vendor="a chatty small model",
    source="the reference mock sampling like a real small chat model (conformance/mock/quirks/model_behaviour.py)",
    models=(),
    quirks=CHATTY_MODEL,
    target_models={},
)

PROFILES: dict[str, Profile] = {p.id: p for p in (SCAIGRID, THEGRID, FLEXAI, SDK_TESTS, CHATTY)}
# the profiles of documented vendors (their seed tables are what the docs pages reproduce)
VENDOR_PROFILES: dict[str, Profile] = {p.id: p for p in PROFILES.values() if p.seed}


class UnknownProfile(KeyError):
    pass


def resolve_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise UnknownProfile(f"unknown mock profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name]

"""What a target can configure a model for: the one table every part of the project reads.

A *capability* is what a feature needs a model for (``needs: [embeddings]`` in matrix.yaml). The
command line (``--embedding-model``), the pytest plugin (``--conformance-embedding-model``), the
target file (``models: {embeddings: ...}``), the reference mock (its models and its "not an
embeddings model" answer), the vendor profiles and the catalog's schema all read this table, and
``tests/test_capabilities.py`` checks that they agree. Depends on nothing in the project.

Adding a model kind (say, moderations) is one row here; ARCHITECTURE.md lists the rest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capability:
    name: str  # as features and target files spell it: "embeddings"
    option: str  # the command-line option without dashes: "embedding-model" (--conformance-embedding-model)
    help: str
    # the kind of model that serves it: a model listed by the mock (or a profile) has one kind, and
    # several capabilities may share it (tools, vision and the rate-limit probe all use chat models)
    kind: str
    noun: str  # "an embeddings model": the mock's words when a request names a model of another kind
    mock_model: str  # the embedded mock's model for it
    # used when no model is configured: most chat models call tools, and one that cannot declines
    # honestly; without a fallback the capability's features are skipped
    falls_back_to: str | None = None
    # vendor profiles without this kind still probe its endpoint (with the chat model), so that the
    # docs page can say "No" from a real 404 rather than "Not tested"
    probed_when_absent: bool = False


CAPABILITIES: tuple[Capability, ...] = (
    Capability("chat", "model", "the chat model to test", "chat", "a chat model", "mock-chat"),
    Capability(
        "embeddings",
        "embedding-model",
        "the embeddings model (embeddings features are skipped without)",
        "embeddings",
        "an embeddings model",
        "mock-embed",
        probed_when_absent=True,
    ),
    Capability(
        "tools",
        "tools-model",
        "the model for tool calling (default: the chat model)",
        "chat",
        "a chat model",
        "mock-chat",
        falls_back_to="chat",
    ),
    Capability(
        "vision",
        "vision-model",
        "a model that accepts images (image features are skipped without)",
        "chat",
        "a chat model",
        "mock-chat",
    ),
    Capability(
        "rate_limited",
        "rate-limited-model",
        "a model that always answers 429, to judge rate-limit answers",
        "chat",
        "a chat model",
        "mock-ratelimited",
    ),
    Capability(
        "images",
        "image-model",
        "an image-generation model (images features are skipped without)",
        "images",
        "an image generation model",
        "mock-image",
        probed_when_absent=True,
    ),
    Capability(
        "transcription",
        "transcription-model",
        "a speech-to-text model (transcription is skipped without)",
        "transcription",
        "a transcription model",
        "mock-transcribe",
        probed_when_absent=True,
    ),
    Capability(
        "speech",
        "speech-model",
        "a text-to-speech model (speech is skipped without)",
        "speech",
        "a text-to-speech model",
        "mock-speech",
        probed_when_absent=True,
    ),
    Capability(
        "moderation",
        "moderation-model",
        "a moderation model (moderations are skipped without)",
        "moderation",
        "a moderation model",
        "mock-moderation",
        probed_when_absent=True,
    ),
)

BY_NAME: dict[str, Capability] = {capability.name: capability for capability in CAPABILITIES}
NAMES: tuple[str, ...] = tuple(BY_NAME)
# the kinds of model a server lists (a mock model has exactly one), in table order
KINDS: tuple[str, ...] = tuple(dict.fromkeys(capability.kind for capability in CAPABILITIES))


def noun_for(kind: str) -> str:
    """How the mock names a kind of model in an error message ("an embeddings model")."""
    return next(capability.noun for capability in CAPABILITIES if capability.kind == kind)


def mock_models() -> dict[str, str]:
    """Capability -> the embedded mock's model for it: what a run against the mock configures."""
    return {capability.name: capability.mock_model for capability in CAPABILITIES}

"""`conformance sdk diff` attributes a method to features by the types it touches, not by its name alone.

Every resource has a ``create()``, a ``list()``, a ``retrieve()``: a feature whose text says
``client.chat.completions.create(stream=True)`` is no reason to say that ``audio.voice_consents.create``
touches it. A mention counts when it is qualified with the method's own resource, or when it is bare
(``parse()``) and the feature exercises a type of the method's resource. Checked on the shipped surfaces.
"""

from __future__ import annotations

import json

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.sdk.surface.diff import diff_surfaces, resource_types
from conformance.sdk.surface.model import Surface


@pytest.fixture(scope="module")
def changes() -> dict[str, list[str]]:
    diff = diff_surfaces(Surface.load("1.109.1"), Surface.load("3.54.0"), load_catalog())
    return {c.where: c.features for c in diff.changes if c.kind.startswith("method")}


def test_a_new_method_is_not_attributed_to_a_feature_that_only_shares_its_name(changes: dict[str, list[str]]) -> None:
    # the regression: chat.stream.sdk_iteration names client.chat.completions.create(stream=True)
    assert changes["audio.voice_consents.create"] == []
    assert changes["audio.voices.create"] == []
    assert changes["audio.voice_consents.list"] == []  # not models.list: that one names client.models.list()
    assert changes["audio.voice_consents.retrieve"] == []
    assert changes["beta.agents.sessions.events.stream"] == []  # not the chat stream helper's features
    # responses.parse returns a ParsedResponse: the chat parse() features exercise ChatCompletion, and only
    # the feature that calls client.responses.parse() is touched
    assert changes["responses.parse"] == ["responses.text.json_schema"]
    for name, features in changes.items():
        if name.startswith("admin."):
            assert features == [], name


def test_the_methods_the_features_do_exercise_keep_them(changes: dict[str, list[str]]) -> None:
    # bare "parse()" in their text, and ChatCompletion (a type of chat.completions) in their fields
    assert changes["chat.completions.parse"] == ["chat.max_tokens.length", "chat.parse", "chat.tools.strict"]
    # the deprecated alias resource defines no types of its own: openai.types.chat is its package
    assert changes["beta.chat.completions.parse"] == ["chat.max_tokens.length", "chat.parse", "chat.tools.strict"]


def test_a_resource_owns_the_types_of_its_package_and_its_name() -> None:
    surface = Surface.load("3.54.0")
    consents = resource_types(surface, "audio.voice_consents")
    assert "openai.types.audio.voice_consent.VoiceConsent" in consents
    assert "openai.types.audio.voice_consent_create_params.VoiceConsentCreateParams" in consents
    assert not any(".chat." in key for key in consents)
    chat = resource_types(surface, "chat.completions")
    assert "openai.types.chat.chat_completion_chunk.ChatCompletionChunk" in chat
    assert "openai.types.chat.parsed_chat_completion.ParsedChatCompletion" in chat
    assert "openai.types.completion.Completion" not in chat  # the legacy endpoint's, another package
    assert resource_types(surface, "beta.chat.completions") == chat
    assert "openai.types.model.Model" in resource_types(surface, "models")


def test_the_command_says_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sdk", "diff", "1.109.1", "3.54.0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_place = {c["where"]: c for c in report["changes"] if c["kind"] == "method added"}
    assert by_place["audio.voice_consents.create"]["features"] == []
    assert by_place["audio.voice_consents.create"]["in_scope"] is True  # now listed as covered by no feature

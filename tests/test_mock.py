"""The reference mock on its own: faithful, deterministic, exact in its errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from conformance.capabilities import KINDS, noun_for
from conformance.mock.handlers.audio import wav
from conformance.mock.served import DEFAULT_MODELS, MockModel
from conformance.mock.server import MockServer


@pytest.fixture
def client(mock_server: MockServer) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=mock_server.base_url, api_key=mock_server.api_key, max_retries=0, _strict_response_validation=True
    )


@pytest.fixture
def raw(mock_server: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mock_server.base_url + "/", headers={"authorization": f"Bearer {mock_server.api_key}"}, timeout=10
    )


MESSAGES = [{"role": "user", "content": "Say something."}]


def test_same_request_same_content_streamed_or_not(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="mock-chat", messages=MESSAGES, seed=1)
    second = client.chat.completions.create(model="mock-chat", messages=MESSAGES, seed=1)
    streamed = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(model="mock-chat", messages=MESSAGES, seed=1, stream=True)
        if c.choices
    )
    assert first.choices[0].message.content == second.choices[0].message.content == streamed
    other = client.chat.completions.create(model="mock-chat", messages=MESSAGES, seed=2)
    assert other.choices[0].message.content != first.choices[0].message.content


def test_limits_stop_sequences_and_n(client: openai.OpenAI) -> None:
    full = client.chat.completions.create(model="mock-chat", messages=MESSAGES).choices[0].message.content or ""
    cut = client.chat.completions.create(model="mock-chat", messages=MESSAGES, max_tokens=3)
    assert cut.choices[0].finish_reason == "length" and cut.usage and cut.usage.completion_tokens == 3
    stop_word = full.split()[3]
    stopped = client.chat.completions.create(model="mock-chat", messages=MESSAGES, stop=[" " + stop_word])
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.choices[0].message.content == full[: full.index(" " + stop_word)]
    two = client.chat.completions.create(model="mock-chat", messages=MESSAGES, n=2)
    assert [c.index for c in two.choices] == [0, 1]
    assert two.choices[0].message.content != two.choices[1].message.content


@pytest.mark.parametrize(
    "body, status, param, code",
    [
        ({"model": "mock-chat"}, 400, "messages", "missing_required_parameter"),
        ({"model": "mock-chat", "messages": []}, 400, "messages", "empty_array"),
        ({"model": "mock-chat", "messages": MESSAGES, "temperature": 3}, 400, "temperature", "decimal_above_max_value"),
        ({"model": "mock-chat", "messages": MESSAGES, "n": 0}, 400, "n", "integer_below_min_value"),
        ({"model": "mock-chat", "messages": MESSAGES, "n": True}, 400, "n", "invalid_type"),
        (
            {"model": "mock-chat", "messages": MESSAGES, "stop": ["a", "b", "c", "d", "e"]},
            400,
            "stop",
            "array_above_max_length",
        ),
        (
            {"model": "mock-chat", "messages": [{"role": "robot", "content": "x"}]},
            400,
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "mock-chat", "messages": MESSAGES, "stream_options": {"include_usage": True}},
            400,
            "stream_options",
            "invalid_value",
        ),
        ({"model": "mock-chat", "messages": MESSAGES, "bogus": 1}, 400, "bogus", "unknown_parameter"),
        ({"model": "nope", "messages": MESSAGES}, 404, None, "model_not_found"),
        ({"model": "mock-embed", "messages": MESSAGES}, 400, "model", "model_not_supported"),
    ],
)
def test_rejections_use_the_exact_envelope(
    raw: httpx.Client, body: dict, status: int, param: str | None, code: str
) -> None:
    answer = raw.post("chat/completions", json=body)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["param"], error["code"]) == (param, code)
    assert answer.headers["x-request-id"].startswith("req_")


# kind -> a well-formed request to that kind's endpoint naming `model`: (path, httpx.post keyword arguments)
KIND_REQUESTS: dict[str, Callable[[str], tuple[str, dict[str, Any]]]] = {
    "chat": lambda model: ("chat/completions", {"json": {"model": model, "messages": MESSAGES}}),
    "embeddings": lambda model: ("embeddings", {"json": {"model": model, "input": "hello"}}),
    "images": lambda model: ("images/generations", {"json": {"model": model, "prompt": "a red square"}}),
    "transcription": lambda model: (
        "audio/transcriptions",
        {"data": {"model": model}, "files": {"file": ("tone.wav", wav(0.1), "audio/wav")}},
    ),
    "speech": lambda model: (
        "audio/speech",
        {"json": {"model": model, "input": "hello", "voice": "alloy", "response_format": "wav"}},
    ),
    "moderation": lambda model: ("moderations", {"json": {"model": model, "input": "hello"}}),
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_model_of_another_kind_is_refused_in_that_endpoints_words(raw: httpx.Client, kind: str) -> None:
    """Every endpoint names the kind it needed: speech with the embeddings model is "not a text-to-speech model"."""
    others = [model.id for model in DEFAULT_MODELS if model.kind != kind]
    assert others, "the default models include other kinds to try"
    for other in others:
        path, request = KIND_REQUESTS[kind](other)
        answer = raw.post(path, **request)
        assert answer.status_code == 400, (kind, other, answer.text)
        error = answer.json()["error"]
        assert (error["param"], error["code"]) == ("model", "model_not_supported"), (kind, other)
        assert error["message"] == f"The model `{other}` is not {noun_for(kind)}.", (kind, other)
        if kind == "speech":  # the bug this pins: speech said "is not an embeddings model"
            assert error["message"].endswith("is not a text-to-speech model."), other


def test_each_kind_endpoint_serves_its_own_model(raw: httpx.Client) -> None:
    """The requests above are well formed: with a model of the endpoint's kind each is answered 200."""
    for model in DEFAULT_MODELS:
        if model.rate_limited:
            continue
        path, request = KIND_REQUESTS[model.kind](model.id)
        answer = raw.post(path, **request)
        assert answer.status_code == 200, (model.id, answer.text)


def test_routes_methods_auth_and_slash_ids(mock_server: MockServer, raw: httpx.Client, client: openai.OpenAI) -> None:
    assert raw.get("nowhere").status_code == 404
    wrong = raw.put("chat/completions")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST"  # GET lists stored completions
    assert httpx.get(f"{mock_server.base_url}/models", timeout=5).status_code == 401
    assert (
        httpx.get(
            f"{mock_server.base_url}/models", headers={"authorization": mock_server.api_key}, timeout=5
        ).status_code
        == 401
    )  # no Bearer prefix
    # the 3.x SDK percent-encodes the slash; the mock resolves it
    assert client.models.retrieve("mock-org/mock-chat").id == "mock-org/mock-chat"
    assert raw.post("chat/completions", content=b"x" * (9 * 1024 * 1024)).status_code == 413


def test_embeddings_formats_dimensions_and_token_input(client: openai.OpenAI, raw: httpx.Client) -> None:
    floats = client.embeddings.create(model="mock-embed", input="hello", encoding_format="float")
    # The SDK asks for base64 by default. Its strict mode validates before decoding and so rejects the
    # base64 string itself (an SDK limitation, docs/sdk-facts.md#strict-validation): the default call is judged
    # in lax mode.
    lax = openai.OpenAI(base_url=str(client.base_url), api_key=client.api_key, max_retries=0)
    default = lax.embeddings.create(model="mock-embed", input="hello")
    assert default.data[0].embedding == pytest.approx(floats.data[0].embedding, abs=1e-6)
    assert len(lax.embeddings.create(model="mock-embed", input="hello", dimensions=8).data[0].embedding) == 8
    tokens = raw.post("embeddings", json={"model": "mock-embed", "input": [[1, 2, 3], [4, 5]]}).json()
    assert [item["index"] for item in tokens["data"]] == [0, 1]
    assert (
        raw.post("embeddings", json={"model": "mock-embed", "input": "x", "dimensions": 4096}).json()["error"]["param"]
        == "dimensions"
    )


def test_stored_completions_and_model_deletion(mock_server: MockServer, client: openai.OpenAI) -> None:
    created = client.chat.completions.create(
        model="mock-chat", messages=[{"role": "user", "content": "hi"}], store=True, metadata={"run": "a"}, max_tokens=8
    )
    client.chat.completions.create(model="mock-chat", messages=[{"role": "user", "content": "unstored"}], max_tokens=8)
    assert client.chat.completions.retrieve(created.id).id == created.id
    assert [c.id for c in client.chat.completions.list(metadata={"run": "a"})] == [created.id]
    assert client.chat.completions.list(metadata={"run": "b"}).data == []
    # the live API lists the input messages (role "user" here); the SDK's strict type only admits
    # "assistant" (generated from the spec), so this one call is read laxly
    lax = openai.OpenAI(base_url=mock_server.base_url, api_key=mock_server.api_key, max_retries=0)
    messages = lax.chat.completions.messages.list(created.id).data
    assert [(m.role, m.content) for m in messages] == [("user", "hi")]
    assert client.chat.completions.update(created.id, metadata={"run": "b"}).metadata == {"run": "b"}
    assert client.chat.completions.delete(created.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.retrieve(created.id)
    with pytest.raises(openai.PermissionDeniedError):
        client.models.delete("mock-chat")  # not a model the caller owns
    mock_server.app.models["ft:mock-chat:org:x"] = MockModel("ft:mock-chat:org:x", "chat", deletable=True)
    assert client.models.delete("ft:mock-chat:org:x").deleted is True
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("ft:mock-chat:org:x")


def test_legacy_completions_stream(mock_server: MockServer, client: openai.OpenAI) -> None:
    # lax: the SDK types a legacy chunk's finish_reason as required, though OpenAI streams null until the end
    lax = openai.OpenAI(base_url=mock_server.base_url, api_key=mock_server.api_key, max_retries=0)
    streamed = list(lax.completions.create(model="mock-chat", prompt="hi", max_tokens=5, stream=True))
    whole = client.completions.create(model="mock-chat", prompt="hi", max_tokens=5)
    assert "".join(c.choices[0].text for c in streamed if c.choices) == whole.choices[0].text
    assert streamed[-1].choices[0].finish_reason == whole.choices[0].finish_reason

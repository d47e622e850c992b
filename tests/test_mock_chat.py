"""The reference mock's chat surface: tools, structured outputs, logprobs, images, validation."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jsonschema
import pytest

from conformance.checks._common import fixture_bytes, fixture_json
from conformance.mock.content import VOCABULARY
from conformance.mock.server import MockServer
from conformance.sse import parse_sse

WEATHER = fixture_json("tools/get_weather.json")
TIME = fixture_json("tools/get_time.json")
SCHEMA = fixture_json("schemas/colour_pick.json")
ASK = [{"role": "user", "content": "What is the weather in Paris? Reply in json if asked."}]


@pytest.fixture
def post(mock_server: MockServer):  # type: ignore[no-untyped-def]
    client = httpx.Client(
        base_url=mock_server.base_url + "/", headers={"authorization": f"Bearer {mock_server.api_key}"}, timeout=10
    )

    def send(**body: Any) -> httpx.Response:
        return client.post("chat/completions", json={"model": "mock-chat", "messages": ASK, **body})

    return send


def message(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]


def test_forced_calls_carry_schema_valid_arguments(post) -> None:  # type: ignore[no-untyped-def]
    answer = post(tools=[WEATHER], tool_choice="required").json()
    call = answer["choices"][0]["message"]["tool_calls"][0]
    assert answer["choices"][0]["finish_reason"] == "tool_calls"
    assert answer["choices"][0]["message"]["content"] is None
    assert call["type"] == "function" and call["id"].startswith("call_")
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER["function"]["parameters"])


def test_tool_choice_forms(post) -> None:  # type: ignore[no-untyped-def]
    named = post(tools=[WEATHER, TIME], tool_choice={"type": "function", "function": {"name": "get_time"}}).json()
    assert [c["function"]["name"] for c in named["choices"][0]["message"]["tool_calls"]] == ["get_time"]
    assert named["choices"][0]["finish_reason"] == "stop"  # what OpenAI answers for a named function
    assert "tool_calls" not in message(post(tools=[WEATHER], tool_choice="none"))
    assert len(message(post(tools=[WEATHER, TIME], tool_choice="required"))["tool_calls"]) == 2
    assert (
        len(message(post(tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=False))["tool_calls"]) == 1
    )


@pytest.mark.parametrize(
    "body, param",
    [
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
        ({"parallel_tool_calls": True}, "parallel_tool_calls"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
        (
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": "loose",
                            "strict": True,
                            "parameters": {"type": "object", "properties": {"a": {}}},
                        },
                    }
                ]
            },
            "tools[0].function.parameters",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "x",
                        "strict": True,
                        "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    },
                }
            },
            "response_format",
        ),
        (
            {"messages": [{"role": "user", "content": "no j-word here"}], "response_format": {"type": "json_object"}},
            "messages",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {
                                    "url": "data:image/png;base64," + base64.b64encode(b"not a png").decode()
                                },
                            }
                        ],
                    }
                ]
            },
            "messages[0].content[0].image_url.url",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "tool", "tool_call_id": "call_1", "content": "{}"},
                ]
            },
            "messages[1].role",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                        ],
                    },
                    {"role": "user", "content": "and?"},
                ]
            },
            "messages",
        ),
    ],
)
def test_structural_rejections_name_the_field(post, body: dict[str, Any], param: str) -> None:  # type: ignore[no-untyped-def]
    answer = post(**body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param


def test_structured_outputs(post) -> None:  # type: ignore[no-untyped-def]
    content = message(post(response_format={"type": "json_object"}))["content"]
    assert isinstance(json.loads(content), dict)
    fmt = {"type": "json_schema", "json_schema": {"name": "colour_pick", "schema": SCHEMA, "strict": True}}
    jsonschema.validate(json.loads(message(post(response_format=fmt))["content"]), SCHEMA)
    # streamed JSON is the same JSON
    streamed = post(response_format=fmt, stream=True)
    text = "".join(
        c["choices"][0]["delta"].get("content") or ""
        for _, c in parse_sse(streamed.content).json_chunks()
        if c["choices"]
    )
    assert json.loads(text) == json.loads(message(post(response_format=fmt))["content"])


def test_logprobs_and_logit_bias(post) -> None:  # type: ignore[no-untyped-def]
    answer = post(logprobs=True, top_logprobs=3).json()["choices"][0]
    entries = answer["logprobs"]["content"]
    assert "".join(e["token"] for e in entries) == answer["message"]["content"]
    assert all(len(e["top_logprobs"]) == 3 and e["logprob"] <= 0 for e in entries)
    plain = message(post(seed=5))["content"].lower()
    banned_word = plain.split()[1].strip(".")
    biased = message(post(seed=5, logit_bias={str(VOCABULARY.index(banned_word)): -100}))["content"].lower()
    assert banned_word not in biased.replace(".", "").split()


def test_streamed_tool_calls_open_with_id_and_name(post) -> None:  # type: ignore[no-untyped-def]
    stream = post(tools=[WEATHER, TIME], tool_choice="required", stream=True)
    deltas = [
        d
        for _, c in parse_sse(stream.content).json_chunks()
        for ch in c["choices"]
        for d in ch["delta"].get("tool_calls") or ()
    ]
    opening = [d for d in deltas if "id" in d]
    assert [d["index"] for d in opening] == [0, 1]
    assert all(d["function"]["name"] and d["type"] == "function" for d in opening)
    assert all(isinstance(d["index"], int) for d in deltas)
    for index in (0, 1):
        json.loads("".join(d["function"]["arguments"] for d in deltas if d["index"] == index))


def test_images_and_the_agent_loop(post) -> None:  # type: ignore[no-untyped-def]
    png = base64.b64encode(fixture_bytes("images/red-square.png")).decode()
    parts = [
        {"type": "text", "text": "Colour?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
    ]
    assert message(post(messages=[{"role": "user", "content": parts}]))["content"]
    first = message(post(tools=[WEATHER], tool_choice="required"))
    history = [*ASK, first] + [{"role": "tool", "tool_call_id": c["id"], "content": "{}"} for c in first["tool_calls"]]
    final = post(messages=history, tools=[WEATHER], tool_choice="auto").json()["choices"][0]
    assert final["finish_reason"] == "stop" and final["message"]["content"]


# --- a sampling model: the chatty profile (mock/quirks/model_behaviour.py) -------------------------


def _client(server: MockServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url + "/", headers={"authorization": f"Bearer {server.api_key}"})


@pytest.fixture
def chatty():  # type: ignore[no-untyped-def]
    with MockServer(profile="chatty", seed=11) as server, _client(server) as client:

        def send(**body: Any) -> dict[str, Any]:
            answer = client.post("chat/completions", json={"model": "mock-chat", "messages": ASK, **body})
            assert answer.status_code == 200, answer.text
            if body.get("stream"):
                chunks = [c for _, c in parse_sse(answer.content).json_chunks() if c["choices"]]
                return {"content": "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)}
            return answer.json()["choices"][0] | {"usage": answer.json()["usage"]}

        yield send


def test_a_sampling_model_is_deterministic_only_when_asked(chatty) -> None:  # type: ignore[no-untyped-def]
    for pinned in ({"seed": 7}, {"temperature": 0}, {"seed": 7, "temperature": 1.2}):
        first = chatty(**pinned)["message"]["content"]
        assert chatty(**pinned)["message"]["content"] == first, pinned
        assert chatty(**pinned, stream=True)["content"] == first, pinned  # streamed or not
    sampled = {chatty()["message"]["content"] for _ in range(4)}
    assert len(sampled) == 4  # identical requests, four replies
    assert chatty(stream=True)["content"] not in sampled


def test_a_sampling_model_is_reproducible_from_the_mock_seed() -> None:
    def replies(seed: int) -> list[str]:
        with MockServer(profile="chatty", seed=seed) as server, _client(server) as client:
            return [
                client.post("chat/completions", json={"model": "mock-chat", "messages": ASK}).json()["choices"][0][
                    "message"
                ]["content"]
                for _ in range(3)
            ]

    assert replies(3) == replies(3)
    assert replies(3) != replies(4)


def test_a_verbose_reply_cut_by_the_limit_says_so(chatty) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6):  # two to five sentences of 8 to 15 words: none fits in 12 tokens
        choice = chatty(max_tokens=12)
        assert choice["finish_reason"] == "length"
        assert choice["usage"]["completion_tokens"] == 12 and choice["message"]["content"]
    assert all(chatty(max_tokens=200)["finish_reason"] == "stop" for _ in range(5))


def test_the_model_chooses_only_what_the_server_leaves_it(chatty) -> None:  # type: ignore[no-untyped-def]
    parameters = WEATHER["function"]["parameters"]
    strict_tool = {"type": "function", "function": {**WEATHER["function"], "strict": True}}
    forced = [chatty(tools=[WEATHER], tool_choice="required") for _ in range(24)]
    assert all(c["finish_reason"] == "tool_calls" and c["message"]["tool_calls"] for c in forced)
    arguments = [json.loads(c["message"]["tool_calls"][0]["function"]["arguments"]) for c in forced]
    # a non-strict call is the model's best effort: now and then a required argument is missing ...
    assert any(set(a) < set(parameters["required"]) for a in arguments)
    assert any(set(a) == set(parameters["required"]) for a in arguments)
    # ... a strict one never
    for _ in range(12):
        call = chatty(tools=[strict_tool], tool_choice="required")["message"]["tool_calls"][0]
        jsonschema.validate(json.loads(call["function"]["arguments"]), parameters)
    # under "auto" the model calls or answers in text; under "none" it never calls
    auto = [chatty(tools=[WEATHER], tool_choice="auto")["message"] for _ in range(16)]
    assert any(m.get("tool_calls") for m in auto) and any(not m.get("tool_calls") and m["content"] for m in auto)
    assert not any(chatty(tools=[WEATHER], tool_choice="none")["message"].get("tool_calls") for _ in range(5))
    assert all(
        len(chatty(tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=False)["message"]["tool_calls"])
        == 1
        for _ in range(5)
    )
    # structured outputs: json_object is JSON of the model's shape, a strict schema always holds
    fmt = {"type": "json_schema", "json_schema": {"name": "colour_pick", "schema": SCHEMA, "strict": True}}
    values = [json.loads(chatty(response_format=fmt)["message"]["content"]) for _ in range(8)]
    for value in values:
        jsonschema.validate(value, SCHEMA)
    assert len({json.dumps(v) for v in values}) > 1
    assert all(
        isinstance(json.loads(chatty(response_format={"type": "json_object"})["message"]["content"]), dict)
        for _ in range(8)
    )


def test_the_reference_mock_does_not_sample(post) -> None:  # type: ignore[no-untyped-def]
    # no model-behaviour quirk: the same request gets the same answer, the mock's seed changes nothing
    assert message(post())["content"] == message(post())["content"]
    with MockServer(seed=99) as other:
        answer = httpx.post(
            other.base_url + "/chat/completions",
            json={"model": "mock-chat", "messages": ASK},
            headers={"authorization": f"Bearer {other.api_key}"},
        )
    assert message(answer)["content"] == message(post())["content"]

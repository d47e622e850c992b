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

"""The reference mock's Responses API, through the pinned SDK in strict mode.

Every Response the mock answers is also judged by OpenAI's published ``Response`` schema (the strict
oracle's, ``conformance.openapi.published``), and every streamed event by the SDK's event types and,
when the published spec is beside the repository, by its ``ResponseStreamEvent`` schema. The mock is
served on a free loopback port and stopped after the module; nothing here leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pydantic
import pytest
from openai.types.responses import ResponseStreamEvent

from conformance.embedded import embedded_target
from conformance.openapi.published import operations, schema_errors
from conformance.sse import parse_sse
from conformance.target import Target
from scripts import extract_spec_schemas

RESPONSE_SCHEMA = next(op.body for op in operations() if (op.method, op.path) == ("POST", "/responses"))
assert RESPONSE_SCHEMA is not None
LIFECYCLE = ("response.created", "response.queued", "response.in_progress", "response.completed", "response.incomplete")
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME = {
    "type": "function",
    "name": "get_time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
    "strict": False,
}
# long enough that a reply to it overruns max_output_tokens: 16, the smallest OpenAI allows
PERSON = {
    "type": "object",
    "properties": {
        name: {"type": "string"} for name in ("first", "last", "city", "country", "street", "job", "pet", "colour")
    }
    | {"age": {"type": "integer", "minimum": 0, "maximum": 120}},
    "required": ["first", "last", "city", "country", "street", "job", "pet", "colour", "age"],
    "additionalProperties": False,
}
PERSON_FORMAT = {"format": {"type": "json_schema", "name": "person", "schema": PERSON, "strict": True}}


class Person(pydantic.BaseModel):
    first: str
    age: int


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with embedded_target() as served:
        yield served


@pytest.fixture(scope="module")
def model(target: Target) -> str:
    return target.models["chat"]


@pytest.fixture(scope="module")
def client(target: Target) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=target.base_url, api_key=target.api_key.reveal(), max_retries=0, _strict_response_validation=True
    )


@pytest.fixture(scope="module")
def raw(target: Target) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {target.api_key.reveal()}"}
    with httpx.Client(base_url=target.base_url + "/", headers=headers, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def spec_events() -> jsonschema.Draft202012Validator | None:
    """OpenAI's published ``ResponseStreamEvent`` schema (errata applied), or None without the spec."""
    if not extract_spec_schemas.SOURCE.exists():
        return None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(extract_spec_schemas, "OPERATIONS", (("POST", "/responses", True),))
        document = extract_spec_schemas.extract(extract_spec_schemas.load_spec(), "unpinned")
    return jsonschema.Draft202012Validator({**document["operations"][0]["stream"], "$defs": document["$defs"]})


def published(body: Any) -> dict[str, Any]:
    """``body``, after asserting OpenAI's published Response schema holds it."""
    assert schema_errors(body, RESPONSE_SCHEMA) == []
    return dict(body)


def create(client: openai.OpenAI, **params: Any) -> tuple[Any, dict[str, Any]]:
    """The SDK's Response and the JSON it was parsed from (held to the published schema)."""
    answer = client.responses.with_raw_response.create(**params)
    return answer.parse(), published(answer.http_response.json())


def error_of(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return dict(error)


def events_of(answer: httpx.Response, spec_events: jsonschema.Draft202012Validator | None) -> list[dict[str, Any]]:
    """The SSE events of a streamed answer, each checked: its ``event:`` line names its type, the SDK's
    event types validate it, the published schema holds it (a lifecycle event's Response too), the
    sequence numbers count from 0, and no ``[DONE]`` follows."""
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    stream = parse_sse(answer.content)
    events = []
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
    for sse, event in stream.json_chunks():
        assert isinstance(event, dict) and sse.event == event["type"]
        adapter.validate_python(event, strict=False)
        if spec_events is not None:
            assert [e.message for e in spec_events.iter_errors(event)] == [], event["type"]
        if event["type"] in LIFECYCLE:
            published(event["response"])
        events.append(event)
    assert b"[DONE]" not in answer.content
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def stream(raw: httpx.Client, **body: Any) -> httpx.Response:
    return raw.post("responses", json={**body, "stream": True})


# --- creating ---------------------------------------------------------------------------------------


def test_a_string_input_is_answered_with_a_whole_response(client: openai.OpenAI, model: str) -> None:
    response, body = create(client, model=model, input="Say something.", metadata={"run": "unit"}, user="u-1")
    assert response.id.startswith("resp_") and response.object == "response" and response.status == "completed"
    assert isinstance(body["created_at"], int) and body["error"] is None and body["incomplete_details"] is None
    [message] = response.output
    assert message.type == "message" and message.role == "assistant" and message.status == "completed"
    assert message.id.startswith("msg_")
    assert [part.type for part in message.content] == ["output_text"] and message.content[0].annotations == []
    assert response.output_text and response.output_text == message.content[0].text
    usage = body["usage"]
    assert usage["input_tokens_details"]["cached_tokens"] == 0
    assert usage["output_tokens_details"]["reasoning_tokens"] == 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert usage["output_tokens"] == len(response.output_text.split())
    echoed = {key: body[key] for key in ("metadata", "store", "tool_choice", "tools", "text", "user")}
    assert echoed == {
        "metadata": {"run": "unit"},
        "store": True,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "user": "u-1",
    }
    assert (body["temperature"], body["top_p"], body["parallel_tool_calls"]) == (1.0, 1.0, True)
    assert body["previous_response_id"] is None and body["instructions"] is None
    again, _ = create(client, model=model, input="Say something.")
    assert again.output_text == response.output_text and again.id != response.id  # deterministic content
    other, _ = create(client, model=model, input="Say something else.")
    assert other.output_text != response.output_text


def test_item_input_and_instructions(client: openai.OpenAI, model: str) -> None:
    items = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "input_text", "text": "Answer in English."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hello"}]},
        {"role": "assistant", "content": "Hello to you."},
        {"role": "user", "content": [{"type": "input_text", "text": "What now?"}]},
    ]
    plain, _ = create(client, model=model, input=items)
    instructed, body = create(client, model=model, input=items, instructions="Speak like a pirate.", temperature=0.5)
    assert body["instructions"] == "Speak like a pirate." and body["temperature"] == 0.5
    assert instructed.usage.input_tokens > plain.usage.input_tokens
    assert instructed.output_text != plain.output_text  # the instructions are part of what it answers
    assert client.responses.retrieve(instructed.id).output_text == instructed.output_text


def test_max_output_tokens_cuts_the_reply_and_says_so(client: openai.OpenAI, model: str) -> None:
    whole, _ = create(client, model=model, input="Describe a person.", text=PERSON_FORMAT)
    assert whole.status == "completed" and whole.usage.output_tokens > 16
    cut, body = create(client, model=model, input="Describe a person.", text=PERSON_FORMAT, max_output_tokens=16)
    assert cut.status == "incomplete" and body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert cut.output[0].status == "incomplete" and cut.usage.output_tokens == 16
    assert whole.output_text.startswith(cut.output_text) and cut.output_text != whole.output_text
    assert body["max_output_tokens"] == 16


def test_json_schema_strict_output_is_valid_json_for_the_schema(client: openai.OpenAI, model: str) -> None:
    response, body = create(client, model=model, input="Describe a person.", text=PERSON_FORMAT)
    jsonschema.validate(json.loads(response.output_text), PERSON)
    assert body["text"]["format"] == {"type": "json_schema", "name": "person", "schema": PERSON, "strict": True}
    again, _ = create(client, model=model, input="Describe a person.", text=PERSON_FORMAT)
    assert again.output_text == response.output_text
    as_object, _ = create(client, model=model, input="Answer in json.", text={"format": {"type": "json_object"}})
    assert isinstance(json.loads(as_object.output_text), dict)


def test_responses_parse_reads_a_pydantic_model(client: openai.OpenAI, model: str) -> None:
    parsed = client.responses.parse(model=model, input="Describe a person.", text_format=Person)
    assert isinstance(parsed.output_parsed, Person) and 0 <= parsed.output_parsed.age


def test_function_tools_required_and_named(client: openai.OpenAI, model: str) -> None:
    required, body = create(
        client, model=model, input="Weather and time?", tools=[WEATHER, TIME], tool_choice="required"
    )
    assert [item.type for item in required.output] == ["function_call", "function_call"]  # parallel calls
    for call, tool in zip(required.output, (WEATHER, TIME), strict=True):
        assert call.call_id.startswith("call_") and call.id.startswith("fc_") and call.name == tool["name"]
        jsonschema.validate(json.loads(call.arguments), tool["parameters"])
    assert body["tools"][0] == {**WEATHER, "strict": True} and body["tools"][1]["strict"] is False
    named, body = create(
        client, model=model, input="Time?", tools=[WEATHER, TIME], tool_choice={"type": "function", "name": "get_time"}
    )
    assert [call.name for call in named.output] == ["get_time"]
    assert body["tool_choice"] == {"type": "function", "name": "get_time"}
    one, _ = create(
        client, model=model, input="Weather?", tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=False
    )
    assert len(one.output) == 1
    none, _ = create(client, model=model, input="Weather?", tools=[WEATHER], tool_choice="none")
    assert none.output[0].type == "message"


def test_a_tool_round_trip_with_the_history_or_previous_response_id(client: openai.OpenAI, model: str) -> None:
    question = [{"role": "user", "content": "What is the weather in Paris?"}]
    asked, _ = create(client, model=model, input=question, tools=[WEATHER])
    [call] = asked.output
    assert call.type == "function_call"
    result = {"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "clear"}'}
    history = [*question, call.model_dump(exclude_none=True), result]
    full, _ = create(client, model=model, input=history, tools=[WEATHER])
    continued, body = create(client, model=model, input=[result], previous_response_id=asked.id, tools=[WEATHER])
    assert full.output[0].type == continued.output[0].type == "message"  # the tool answered: now the reply
    assert continued.output_text == full.output_text  # the same conversation, however it was sent
    assert continued.usage.input_tokens == full.usage.input_tokens
    assert body["previous_response_id"] == asked.id
    with pytest.raises(openai.BadRequestError) as missing:
        client.responses.create(model=model, input="And tomorrow?", previous_response_id=asked.id, tools=[WEATHER])
    assert missing.value.param == "input" and call.call_id in str(missing.value.message)
    orphan = {"type": "function_call_output", "call_id": "call_nowhere", "output": "x"}
    with pytest.raises(openai.BadRequestError) as stray:
        client.responses.create(model=model, input=[*question, orphan])
    assert "call_nowhere" in str(stray.value.message)


def test_an_unknown_previous_response_id_is_refused(raw: httpx.Client, model: str) -> None:
    answer = raw.post("responses", json={"model": model, "input": "Hi", "previous_response_id": "resp_nowhere"})
    error = error_of(answer, 400)
    assert (error["param"], error["code"]) == ("previous_response_id", "previous_response_not_found")


def test_store_false_is_not_kept(client: openai.OpenAI, raw: httpx.Client, model: str) -> None:
    response, body = create(client, model=model, input="Hi", store=False)
    assert body["store"] is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    error = error_of(
        raw.post("responses", json={"model": model, "input": "Hi", "previous_response_id": response.id}), 400
    )
    assert error["code"] == "previous_response_not_found"


def test_retrieve_then_delete(client: openai.OpenAI, raw: httpx.Client, model: str) -> None:
    response, body = create(client, model=model, input="Keep this.")
    assert published(raw.get(f"responses/{response.id}").json()) == body
    deleted = raw.delete(f"responses/{response.id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": response.id, "object": "response.deleted", "deleted": True}
    error_of(raw.get(f"responses/{response.id}"), 404)
    error_of(raw.delete(f"responses/{response.id}"), 404)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(response.id)


def test_input_items_are_a_cursor_page(client: openai.OpenAI, raw: httpx.Client, model: str) -> None:
    texts = ["one", "two", "three", "four", "five"]
    response, _ = create(client, model=model, input=[{"role": "user", "content": text} for text in texts])
    newest = raw.get(f"responses/{response.id}/input_items", params={"limit": 2}).json()
    assert newest["object"] == "list" and newest["has_more"] is True
    assert [item["content"][0]["text"] for item in newest["data"]] == ["five", "four"]  # desc by default
    assert (newest["first_id"], newest["last_id"]) == (newest["data"][0]["id"], newest["data"][-1]["id"])
    rest = raw.get(f"responses/{response.id}/input_items", params={"after": newest["last_id"], "limit": 10}).json()
    assert [item["content"][0]["text"] for item in rest["data"]] == ["three", "two", "one"] and not rest["has_more"]
    pages = client.responses.input_items.list(response.id, order="asc", limit=2)
    assert [item.content[0].text for item in pages] == texts  # auto-pagination follows `after`
    first = pages.data[0]
    assert first.type == "message" and first.role == "user" and first.id.startswith("msg_")


def test_invalid_parameters_are_refused_with_their_param(raw: httpx.Client, model: str) -> None:
    def refused(body: dict[str, Any], status: int = 400) -> dict[str, Any]:
        return error_of(raw.post("responses", json={"model": model, "input": "Hi", **body}), status)

    assert refused({"temperature": 2.5})["param"] == "temperature"
    assert refused({"top_p": -0.1})["param"] == "top_p"
    assert refused({"max_output_tokens": 8})["param"] == "max_output_tokens"
    unknown = refused({"frobnicate": True})
    assert (unknown["param"], unknown["code"]) == ("frobnicate", "unknown_parameter")
    assert refused({"model": "no-such-model"}, 404)["code"] == "model_not_found"
    assert refused({"tools": [{"type": "web_search"}]})["param"] == "tools[0].type"
    loose = {**PERSON_FORMAT["format"], "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}
    assert refused({"text": {"format": loose}})["param"] == "text.format.schema"
    assert refused({"conversation": "conv_1"})["param"] == "conversation"
    assert refused({"stream_options": {"include_obfuscation": False}})["param"] == "stream_options"
    assert refused({"store": False, "background": True})["param"] == "background"


def test_truncation_auto_drops_the_oldest_items(raw: httpx.Client, model: str) -> None:
    long = [{"role": "user", "content": "word " * 3000} for _ in range(3)]
    error = error_of(raw.post("responses", json={"model": model, "input": long}), 400)
    assert (error["param"], error["code"]) == ("input", "context_length_exceeded")
    fitted = raw.post("responses", json={"model": model, "input": long, "truncation": "auto"})
    assert fitted.status_code == 200 and published(fitted.json())["truncation"] == "auto"
    assert fitted.json()["usage"]["input_tokens"] < 8192


def test_logprobs_when_included(client: openai.OpenAI, model: str) -> None:
    response, _ = create(client, model=model, input="Hi", include=["message.output_text.logprobs"], top_logprobs=2)
    text = response.output[0].content[0]
    assert len(text.logprobs) == response.usage.output_tokens
    assert "".join(entry.token for entry in text.logprobs) == text.text
    assert all(len(entry.top_logprobs) == 2 for entry in text.logprobs)


# --- streaming --------------------------------------------------------------------------------------


def test_a_stream_follows_the_lifecycle_and_adds_up(
    client: openai.OpenAI, raw: httpx.Client, model: str, spec_events: jsonschema.Draft202012Validator | None
) -> None:
    events = events_of(stream(raw, model=model, input="Say something."), spec_events)
    types = [event["type"] for event in events]
    deltas = [event for event in events if event["type"] == "response.output_text.delta"]
    assert deltas
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * len(deltas),
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = events[-1]["response"]
    item_id = final["output"][0]["id"]
    assert events[0]["response"]["id"] == final["id"] and events[0]["response"]["status"] == "in_progress"
    for event in events[2:-1]:
        assert event.get("item_id", event.get("item", {}).get("id")) == item_id and event["output_index"] == 0
        if "content_index" in event:
            assert event["content_index"] == 0
    [done] = [event for event in events if event["type"] == "response.output_text.done"]
    assert "".join(delta["delta"] for delta in deltas) == done["text"] == final["output"][0]["content"][0]["text"]
    assert len(deltas) == final["usage"]["output_tokens"]
    whole, _ = create(client, model=model, input="Say something.")
    assert whole.output_text == done["text"]  # streamed or not, the same answer
    assert client.responses.retrieve(final["id"]).output_text == done["text"]


def test_a_streamed_function_call(
    raw: httpx.Client, model: str, spec_events: jsonschema.Draft202012Validator | None
) -> None:
    events = events_of(stream(raw, model=model, input="Weather?", tools=[WEATHER], tool_choice="required"), spec_events)
    types = [event["type"] for event in events]
    deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        *["response.function_call_arguments.delta"] * len(deltas),
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    added, done, item_done = events[2], events[-3], events[-2]
    assert added["item"]["type"] == "function_call" and added["item"]["arguments"] == ""
    assert added["item"]["call_id"] == item_done["item"]["call_id"] and done["name"] == "get_weather"
    assert "".join(d["delta"] for d in deltas) == done["arguments"] == events[-1]["response"]["output"][0]["arguments"]
    assert {d["item_id"] for d in deltas} == {added["item"]["id"]}
    jsonschema.validate(json.loads(done["arguments"]), WEATHER["parameters"])


def test_a_stream_cut_by_max_output_tokens_ends_incomplete(
    raw: httpx.Client, model: str, spec_events: jsonschema.Draft202012Validator | None
) -> None:
    body = {"model": model, "input": "Describe a person.", "text": PERSON_FORMAT, "max_output_tokens": 16}
    events = events_of(stream(raw, **body), spec_events)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert len([e for e in events if e["type"] == "response.output_text.delta"]) == 16


def test_the_sdk_stream_helper_assembles_the_final_response(client: openai.OpenAI, model: str) -> None:
    with client.responses.stream(model=model, input="Say something.") as events:
        deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
        final = events.get_final_response()
    assert final.status == "completed" and final.output_text == "".join(deltas)
    assert final.output_text == create(client, model=model, input="Say something.")[0].output_text
    with client.responses.stream(model=model, input="Describe a person.", text_format=Person) as parsed:
        assert isinstance(parsed.get_final_response().output_parsed, Person)


# --- background, cancel, counting, compaction -------------------------------------------------------


def test_a_background_response_is_queued_until_polled_and_cancellable(
    client: openai.OpenAI, raw: httpx.Client, model: str, spec_events: jsonschema.Draft202012Validator | None
) -> None:
    queued, body = create(client, model=model, input="Take your time.", background=True)
    assert queued.status == "queued" and queued.output == [] and body["background"] is True
    assert client.responses.cancel(queued.id).status == "cancelled"
    assert client.responses.retrieve(queued.id).status == "cancelled"
    ran, _ = create(client, model=model, input="Take your time.", background=True)
    finished = client.responses.retrieve(ran.id)
    assert finished.status == "completed" and finished.output_text
    assert client.responses.cancel(ran.id).status == "completed"  # finished: cancel changes nothing
    replay = events_of(raw.get(f"responses/{ran.id}", params={"stream": "true"}), spec_events)
    assert [e["type"] for e in replay[:3]] == ["response.created", "response.queued", "response.in_progress"]
    assert replay[-1]["response"] == published(raw.get(f"responses/{ran.id}").json())
    resumed = parse_sse(raw.get(f"responses/{ran.id}", params={"stream": "true", "starting_after": 4}).content)
    assert [event["sequence_number"] for _, event in resumed.json_chunks()] == list(range(5, len(replay)))
    synchronous, _ = create(client, model=model, input="Now.")
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(synchronous.id)


def require_resource(client: openai.OpenAI, name: str) -> None:
    """The older SDK lines have no client for this route (the mock serves it all the same)."""
    if not hasattr(client.responses, name):
        pytest.skip(f"openai {openai.__version__} has no client.responses.{name}")


def test_input_tokens_count_as_the_response_would(client: openai.OpenAI, model: str) -> None:
    require_resource(client, "input_tokens")
    params: dict[str, Any] = {"model": model, "input": "Weather?", "instructions": "Be brief.", "tools": [WEATHER]}
    counted = client.responses.input_tokens.count(**params)
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens == create(client, **params)[0].usage.input_tokens


def test_a_compacted_conversation_continues_the_same(client: openai.OpenAI, model: str) -> None:
    require_resource(client, "compact")
    first, _ = create(client, model=model, input="Tell me a story.")
    compacted = client.responses.compact(model=model, previous_response_id=first.id)
    assert compacted.object == "response.compaction" and [item.type for item in compacted.output] == ["compaction"]
    follow = {"role": "user", "content": "Go on."}
    resumed, _ = create(
        client, model=model, input=[*(i.model_dump(exclude_none=True) for i in compacted.output), follow]
    )
    continued, _ = create(client, model=model, input=[follow], previous_response_id=first.id)
    assert resumed.output_text == continued.output_text


# --- a sampling model -------------------------------------------------------------------------------


def test_the_chatty_profile_samples_longer_replies_that_the_limit_cuts() -> None:
    with embedded_target(profile="chatty", seed=3) as chatty:
        client = openai.OpenAI(
            base_url=chatty.base_url, api_key=chatty.api_key.reveal(), max_retries=0, _strict_response_validation=True
        )
        model = chatty.models["chat"]
        replies = [create(client, model=model, input="Say something.")[0] for _ in range(3)]
        assert len({reply.output_text for reply in replies}) > 1  # fresh draws
        assert max(reply.usage.output_tokens for reply in replies) > 16  # several sentences
        cut = [create(client, model=model, input="Say something.", max_output_tokens=16)[0] for _ in range(6)]
        assert {reply.status for reply in cut} >= {"incomplete"}
        assert all(reply.usage.output_tokens <= 16 for reply in cut)
        greedy = [create(client, model=model, input="Say something.", temperature=0)[0].output_text for _ in range(2)]
        assert greedy[0] == greedy[1]

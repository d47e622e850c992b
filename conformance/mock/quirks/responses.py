"""The Responses API served wrongly: fields, formats, tools and state as real servers got them wrong,
and the typed event stream thinned out or misnumbered."""

from __future__ import annotations

import json
import re
from typing import Any

from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockError, MockResponse, unknown_route
from conformance.mock.quirks._model import NONCONFORMANT, UNSUPPORTED, Quirk

CREATE = "/v1/responses"
STORED = re.compile(r"/v1/responses/[^/]+(/input_items)?")


def _without_created_at(response: MockResponse) -> MockResponse:
    """A Response body without ``created_at``: the SDK's ``Response`` requires it."""
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    if isinstance(body, dict) and body.get("object") == "response":
        body.pop("created_at", None)
        response.body = json.dumps(body).encode()
    return response


def _incomplete_as_completed(final: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    if final.get("status") != "incomplete":
        return final
    return {**final, "status": "completed", "incomplete_details": None}


def _fenced_json(final: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """JSON output in a markdown code fence, the format asked for ignored."""
    text_format = ((raw.get("text") or {}).get("format") or {}).get("type")
    if text_format != "json_schema" or final.get("status") != "completed":
        return final
    output = []
    for item in final.get("output") or ():
        if item.get("type") == "message":
            content = [
                {**part, "text": f"```json\n{part['text']}\n```"} if part.get("type") == "output_text" else part
                for part in item.get("content") or ()
            ]
            item = {**item, "content": content}
        output.append(item)
    return {**final, "output": output}


def _forced_tool_choice_501(incoming: Incoming) -> ErrorSpec | None:
    if incoming.method != "POST" or incoming.path != CREATE:
        return None
    try:
        body = incoming.json()
    except MockError:
        return None
    choice = body.get("tool_choice") if isinstance(body, dict) else None
    if choice == "required" or isinstance(choice, dict):
        return ErrorSpec(501, "tool_choice other than 'auto' or 'none' is not supported", "server", "server_error")
    return None


def _tool_output_rejected(incoming: Incoming) -> ErrorSpec | None:
    if incoming.method != "POST" or incoming.path != CREATE:
        return None
    try:
        body = incoming.json()
    except MockError:
        return None
    items = body.get("input") if isinstance(body, dict) else None
    if isinstance(items, list) and any(isinstance(i, dict) and i.get("type") == "function_call_output" for i in items):
        return ErrorSpec(400, "Output of tool call should be 'Input text'", "validation")
    return None


def _previous_ignored(body: Any) -> Any:
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key != "previous_response_id"}
    return body


def _stateless(incoming: Incoming) -> ErrorSpec | None:
    stored = incoming.method in ("GET", "DELETE") and STORED.fullmatch(incoming.path)
    return unknown_route(incoming.method, incoming.path) if stored else None


def _unnumbered(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in event.items() if key != "sequence_number"} for event in events]


def _terminal_only(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only ``response.created`` and ``response.completed``: a non-streamed answer replayed as two events."""
    kept = [event for event in events if event["type"] in ("response.created", "response.completed")]
    return [{**event, "sequence_number": number} for number, event in enumerate(kept)]


def _data_lines_only(frames: list[bytes]) -> list[bytes]:
    return [b"\n".join(line for line in frame.split(b"\n") if not line.startswith(b"event:")) for frame in frames]


def _argument_delta_lost(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last argument delta of each function call dropped: the deltas no longer add up to ``.done``."""
    last = {
        event.get("item_id"): position
        for position, event in enumerate(events)
        if event["type"] == "response.function_call_arguments.delta"
    }
    lost = set(last.values())
    return [event for position, event in enumerate(events) if position not in lost]


STREAM_FIELDS = "https://github.com/ggml-org/llama.cpp/issues/20607, https://github.com/BerriAI/litellm/issues/20943"

TABLE: tuple[Quirk, ...] = (
    Quirk(
        "responses.created_at_missing",
        "responses",
        "Response objects lack `created_at`, which the SDK's `Response` and OpenAI's schema require.",
        STREAM_FIELDS,
        Effects(response=_without_created_at),
        detects={
            "responses.create.shape": NONCONFORMANT,
            "responses.text.json_schema": NONCONFORMANT,  # responses.parse() reads it strictly
            "endpoints.responses": NONCONFORMANT,
        },
    ),
    Quirk(
        "responses.incomplete_as_completed",
        "responses",
        "A reply cut by `max_output_tokens` is answered `status: completed` with no `incomplete_details`.",
        "https://github.com/mudler/LocalAI/issues/3533, https://github.com/llm-d/llm-d-inference-sim/issues/29 "
        "(the same cut reported as finished, on chat completions)",
        Effects(responses_answer=_incomplete_as_completed),
        detects={"responses.max_output_tokens": NONCONFORMANT},
    ),
    Quirk(
        "responses.json_schema_fenced",
        "responses",
        "With `text.format` json_schema the output text is the JSON inside a markdown code fence.",
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/2403, "
        "https://github.com/peonist-ai/halogen-flash-server/issues/14",
        Effects(responses_answer=_fenced_json),
        detects={"responses.text.json_schema": NONCONFORMANT},
    ),
    Quirk(
        "responses.tool_choice_forced_501",
        "responses",
        "`tool_choice` 'required' or a named function is answered 501 Not Implemented.",
        "https://github.com/vllm-project/vllm/issues/53626",
        Effects(decline_route=_forced_tool_choice_501),
        detects={"responses.tools.function": NONCONFORMANT, "responses.stream.function_call_arguments": NONCONFORMANT},
    ),
    Quirk(
        "responses.tool_output_rejected",
        "responses",
        "An input holding a `function_call_output` is refused with 400 "
        '`{"error": {"code": 400, "message": "Output of tool call should be \'Input text\'", ...}}`.',
        "https://github.com/ggml-org/llama.cpp/issues/23465",
        Effects(decline_route=_tool_output_rejected),
        detects={"responses.tools.round_trip": NONCONFORMANT},
    ),
    Quirk(
        "responses.previous_response_id_ignored",
        "responses",
        "`previous_response_id` is accepted and ignored: the earlier turn is not part of the input.",
        "https://github.com/youssofal/MTPLX/issues/193, https://github.com/ikawrakow/ik_llama.cpp/issues/1964",
        Effects(responses_body=_previous_ignored),
        # an id it never stored is ignored the same way: served 200 as a fresh conversation
        detects={
            "responses.previous_response_id": NONCONFORMANT,
            "responses.previous_response_id.unknown": NONCONFORMANT,
        },
    ),
    Quirk(
        "responses.stateless",
        "responses",
        "Responses are not kept: GET and DELETE /v1/responses/{id} and its input_items answer 404.",
        "https://github.com/youssofal/MTPLX/issues/193",
        Effects(decline_route=_stateless),
        detects={"responses.retrieve": UNSUPPORTED, "endpoints.responses": UNSUPPORTED},
    ),
    Quirk(
        "responses.stream_sequence_number_missing",
        "responses",
        "Streamed Responses events carry no `sequence_number`.",
        f"https://github.com/FMXExpress/PasClaw/pull/62, {STREAM_FIELDS}",
        Effects(responses_events=_unnumbered),
        # the SDK's helper validates every event it reads, and the number is required
        detects={"responses.stream.sequence_number": NONCONFORMANT, "responses.stream.sdk_helper": NONCONFORMANT},
    ),
    Quirk(
        "responses.stream_terminal_only",
        "responses",
        "A streamed Response is only `response.created` and `response.completed`: no in_progress, item or "
        "delta events.",
        "https://github.com/headroomlabs-ai/headroom/pull/2415",
        Effects(responses_events=_terminal_only),
        # the SDK's helper assembles the final Response from the completed event, but no delta arrives
        detects={
            "responses.stream.lifecycle": NONCONFORMANT,
            "responses.stream.deltas": NONCONFORMANT,
            "responses.stream.sdk_helper": NONCONFORMANT,
            "responses.stream.function_call_arguments": NONCONFORMANT,  # the call's events are gone too
        },
    ),
    Quirk(
        "responses.stream_no_event_lines",
        "responses",
        "Streamed Responses events are `data:` lines only, without their `event:` names.",
        "https://github.com/tilesprivacy/tiles/pull/126",
        Effects(responses_frames=_data_lines_only),
        detects={"responses.stream.event_lines": NONCONFORMANT},
    ),
    Quirk(
        "responses.stream_argument_deltas_mismatch",
        "responses",
        "A streamed function call's `response.function_call_arguments.delta` events do not concatenate to "
        "the final arguments (in `.done` and the completed item).",
        "https://github.com/MoonshotAI/kimi-code/issues/1455",
        Effects(responses_events=_argument_delta_lost),
        detects={"responses.stream.function_call_arguments": NONCONFORMANT},
    ),
)

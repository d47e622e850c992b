"""The Responses API served wrongly: fields, formats, tools and state as real servers got them wrong,
and the typed event stream thinned out or misnumbered."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from conformance.mock.effects import Effects
from conformance.mock.messages import ErrorSpec, Incoming, MockError, MockResponse, unknown_route
from conformance.mock.quirks._model import NONCONFORMANT, UNSUPPORTED, Quirk, detected
from conformance.mock.quirks._shared import error_body
from conformance.mock.responses.events import sse_response

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


def _unset_fields_null(final: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """The fields a server leaves unset serialised as null, where the schema wants a value."""
    return {**final, **dict.fromkeys(("tool_choice", "tools", "truncation", "background", "service_tier"))}


def _reasoning_item_without_id(final: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """A reasoning item (as a gateway converting another provider's thinking writes it) without ``id``."""
    if final.get("status") not in ("completed", "incomplete"):
        return final
    reasoning = {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Thinking it over."}]}
    return {**final, "output": [reasoning, *(final.get("output") or ())]}


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


# --- request fields: read wrongly, or not at all ------------------------------------------------

SYSTEM_REFUSED = "System messages are not allowed"


def _ignored(*names: str) -> Callable[[Any], Any]:
    """A server that reads none of ``names``: they are gone before anything reads the body."""

    def effect(body: Any) -> Any:
        return {k: v for k, v in body.items() if k not in names} if isinstance(body, dict) else body

    return effect


def _sampling_ignored(body: Any) -> Any:
    """``temperature`` and ``top_p`` parsed as numbers (a wrong type is still refused), then never used."""
    if not isinstance(body, dict):
        return body
    return {
        k: v
        for k, v in body.items()
        if not (k in ("temperature", "top_p") and isinstance(v, (int, float)) and not isinstance(v, bool))
    }


def _metadata_empty(final: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    return {**final, "metadata": {}}


def _images_dropped(body: Any) -> Any:
    """Every ``input_image`` part taken out of the message items: the model never sees the image."""
    if not isinstance(body, dict) or not isinstance(body.get("input"), list):
        return body

    def without_images(item: Any) -> Any:
        if not (isinstance(item, dict) and isinstance(item.get("content"), list)):
            return item
        kept = [part for part in item["content"] if not (isinstance(part, dict) and part.get("type") == "input_image")]
        return {**item, "content": kept}

    return {**body, "input": [without_images(item) for item in body["input"]]}


def _created(incoming: Incoming) -> dict[str, Any] | None:
    """The JSON body of POST /responses, or None for any other request."""
    if incoming.method != "POST" or incoming.path != CREATE:
        return None
    try:
        body = incoming.json()
    except MockError:
        return None
    return body if isinstance(body, dict) else None


def _system_role_refused(incoming: Incoming) -> ErrorSpec | None:
    items = (_created(incoming) or {}).get("input")
    if isinstance(items, list) and any(isinstance(i, dict) and i.get("role") == "system" for i in items):
        return ErrorSpec(400, SYSTEM_REFUSED, "validation")
    return None


def _detail_refusal(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """The system-role refusal as FastAPI's ``{"detail": ...}``, outside OpenAI's envelope."""
    return error_body(response, spec, {"detail": spec.message}) if spec.message == SYSTEM_REFUSED else response


def _input_type_500(incoming: Incoming) -> ErrorSpec | None:
    """An ``input`` that is neither a string nor a list, iterated anyway: a TypeError, answered 500."""
    value = (_created(incoming) or {}).get("input")
    if value is not None and not isinstance(value, (str, list)):
        return ErrorSpec(500, f"'{type(value).__name__}' object is not iterable", "server", "server_error")
    return None


def _streams_by_default(asked: bool, raw: dict[str, Any]) -> bool:
    """``stream`` left out is taken as true: only an explicit ``stream: false`` is answered as JSON."""
    return asked or "stream" not in raw


def _without_in_progress(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = [event for event in events if event["type"] != "response.in_progress"]
    return [{**event, "sequence_number": number} for number, event in enumerate(kept)]


def _unindexed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every event without ``output_index`` and ``content_index``: clients must guess by the order."""
    return [{k: v for k, v in event.items() if k not in ("output_index", "content_index")} for event in events]


def _refused_stream(spec: ErrorSpec, incoming: Incoming) -> bool:
    """A streamed POST /responses refused for a wrong field: what the stream-error quirks answer instead."""
    asked = incoming.method == "POST" and incoming.path == CREATE and incoming.asks_to_stream()
    return asked and spec.kind == "validation"


def _begun(incoming: Incoming) -> dict[str, Any]:
    """The Response of a stream that has begun: nothing answered yet."""
    model = incoming.json().get("model")
    return {
        "id": f"resp_{uuid.uuid4().hex}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": False,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": str(model),
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "metadata": {},
    }


def _stream_of(response: MockResponse, events: list[dict[str, Any]]) -> MockResponse:
    """The error answer replaced by a 200 stream of these events (its other headers kept)."""
    streamed = sse_response([{**event, "sequence_number": number} for number, event in enumerate(events)])
    streamed.headers += [(k, v) for k, v in response.headers if k != "content-type"]
    return streamed


def _opening(begun: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "response.created", "response": begun}, {"type": "response.in_progress", "response": begun}]


def _error_envelope_in_stream(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """Llama Stack before its fix: the HTTP error envelope sent as one SSE data frame."""
    if not _refused_stream(spec, incoming):
        return response
    streamed = _stream_of(response, [])
    streamed.frames = [f"data: {json.dumps(spec.envelope())}\n\n".encode()]
    return streamed


def _stream_cut_short(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    """The stream opens, then ends: no terminal event, no error."""
    return _stream_of(response, _opening(_begun(incoming))) if _refused_stream(spec, incoming) else response


def _error_event(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    if not _refused_stream(spec, incoming):
        return response
    error = {"type": "error", "code": spec.code, "message": spec.message, "param": spec.param}
    return _stream_of(response, [*_opening(_begun(incoming)), error])


def _failed_event(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    if not _refused_stream(spec, incoming):
        return response
    begun = _begun(incoming)
    failed = {**begun, "status": "failed", "error": {"code": "invalid_prompt", "message": spec.message}}
    return _stream_of(response, [*_opening(begun), {"type": "response.failed", "response": failed}])


STREAM_FIELDS = "https://github.com/ggml-org/llama.cpp/issues/20607, https://github.com/BerriAI/litellm/issues/20943"
# the Responses stream's own error: OpenAI's typed event (Llama Stack's fix), and what it replaced
STREAM_ERROR_EVENT = "https://github.com/ogx-ai/ogx/issues/5224"
# the features whose Response the strict SDK reads: created, parsed, or streamed whole
READ_STRICTLY = (
    "responses.create.shape",
    "responses.text.json_schema",
    "responses.stream.sdk_helper",
    "endpoints.responses",
)

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
        "responses.unset_fields_null",
        "responses",
        "`tool_choice`, `tools`, `truncation`, `background` and `service_tier` are null when the request left "
        "them unset; the SDK requires `tools` and `tool_choice`, and the schema none of them null.",
        "https://github.com/ogx-ai/ogx/issues/4988",
        Effects(responses_answer=_unset_fields_null),
        detects=detected(READ_STRICTLY),
    ),
    Quirk(
        "responses.reasoning_item_without_id",
        "responses",
        "The output begins with a `reasoning` item that has no `id`, which every output item must carry.",
        "https://github.com/Oaklight/llm-rosetta/issues/406",
        Effects(responses_answer=_reasoning_item_without_id),
        detects=detected(READ_STRICTLY),
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
        "responses.stream_by_default",
        "responses",
        "A request without `stream` is answered as an event stream: only an explicit `stream: false` gets JSON.",
        "https://github.com/diegosouzapw/OmniRoute/issues/10239 (chat completions: `stream` left out, answered "
        "as SSE), https://github.com/decolua/9router/issues/3492, https://github.com/BerriAI/litellm/issues/34095 "
        "(/v1/responses answered as SSE whatever the caller's `stream`)",
        Effects(responses_streams=_streams_by_default),
        # every feature that asks without `stream` (as the SDK's create() does) gets the event stream: the
        # SDK or the raw reading finds no Response. Those that send `stream: true`, or only requests the
        # server refuses, are unchanged
        detects={
            "responses.stream.default_json": NONCONFORMANT,
            "responses.create.shape": NONCONFORMANT,
            "responses.max_output_tokens": NONCONFORMANT,
            "responses.text.json_schema": NONCONFORMANT,
            "responses.instructions": NONCONFORMANT,
            "responses.input.items": NONCONFORMANT,
            "responses.params.temperature": NONCONFORMANT,
            "responses.params.top_p": NONCONFORMANT,
            "responses.metadata": NONCONFORMANT,
            "responses.store_false": NONCONFORMANT,
            "responses.image_input": NONCONFORMANT,
            "responses.tools.function": NONCONFORMANT,
            "responses.tools.round_trip": NONCONFORMANT,
            "responses.previous_response_id": NONCONFORMANT,
            "responses.retrieve": NONCONFORMANT,
            "responses.errors.unknown_model": NONCONFORMANT,  # the valid request that tells a 404 apart
            "endpoints.responses": NONCONFORMANT,
        },
    ),
    Quirk(
        "responses.stream_in_progress_missing",
        "responses",
        "A streamed Response never sends `response.in_progress`: `response.created` is followed by the output.",
        "https://github.com/Oaklight/llm-rosetta/issues/455",
        Effects(responses_events=_without_in_progress),
        detects={"responses.stream.lifecycle": NONCONFORMANT},
    ),
    Quirk(
        "responses.stream_event_indexes_missing",
        "responses",
        "Streamed Responses events carry no `output_index` or `content_index`: which item and part a delta "
        "belongs to is left to the order of the events.",
        "https://github.com/ggml-org/llama.cpp/issues/20607, https://github.com/lemonade-sdk/lemonade/issues/3607",
        Effects(responses_events=_unindexed),
        # the strict SDK's event types require both indexes; a streamed call's argument events lose theirs too
        detects={
            "responses.stream.lifecycle": NONCONFORMANT,
            "responses.stream.sdk_helper": NONCONFORMANT,
            "responses.stream.function_call_arguments": NONCONFORMANT,
        },
    ),
    Quirk(
        "responses.stream_error_envelope",
        "responses",
        'A streamed request that fails gets a 200 and the HTTP error envelope `{"error": {...}}` as a data '
        "frame, with no `type`: not an event of the Responses stream.",
        f"{STREAM_ERROR_EVENT}, https://github.com/maximhq/bifrost/issues/6944",
        Effects(error=_error_envelope_in_stream),
        detects={"responses.stream.error_event": NONCONFORMANT},
    ),
    Quirk(
        "responses.stream_error_unterminated",
        "responses",
        "A streamed request that fails gets a 200 stream that opens (`response.created`, `response.in_progress`) "
        "and ends: no terminal event, no error.",
        "https://github.com/vllm-project/semantic-router/issues/3063, "
        "https://github.com/router-for-me/CLIProxyAPI/issues/4905",
        Effects(error=_stream_cut_short),
        detects={"responses.stream.error_event": NONCONFORMANT},
    ),
    Quirk(
        "responses.stream_error_typed_event",
        "responses",
        "A streamed request that fails gets a 200 stream that opens, then OpenAI's typed `error` event "
        "(`type`, `code`, `message`, `param`, `sequence_number`): valid, the error reaches the client.",
        STREAM_ERROR_EVENT,
        Effects(error=_error_event),
        notes={"responses.stream.error_event": "after a 200"},
    ),
    Quirk(
        "responses.stream_error_failed",
        "responses",
        "A streamed request that fails gets a 200 stream that opens, then `response.failed` with "
        "`response.error` {code, message}: valid, as OpenAI ends a stream that fails.",
        "https://github.com/BerriAI/litellm/issues/29223 (OpenAI's own response.failed, with its error)",
        Effects(error=_failed_event),
        notes={"responses.stream.error_event": "after a 200"},
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
    # --- request fields
    Quirk(
        "responses.instructions_ignored",
        "responses",
        "`instructions` are accepted and never reach the model, and the Response reports `instructions: null`.",
        "https://github.com/Layr-Labs/d-inference/issues/731, "
        "https://github.com/ogx-ai/ogx/pull/3741 (the Response lacked the instructions)",
        Effects(responses_body=_ignored("instructions")),
        detects={"responses.instructions": NONCONFORMANT},
    ),
    Quirk(
        "responses.system_role_rejected",
        "responses",
        'A `system` message item in `input` is refused with 400 `{"detail": "System messages are not allowed"}`.',
        "https://github.com/CaddyGlow/ccproxy-api/issues/52, https://github.com/james-6-23/codex2api/issues/409",
        Effects(decline_route=_system_role_refused, error=_detail_refusal),
        detects={"responses.input.items": NONCONFORMANT},
    ),
    Quirk(
        "responses.sampling_params_ignored",
        "responses",
        "`temperature` and `top_p` are accepted and ignored: the Response reports the defaults (1.0), and "
        "out-of-range values are served.",
        "https://github.com/mudler/LocalAGI/issues/209",
        Effects(responses_body=_sampling_ignored),
        detects={"responses.params.temperature": NONCONFORMANT, "responses.params.top_p": NONCONFORMANT},
    ),
    Quirk(
        "responses.metadata_not_echoed",
        "responses",
        "The Response (and the stored response) carries `metadata: {}` whatever `metadata` the request set.",
        "https://github.com/ai-dynamo/frontend-crates/issues/207, https://github.com/ai-dynamo/dynamo/pull/15102",
        Effects(responses_answer=_metadata_empty),
        detects={"responses.metadata": NONCONFORMANT},
    ),
    Quirk(
        "responses.store_false_kept",
        "responses",
        "`store: false` is ignored: the response is kept, and GET /v1/responses/{id} returns it.",
        "https://github.com/smg-project/smg/pull/916 (non-streamed responses persisted with store=false)",
        Effects(responses_body=_ignored("store")),
        detects={"responses.store_false": NONCONFORMANT},
    ),
    Quirk(
        "responses.input_image_dropped",
        "responses",
        "`input_image` parts of message items are silently dropped: the model is asked about an image it never gets.",
        "https://github.com/ardanlabs/kronk/issues/759, https://github.com/rynfar/meridian/pull/683",
        Effects(responses_body=_images_dropped),
        detects={"responses.image_input": NONCONFORMANT},
    ),
    Quirk(
        "responses.invalid_input_500",
        "responses",
        "An `input` that is neither a string nor a list (`42`) is iterated anyway: 500 with the TypeError.",
        "https://github.com/BerriAI/litellm/pull/36947, https://github.com/vllm-project/vllm/pull/55974 "
        "(input items it cannot handle, answered 500)",
        Effects(decline_route=_input_type_500),
        detects={"responses.errors.invalid_input": NONCONFORMANT},
    ),
)

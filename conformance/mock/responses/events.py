"""A Response as OpenAI streams it: typed events over SSE, derived from the finished Response.

The lifecycle is ``response.created`` (and ``response.queued`` for a background response), then
``response.in_progress``; each output item is added, filled and done (a message: its content part,
text deltas, the text done; a function call: argument deltas, the arguments done); last comes
``response.completed``, or ``response.incomplete`` when ``max_output_tokens`` cut the reply. Every
event carries ``sequence_number`` (0, 1, 2, ...) and travels as ``event: <type>`` plus ``data:``;
no ``[DONE]`` follows (the Responses stream ends with its terminal event). Because the events are a
function of the Response alone, a stored background response replays the same stream
(GET /responses/{id}?stream=true, from ``starting_after``). The deltas concatenate to the done text,
which is the final Response's text, and they are the tokens the reply was made of.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.mock.chat.render import ARGUMENT_PIECE
from conformance.mock.messages import SSE_TYPE, MockResponse
from conformance.mock.responses.output import text_pieces, unanswered

TERMINAL = {"completed": "response.completed", "incomplete": "response.incomplete"}


def stream_events(final: dict[str, Any], *, queued: bool = False) -> list[dict[str, Any]]:
    """Every event of the stream that produced ``final``, numbered from 0."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": unanswered(final, "queued" if queued else "in_progress")}
    ]
    if queued:
        events.append({"type": "response.queued", "response": unanswered(final, "queued")})
    if final["status"] == "cancelled":  # cancelled before it ran: nothing more happened
        return _numbered(events)
    events.append({"type": "response.in_progress", "response": unanswered(final, "in_progress")})
    text_format = str(((final.get("text") or {}).get("format") or {}).get("type", "text"))
    for index, item in enumerate(final["output"]):
        if item["type"] == "message":
            events += _message_events(index, item, text_format)
        elif item["type"] == "function_call":
            events += _function_call_events(index, item)
    if final["status"] in TERMINAL:
        events.append({"type": TERMINAL[final["status"]], "response": final})
    return _numbered(events)


def _numbered(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**event, "sequence_number": number} for number, event in enumerate(events)]


def _message_events(index: int, item: dict[str, Any], text_format: str) -> list[dict[str, Any]]:
    where = {"item_id": item["id"], "output_index": index}
    events: list[dict[str, Any]] = [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "content": []},
        }
    ]
    for content_index, part in enumerate(item["content"]):
        at = {**where, "content_index": content_index}
        if part["type"] != "output_text":
            events.append({"type": "response.content_part.added", **at, "part": part})
            events.append({"type": "response.content_part.done", **at, "part": part})
            continue
        events.append({"type": "response.content_part.added", **at, "part": {**part, "text": "", "logprobs": []}})
        logprobs = part.get("logprobs") or []
        for position, piece in enumerate(text_pieces(part["text"], text_format)):
            logprob = [logprobs[position]] if position < len(logprobs) else []
            events.append({"type": "response.output_text.delta", **at, "delta": piece, "logprobs": logprob})
        events.append({"type": "response.output_text.done", **at, "text": part["text"], "logprobs": logprobs})
        events.append({"type": "response.content_part.done", **at, "part": part})
    events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return events


def _function_call_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    where = {"item_id": item["id"], "output_index": index}
    arguments = item["arguments"]
    events: list[dict[str, Any]] = [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "arguments": ""},
        }
    ]
    for start in range(0, len(arguments), ARGUMENT_PIECE):
        events.append(
            {
                "type": "response.function_call_arguments.delta",
                **where,
                "delta": arguments[start : start + ARGUMENT_PIECE],
            }
        )
    events.append(
        {"type": "response.function_call_arguments.done", **where, "name": item["name"], "arguments": arguments}
    )
    events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return events


def sse_response(events: list[dict[str, Any]]) -> MockResponse:
    """The events as an SSE response: ``event: <type>`` and ``data: <json>`` per event."""
    frames = [
        f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()
        for event in events
    ]
    return MockResponse(200, [("content-type", SSE_TYPE), ("cache-control", "no-cache")], frames=frames)

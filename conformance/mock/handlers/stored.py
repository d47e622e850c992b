"""Stored chat completions (``store: true``): list, retrieve, update metadata, delete, list messages.

OpenAI keeps a completion created with ``store: true`` for retrieval by id; the mock does the same,
in ``state.stored_completions``. Lists are cursor pages (``after``, ``limit``, ``order``,
``metadata[key]=`` filters), as the SDK's ``SyncCursorPage`` reads them.
"""

from __future__ import annotations

import copy
import re

from conformance.mock.handlers._shared import page, query
from conformance.mock.messages import Incoming, MockError, MockResponse, invalid_type, invalid_value, json_response
from conformance.mock.state import MockState

_METADATA_FILTER = re.compile(r"^metadata\[(?P<key>[^\]]+)\]$")


async def list_completions(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    asked = query(incoming)
    model = dict(asked).get("model")
    wanted = {m.group("key"): v for k, v in asked if (m := _METADATA_FILTER.match(k))}
    items = [
        stored.body()
        for stored in state.stored_completions.values()
        if (model is None or stored.completion.get("model") == model)
        and all(stored.metadata.get(k) == v for k, v in wanted.items())
    ]
    return page(items, incoming)


async def retrieve(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    return json_response(200, state.stored_completions.get(match.group("completion_id")).body())


async def update(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = state.stored_completions.get(match.group("completion_id"))
    body = incoming.json()
    metadata = body.get("metadata") if isinstance(body, dict) else None
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values()) and len(metadata) <= 16
    ):
        raise MockError(invalid_type("metadata", "an object of at most 16 string values", metadata))
    if isinstance(body, dict) and "metadata" not in body:
        raise MockError(
            invalid_value("metadata", "Missing required parameter: 'metadata'.", "missing_required_parameter")
        )
    stored.metadata = dict(metadata or {})
    return json_response(200, stored.body())


async def delete(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    completion_id = match.group("completion_id")
    state.stored_completions.delete(completion_id)
    return json_response(200, {"id": completion_id, "object": "chat.completion.deleted", "deleted": True})


async def list_messages(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = state.stored_completions.get(match.group("completion_id"))
    completion_id = stored.completion["id"]
    items = [
        {**copy.deepcopy(message), "id": f"{completion_id}-{index}"} for index, message in enumerate(stored.messages)
    ]
    return page(items, incoming)

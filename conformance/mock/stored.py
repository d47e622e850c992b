"""Stored chat completions (``store: true``): list, retrieve, update metadata, delete, list messages.

OpenAI keeps a completion created with ``store: true`` for retrieval by id; the mock does the same,
in memory and bounded. Lists are cursor pages (``after``, ``limit``, ``order``, ``metadata[key]=``
filters), as the SDK's ``SyncCursorPage`` reads them.
"""

from __future__ import annotations

import copy
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from conformance.mock.http import MockError, MockResponse, invalid_type, invalid_value, json_response, not_found

if TYPE_CHECKING:
    from conformance.mock.app import Incoming, MockApp

KEPT = 512  # stored completions kept, oldest dropped first
_METADATA_FILTER = re.compile(r"^metadata\[(?P<key>[^\]]+)\]$")


@dataclass
class StoredCompletion:
    completion: dict[str, Any]
    messages: list[dict[str, Any]]
    metadata: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {**copy.deepcopy(self.completion), "metadata": dict(self.metadata)}


class CompletionStore:
    def __init__(self) -> None:
        self._items: OrderedDict[str, StoredCompletion] = OrderedDict()

    def put(self, completion: dict[str, Any], messages: list[dict[str, Any]], metadata: dict[str, str]) -> None:
        self._items[completion["id"]] = StoredCompletion(copy.deepcopy(completion), copy.deepcopy(messages), metadata)
        while len(self._items) > KEPT:
            self._items.popitem(last=False)

    def get(self, completion_id: str) -> StoredCompletion:
        stored = self._items.get(completion_id)
        if stored is None:
            raise MockError(not_found(f"No chat completion found with id '{completion_id}'."))
        return stored

    def delete(self, completion_id: str) -> None:
        self.get(completion_id)
        del self._items[completion_id]

    def values(self) -> list[StoredCompletion]:
        return list(self._items.values())


def _query(incoming: Incoming) -> list[tuple[str, str]]:
    return parse_qsl(incoming.query, keep_blank_values=True)


def page(items: list[dict[str, Any]], incoming: Incoming, *, default_limit: int = 20) -> MockResponse:
    """A cursor page of ``items`` (each with an ``id``), after ``after``, at most ``limit``, in ``order``."""
    query = dict(_query(incoming))
    order = query.get("order", "asc")
    if order not in ("asc", "desc"):
        raise MockError(invalid_value("order", "Invalid 'order': expected 'asc' or 'desc'."))
    try:
        limit = int(query.get("limit", default_limit))
    except ValueError:
        raise MockError(invalid_type("limit", "an integer", query.get("limit"))) from None
    if limit < 0 or limit > 100:
        raise MockError(invalid_value("limit", f"Invalid 'limit': expected 0 to 100, got {limit}."))
    ordered = items if order == "asc" else list(reversed(items))
    after = query.get("after")
    if after:
        ids = [item["id"] for item in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    chosen = ordered[:limit]
    body: dict[str, Any] = {"object": "list", "data": chosen, "has_more": len(ordered) > len(chosen)}
    if chosen:
        body["first_id"], body["last_id"] = chosen[0]["id"], chosen[-1]["id"]
    return json_response(200, body)


async def list_completions(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    query = _query(incoming)
    model = dict(query).get("model")
    wanted = {m.group("key"): v for k, v in query if (m := _METADATA_FILTER.match(k))}
    items = [
        stored.body()
        for stored in app.stored.values()
        if (model is None or stored.completion.get("model") == model)
        and all(stored.metadata.get(k) == v for k, v in wanted.items())
    ]
    return page(items, incoming)


async def retrieve_completion(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    return json_response(200, app.stored.get(match.group("completion_id")).body())


async def update_completion(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = app.stored.get(match.group("completion_id"))
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


async def delete_completion(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    completion_id = match.group("completion_id")
    app.stored.delete(completion_id)
    return json_response(200, {"id": completion_id, "object": "chat.completion.deleted", "deleted": True})


async def list_messages(app: MockApp, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = app.stored.get(match.group("completion_id"))
    completion_id = stored.completion["id"]
    items = [
        {**copy.deepcopy(message), "id": f"{completion_id}-{index}"} for index, message in enumerate(stored.messages)
    ]
    return page(items, incoming)

"""What one mock instance keeps between requests, and what every handler is given.

A handler is ``handler(state, incoming, match)``: the state is all it may read or change of the
server (the models it serves, the active quirks' pipeline, the completions and Responses kept for
retrieval), so handlers never reach into the ASGI app. The stores are in memory and bounded, the
oldest entry dropped first. Depends on the mock's vocabulary, its model table and its pipeline.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from conformance.mock.effects import Pipeline
from conformance.mock.messages import MockError, not_found
from conformance.mock.served import ModelTable

KEPT_COMPLETIONS = 512
KEPT_RESPONSES = 256


@dataclass
class StoredCompletion:
    completion: dict[str, Any]
    messages: list[dict[str, Any]]
    metadata: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {**copy.deepcopy(self.completion), "metadata": dict(self.metadata)}


class CompletionStore:
    """Chat completions created with ``store: true``, for GET /chat/completions and its siblings."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, StoredCompletion] = OrderedDict()

    def put(self, completion: dict[str, Any], messages: list[dict[str, Any]], metadata: dict[str, str]) -> None:
        self._items[completion["id"]] = StoredCompletion(copy.deepcopy(completion), copy.deepcopy(messages), metadata)
        while len(self._items) > KEPT_COMPLETIONS:
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


class ResponseStore:
    """The Responses the mock created, for GET /responses/{id}."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def put(self, response: dict[str, Any]) -> None:
        self._items[response["id"]] = response
        while len(self._items) > KEPT_RESPONSES:
            self._items.popitem(last=False)

    def get(self, response_id: str) -> dict[str, Any] | None:
        return self._items.get(response_id)


@dataclass
class MockState:
    models: ModelTable
    pipeline: Pipeline
    stored_completions: CompletionStore = field(default_factory=CompletionStore)
    responses: ResponseStore = field(default_factory=ResponseStore)

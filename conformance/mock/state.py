"""What one mock instance keeps between requests, and what every handler is given.

A handler is ``handler(state, incoming, match)``: the state is all it may read or change of the
server (the models it serves, the active quirks' pipeline, the completions and Responses kept for
retrieval, the files and batches), so handlers never reach into the ASGI app. The stores are in
memory and bounded, the oldest entry dropped first. Depends on the mock's vocabulary, its model table and its pipeline.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from conformance.mock.effects import Pipeline
from conformance.mock.messages import MockError, invalid_value, not_found
from conformance.mock.served import ModelTable

KEPT_COMPLETIONS = 512
KEPT_RESPONSES = 256
KEPT_FILES = 256
KEPT_BATCHES = 256


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


@dataclass
class StoredResponse:
    """A Response kept for GET /responses/{id} and its siblings, with what it was asked.

    ``context`` is every item the model saw before this response's own input (the chain of
    ``previous_response_id``), so a response continuing this one sees context, input and output.
    A background response is ``queued`` until first polled: then it has run (the mock is instant).
    """

    response: dict[str, Any]
    input_items: list[dict[str, Any]]
    context: list[dict[str, Any]] = field(default_factory=list)
    queued: bool = False

    @property
    def background(self) -> bool:
        return self.response.get("background") is True


class ResponseStore:
    """The Responses the mock created with ``store`` on (the default)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()

    def put(self, stored: StoredResponse) -> None:
        self._items[stored.response["id"]] = copy.deepcopy(stored)
        while len(self._items) > KEPT_RESPONSES:
            self._items.popitem(last=False)

    def get(self, response_id: str) -> StoredResponse:
        stored = self._items.get(response_id)
        if stored is None:
            raise MockError(not_found(f"Response with id '{response_id}' not found."))
        return stored

    def delete(self, response_id: str) -> None:
        self.get(response_id)
        del self._items[response_id]

    def previous(self, response_id: str) -> StoredResponse:
        """The response a request continues (``previous_response_id``); 400 when there is none."""
        stored = self._items.get(response_id)
        if stored is None:
            raise MockError(
                invalid_value(
                    "previous_response_id",
                    f"Previous response with id '{response_id}' not found.",
                    "previous_response_not_found",
                )
            )
        return stored

    def find_item(self, item_id: str) -> dict[str, Any] | None:
        """An input or output item of a kept response, by its id (``item_reference``)."""
        for stored in reversed(self._items.values()):
            for item in (*stored.input_items, *(stored.response.get("output") or ())):
                if item.get("id") == item_id:
                    return copy.deepcopy(item)
        return None


@dataclass
class StoredFile:
    """An uploaded file (or a batch's output or error file): its FileObject fields and its bytes."""

    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int
    expires_at: int | None = None

    def body(self) -> dict[str, Any]:
        """The FileObject; unset optional fields are left out, as OpenAI's published schema has them."""
        body: dict[str, Any] = {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }
        if self.expires_at is not None:
            body["expires_at"] = self.expires_at
        return body


class FileStore:
    """The files uploaded with POST /files, and those batches write; in memory, the oldest dropped first."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, StoredFile] = OrderedDict()

    def put(self, stored: StoredFile) -> None:
        self._items[stored.id] = stored
        while len(self._items) > KEPT_FILES:
            self._items.popitem(last=False)

    def get(self, file_id: str) -> StoredFile:
        stored = self._items.get(file_id)
        if stored is None:
            raise MockError(not_found(f"No such File object: {file_id}"))
        return stored

    def delete(self, file_id: str) -> None:
        self.get(file_id)
        del self._items[file_id]

    def values(self) -> list[StoredFile]:
        return list(self._items.values())


@dataclass
class StoredBatch:
    """A batch and what it runs: the Batch object, and whether a cancel was asked before it ran.

    A batch is ``validating`` when created and runs when first polled (the mock is instant), unless
    cancelled before: then it reads ``cancelling``, and ``cancelled`` at the next poll."""

    batch: dict[str, Any]
    cancel_asked: bool = False
    # how long its output and error files are kept (``output_expires_after.seconds``); None: for ever
    output_seconds: int | None = None

    @property
    def pending(self) -> bool:
        return self.batch.get("status") in ("validating", "in_progress", "cancelling")


class BatchStore:
    """The batches created with POST /batches."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, StoredBatch] = OrderedDict()

    def put(self, stored: StoredBatch) -> None:
        self._items[stored.batch["id"]] = stored
        while len(self._items) > KEPT_BATCHES:
            self._items.popitem(last=False)

    def get(self, batch_id: str) -> StoredBatch:
        stored = self._items.get(batch_id)
        if stored is None:
            raise MockError(not_found(f"No batch found with id '{batch_id}'."))
        return stored

    def values(self) -> list[StoredBatch]:
        return list(self._items.values())


@dataclass
class MockState:
    models: ModelTable
    pipeline: Pipeline
    stored_completions: CompletionStore = field(default_factory=CompletionStore)
    responses: ResponseStore = field(default_factory=ResponseStore)
    files: FileStore = field(default_factory=FileStore)
    batches: BatchStore = field(default_factory=BatchStore)

"""pytest plugin for scripts/sdk_api_tests.py: the openai SDK's generated API tests, against the mock.

Loaded into the SDK's own test run (``-p sdk_tests_plugin``): it starts the reference mock before
the SDK's conftest reads ``TEST_API_BASE_URL``, and before every test it restores the fixture data
those tests name (the models, the stored completion ``completion_id``, the stored responses, the
files and the batch), because they were written for a stateless server: they delete the same model,
completion, response and file again and again, and cancel a response and a batch that must still be
running (a background response not yet polled, a batch not yet run).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import urllib.request
from typing import Any

import pytest

from conformance.mock.served import DEFAULT_MODELS, MockModel
from conformance.mock.server import MockServer
from conformance.mock.state import StoredBatch, StoredFile, StoredResponse

API_KEY = "My API Key"  # what the SDK's tests send
# the model names and ids the generated tests use
FIXTURE_MODELS = (
    MockModel("gpt-6-astra", "chat"),
    MockModel("gpt-3.5-turbo-instruct", "chat"),
    MockModel("text-embedding-3-small", "embeddings"),
    MockModel("ft:gpt-4o-mini:acemeco:suffix:abc123", "chat", owner="acemeco", deletable=True),
    MockModel("model", "chat"),  # POST /responses/input_tokens names it
    MockModel("gpt-image-2.5-flare", "images"),
    MockModel("gpt-4o-transcribe", "transcription"),
    MockModel("whisper-1", "transcription"),
    MockModel("omni-moderation-2024-09-26", "moderation"),
)
COMPLETION = {
    "id": "completion_id",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "gpt-6-astra",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "A stored reply.", "refusal": None, "annotations": []},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
}
MESSAGES = [{"role": "assistant", "content": "A stored reply."}]
# the response ids the generated tests retrieve, delete, cancel, list the input items of and continue
RESPONSE_IDS = ("resp_677efb5139a88190b512bc3fef8e535d", "response_id", "resp_123", "previous_response_id")

# the file and batch ids the generated tests retrieve, download, delete, run and cancel: a batch input
# of one chat request, and a batch of it not yet run (so that it can be cancelled)
BATCH_INPUT = (
    b'{"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions", '
    b'"body": {"model": "gpt-6-astra", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}}\n'
)
FILE_IDS = ("file_id", "input_file_id")
BATCH = {
    "id": "batch_id",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "input_file_id": "input_file_id",
    "completion_window": "24h",
    "status": "validating",
    "created_at": 1_700_000_000,
    "request_counts": {"total": 0, "completed": 0, "failed": 0},
}

_server: MockServer | None = None
_stored_response: StoredResponse | None = None


def _background_response(server: MockServer) -> StoredResponse:
    """A background response the mock created, still queued: the template of the fixture responses."""
    request = urllib.request.Request(
        f"{server.base_url}/responses",
        data=json.dumps({"model": "gpt-6-astra", "input": "A stored question.", "background": True}).encode(),
        headers={"authorization": f"Bearer {API_KEY}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        response_id = json.load(answer)["id"]
    return copy.deepcopy(server.app.state.responses.get(response_id))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: list[str]) -> None:
    # before the SDK's conftest reads TEST_API_BASE_URL at import
    global _server
    models = (*DEFAULT_MODELS, *FIXTURE_MODELS)
    _server = MockServer(api_key=API_KEY, models=models, profile="sdk-tests").start()
    os.environ["TEST_API_BASE_URL"] = _server.base_url
    global _stored_response
    _stored_response = _background_response(_server)


def pytest_runtest_setup(item: Any) -> None:
    assert _server is not None
    state = _server.app.state
    for model in FIXTURE_MODELS:
        state.models[model.id] = model
    state.stored_completions.put(COMPLETION, MESSAGES, {})
    assert _stored_response is not None
    for response_id in RESPONSE_IDS:
        response = {**_stored_response.response, "id": response_id}
        state.responses.put(dataclasses.replace(_stored_response, response=response, queued=True))
    for file_id in FILE_IDS:
        state.files.put(StoredFile(file_id, f"{file_id}.jsonl", "batch", BATCH_INPUT, 1_700_000_000))
    state.batches.put(StoredBatch(copy.deepcopy(BATCH)))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()

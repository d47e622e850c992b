"""pytest plugin for scripts/sdk_api_tests.py: the openai SDK's generated API tests, against the mock.

Loaded into the SDK's own test run (``-p sdk_tests_plugin``): it starts the reference mock before
the SDK's conftest reads ``TEST_API_BASE_URL``, and before every test it restores the fixture data
those tests name (the models and the stored completion ``completion_id``), because they were written
for a stateless server: they delete the same model and completion again and again.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from conformance.mock.served import DEFAULT_MODELS, MockModel
from conformance.mock.server import MockServer

API_KEY = "My API Key"  # what the SDK's tests send
# the model names and ids the generated tests use
FIXTURE_MODELS = (
    MockModel("gpt-6-astra", "chat"),
    MockModel("gpt-3.5-turbo-instruct", "chat"),
    MockModel("text-embedding-3-small", "embeddings"),
    MockModel("ft:gpt-4o-mini:acemeco:suffix:abc123", "chat", owner="acemeco", deletable=True),
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

_server: MockServer | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: list[str]) -> None:
    # before the SDK's conftest reads TEST_API_BASE_URL at import
    global _server
    models = (*DEFAULT_MODELS, *FIXTURE_MODELS)
    _server = MockServer(api_key=API_KEY, models=models, profile="sdk-tests").start()
    os.environ["TEST_API_BASE_URL"] = _server.base_url


def pytest_runtest_setup(item: Any) -> None:
    assert _server is not None
    state = _server.app.state
    for model in FIXTURE_MODELS:
        state.models[model.id] = model
    state.stored_completions.put(COMPLETION, MESSAGES, {})


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()

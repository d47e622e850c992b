"""GET /models, GET /models/{model}, DELETE /models/{model}: the models ``state.models`` serves."""

from __future__ import annotations

import re
from typing import Any

from conformance.mock.messages import Incoming, MockError, MockResponse, json_response, permission_denied
from conformance.mock.served import MockModel
from conformance.mock.state import MockState

MODEL_CREATED = 1_700_000_000


def model_object(model: MockModel) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": MODEL_CREATED, "owned_by": model.owner}


async def list_models(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = {"object": "list", "data": [model_object(m) for m in state.models.values()]}
    return json_response(200, state.pipeline.models(body))


async def retrieve(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    model = state.models.named(match.group("model"))
    return json_response(200, state.pipeline.model(model_object(model)))


async def delete(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    name = match.group("model")
    if not state.models.named(name).deletable:
        raise MockError(permission_denied("You have insufficient permissions to delete this model."))
    del state.models[name]
    return json_response(200, {"id": name, "object": "model", "deleted": True})

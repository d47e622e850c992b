"""POST /embeddings: a unit vector per input, derived from its text, as floats or base64 float32.

Shortened vectors (``dimensions``) are the leading components renormalised, as OpenAI's are. Depends
on ``conformance.floats`` for the base64 encoding the SDK decodes.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.floats import encode_base64
from conformance.mock.content import count_tokens, embedding_vector, normalised
from conformance.mock.messages import Incoming, MockError, MockResponse, invalid_value, json_response
from conformance.mock.state import MockState
from conformance.mock.validation import parse_embedding_request

DIMENSIONS = 256


async def create(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    request = parse_embedding_request(incoming.json())
    state.models.require(request.model, "embeddings")
    declined = state.pipeline.embeddings_request(request)
    if declined is not None:
        raise MockError(declined)
    dimensions = request.dimensions or DIMENSIONS
    if dimensions > DIMENSIONS:
        raise MockError(
            invalid_value("dimensions", f"This model supports at most {DIMENSIONS} dimensions, got {dimensions}.")
        )
    data = []
    for index, text in enumerate(request.inputs):
        vector = normalised(embedding_vector(text, DIMENSIONS)[:dimensions])
        encoded: Any = encode_base64(vector) if request.encoding_format == "base64" else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(count_tokens(text) for text in request.inputs)
    body = {
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json_response(200, state.pipeline.embeddings(body, request))

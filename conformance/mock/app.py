"""The reference mock: OpenAI's API as the pinned SDK expects it, as a plain ASGI app.

Faithful by default: it honours every parameter it accepts, rejects what it does not with the
exact envelope, and derives content from the request so that behaviour checks can be exact.
Named quirks (``conformance.mock.quirks``) switch on real vendors' deviations, one server
instance at a time.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.floats import encode_base64
from conformance.mock import chat_render, endpoints, stored
from conformance.mock.chat_request import ChatRequest, parse_chat_request
from conformance.mock.content import count_tokens, embedding_vector, fingerprint, normalised, prompt_tokens
from conformance.mock.effects import Effects, Pipeline
from conformance.mock.endpoints import ResponseStore
from conformance.mock.generation import Plan, plan_choice
from conformance.mock.http import (
    MOVED_PREFIX,
    SSE_TYPE,
    ErrorSpec,
    MockError,
    MockResponse,
    context_length_exceeded,
    invalid_api_key,
    invalid_json,
    invalid_value,
    json_response,
    missing_api_key,
    model_not_found,
    permission_denied,
    rate_limited,
    render_error,
    request_id,
    too_large,
    unknown_route,
    wrong_method,
)
from conformance.mock.requests import parse_embedding_request
from conformance.mock.stored import CompletionStore

MAX_BODY_BYTES = 8 * 1024 * 1024
MODEL_CREATED = 1_700_000_000
OWNER = "openai-conformance"
EMBEDDING_DIMENSIONS = 256


@dataclass(frozen=True)
class MockModel:
    id: str
    capability: str  # "chat", "embeddings", "images", "transcription" or "speech"
    context_window: int = 8192
    # answers every request with 429 and OpenAI's rate-limit headers: how the suite provokes a 429
    rate_limited: bool = False
    # a fine-tuned model the caller's organisation owns: DELETE /models/{id} removes it (others: 403)
    owner: str = OWNER
    deletable: bool = False


DEFAULT_MODELS: tuple[MockModel, ...] = (
    MockModel("mock-chat", "chat"),
    MockModel("mock-embed", "embeddings"),
    # a vendor-style id with a slash (seeds 000, 001): the 3.x SDK percent-encodes it in paths
    MockModel("mock-org/mock-chat", "chat"),
    MockModel("mock-ratelimited", "chat", rate_limited=True),
    MockModel("mock-image", "images"),
    MockModel("mock-transcribe", "transcription"),
    MockModel("mock-speech", "speech"),
)


@dataclass
class Incoming:
    method: str
    path: str  # percent-decoded
    headers: dict[str, str]
    body: bytes
    raw_path: str = ""  # as sent, percent-encoding intact
    query: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise MockError(invalid_json()) from None

    def asks_to_stream(self) -> bool:
        """Did the body ask for a stream (whatever else is wrong with it)?"""
        try:
            body = json.loads(self.body)
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("stream") is True


Handler = Callable[["MockApp", Incoming, re.Match[str]], Awaitable[MockResponse]]


class MockApp:
    def __init__(
        self,
        *,
        api_key: str,
        effects: Sequence[Effects] = (),
        models: Sequence[MockModel] = DEFAULT_MODELS,
    ) -> None:
        self.api_key = api_key
        self.pipeline = Pipeline(effects)
        self.models = {model.id: model for model in models}
        self.responses = ResponseStore()
        self.stored = CompletionStore()

    # --- ASGI --------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        response = await self._respond(scope, receive)
        response = self.pipeline.apply("response", response)
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers],
            }
        )
        if response.frames is None:
            await send({"type": "http.response.body", "body": response.body})
            return
        for frame in response.frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _respond(self, scope: dict[str, Any], receive: Any) -> MockResponse:
        method = scope["method"]
        path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1").partition("?")[0]
        query = scope.get("query_string", b"").decode("latin-1")
        incoming = Incoming(method, path, headers, b"", raw_path, query)
        try:
            incoming.body = await _read_body(receive)
            response = await self._dispatch(incoming)
        except MockError as error:
            response = self._error(error.spec, incoming)
        if response.header("x-request-id") is None:
            response.headers.append(("x-request-id", request_id()))
        response.headers.append(("openai-processing-ms", "1"))
        return response

    def _error(self, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
        return self.pipeline.apply("error", render_error(spec), spec, incoming)

    async def _dispatch(self, incoming: Incoming) -> MockResponse:
        redirect = self.pipeline.first("redirect", incoming)
        if redirect is not None:
            status, location = redirect
            return MockResponse(status, [("location", location), ("content-length", "0")])
        declined = self.pipeline.first("decline_route", incoming)
        if declined is not None:
            raise MockError(declined)
        path = self.pipeline.apply("route_path", incoming.path, incoming).removeprefix(MOVED_PREFIX)
        if not path.startswith("/v1/"):
            raise MockError(unknown_route(incoming.method, incoming.path))
        subpath = path[len("/v1") :]
        matched = [
            (method, handler, match) for method, pattern, handler in ROUTES if (match := pattern.fullmatch(subpath))
        ]
        if not matched:
            raise MockError(unknown_route(incoming.method, incoming.path))
        self._authenticate(incoming)
        for method, handler, match in matched:
            if method == incoming.method:
                return await handler(self, incoming, match)
        raise MockError(wrong_method(incoming.method, incoming.path, sorted({m for m, _, _ in matched})))

    def _authenticate(self, incoming: Incoming) -> None:
        if self.pipeline.no_auth:
            return
        header = self.pipeline.apply("authorization", incoming.headers.get("authorization", ""))
        scheme, _, key = header.partition(" ")
        if not header or scheme.lower() != "bearer" or not key.strip():
            raise MockError(missing_api_key())
        if key.strip() != self.api_key:
            raise MockError(invalid_api_key(key.strip()))

    def _model(self, name: str, capability: str) -> MockModel:
        model = self.models.get(name)
        if model is None:
            raise MockError(model_not_found(name))
        if model.capability != capability:
            what = "a chat" if capability == "chat" else "an embeddings"
            raise MockError(invalid_value("model", f"The model `{name}` is not {what} model.", "model_not_supported"))
        return model

    # --- models ------------------------------------------------------------------------------
    def _model_object(self, model: MockModel) -> dict[str, Any]:
        return {"id": model.id, "object": "model", "created": MODEL_CREATED, "owned_by": model.owner}

    async def list_models(self, incoming: Incoming, match: re.Match[str]) -> MockResponse:
        body = {"object": "list", "data": [self._model_object(m) for m in self.models.values()]}
        return json_response(200, self.pipeline.apply("models", body))

    async def retrieve_model(self, incoming: Incoming, match: re.Match[str]) -> MockResponse:
        name = match.group("model")
        model = self.models.get(name)
        if model is None:
            raise MockError(model_not_found(name))
        return json_response(200, self.pipeline.apply("model", self._model_object(model)))

    async def delete_model(self, incoming: Incoming, match: re.Match[str]) -> MockResponse:
        name = match.group("model")
        model = self.models.get(name)
        if model is None:
            raise MockError(model_not_found(name))
        if not model.deletable:
            raise MockError(permission_denied("You have insufficient permissions to delete this model."))
        del self.models[name]
        return json_response(200, {"id": name, "object": "model", "deleted": True})

    # --- chat completions --------------------------------------------------------------------
    async def chat_completions(self, incoming: Incoming, match: re.Match[str]) -> MockResponse:
        request = parse_chat_request(self.pipeline.apply("request_body", incoming.json()))
        model = self._model(request.model, "chat")
        if model.rate_limited:
            raise MockError(rate_limited())
        prompt = prompt_tokens(request.messages)
        if request.max_tokens is not None and prompt + request.max_tokens > model.context_window:
            raise MockError(context_length_exceeded(model.context_window, prompt, request.max_tokens))
        declined = self.pipeline.first("chat_request", request)
        if declined is not None:
            raise MockError(declined)
        plans = [
            self.pipeline.apply("plan", plan_choice(request, i), request, request.stream) for i in range(request.n)
        ]
        identity = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:24],
            "created": int(time.time()),
            "model": request.model,
            "system_fingerprint": "fp_" + fingerprint(request.model).hex()[:10],
        }
        usage = chat_render.usage(request, plans)
        if request.raw.get("store") is True:  # kept for GET /chat/completions/{id}, streamed or not
            metadata = request.raw.get("metadata") or {}
            self.stored.put(chat_render.completion_body(request, plans, identity, usage), request.messages, metadata)
        if request.stream:
            return self._stream(request, plans, identity, usage)
        body = chat_render.completion_body(request, plans, identity, usage)
        return json_response(200, self.pipeline.apply("completion", body, request))

    def _stream(
        self, request: ChatRequest, plans: list[Plan], identity: dict[str, Any], usage: dict[str, Any]
    ) -> MockResponse:
        chunks = self.pipeline.apply("chunks", chat_render.chunks(request, plans, identity, usage), request)
        frames = [f"data: {json.dumps(chunk, separators=(',', ':'), ensure_ascii=False)}\n\n" for chunk in chunks]
        frames.append("data: [DONE]\n\n")
        frames = self.pipeline.apply("frames", frames, request)
        headers = self.pipeline.apply("stream_headers", [("content-type", SSE_TYPE), ("cache-control", "no-cache")])
        return MockResponse(200, list(headers), frames=[frame.encode() for frame in frames])

    # --- embeddings --------------------------------------------------------------------------
    async def embeddings(self, incoming: Incoming, match: re.Match[str]) -> MockResponse:
        request = parse_embedding_request(incoming.json())
        self._model(request.model, "embeddings")
        declined = self.pipeline.first("embeddings_request", request)
        if declined is not None:
            raise MockError(declined)
        dimensions = request.dimensions or EMBEDDING_DIMENSIONS
        if dimensions > EMBEDDING_DIMENSIONS:
            raise MockError(
                invalid_value(
                    "dimensions", f"This model supports at most {EMBEDDING_DIMENSIONS} dimensions, got {dimensions}."
                )
            )
        data = []
        for index, text in enumerate(request.inputs):
            # shortened vectors are the leading components, renormalised (as OpenAI's are)
            vector = normalised(embedding_vector(text, EMBEDDING_DIMENSIONS)[:dimensions])
            encoded: Any = encode_base64(vector) if request.encoding_format == "base64" else vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(count_tokens(text) for text in request.inputs)
        body = {
            "object": "list",
            "data": data,
            "model": request.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return json_response(200, self.pipeline.apply("embeddings", body, request))


async def _read_body(receive: Any) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise MockError(too_large(MAX_BODY_BYTES))
        if not message.get("more_body"):
            return bytes(body)


ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
    ("GET", re.compile(r"/models"), MockApp.list_models),
    ("GET", re.compile(r"/models/(?P<model>.+)"), MockApp.retrieve_model),
    ("DELETE", re.compile(r"/models/(?P<model>.+)"), MockApp.delete_model),
    ("POST", re.compile(r"/chat/completions"), MockApp.chat_completions),
    ("GET", re.compile(r"/chat/completions"), stored.list_completions),
    ("GET", re.compile(r"/chat/completions/(?P<completion_id>[^/]+)"), stored.retrieve_completion),
    ("POST", re.compile(r"/chat/completions/(?P<completion_id>[^/]+)"), stored.update_completion),
    ("DELETE", re.compile(r"/chat/completions/(?P<completion_id>[^/]+)"), stored.delete_completion),
    ("GET", re.compile(r"/chat/completions/(?P<completion_id>[^/]+)/messages"), stored.list_messages),
    ("POST", re.compile(r"/embeddings"), MockApp.embeddings),
    ("POST", re.compile(r"/completions"), endpoints.completions),
    ("POST", re.compile(r"/responses"), endpoints.create_response),
    ("GET", re.compile(r"/responses/(?P<response_id>[^/]+)"), endpoints.retrieve_response),
    ("POST", re.compile(r"/images/generations"), endpoints.generate_images),
    ("POST", re.compile(r"/audio/transcriptions"), endpoints.transcribe),
    ("POST", re.compile(r"/audio/speech"), endpoints.speech),
    ("GET", re.compile(r"/(?P<kind>batches|files|fine_tuning/jobs|assistants)"), endpoints.listing),
)

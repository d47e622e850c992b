"""The reference mock: OpenAI's API as the pinned SDK expects it, as a plain ASGI app.

Faithful by default: it honours every parameter it accepts, rejects what it does not with the
exact envelope, and derives content from the request so that behaviour checks can be exact.
Named quirks (``conformance.mock.quirks``) switch on real vendors' deviations, one server
instance at a time. This module is the adapter between ASGI and the mock: it reads the request,
routes it through ``mock/routes.py``, authenticates it, and renders errors; the endpoints live in
``mock/handlers/``, what they share in :class:`~conformance.mock.state.MockState`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from conformance.mock.effects import Effects, Pipeline
from conformance.mock.messages import (
    MOVED_PREFIX,
    ErrorSpec,
    Incoming,
    MockError,
    MockResponse,
    invalid_api_key,
    missing_api_key,
    render_error,
    request_id,
    too_large,
    unknown_route,
    wrong_method,
)
from conformance.mock.routes import matching
from conformance.mock.served import DEFAULT_MODELS, MockModel, ModelTable
from conformance.mock.state import MockState

MAX_BODY_BYTES = 8 * 1024 * 1024


class MockApp:
    def __init__(
        self,
        *,
        api_key: str,
        effects: Sequence[Effects] = (),
        models: Sequence[MockModel] = DEFAULT_MODELS,
        seed: int = 0,
        latency_ms: int = 0,
    ) -> None:
        if latency_ms < 0:
            raise ValueError(f"latency_ms must be at least 0, got {latency_ms}")
        self.api_key = api_key
        # seed: where a sampling model's draws come from (model-behaviour quirks); no effect otherwise
        self.state = MockState(ModelTable(models), Pipeline(effects, seed))
        # a fixed wait before every response head, standing in for a real server's time to first
        # byte: a client's concurrency only shows against a server that takes time to answer
        self.latency_ms = latency_ms

    @property
    def models(self) -> ModelTable:
        """The models served, by id: the CLI lists them, a test harness may add one."""
        return self.state.models

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
        response = self.state.pipeline.response(await self._respond(scope, receive))
        if self.latency_ms:
            # asyncio's sleep, not time's: the event loop serves other requests meanwhile, so
            # concurrent requests each take the latency instead of queueing behind one another
            await asyncio.sleep(self.latency_ms / 1000)
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
        return self.state.pipeline.error(render_error(spec), spec, incoming)

    async def _dispatch(self, incoming: Incoming) -> MockResponse:
        pipeline = self.state.pipeline
        redirect = pipeline.redirect(incoming)
        if redirect is not None:
            status, location = redirect
            return MockResponse(status, [("location", location), ("content-length", "0")])
        declined = pipeline.decline_route(incoming)
        if declined is not None:
            raise MockError(declined)
        path = pipeline.route_path(incoming.path, incoming).removeprefix(MOVED_PREFIX)
        if not path.startswith("/v1/"):
            raise MockError(unknown_route(incoming.method, incoming.path))
        matched = matching(path[len("/v1") :])
        if not matched:
            raise MockError(unknown_route(incoming.method, incoming.path))
        # an unknown path is a 404 whoever asks; a known one needs the key, whatever the method
        self._authenticate(incoming)
        for route, match in matched:
            if route.method == incoming.method:
                return await route.handler(self.state, incoming, match)
        raise MockError(wrong_method(incoming.method, incoming.path, sorted({route.method for route, _ in matched})))

    def _authenticate(self, incoming: Incoming) -> None:
        if self.state.pipeline.no_auth:
            return
        header = self.state.pipeline.authorization(incoming.headers.get("authorization", ""))
        scheme, _, key = header.partition(" ")
        if not header or scheme.lower() != "bearer" or not key.strip():
            raise MockError(missing_api_key())
        if key.strip() != self.api_key:
            raise MockError(invalid_api_key(key.strip()))


async def _read_body(receive: Any) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise MockError(too_large(MAX_BODY_BYTES))
        if not message.get("more_body"):
            return bytes(body)

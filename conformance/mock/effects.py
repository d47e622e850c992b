"""The points where a quirk may change what the mock does, and how quirks are composed.

A quirk is data: an ID, a description, a source, the features that must detect it, and an
:class:`Effects` value whose fields are small pure functions at named hook points. The mock's
handlers build the faithful answer and pass it through :class:`Pipeline`; no handler knows
which quirks exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.mock.app import Incoming
    from conformance.mock.chat_request import ChatRequest
    from conformance.mock.generation import Plan
    from conformance.mock.http import ErrorSpec, MockResponse
    from conformance.mock.requests import EmbeddingRequest


@dataclass(frozen=True)
class Effects:
    # answer a request with a redirect: (status, Location) for the incoming request, or None
    redirect: Callable[[Incoming], tuple[int, str] | None] | None = None
    # decline a request before routing (an endpoint the server does not have): an ErrorSpec, or None
    decline_route: Callable[[Incoming], ErrorSpec | None] | None = None
    # the path the router matches (default: percent-decoded, as ASGI gives it)
    route_path: Callable[[str, Incoming], str] | None = None
    # the Authorization header as the key check reads it
    authorization: Callable[[str], str] | None = None
    # every response, last thing before sending
    response: Callable[[MockResponse], MockResponse] | None = None
    # an OpenAI error the mock is about to send (default rendering already applied), and the request
    error: Callable[[MockResponse, ErrorSpec, Incoming], MockResponse] | None = None
    # skip authentication altogether
    no_auth: bool = False
    # chat: the raw JSON body, before validation (a server that rewrites or drops fields)
    request_body: Callable[[Any], Any] | None = None
    # chat: decline a request up front (an ErrorSpec), or let it through (None)
    chat_request: Callable[[ChatRequest], ErrorSpec | None] | None = None
    # what the model "generates" for one choice; streaming says which path asks
    plan: Callable[[Plan, ChatRequest, bool], Plan] | None = None
    # a non-streamed chat completion body
    completion: Callable[[dict[str, Any], ChatRequest], dict[str, Any]] | None = None
    # the chunk objects of a streamed chat completion, in order
    chunks: Callable[[list[dict[str, Any]], ChatRequest], list[dict[str, Any]]] | None = None
    # the rendered SSE frames (text), the [DONE] frame included
    frames: Callable[[list[str], ChatRequest], list[str]] | None = None
    # headers of a streamed response
    stream_headers: Callable[[list[tuple[str, str]]], list[tuple[str, str]]] | None = None
    # GET /models body and GET /models/{id} body
    models: Callable[[dict[str, Any]], Any] | None = None
    model: Callable[[dict[str, Any]], Any] | None = None
    # embeddings: decline a request up front, or change the body
    embeddings_request: Callable[[EmbeddingRequest], ErrorSpec | None] | None = None
    embeddings: Callable[[dict[str, Any], EmbeddingRequest], dict[str, Any]] | None = None


class Pipeline:
    """The active quirks' effects, applied in the order the quirks were given."""

    def __init__(self, effects: Sequence[Effects]) -> None:
        self._effects = tuple(effects)
        self.no_auth = any(e.no_auth for e in self._effects)

    def apply(self, hook: str, value: Any, *context: Any) -> Any:
        for effects in self._effects:
            function = getattr(effects, hook)
            if function is not None:
                value = function(value, *context)
        return value

    def first(self, hook: str, *context: Any) -> Any:
        """For decision hooks: the first non-None answer."""
        for effects in self._effects:
            function = getattr(effects, hook)
            if function is not None:
                answer = function(*context)
                if answer is not None:
                    return answer
        return None

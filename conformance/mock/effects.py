"""The points where a quirk may change what the mock does, and how quirks are composed.

A quirk is data: an ID, a description, a source, the features that must detect it, and an
:class:`Effects` value whose fields are small pure functions at named hook points. The mock's
handlers build the faithful answer and pass it through :class:`Pipeline`, one typed method per
hook, so mypy checks both the hook's name and what is passed through it; no handler knows which
quirks exist. Depends on the mock's vocabulary and its request types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from conformance.mock.chat.generation import Plan, Sampler, Sampling, sample_choice
from conformance.mock.chat.request import ChatRequest
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse
from conformance.mock.validation import EmbeddingRequest

Chunks = list[dict[str, Any]]
Headers = list[tuple[str, str]]
Hook = TypeVar("Hook")


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
    # what a sampling model chooses (mock/quirks/model_behaviour.py): knobs of chat/generation.py's
    # Sampling; with any turned, each choice is the model's own draw, before the plan hooks apply
    sampling: Sampling | None = None
    # what the model "generates" for one choice; streaming says which path asks
    plan: Callable[[Plan, ChatRequest, bool], Plan] | None = None
    # Responses (POST /responses and its siblings): the raw JSON body, before validation
    responses_body: Callable[[Any], Any] | None = None
    # Responses: the finished Response (before it is kept, sent or streamed), and the raw request body
    responses_answer: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    # Responses: the events of a streamed Response, in order
    responses_events: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    # Responses: the rendered SSE frames of a streamed Response
    responses_frames: Callable[[list[bytes]], list[bytes]] | None = None
    # Responses: whether POST /responses is answered as a stream, from what the request asked and its raw body
    responses_streams: Callable[[bool, dict[str, Any]], bool] | None = None
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
    # images, speech and moderations: the raw JSON body (by path), before validation
    media_body: Callable[[str, Any], Any] | None = None
    # transcriptions and translations: the multipart fields (name -> (filename, content)), before validation
    audio_form: Callable[[dict[str, tuple[str | None, bytes]]], dict[str, tuple[str | None, bytes]]] | None = None
    # POST /images/generations: the ImagesResponse body, and the raw request body
    images: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    # the audio routes: the finished answer (a transcription, a translation, speech), and the request
    audio: Callable[[MockResponse, Incoming], MockResponse] | None = None
    # POST /moderations: the ModerationCreateResponse body, and the raw request body
    moderations: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    # the Files API (mock/handlers/files.py): each answer, by operation ("upload", "retrieve", "delete",
    # "list": the whole page)
    files_answer: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    # GET /files/{id}/content: the bytes sent, and the file's purpose
    file_content: Callable[[bytes, str], bytes] | None = None
    # the Batch API (mock/handlers/batches.py): each answer, by operation ("create", "retrieve", "cancel",
    # "list": the whole page)
    batch_answer: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    # whether a polled batch runs (any False: it stays in_progress), from the Batch object
    batch_runs: Callable[[dict[str, Any]], bool] | None = None
    # a line of a batch's result file ("output" or "error"): changed, or dropped (None)
    batch_line: Callable[[str, dict[str, Any]], dict[str, Any] | None] | None = None


class Pipeline:
    """The active quirks' effects, applied in the order the quirks were given.

    A transforming hook passes its value through every quirk that sets it; a deciding hook
    (redirect, decline_route, chat_request, embeddings_request) takes the first answer that is not
    None. The model's knobs (``sampling``) are merged; ``seed`` seeds the model's draws.
    """

    def __init__(self, effects: Sequence[Effects], seed: int = 0) -> None:
        self._effects = tuple(effects)
        self.no_auth = any(e.no_auth for e in self._effects)
        # the model's knobs, merged in order (None: the reference mock's deterministic answers), and
        # the random source the mock's seed gives them
        self.sampling: Sampling | None = None
        for sampling in self._hooks(lambda e: e.sampling):
            self.sampling = (self.sampling or Sampling()).merged(sampling)
        self.sampler = Sampler(seed)

    def _hooks(self, hook: Callable[[Effects], Hook | None]) -> list[Hook]:
        return [function for effects in self._effects if (function := hook(effects)) is not None]

    # --- routing and the wire: mock/app.py ----------------------------------------------------
    def redirect(self, incoming: Incoming) -> tuple[int, str] | None:
        for function in self._hooks(lambda e: e.redirect):
            if (answer := function(incoming)) is not None:
                return answer
        return None

    def decline_route(self, incoming: Incoming) -> ErrorSpec | None:
        for function in self._hooks(lambda e: e.decline_route):
            if (answer := function(incoming)) is not None:
                return answer
        return None

    def route_path(self, path: str, incoming: Incoming) -> str:
        for function in self._hooks(lambda e: e.route_path):
            path = function(path, incoming)
        return path

    def authorization(self, header: str) -> str:
        for function in self._hooks(lambda e: e.authorization):
            header = function(header)
        return header

    def response(self, response: MockResponse) -> MockResponse:
        for function in self._hooks(lambda e: e.response):
            response = function(response)
        return response

    def error(self, response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
        for function in self._hooks(lambda e: e.error):
            response = function(response, spec, incoming)
        return response

    # --- chat completions: mock/handlers/chat.py ----------------------------------------------
    def request_body(self, body: Any) -> Any:
        for function in self._hooks(lambda e: e.request_body):
            body = function(body)
        return body

    def chat_request(self, request: ChatRequest) -> ErrorSpec | None:
        for function in self._hooks(lambda e: e.chat_request):
            if (answer := function(request)) is not None:
                return answer
        return None

    def model_choice(self, plan: Plan, request: ChatRequest) -> Plan:
        """The model's own answer: the reference plan, or a sampling model's draw in its place. No
        quirk's plan hook applies: the Responses API asks for this (chat's quirks stay chat's)."""
        if self.sampling is None:
            return plan
        draw = self.sampler.draw(request, plan.choice, self.sampling.varies)
        return sample_choice(request, plan.choice, self.sampling, draw)

    def plan(self, plan: Plan, request: ChatRequest, streaming: bool) -> Plan:
        plan = self.model_choice(plan, request)
        for function in self._hooks(lambda e: e.plan):
            plan = function(plan, request, streaming)
        return plan

    def completion(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        for function in self._hooks(lambda e: e.completion):
            body = function(body, request)
        return body

    def chunks(self, chunks: Chunks, request: ChatRequest) -> Chunks:
        for function in self._hooks(lambda e: e.chunks):
            chunks = function(chunks, request)
        return chunks

    def frames(self, frames: list[str], request: ChatRequest) -> list[str]:
        for function in self._hooks(lambda e: e.frames):
            frames = function(frames, request)
        return frames

    def stream_headers(self, headers: Headers) -> Headers:
        for function in self._hooks(lambda e: e.stream_headers):
            headers = function(headers)
        return headers

    # --- Responses: mock/handlers/responses.py ------------------------------------------------
    def responses_body(self, body: Any) -> Any:
        for function in self._hooks(lambda e: e.responses_body):
            body = function(body)
        return body

    def responses_answer(self, final: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        for function in self._hooks(lambda e: e.responses_answer):
            final = function(final, raw)
        return final

    def responses_events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for function in self._hooks(lambda e: e.responses_events):
            events = function(events)
        return events

    def responses_frames(self, frames: list[bytes]) -> list[bytes]:
        for function in self._hooks(lambda e: e.responses_frames):
            frames = function(frames)
        return frames

    def responses_streams(self, asked: bool, raw: dict[str, Any]) -> bool:
        for function in self._hooks(lambda e: e.responses_streams):
            asked = function(asked, raw)
        return asked

    # --- models: mock/handlers/models.py ------------------------------------------------------
    def models(self, body: dict[str, Any]) -> Any:
        for function in self._hooks(lambda e: e.models):
            body = function(body)
        return body

    def model(self, body: dict[str, Any]) -> Any:
        for function in self._hooks(lambda e: e.model):
            body = function(body)
        return body

    # --- embeddings: mock/handlers/embeddings.py ----------------------------------------------
    def embeddings_request(self, request: EmbeddingRequest) -> ErrorSpec | None:
        for function in self._hooks(lambda e: e.embeddings_request):
            if (answer := function(request)) is not None:
                return answer
        return None

    def embeddings(self, body: dict[str, Any], request: EmbeddingRequest) -> dict[str, Any]:
        for function in self._hooks(lambda e: e.embeddings):
            body = function(body, request)
        return body

    # --- images, audio, moderations: mock/handlers/{images,audio,moderations}.py -------------------
    def media_body(self, path: str, body: Any) -> Any:
        for function in self._hooks(lambda e: e.media_body):
            body = function(path, body)
        return body

    def audio_form(self, fields: dict[str, tuple[str | None, bytes]]) -> dict[str, tuple[str | None, bytes]]:
        for function in self._hooks(lambda e: e.audio_form):
            fields = function(fields)
        return fields

    def images(self, body: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        for function in self._hooks(lambda e: e.images):
            body = function(body, raw)
        return body

    def audio(self, response: MockResponse, incoming: Incoming) -> MockResponse:
        for function in self._hooks(lambda e: e.audio):
            response = function(response, incoming)
        return response

    def moderations(self, body: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        for function in self._hooks(lambda e: e.moderations):
            body = function(body, raw)
        return body

    # --- files and batches: mock/handlers/{files,batches}.py ----------------------------------------
    def files_answer(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        for function in self._hooks(lambda e: e.files_answer):
            body = function(operation, body)
        return body

    def file_content(self, content: bytes, purpose: str) -> bytes:
        for function in self._hooks(lambda e: e.file_content):
            content = function(content, purpose)
        return content

    def batch_answer(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        for function in self._hooks(lambda e: e.batch_answer):
            body = function(operation, body)
        return body

    def batch_runs(self, batch: dict[str, Any]) -> bool:
        return all(function(batch) for function in self._hooks(lambda e: e.batch_runs))

    def batch_line(self, kind: str, line: dict[str, Any]) -> dict[str, Any] | None:
        kept: dict[str, Any] | None = line
        for function in self._hooks(lambda e: e.batch_line):
            if kept is None:
                return None
            kept = function(kind, kept)
        return kept

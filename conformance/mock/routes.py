"""The mock's one route table: method, path pattern (under /v1) and handler, every handler of one shape.

A new endpoint is a handler module under ``mock/handlers/`` and a line here. Paths are matched whole;
named groups reach the handler as ``match``. Several routes may share a pattern with different
methods, and the app answers 405 with ``Allow`` when the path matches but the method does not.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from conformance.mock.handlers import (
    audio,
    batches,
    chat,
    completions,
    embeddings,
    files,
    images,
    listing,
    models,
    moderations,
    responses,
    stored,
)
from conformance.mock.messages import Incoming, MockResponse
from conformance.mock.state import MockState

Handler = Callable[[MockState, Incoming, re.Match[str]], Awaitable[MockResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # a regular expression, matched against the whole path after /v1
    handler: Handler
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", re.compile(self.path))


ROUTES: tuple[Route, ...] = (
    Route("GET", r"/models", models.list_models),
    Route("GET", r"/models/(?P<model>.+)", models.retrieve),
    Route("DELETE", r"/models/(?P<model>.+)", models.delete),
    Route("POST", r"/chat/completions", chat.create),
    Route("GET", r"/chat/completions", stored.list_completions),
    Route("GET", r"/chat/completions/(?P<completion_id>[^/]+)", stored.retrieve),
    Route("POST", r"/chat/completions/(?P<completion_id>[^/]+)", stored.update),
    Route("DELETE", r"/chat/completions/(?P<completion_id>[^/]+)", stored.delete),
    Route("GET", r"/chat/completions/(?P<completion_id>[^/]+)/messages", stored.list_messages),
    Route("POST", r"/embeddings", embeddings.create),
    Route("POST", r"/completions", completions.create),
    Route("POST", r"/responses", responses.create),
    Route("POST", r"/responses/input_tokens", responses.count_input_tokens),
    Route("POST", r"/responses/compact", responses.compact),
    Route("GET", r"/responses/(?P<response_id>[^/]+)", responses.retrieve),
    Route("DELETE", r"/responses/(?P<response_id>[^/]+)", responses.delete),
    Route("POST", r"/responses/(?P<response_id>[^/]+)/cancel", responses.cancel),
    Route("GET", r"/responses/(?P<response_id>[^/]+)/input_items", responses.list_input_items),
    Route("POST", r"/images/generations", images.generate),
    Route("POST", r"/audio/transcriptions", audio.transcribe),
    Route("POST", r"/audio/translations", audio.translate),
    Route("POST", r"/audio/speech", audio.speech),
    Route("POST", r"/moderations", moderations.create),
    Route("POST", r"/files", files.upload),
    Route("GET", r"/files", files.list_files),
    Route("GET", r"/files/(?P<file_id>[^/]+)", files.retrieve),
    Route("DELETE", r"/files/(?P<file_id>[^/]+)", files.delete),
    Route("GET", r"/files/(?P<file_id>[^/]+)/content", files.content),
    Route("POST", r"/batches", batches.create),
    Route("GET", r"/batches", batches.list_batches),
    Route("GET", r"/batches/(?P<batch_id>[^/]+)", batches.retrieve),
    Route("POST", r"/batches/(?P<batch_id>[^/]+)/cancel", batches.cancel),
    Route("GET", r"/(?P<kind>fine_tuning/jobs|assistants)", listing.list_objects),
)


def matching(path: str) -> list[tuple[Route, re.Match[str]]]:
    """The routes whose pattern matches ``path`` (after /v1), whatever their method, in table order."""
    return [(route, match) for route in ROUTES if (match := route.pattern.fullmatch(path))]

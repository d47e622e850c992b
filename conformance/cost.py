"""What a run asks the target to generate: the completion tokens behind its accepted requests.

A full run against a paid endpoint must cost cents, so ``results.json`` reports what the run
asked for. Reading that off a request is OpenAI semantics (``max_tokens``,
``max_completion_tokens``, ``n``, ``messages`` or ``prompt`` on the two completion routes), so it
lives here, in an observer of the recorder, and not in the transport. The impossible limit that
``errors.oversized`` sends is defined here too: the meter must know it is a probe, not a cost.

Depends on ``wire`` only.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from conformance.wire import RecordedExchange

# No model generates this many tokens in one reply: errors.oversized sends it and expects a 400.
# A limit this large is a probe meant to be refused; accepted, it costs what the server generates.
IMPOSSIBLE_MAX_TOKENS = 1_000_000_000

GENERATING_ROUTES = ("/chat/completions", "/completions")


class CostMeter:
    """Counts, over a run, the completion tokens requested and the generations left unbounded.

    Pass :meth:`answered` to the :class:`~conformance.wire.Recorder` as an observer.
    """

    def __init__(self) -> None:
        self.completion_tokens_requested = 0
        self.unbounded_generation_requests = 0

    def answered(self, exchange: RecordedExchange) -> None:
        # only an accepted request generates: a limit the server refuses costs nothing
        if exchange.status is None or not 200 <= exchange.status < 300 or exchange.method != "POST":
            return
        if not urlsplit(exchange.url).path.rstrip("/").endswith(GENERATING_ROUTES):
            return
        try:
            body = json.loads(exchange.request_body or b"null")
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        n = body["n"] if isinstance(body.get("n"), int) else 1
        if isinstance(limit, int) and limit >= IMPOSSIBLE_MAX_TOKENS:
            return
        if isinstance(limit, int) and limit > 0:
            self.completion_tokens_requested += limit * max(n, 1)
        elif "messages" in body or "prompt" in body:
            self.unbounded_generation_requests += 1

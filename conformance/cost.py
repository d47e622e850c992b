"""What a run asks the target to generate: the completion tokens behind its accepted requests.

A full run against a paid endpoint must cost cents, so ``results.json`` reports what the run
asked for. Reading that off a request is OpenAI semantics (``max_tokens``,
``max_completion_tokens``, ``n``, ``messages`` or ``prompt`` on the two completion routes), so it
lives here, in an observer of the recorder, and not in the transport. The impossible limit that
``errors.oversized`` sends is defined here too: the meter must know it is a probe, not a cost.

It also keeps a run within a budget (``--max-requests``, ``--max-completion-tokens``): the
:class:`Budget` is a guard of the recorder, asked before each request leaves, and refuses one that
would go over (a :class:`~conformance.wire.TransportFailure` of kind ``budget``: never sent). What a
feature plans to spend is measured, not modelled: the same run against the reference mock
(``cli.py``: ``conformance plan``), counted by the same meter.

Depends on ``wire`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.wire import RecordedExchange, TransportFailure

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
        if exchange.status is None or not 200 <= exchange.status < 300:
            return
        tokens = completion_tokens(exchange)
        if tokens is None:
            self.unbounded_generation_requests += 1
        else:
            self.completion_tokens_requested += tokens


def completion_tokens(exchange: RecordedExchange) -> int | None:
    """The completion tokens ``exchange``'s request asks for (its limit x ``n``); ``None`` for a
    generation it leaves unbounded; 0 for a request that generates nothing (or a probe's impossible limit)."""
    if exchange.method != "POST" or not urlsplit(exchange.url).path.rstrip("/").endswith(GENERATING_ROUTES):
        return 0
    try:
        body = json.loads(exchange.request_body or b"null")
    except ValueError:
        return 0
    if not isinstance(body, dict):
        return 0
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    n = body["n"] if isinstance(body.get("n"), int) else 1
    if isinstance(limit, int) and limit >= IMPOSSIBLE_MAX_TOKENS:
        return 0
    if isinstance(limit, int) and limit > 0:
        return limit * max(n, 1)
    return None if ("messages" in body or "prompt" in body) else 0


@dataclass(frozen=True)
class Spend:
    """Requests sent and completion tokens requested (accepted requests only, as the meter counts)."""

    requests: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.requests + other.requests, self.completion_tokens + other.completion_tokens)

    def __sub__(self, other: Spend) -> Spend:
        return Spend(self.requests - other.requests, self.completion_tokens - other.completion_tokens)

    def to_json(self) -> dict[str, int]:
        return {"requests": self.requests, "completion_tokens": self.completion_tokens}


def spend_of(exchanges: list[RecordedExchange]) -> Spend:
    """What these exchanges spent, counted as the meter counts (tokens of accepted requests only)."""
    tokens = sum(completion_tokens(e) or 0 for e in exchanges if e.status is not None and 200 <= e.status < 300)
    return Spend(len(exchanges), tokens)


class Budget:
    """At most ``max_requests`` sends and ``max_completion_tokens`` requested in a run (``None``: no limit).

    :meth:`admit` is a guard of the recorder: it sees each request before it leaves and refuses one
    that would go over, so no server, however many trials it provokes, can push a run past the budget.
    """

    def __init__(self, meter: CostMeter, max_requests: int | None = None, max_completion_tokens: int | None = None):
        self.meter = meter
        self.max_requests = max_requests
        self.max_completion_tokens = max_completion_tokens
        self.requests = 0  # sends admitted (the recorder counts the same: the guard is there from the start)
        self.refusals = 0  # requests refused (never sent)
        self.last_refusal = ""

    @property
    def spent(self) -> Spend:
        return Spend(self.requests, self.meter.completion_tokens_requested)

    def shortfall(self, planned: Spend) -> str | None:
        """Why ``planned`` more would exceed the budget (the reason a feature is skipped), or ``None``."""
        spent = self.spent
        if self.max_requests is not None and spent.requests + planned.requests > self.max_requests:
            left = self.max_requests - spent.requests
            return (
                f"skipped: the budget (--max-requests {self.max_requests}) would be exceeded: "
                f"this feature plans {planned.requests} requests, {left} remain"
            )
        if (
            self.max_completion_tokens is not None
            and spent.completion_tokens + planned.completion_tokens > self.max_completion_tokens
        ):
            left = self.max_completion_tokens - spent.completion_tokens
            return (
                f"skipped: the budget (--max-completion-tokens {self.max_completion_tokens}) would be exceeded: "
                f"this feature plans {planned.completion_tokens} completion tokens, {left} remain"
            )
        return None

    def admit(self, exchange: RecordedExchange) -> None:
        """The recorder's guard: raise (the request is not sent) if sending ``exchange`` would go over."""
        tokens = completion_tokens(exchange) or 0
        spent = self.spent
        over = ""
        if self.max_requests is not None and spent.requests + 1 > self.max_requests:
            over = f"--max-requests {self.max_requests}: {spent.requests} sent"
        elif self.max_completion_tokens is not None and spent.completion_tokens + tokens > self.max_completion_tokens:
            over = (
                f"--max-completion-tokens {self.max_completion_tokens}: {spent.completion_tokens} requested, "
                f"this request asks for {tokens}"
            )
        if over:
            self.refusals += 1
            self.last_refusal = f"the budget ({over}) would be exceeded"
            raise TransportFailure(BUDGET_FAILURE, f"not sent: {self.last_refusal}")
        self.requests += 1


# The kind of TransportFailure a refused request raises: the engine makes it a skip, never a verdict.
BUDGET_FAILURE = "budget"

"""How long a run, and each of its requests, may take; when a target is stalling; how many features
may run at once.

A run must be fast where the server is fine and finite where it is not. Three things bound it:

- **Each request** gets a total time sized to what it asks for (:func:`request_time_limit`): a
  5-token reply needs no minute. The capturing transport enforces it over the response head and
  body together (``wire/transport.py``); reaching it is the server's ``too_slow``.
- **The run** has a deadline (``--deadline``): every request's limit is clipped to it, and reaching
  it is the run's ``deadline``, which decides nothing (a verdict never comes from our own budget).
- **A stalling target** is recognised (:class:`StallWatch`): when features keep ending on a silent or
  endless response and none of their requests has completed for a while, the features left end as
  ``error`` with that cause within seconds, not after N x the per-request limit.

:class:`Throttle` is the scheduler's concurrency: the user's ``-j`` to start with, halved when the
server answers 429 (and paused for its ``Retry-After``) or when a request times out while others
were in flight (a server that queues requests must not be judged on our concurrency).

Depends on ``cost`` and ``wire``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from conformance.cost import completion_tokens
from conformance.target import Timeouts
from conformance.wire import TIME_FAILURES, Backoff, RecordedExchange, Recorder, TimeLimit

# `conformance run -j`'s default: few enough to be polite to a vendor's endpoint, enough that a run
# against a server taking 300 ms per request lasts about as long as its longest chain of dependent
# requests (bench/concurrency.py measures it; the README gives the figure).
DEFAULT_CONCURRENCY = 24
# `conformance run --deadline`'s default: a full run at 3 s per request, one request at a time, fits.
DEFAULT_DEADLINE_S = 600.0

# A request may take the read timeout (the longest silence we accept before a first byte) plus this
# much per completion token it asks for: 5 tokens/s is slower than any server a vendor ships, and a
# generation it leaves unbounded gets the whole ``Timeouts.total``.
SECONDS_PER_TOKEN = 0.2

# A target is stalling when this many features in a row ended on a time failure (silence, no
# response, a response that never ended) and none of the features' requests completed meanwhile.
STALL_FEATURES = 3


# Each feature's chain against the reference mock (requests one after another, the shared ones it
# needs included): the scheduler starts the longest first, so that the run ends with its longest
# chain rather than with one started last. Measured, not guessed: scripts/measure_chains.py writes
# it, and tests/test_run_bounds.py fails when a run against the mock measures other chains.
CHAINS_FILE = Path(__file__).with_name("chains.json")


@cache
def measured_chains() -> dict[str, int]:
    """Feature ID -> its chain of requests against the reference mock (1 for a feature not listed)."""
    try:
        loaded = json.loads(CHAINS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # only the order of starts suffers, never a verdict
    return {str(k): int(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def request_time_limit(exchange: RecordedExchange, timeouts: Timeouts, deadline: float | None) -> TimeLimit:
    """The most ``exchange``'s response may take: sized to the completion tokens it asks for, within
    ``timeouts.total``, and never past the run's ``deadline`` (a ``time.monotonic()`` instant)."""
    tokens = completion_tokens(exchange)
    sized = math.inf if tokens is None else timeouts.read + SECONDS_PER_TOKEN * tokens
    if sized < timeouts.total:
        limit = TimeLimit(sized, "too_slow", f"sized to {tokens} completion tokens")
    else:
        limit = TimeLimit(timeouts.total, "too_slow", "the longest any response may take")
    if deadline is not None:
        left = deadline - time.monotonic()
        if left < limit.seconds:
            return TimeLimit(max(left, 0.0), "deadline", "the run's deadline")
    return limit


def timed_out(exchanges: list[RecordedExchange]) -> bool:
    """Did one of these requests end on a time failure (silence, nothing, or never ending)?"""
    return any(e.failure is not None and e.failure.kind in TIME_FAILURES and not e.resent for e in exchanges)


def timed_out_under_load(exchanges: list[RecordedExchange], recorder: Recorder) -> bool:
    """Did one of these requests time out in a way our own concurrency may explain? A request
    that got no answer while the server answered requests sent after it was not queued behind
    them: that silence is the server's, whatever else was in flight."""
    return any(
        e.failure is not None
        and e.failure.kind in TIME_FAILURES
        and not e.resent
        and not (e.failure.kind == "no_response" and recorder.overtaken(e))
        for e in exchanges
    )


def failed_under_load(exchanges: list[RecordedExchange], recorder: Recorder) -> str:
    """What our own concurrency may explain among these requests' failures ("" if nothing): a
    timeout (:func:`timed_out_under_load`), or a response broken off or reset. Some servers drop a
    response when another request arrives (llama-cpp-python interrupts the one in flight by
    default): against such a server a feature is judged alone, and the breakage is noted."""
    for e in exchanges:
        if e.failure is None or e.resent:
            continue
        if e.failure.kind == "protocol" or timed_out_under_load([e], recorder):
            return f"{e.failure.kind}: {e.failure.detail}"
    return ""


def completed(exchanges: list[RecordedExchange]) -> bool:
    """Did one of these requests get a whole response, without a transport failure?"""
    return any(e.status is not None and e.failure is None and e.elapsed is not None for e in exchanges)


class StallWatch:
    """Recognises a target that stalls again and again, from the features as they end.

    A queueing server under concurrency times some requests out but completes others in between;
    a stalled or dripping one completes none. So: :data:`STALL_FEATURES` features in a row that timed
    out, with no feature request completed in the last ``quiet_s`` seconds.
    """

    def __init__(self, quiet_s: float, clock: Callable[[], float] = time.monotonic, since: float | None = None) -> None:
        """``since``: when the quiet may have begun (the run's start, preflight included)."""
        self.quiet_s = quiet_s
        self.clock = clock
        self.in_a_row: list[str] = []
        self.last_completed = clock() if since is None else since
        self.cause = ""

    def ended(self, feature_id: str, exchanges: list[RecordedExchange]) -> str:
        """A feature ended with these exchanges of its own; the cause once the target is stalling, else "".

        A feature that sent nothing (it was skipped, or judged a shared request another one sent)
        says nothing about the target: it neither breaks a row of timeouts nor adds to it."""
        if not exchanges:
            return self.cause
        if completed(exchanges):
            self.last_completed = self.clock()
        if not timed_out(exchanges):
            self.in_a_row.clear()
            return self.cause
        self.in_a_row.append(feature_id)
        quiet = self.clock() - self.last_completed
        if not self.cause and len(self.in_a_row) >= STALL_FEATURES and quiet >= self.quiet_s:
            kinds = sorted(
                {e.failure.kind for e in exchanges if e.failure is not None and e.failure.kind in TIME_FAILURES}
            )
            self.cause = (
                f"the target is stalling: {len(self.in_a_row)} features in a row ended on a response that "
                f"timed out ({', '.join(kinds)}: {', '.join(self.in_a_row[-STALL_FEATURES:])}), and no request "
                f"completed in the last {quiet:.0f} s"
            )
        return self.cause


@dataclass
class ThrottleEvent:
    """One time the scheduler lowered its concurrency, and why (results.json ``schedule.throttled``)."""

    at_s: float
    concurrency: int
    why: str


class Throttle:
    """How many features may be in flight: ``-j`` at first, halved on a 429 or a timeout under load.

    :meth:`backed_off` is a throttle of the recorder (the transport waited out a 429): the limit
    halves and no feature starts before the server's ``Retry-After`` has passed.
    """

    def __init__(self, concurrency: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.asked = max(1, concurrency)
        self.limit = self.asked
        self.clock = clock
        self.started = clock()
        self.events: list[ThrottleEvent] = []
        self.resume_at = -math.inf
        self._lock = threading.Lock()

    def halve(self, why: str) -> None:
        with self._lock:
            if self.limit > 1:
                self.limit = max(1, self.limit // 2)
                self.events.append(ThrottleEvent(round(self.clock() - self.started, 3), self.limit, why))

    def backed_off(self, backoff: Backoff) -> None:
        self.halve(f"429 from {backoff.url}: waited {backoff.waited_s:g} s ({backoff.source})")
        with self._lock:
            self.resume_at = max(self.resume_at, self.clock() + backoff.waited_s)

    def may_start(self, in_flight: int) -> bool:
        return in_flight < self.limit and self.clock() >= self.resume_at

    def lowest(self) -> int:
        return min([self.asked, *(event.concurrency for event in self.events)])

"""The run log: every exchange of a run, and those of the check in flight.

The capturing transport files each exchange here. Features that judge the whole run (every
429, every redirect) read it through ``context.Observed``, a read-only view; the engine reads its
counters and turns a check's exchanges into evidence.

Depends on ``wire.exchange`` only.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from conformance.wire.exchange import RecordedExchange, TimeLimit, TransportFailure

# The exchanges of the check in flight on this thread (checks may run concurrently: engine.py).
_SCOPE: contextvars.ContextVar[list[RecordedExchange] | None] = contextvars.ContextVar(
    "conformance_scope", default=None
)


@dataclass
class Backoff:
    url: str
    status: int
    waited_s: float
    source: str  # which header decided the wait, or "default"


class Recorder:
    """Collects exchanges: all of a run (counters, what run-wide features judge) and those of the
    current check (evidence).

    ``observers`` are shown every exchange whose response head arrived (the engine's cost meter);
    ``guards`` every request about to leave, and may refuse it by raising (the run's budget): a
    refused request is neither sent nor recorded; ``throttles`` every back-off the transport made on
    a 429 (the engine's scheduler lowers its concurrency); ``time_limits`` gives each request the
    most its response may take (``bounds.py``: sized to what it asks for, within the run's deadline).
    Exchanges are the recorder's: the transport fills them in, and anyone else adds to one only
    through :meth:`note`.

    Checks may run on several threads at once: the scope of the check in flight is per thread (a
    context variable), and counters, lists, observers and guards are updated under one lock.
    """

    def __init__(
        self,
        observers: Iterable[Callable[[RecordedExchange], None]] = (),
        guards: Iterable[Callable[[RecordedExchange], None]] = (),
        *,
        throttles: Iterable[Callable[[Backoff], None]] = (),
        time_limits: Callable[[RecordedExchange], TimeLimit] | None = None,
    ) -> None:
        self.requests = 0
        self.backoffs: list[Backoff] = []
        # every 429 and every redirect the run met, whoever sent the request (features judge them)
        self.rate_limit_responses: list[RecordedExchange] = []
        self.redirects: list[RecordedExchange] = []
        self.key_withheld: list[str] = []  # origins a request went to without the key it carried
        # first sends a reused keep-alive connection lost before any byte of an answer; each was sent
        # again on a fresh connection, and both sends count in ``requests``
        self.resends: list[RecordedExchange] = []
        self._observers = tuple(observers)
        self._guards = tuple(guards)
        self._throttles = tuple(throttles)
        self._time_limits = time_limits
        self._lock = threading.RLock()
        self.last: RecordedExchange | None = None
        # (sent, head arrived) of the latest responses: did the server answer later requests while an
        # earlier one waited? (``overtaken``: a timeout under our load, or the server's own)
        self._heads: deque[tuple[float, float]] = deque(maxlen=4096)

    @property
    def scope(self) -> list[RecordedExchange]:
        """Exchanges of the check in flight on this thread (empty outside a check)."""
        return _SCOPE.get() or []

    def begin_scope(self) -> list[RecordedExchange]:
        scope: list[RecordedExchange] = []
        _SCOPE.set(scope)
        return scope

    def end_scope(self) -> None:
        _SCOPE.set(None)

    def time_limit(self, exchange: RecordedExchange) -> TimeLimit:
        """The most ``exchange``'s response may take (no limit of the run's own without ``time_limits``)."""
        return self._time_limits(exchange) if self._time_limits is not None else TimeLimit()

    def record(self, exchange: RecordedExchange) -> None:
        """A request is leaving: every send counts, a re-sent one's first send and a 429's retries included.

        A guard may refuse it first (raising): then it is not sent, and not counted.
        """
        with self._lock:
            for guard in self._guards:
                guard(exchange)
            self.requests += 1
            self.last = exchange
        scope = _SCOPE.get()
        if scope is not None:
            scope.append(exchange)

    def answered(self, exchange: RecordedExchange) -> None:
        """The response head arrived: file it where features look for it, show it to the observers."""
        assert exchange.status is not None
        with self._lock:
            self._heads.append((exchange.started, time.monotonic()))
            if exchange.status == 429:
                self.rate_limit_responses.append(exchange)
            elif 300 <= exchange.status < 400:
                self.redirects.append(exchange)
            for observe in self._observers:
                observe(exchange)

    def overtaken(self, exchange: RecordedExchange) -> bool:
        """Did the server answer a request sent after ``exchange`` while ``exchange`` waited for its
        own answer? Then it was serving others, not queueing them behind this one."""
        with self._lock:
            heads = list(self._heads)
        waited_until = exchange.started + exchange.elapsed if exchange.elapsed is not None else time.monotonic()
        return any(sent > exchange.started and arrived <= waited_until for sent, arrived in heads)

    def backed_off(self, backoff: Backoff) -> None:
        """The transport waited out a 429 before retrying: log it, and tell the throttles."""
        with self._lock:
            self.backoffs.append(backoff)
        for throttle in self._throttles:
            throttle(backoff)

    def note(self, exchange: RecordedExchange, text: str) -> None:
        """File a note on an exchange (what the harness did with it, or why it was sent): the evidence shows it."""
        exchange.note = f"{exchange.note}; {text}" if exchange.note else text

    def resend(self, exchange: RecordedExchange, text: str) -> None:
        """The transport sends ``exchange``'s request again on a fresh connection: this send judges nothing."""
        exchange.resent = True
        with self._lock:
            self.resends.append(exchange)
        self.note(exchange, text)

    def withheld_key(self, exchange: RecordedExchange, destination: str) -> None:
        """The transport kept the API key off a request bound for ``destination``, another origin."""
        with self._lock:
            self.key_withheld.append(destination)
        self.note(exchange, f"the API key was withheld from {destination} (another origin than the target's)")


def transport_failure_in(exc: BaseException, recorder: Recorder) -> TransportFailure | None:
    """The transport failure behind an exception raised by the SDK or the raw client, if any.

    The SDK wraps transport errors (3.x) or lets them escape (1.x); either way the capturing
    transport has written the failure onto the exchange, which is what we trust.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TransportFailure):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    for exchange in reversed(recorder.scope):
        if exchange.failure is not None and not exchange.resent:
            return exchange.failure
    return None

"""The run log: every exchange of a run, and those of the check in flight.

The capturing transport files each exchange here. Features that judge the whole run (every
429, every redirect) read it through ``context.Observed``, a read-only view; the engine reads its
counters and turns a check's exchanges into evidence.

Depends on ``wire.exchange`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from conformance.wire.exchange import RecordedExchange, TransportFailure


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
    refused request is neither sent nor recorded.
    Exchanges are the recorder's: the transport fills them in, and anyone else adds to one only
    through :meth:`note`.
    """

    def __init__(
        self,
        observers: Iterable[Callable[[RecordedExchange], None]] = (),
        guards: Iterable[Callable[[RecordedExchange], None]] = (),
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
        self._scope: list[RecordedExchange] | None = None
        self._observers = tuple(observers)
        self._guards = tuple(guards)
        self.last: RecordedExchange | None = None

    @property
    def scope(self) -> list[RecordedExchange]:
        """Exchanges of the check in flight (empty outside a check)."""
        return self._scope if self._scope is not None else []

    def begin_scope(self) -> list[RecordedExchange]:
        self._scope = []
        return self._scope

    def end_scope(self) -> None:
        self._scope = None

    def record(self, exchange: RecordedExchange) -> None:
        """A request is leaving: every send counts, a re-sent one's first send and a 429's retries included.

        A guard may refuse it first (raising): then it is not sent, and not counted.
        """
        for guard in self._guards:
            guard(exchange)
        self.requests += 1
        self.last = exchange
        if self._scope is not None:
            self._scope.append(exchange)

    def answered(self, exchange: RecordedExchange) -> None:
        """The response head arrived: file it where features look for it, show it to the observers."""
        assert exchange.status is not None
        if exchange.status == 429:
            self.rate_limit_responses.append(exchange)
        elif 300 <= exchange.status < 400:
            self.redirects.append(exchange)
        for observe in self._observers:
            observe(exchange)

    def note(self, exchange: RecordedExchange, text: str) -> None:
        """File a note on an exchange (what the harness did with it, or why it was sent): the evidence shows it."""
        exchange.note = f"{exchange.note}; {text}" if exchange.note else text

    def resend(self, exchange: RecordedExchange, text: str) -> None:
        """The transport sends ``exchange``'s request again on a fresh connection: this send judges nothing."""
        exchange.resent = True
        self.resends.append(exchange)
        self.note(exchange, text)

    def withheld_key(self, exchange: RecordedExchange, destination: str) -> None:
        """The transport kept the API key off a request bound for ``destination``, another origin."""
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

"""The raw HTTP layer: one capturing transport under every request the suite sends.

Both the raw client (``httpx``) and the pinned SDK (``httpx2`` in 3.x, ``httpx`` before) send
through :func:`capturing_transport`, so there is exactly one place that

* records each exchange for evidence (redacted only when it is turned into evidence),
* bounds every response (read silence, total duration, body size),
* counts requests, and shows every answered exchange to the recorder's observers (the cost
  meter in ``cost`` reads what a request asks to generate; this layer knows no OpenAI fields),
* backs off politely on 429, honouring ``Retry-After`` / ``retry-after-ms``,
* sends once more, on a fresh connection, a request a reused keep-alive connection lost before
  any byte of an answer (both sends recorded and counted; docs/sdk-facts.md#stale-connections).

Split by concept, as httpx is: ``exchange`` (what was recorded, as evidence), ``recorder`` (the
run log), ``transport`` (bounds, key guard, back-off), ``raw_client`` (the raw client). Import from
here; the split is this package's business.

Depends on ``redact``, ``sse`` and ``target`` only.
"""

from conformance.wire.exchange import (
    EVIDENCE_BODY_BYTES,
    EVIDENCE_SSE_LINES,
    METHOD_CHANGING_REDIRECTS,
    METHOD_KEEPING_REDIRECTS,
    TIME_FAILURES,
    RecordedExchange,
    TimeLimit,
    TransportFailure,
    cross_origin_redirect,
)
from conformance.wire.raw_client import USER_AGENT, WireClient, WireResponse
from conformance.wire.recorder import Backoff, Recorder, transport_failure_in
from conformance.wire.transport import (
    NO_BACKOFF,
    RESENT_NOTE,
    Politeness,
    capturing_transport,
    http_timeout,
    retry_after_seconds,
)

__all__ = [
    "EVIDENCE_BODY_BYTES",
    "EVIDENCE_SSE_LINES",
    "METHOD_CHANGING_REDIRECTS",
    "METHOD_KEEPING_REDIRECTS",
    "NO_BACKOFF",
    "RESENT_NOTE",
    "USER_AGENT",
    "Backoff",
    "Politeness",
    "TIME_FAILURES",
    "RecordedExchange",
    "TimeLimit",
    "Recorder",
    "TransportFailure",
    "WireClient",
    "WireResponse",
    "capturing_transport",
    "cross_origin_redirect",
    "http_timeout",
    "retry_after_seconds",
    "transport_failure_in",
]

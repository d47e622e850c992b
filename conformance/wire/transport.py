"""The capturing transport under every request the suite sends, raw client and SDK alike.

It records each exchange, bounds every response (read silence, total duration, body size),
backs off politely on 429 (honouring ``Retry-After`` / ``retry-after-ms``), never lets the
API key leave for another origin, and re-sends once, on a fresh connection, a request that a
reused keep-alive connection lost before any byte of an answer (the server had closed it while
idle: no verdict on anything; docs/sdk-facts.md#stale-connections). It is built for a given
``httpx`` module, so the pinned SDK's ``httpx2`` (3.x) and ``httpx`` get the same one.

Depends on ``redact``, ``target`` and ``wire.exchange``, ``wire.recorder``.
"""

from __future__ import annotations

import contextvars
import email.utils
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from conformance.redact import carries_secret
from conformance.target import Secret, Timeouts, same_origin
from conformance.wire.exchange import RecordedExchange, TransportFailure
from conformance.wire.recorder import Backoff, Recorder

# Request extension a check sets to see a 429 as it is (the rate-limit checks need that).
NO_BACKOFF = "conformance.no_backoff"

# What the evidence says about the first send of a request re-sent on a fresh connection.
RESENT_NOTE = "connection reused and reset before any byte; re-sent on a fresh connection"


@dataclass
class _Attempt:
    """One send, as its connection saw it while the transport waited for the response head."""

    connected: bool = False  # a new connection was opened for it (else it went on a reused one)
    received: int = 0  # bytes read before the response head was complete (or the send failed)


# The send in flight on this thread: the counting network streams report to it.
_ATTEMPT: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar("conformance_attempt", default=None)


class _CountingStream:
    """A network stream (httpcore's interface) that tells the send in flight how many bytes it read."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(max_bytes, timeout)
        attempt = _ATTEMPT.get()
        if attempt is not None:
            attempt.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return _CountingStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _CountingBackend:
    """A network backend (httpcore's interface) whose new connections say so and count what they read."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def _opened(self, stream: Any) -> _CountingStream:
        attempt = _ATTEMPT.get()
        if attempt is not None:
            attempt.connected = True
        return _CountingStream(stream)

    def connect_tcp(self, *args: Any, **kwargs: Any) -> _CountingStream:
        return self._opened(self._inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _CountingStream:
        return self._opened(self._inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def retry_after_seconds(headers: list[tuple[str, str]]) -> tuple[float | None, str]:
    """Server-directed delay, read the way the SDK reads it (docs/sdk-facts.md#retry-after)."""
    lookup = {k.lower(): v for k, v in headers}
    if "retry-after-ms" in lookup:
        try:
            return float(lookup["retry-after-ms"]) / 1000.0, "retry-after-ms"
        except ValueError:
            pass
    if "retry-after" in lookup:
        value = lookup["retry-after"]
        try:
            return float(value), "retry-after"
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(parsed.timestamp() - time.time(), 0.0), "retry-after (date)"
    return None, "default"


@dataclass(frozen=True)
class Politeness:
    max_waits: int = 2
    max_wait_s: float = 30.0
    default_wait_s: float = 2.0


def capturing_transport(
    module: ModuleType,
    recorder: Recorder,
    timeouts: Timeouts,
    politeness: Politeness = Politeness(),
    sleep: Any = time.sleep,
    *,
    key_guard: tuple[str, Secret | Sequence[Secret]] | None = None,
    verify: Any = True,
) -> Any:
    """A transport for ``module`` (``httpx`` or ``httpx2``) that records and bounds everything.

    ``key_guard`` is (the target's origin, its key, or every secret it holds: the key and its
    credential headers' values, ``Target.secrets``): a request to any other origin leaves without a
    header that carries one. httpx already drops ``Authorization`` across origins; this makes the
    promise ours, whatever header a check put the key in and whatever a redirect does. ``verify`` is
    httpx's (``Target.verify``: a CA bundle's context, or False for ``--insecure``); it belongs to the
    transport, since a client given a transport ignores its own.
    """

    class BoundedStream(module.SyncByteStream):  # type: ignore[name-defined]
        def __init__(self, inner: Any, exchange: RecordedExchange, owner: Any = None) -> None:
            self._inner = inner
            self._exchange = exchange
            self._owner = owner  # the one-off pool of a re-sent request, closed with its response

        def __iter__(self) -> Iterator[bytes]:
            exchange = self._exchange
            try:
                for chunk in self._inner:
                    exchange.body_bytes += len(chunk)
                    exchange.keep(chunk)  # its head, and its end
                    elapsed = time.monotonic() - exchange.started
                    if exchange.body_bytes > timeouts.max_body_bytes:
                        raise TransportFailure(
                            "too_large", f"more than {timeouts.max_body_bytes} bytes and still going"
                        )
                    if elapsed > timeouts.total:
                        raise TransportFailure("too_slow", f"still running after {timeouts.total:g} s")
                    yield chunk
            except TransportFailure as failure:
                exchange.failure = failure
                raise
            except module.TimeoutException as exc:
                exchange.failure = TransportFailure(
                    "stall",
                    f"no byte for {timeouts.read:g} s after {exchange.body_bytes} body bytes ({type(exc).__name__})",
                )
                raise
            except module.TransportError as exc:
                exchange.failure = TransportFailure("protocol", f"{type(exc).__name__}: {exc}")
                raise
            finally:
                exchange.elapsed = time.monotonic() - exchange.started

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                if self._owner is not None:
                    self._owner.close()

    def connection_pool() -> Any:
        # TCP_NODELAY: a POST is written as headers then body; without it Nagle's algorithm
        # meets the server's delayed ACK and every request costs 40 ms on loopback.
        transport = module.HTTPTransport(
            verify=verify, retries=0, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        # httpcore reports neither whether a request went on a reused connection nor whether any
        # byte of an answer came before it failed; a network backend (httpcore's public interface)
        # that counts tells both. httpx only takes one through its private pool: without that
        # pool, nothing is counted and nothing is re-sent (today's behaviour, never a wrong verdict).
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _CountingBackend(pool._network_backend)
        return transport

    class CapturingTransport(module.BaseTransport):  # type: ignore[name-defined]
        def __init__(self) -> None:
            self._inner = connection_pool()

        def handle_request(self, request: Any) -> Any:
            waits = 0
            while True:
                response, exchange = self._send_once(request)
                if response.status_code != 429 or request.extensions.get(NO_BACKOFF) or waits >= politeness.max_waits:
                    return response
                delay, source = retry_after_seconds(exchange.response_headers)
                if delay is None:
                    delay = politeness.default_wait_s * (2**waits)
                if delay > politeness.max_wait_s:
                    return response  # waiting that long is the user's call, not ours
                response.read()
                response.close()
                recorder.note(exchange, f"429: backed off {delay:.2f} s ({source}) and retried")
                recorder.backoffs.append(Backoff(exchange.url, 429, round(delay, 3), source))
                sleep(delay)
                waits += 1

        def _send_once(self, request: Any) -> tuple[Any, RecordedExchange]:
            """Send ``request``; if a reused connection lost it before any byte of an answer, once more on a fresh one.

            Every HTTP client does that (the SDK's own retries included: docs/sdk-facts.md#stale-connections):
            a server may close an idle keep-alive connection at any moment, without a word, and a
            request already on its way there never reached the application. Both sends are recorded
            and counted; the first carries :data:`RESENT_NOTE` and its failure, which no verdict reads.
            Anything else (a fresh connection reset, an answer broken off) stays what it is.
            """
            try:
                return self._send_on(self._inner, request, reused_ok=True)
            except _LostOnReusedConnection as lost:
                recorder.resend(lost.exchange, RESENT_NOTE)
            fresh = connection_pool()  # a pool of its own: the re-send cannot meet another stale connection
            try:
                return self._send_on(fresh, request, reused_ok=False, owner=fresh)
            except BaseException:
                fresh.close()
                raise

        def _send_on(
            self, inner: Any, request: Any, *, reused_ok: bool, owner: Any = None
        ) -> tuple[Any, RecordedExchange]:
            withheld = _withhold_key(request, key_guard)
            exchange = RecordedExchange(
                method=request.method,
                url=str(request.url),
                request_headers=list(request.headers.multi_items()),
                request_body=request.read() if request.method != "GET" else b"",
                started=time.monotonic(),
            )
            recorder.record(exchange)  # a guard of the recorder may refuse it here: then nothing leaves
            if withheld:
                recorder.withheld_key(exchange, withheld)
            attempt = _Attempt()
            token = _ATTEMPT.set(attempt)
            try:
                response = inner.handle_request(request)
            except module.ConnectError as exc:
                exchange.failure = TransportFailure("connect", f"cannot connect: {exc}")
                raise
            except module.TimeoutException as exc:
                kind = "connect" if isinstance(exc, module.ConnectTimeout) else "no_response"
                exchange.failure = TransportFailure(kind, f"no response within the timeout ({type(exc).__name__})")
                raise
            except module.TransportError as exc:
                exchange.failure = TransportFailure("protocol", f"{type(exc).__name__}: {exc}")
                lost = isinstance(exc, (module.ReadError, module.WriteError, module.RemoteProtocolError))
                if reused_ok and lost and not attempt.connected and attempt.received == 0:
                    raise _LostOnReusedConnection(exchange) from exc
                raise
            finally:
                _ATTEMPT.reset(token)
            exchange.status = response.status_code
            exchange.response_headers = list(response.headers.multi_items())
            recorder.answered(exchange)
            wrapped = module.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=BoundedStream(response.stream, exchange, owner),
                extensions=response.extensions,
            )
            return wrapped, exchange

        def close(self) -> None:
            self._inner.close()

    return CapturingTransport()


class _LostOnReusedConnection(Exception):
    """A request a reused keep-alive connection lost before any byte of an answer (the transport re-sends it)."""

    def __init__(self, exchange: RecordedExchange) -> None:
        super().__init__(exchange.url)
        self.exchange = exchange


def _withhold_key(request: Any, key_guard: tuple[str, Secret | Sequence[Secret]] | None) -> str:
    """Remove every header carrying the key (or another secret of the target) from a request bound
    elsewhere; return that origin."""
    if key_guard is None:
        return ""
    origin, guarded = key_guard
    keys = [secret.reveal() for secret in ((guarded,) if isinstance(guarded, Secret) else guarded)]
    keys = [key for key in keys if key]
    if not keys or same_origin(str(request.url), origin):
        return ""
    parts = urlsplit(str(request.url))
    destination = f"{parts.scheme}://{parts.netloc}"
    carrying = [name for name, value in request.headers.items() if any(carries_secret(value, key) for key in keys)]
    for name in carrying:
        del request.headers[name]
    return destination if carrying else ""


def http_timeout(module: ModuleType, timeouts: Timeouts) -> Any:
    return module.Timeout(connect=timeouts.connect, read=timeouts.read, write=timeouts.read, pool=timeouts.connect)

"""The capturing transport under every request the suite sends, raw client and SDK alike.

It records each exchange, bounds every response (read silence; total time, over the response head
and body together; body size; the redirects followed), backs off politely on 429 (honouring
``Retry-After`` / ``retry-after-ms``), never lets the API key leave for another origin, and re-sends
once, on a fresh connection, a request that a reused keep-alive connection lost before any byte of an
answer (the server had closed it while idle: no verdict on anything;
docs/sdk-facts.md#stale-connections). It is built for a given ``httpx`` module, so the pinned SDK's
``httpx2`` (3.x) and ``httpx`` get the same one.

Depends on ``redact``, ``target`` and ``wire.exchange``, ``wire.recorder``.
"""

from __future__ import annotations

import contextvars
import email.utils
import math
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from conformance.redact import carries_secret
from conformance.target import Secret, Timeouts, same_origin
from conformance.wire.exchange import RecordedExchange, TimeLimit, TransportFailure
from conformance.wire.recorder import Backoff, Recorder

# Request extension a check sets to see a 429 as it is (the rate-limit checks need that).
NO_BACKOFF = "conformance.no_backoff"

# What the evidence says about the first send of a request re-sent on a fresh connection.
RESENT_NOTE = "connection reused and reset before any byte; re-sent on a fresh connection"

# How many redirects one request follows: httpx's default ``max_redirects``, which the SDK's client and
# the raw client keep. The transport counts them itself so that a loop ends in a failure recorded on
# its last exchange, like any other; past this many, httpx would raise ``TooManyRedirects``, which the
# SDK turns into a bare "Connection error." that names nothing.
MAX_REDIRECTS = 20

# Request extension holding the redirect chain a request belongs to: httpx copies a request's
# extensions (a shallow copy) onto each redirect it builds, so every hop shares the first one's chain.
_REDIRECT_CHAIN = "conformance.redirect_chain"

# Why the transport's own bound applies when it is tighter than the recorder's limit.
TOTAL_WHY = "the longest any one response may take"

T = TypeVar("T")


@dataclass
class _Attempt:
    """One send, as its connection saw it: while the transport waited for the response head, then
    around each read of its body."""

    connected: bool = False  # a new connection was opened for it (else it went on a reused one)
    received: int = 0  # bytes read before the response head was complete (or the send failed)
    # the time.monotonic() instant by which the whole response, head and body, must have arrived
    deadline: float = math.inf
    # when the send began, then when its last byte arrived: how long the server has been silent
    last_byte: float = field(default_factory=time.monotonic)


@dataclass
class _RedirectChain:
    """The redirects one request has followed so far (each hop's URL and where it was sent on)."""

    hops: list[tuple[str, str]] = field(default_factory=list)


# The send in flight on this thread: the counting network streams report to it and keep its time limit.
_ATTEMPT: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar("conformance_attempt", default=None)


class _TimeLimitReached(Exception):
    """The send in flight is past its time limit: raised inside httpcore (which closes the connection on
    any exception) and turned into the limit's :class:`TransportFailure` by the transport."""


def _within_time_limit(operation: Callable[[float | None], T], timeout: float | None) -> T:
    """Run a network operation of the send in flight with its timeout clipped to what its time limit leaves.

    The per-operation timeout alone bounds silence, not time: a server that drips its status line a
    byte a second, or sends header lines forever, answers every read in time and never finishes.
    """
    attempt = _ATTEMPT.get()
    if attempt is None or attempt.deadline == math.inf:
        return operation(timeout)
    remaining = attempt.deadline - time.monotonic()
    if remaining <= 0:
        raise _TimeLimitReached()
    clipped = timeout is None or remaining < timeout
    try:
        return operation(remaining if clipped else timeout)
    except Exception as exc:
        # A timeout the limit shortened is the limit's; but a server silent for the whole timeout as well
        # is silent (no_response, stall), which says more than "too slow" (a limit sized to the read
        # timeout ends at the same moment as the silence).
        now = time.monotonic()
        silent = timeout is not None and now - attempt.last_byte >= timeout
        if clipped and now >= attempt.deadline and not silent:
            raise _TimeLimitReached() from exc
        raise


class _CountingStream:
    """A network stream (httpcore's interface) that tells the send in flight how many bytes it read,
    and holds every read and write to the send's time limit."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = _within_time_limit(lambda clipped: self._inner.read(max_bytes, clipped), timeout)
        attempt = _ATTEMPT.get()
        if attempt is not None and data:
            attempt.received += len(data)
            attempt.last_byte = time.monotonic()
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _within_time_limit(lambda clipped: self._inner.write(buffer, clipped), timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        inner = _within_time_limit(
            lambda clipped: self._inner.start_tls(ssl_context, server_hostname, clipped), timeout
        )
        return _CountingStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _CountingBackend:
    """A network backend (httpcore's interface) whose new connections say so and count what they read."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def _opened(self, connect: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _CountingStream:
        if args:  # httpcore passes keywords; anything else connects within its own timeout only
            stream = connect(*args, **kwargs)
        else:
            stream = _within_time_limit(
                lambda clipped: connect(**{**kwargs, "timeout": clipped}), kwargs.get("timeout")
            )
        attempt = _ATTEMPT.get()
        if attempt is not None:
            attempt.connected = True
        return _CountingStream(stream)

    def connect_tcp(self, *args: Any, **kwargs: Any) -> _CountingStream:
        return self._opened(self._inner.connect_tcp, args, kwargs)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _CountingStream:
        return self._opened(self._inner.connect_unix_socket, args, kwargs)

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

    Each response, head and body together, may take the smaller of ``timeouts.total`` and what the
    recorder allows the request (:meth:`Recorder.time_limit`: sized to what it asks for, within the
    run's deadline); reaching it is a :class:`TransportFailure` of that limit's kind.

    ``key_guard`` is (the target's origin, its key, or every secret it holds: the key and its
    credential headers' values, ``Target.secrets``): a request to any other origin leaves without a
    header that carries one. httpx already drops ``Authorization`` across origins; this makes the
    promise ours, whatever header a check put the key in and whatever a redirect does. ``verify`` is
    httpx's (``Target.verify``: a CA bundle's context, or False for ``--insecure``); it belongs to the
    transport, since a client given a transport ignores its own.
    """

    def time_limit(exchange: RecordedExchange) -> TimeLimit:
        limit = recorder.time_limit(exchange)
        return TimeLimit(timeouts.total, "too_slow", TOTAL_WHY) if timeouts.total < limit.seconds else limit

    class BoundedStream(module.SyncByteStream):  # type: ignore[name-defined]
        def __init__(
            self, inner: Any, exchange: RecordedExchange, attempt: _Attempt, limit: TimeLimit, owner: Any = None
        ) -> None:
            self._inner = inner
            self._exchange = exchange
            self._attempt = attempt
            self._limit = limit
            self._owner = owner  # the one-off pool of a re-sent request, closed with its response

        def _next_chunk(self, chunks: Iterator[bytes]) -> bytes | None:
            # each read of the body is the send's again, so the counting stream holds it to the send's
            # time limit; set around the read only, since a generator shares its caller's context
            token = _ATTEMPT.set(self._attempt)
            try:
                return next(chunks, None)
            finally:
                _ATTEMPT.reset(token)

        def __iter__(self) -> Iterator[bytes]:
            exchange = self._exchange
            try:
                chunks = iter(self._inner)
                while (chunk := self._next_chunk(chunks)) is not None:
                    exchange.body_bytes += len(chunk)
                    exchange.keep(chunk)  # its head, and its end
                    if exchange.body_bytes > timeouts.max_body_bytes:
                        raise TransportFailure(
                            "too_large", f"more than {timeouts.max_body_bytes} bytes and still going"
                        )
                    # without the counting backend (no private pool) this is the only check of the time
                    # limit, between chunks; with it, reads past the limit already raised
                    if time.monotonic() > self._attempt.deadline:
                        raise _TimeLimitReached()
                    yield chunk
            except _TimeLimitReached:
                exchange.failure = _limit_failure(self._limit, f"{exchange.body_bytes} body bytes so far")
                raise exchange.failure from None
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
        # byte of an answer came before it failed, and bounds each read, never a response; a network
        # backend (httpcore's public interface) that counts tells both and keeps the time limit over
        # every read. httpx only takes one through its private pool: without that pool, nothing is
        # counted or re-sent, and the time limit is checked between body chunks only.
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _CountingBackend(pool._network_backend)
        return transport

    class CapturingTransport(module.BaseTransport):  # type: ignore[name-defined]
        def __init__(self) -> None:
            self._inner = connection_pool()

        def handle_request(self, request: Any) -> Any:
            chain = request.extensions.setdefault(_REDIRECT_CHAIN, _RedirectChain())
            waits = 0
            while True:
                response, exchange = self._send_once(request)
                if response.status_code != 429 or request.extensions.get(NO_BACKOFF) or waits >= politeness.max_waits:
                    break
                delay, source = retry_after_seconds(exchange.response_headers)
                if delay is None:
                    delay = politeness.default_wait_s * (2**waits)
                if delay > politeness.max_wait_s:
                    break  # waiting that long is the user's call, not ours
                limit = recorder.time_limit(exchange)
                if limit.kind == "deadline" and delay >= limit.seconds:
                    recorder.note(exchange, f"429: not waited out ({delay:.2f} s, {source}): {limit.why} comes first")
                    break
                response.read()
                response.close()
                recorder.note(exchange, f"429: backed off {delay:.2f} s ({source}) and retried")
                recorder.backed_off(Backoff(exchange.url, 429, round(delay, 3), source))
                sleep(delay)
                waits += 1
            self._follow(chain, response, exchange)
            return response

        def _follow(self, chain: _RedirectChain, response: Any, exchange: RecordedExchange) -> None:
            """Count a redirect answered to this request's chain; past :data:`MAX_REDIRECTS`, fail it here."""
            location = exchange.response_header("location")
            if not 300 <= response.status_code < 400 or not location:
                return
            destination = urljoin(exchange.url, location)
            looping = any(url == destination for url, _ in chain.hops) or destination == exchange.url
            chain.hops.append((exchange.url, destination))
            if len(chain.hops) <= MAX_REDIRECTS:
                return
            response.close()
            exchange.elapsed = time.monotonic() - exchange.started
            last = f"the last: {response.status_code} from {exchange.url} to {destination}"
            if looping:
                detail = (
                    f"a redirect loop: {len(chain.hops)} redirects in a row, back to a URL already requested ({last})"
                )
            else:
                detail = f"{len(chain.hops)} redirects in a row, more than the {MAX_REDIRECTS} clients follow ({last})"
            exchange.failure = TransportFailure("redirects", detail)
            raise exchange.failure

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
            limit = time_limit(exchange)
            if limit.seconds <= 0:  # the run's deadline has passed: nothing more leaves (and nothing is counted)
                raise TransportFailure(limit.kind, f"not sent: no time left ({limit.why or limit.kind})")
            recorder.record(exchange)  # a guard of the recorder may refuse it here: then nothing leaves
            if withheld:
                recorder.withheld_key(exchange, withheld)
            attempt = _Attempt(deadline=exchange.started + limit.seconds, last_byte=exchange.started)
            token = _ATTEMPT.set(attempt)
            try:
                response = inner.handle_request(request)
            except _TimeLimitReached:
                progress = f"{attempt.received} bytes of the response head" if attempt.received else "no byte yet"
                exchange.failure = _limit_failure(limit, f"{progress}, no complete response head")
                raise exchange.failure from None
            except module.ConnectError as exc:
                exchange.failure = TransportFailure("connect", f"cannot connect: {exc}")
                raise
            except module.TimeoutException as exc:
                if isinstance(exc, module.ConnectTimeout):
                    exchange.failure = TransportFailure(
                        "connect", f"no connection within the timeout ({type(exc).__name__})"
                    )
                elif attempt.received:  # the response had begun: its head stalled
                    exchange.failure = TransportFailure(
                        "stall",
                        f"no byte for {timeouts.read:g} s after {attempt.received} bytes of the response head "
                        f"({type(exc).__name__})",
                    )
                else:
                    exchange.failure = TransportFailure(
                        "no_response", f"no response within the timeout ({type(exc).__name__})"
                    )
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
                stream=BoundedStream(response.stream, exchange, attempt, limit, owner),
                extensions=response.extensions,
            )
            return wrapped, exchange

        def close(self) -> None:
            self._inner.close()

    return CapturingTransport()


def _limit_failure(limit: TimeLimit, progress: str) -> TransportFailure:
    """What reaching ``limit`` is: its kind, the seconds and why, and how far the response had come."""
    why = f" ({limit.why})" if limit.why else ""
    return TransportFailure(limit.kind, f"still running after {round(limit.seconds, 1):g} s{why}: {progress}")


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

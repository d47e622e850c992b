"""The raw HTTP layer: one capturing transport under every request the suite sends.

Both the raw client (``httpx``) and the pinned SDK (``httpx2`` in 3.x, ``httpx`` before) send
through :func:`capturing_transport`, so there is exactly one place that

* records each exchange for evidence (redacted only when it is turned into evidence),
* bounds every response (read silence, total duration, body size),
* counts requests and the completion tokens they ask for,
* backs off politely on 429, honouring ``Retry-After`` / ``retry-after-ms``.

Depends on ``redact``, ``sse`` and ``target`` only.
"""

from __future__ import annotations

import email.utils
import json
import socket
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.redact import Redactor
from conformance.sse import SSEParse, parse_sse
from conformance.target import Secret, Target, Timeouts, same_origin

# How much of a body is kept for evidence (the check itself sees the whole bounded body).
EVIDENCE_BODY_BYTES = 64 * 1024
EVIDENCE_SSE_LINES = 400

# Request extension a check sets to see a 429 as it is (the rate-limit checks need that).
NO_BACKOFF = "conformance.no_backoff"

USER_AGENT = "openai-conformance (raw-http)"


class TransportFailure(Exception):
    """The server did not deliver a complete response within the bounds.

    ``kind`` is one of: ``connect`` (refused, DNS), ``no_response`` (timeout before any byte of
    the response), ``stall`` (silence after the response began), ``too_slow`` (exceeded the
    total time bound), ``too_large`` (exceeded the body size bound), ``protocol`` (broken HTTP).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass
class RecordedExchange:
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    started: float
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    body_bytes: int = 0
    elapsed: float | None = None
    failure: TransportFailure | None = None
    note: str | None = None

    def response_header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.response_headers:
            if key.lower() == lowered:
                return value
        return None

    def content(self) -> bytes:
        """The recorded body with its content-encoding undone (gzip, deflate): what a client reads.

        The transport records the bytes as they arrive; a server that compresses large bodies
        (LiteLLM gzips from ~500 bytes) would otherwise look like one answering binary noise.
        """
        raw = bytes(self.body)
        encoding = (self.response_header("content-encoding") or "").lower().strip()
        if encoding not in ("gzip", "x-gzip", "deflate") or not raw:
            return raw
        window = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        try:
            return zlib.decompressobj(window).decompress(raw)  # a truncated body decodes as far as it goes
        except zlib.error:
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw)  # raw deflate, as some servers send
            except zlib.error:
                return raw

    @property
    def is_stream(self) -> bool:
        content_type = (self.response_header("content-type") or "").lower()
        if content_type.startswith("text/event-stream"):
            return True
        try:
            return bool(json.loads(self.request_body or b"{}").get("stream"))
        except (ValueError, AttributeError):
            return False

    def to_evidence(self, redactor: Redactor) -> dict[str, Any]:
        request: dict[str, Any] = {
            "method": self.method,
            "url": redactor.url(self.url),
            "headers": redactor.headers(self.request_headers),
        }
        if self.request_body:
            request.update(_body_evidence(bytes(self.request_body), redactor))
        evidence: dict[str, Any] = {"request": request}
        if self.status is not None:
            response: dict[str, Any] = {
                "status": self.status,
                "headers": redactor.headers(self.response_headers),
            }
            if self.elapsed is not None:
                response["elapsed_ms"] = round(self.elapsed * 1000, 1)
            body = self.content()
            truncated = self.body_bytes > len(self.body)
            if self.is_stream:
                lines = redactor.text(body.decode("utf-8", errors="replace")).splitlines()
                if len(lines) > EVIDENCE_SSE_LINES:
                    lines, truncated = lines[:EVIDENCE_SSE_LINES], True
                response["sse"] = lines
            elif body:
                response.update(_body_evidence(body, redactor))
            if truncated:
                response["truncated"] = True
                response["body_bytes"] = self.body_bytes
            evidence["response"] = response
        if self.failure is not None:
            evidence["failure"] = {"kind": self.failure.kind, "detail": redactor.text(self.failure.detail)}
        if self.note:
            evidence["note"] = redactor.text(self.note)
        return evidence


def _body_evidence(body: bytes, redactor: Redactor) -> dict[str, Any]:
    text = body[:EVIDENCE_BODY_BYTES].decode("utf-8", errors="replace")
    if len(body) <= EVIDENCE_BODY_BYTES:
        try:
            return {"body": redactor.obj(json.loads(text))}
        except ValueError:
            pass
    return {"body_text": redactor.text(text)}


@dataclass
class Backoff:
    url: str
    status: int
    waited_s: float
    source: str  # which header decided the wait, or "default"


# Redirects that turn a POST into a body-less GET in httpx and the SDK (RFC 9110 allows it; sdk-dossier §2),
# and those that keep method and body.
METHOD_CHANGING_REDIRECTS = (301, 302, 303)
METHOD_KEEPING_REDIRECTS = (307, 308)


# No model generates this many tokens in one reply: a larger limit is a probe meant to be refused.
IMPOSSIBLE_LIMIT = 10_000_000


class Recorder:
    """Collects exchanges: all of a run (counters) and those of the current check (evidence)."""

    def __init__(self) -> None:
        self.requests = 0
        self.completion_tokens_requested = 0
        self.unbounded_generation_requests = 0
        self.backoffs: list[Backoff] = []
        # every 429 and every redirect the run met, whoever sent the request (features judge them)
        self.rate_limit_responses: list[RecordedExchange] = []
        self.redirects: list[RecordedExchange] = []
        self.key_withheld: list[str] = []  # origins a request went to without the key it carried
        self._scope: list[RecordedExchange] | None = None
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
        self.requests += 1
        self.last = exchange
        if self._scope is not None:
            self._scope.append(exchange)

    def answered(self, exchange: RecordedExchange) -> None:
        """The response head arrived: file it where features look for it, count what it costs."""
        assert exchange.status is not None
        if exchange.status == 429:
            self.rate_limit_responses.append(exchange)
        elif 300 <= exchange.status < 400:
            self.redirects.append(exchange)
        elif 200 <= exchange.status < 300:
            # only an accepted request generates: an impossible max_tokens the server refuses costs nothing
            self._count_generation(exchange)

    def _count_generation(self, exchange: RecordedExchange) -> None:
        path = urlsplit(exchange.url).path.rstrip("/")
        if exchange.method != "POST" or not path.endswith(("/chat/completions", "/completions")):
            return
        try:
            body = json.loads(exchange.request_body or b"null")
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        n = body["n"] if isinstance(body.get("n"), int) else 1
        if isinstance(limit, int) and limit > IMPOSSIBLE_LIMIT:
            return  # errors.oversized's probe: it costs what the server generates, not a billion tokens
        if isinstance(limit, int) and limit > 0:
            self.completion_tokens_requested += limit * max(n, 1)
        elif "messages" in body or "prompt" in body:
            self.unbounded_generation_requests += 1


def retry_after_seconds(headers: list[tuple[str, str]]) -> tuple[float | None, str]:
    """Server-directed delay, read the way the SDK reads it (dossier §3)."""
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
    key_guard: tuple[str, Secret] | None = None,
) -> Any:
    """A transport for ``module`` (``httpx`` or ``httpx2``) that records and bounds everything.

    ``key_guard`` is (the target's origin, its key): a request to any other origin leaves without a
    header that carries the key. httpx already drops ``Authorization`` across origins; this makes
    the promise ours, whatever header a check put the key in and whatever a redirect does.
    """

    class BoundedStream(module.SyncByteStream):  # type: ignore[name-defined]
        def __init__(self, inner: Any, exchange: RecordedExchange) -> None:
            self._inner = inner
            self._exchange = exchange

        def __iter__(self) -> Iterator[bytes]:
            exchange = self._exchange
            try:
                for chunk in self._inner:
                    exchange.body_bytes += len(chunk)
                    room = EVIDENCE_BODY_BYTES * 4 - len(exchange.body)
                    if room > 0:
                        exchange.body += chunk[:room]
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
            self._inner.close()

    class CapturingTransport(module.BaseTransport):  # type: ignore[name-defined]
        def __init__(self) -> None:
            # TCP_NODELAY: a POST is written as headers then body; without it Nagle's algorithm
            # meets the server's delayed ACK and every request costs 40 ms on loopback.
            self._inner = module.HTTPTransport(retries=0, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])

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
                exchange.note = f"429: backed off {delay:.2f} s ({source}) and retried"
                recorder.backoffs.append(Backoff(exchange.url, 429, round(delay, 3), source))
                sleep(delay)
                waits += 1

        def _send_once(self, request: Any) -> tuple[Any, RecordedExchange]:
            withheld = _withhold_key(request, key_guard)
            exchange = RecordedExchange(
                method=request.method,
                url=str(request.url),
                request_headers=list(request.headers.multi_items()),
                request_body=request.read() if request.method != "GET" else b"",
                started=time.monotonic(),
            )
            if withheld:
                exchange.note = f"the API key was withheld from {withheld} (another origin than the target's)"
                recorder.key_withheld.append(withheld)
            recorder.record(exchange)
            try:
                response = self._inner.handle_request(request)
            except module.ConnectError as exc:
                exchange.failure = TransportFailure("connect", f"cannot connect: {exc}")
                raise
            except module.TimeoutException as exc:
                kind = "connect" if isinstance(exc, module.ConnectTimeout) else "no_response"
                exchange.failure = TransportFailure(kind, f"no response within the timeout ({type(exc).__name__})")
                raise
            except module.TransportError as exc:
                exchange.failure = TransportFailure("protocol", f"{type(exc).__name__}: {exc}")
                raise
            exchange.status = response.status_code
            exchange.response_headers = list(response.headers.multi_items())
            recorder.answered(exchange)
            wrapped = module.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=BoundedStream(response.stream, exchange),
                extensions=response.extensions,
            )
            return wrapped, exchange

        def close(self) -> None:
            self._inner.close()

    return CapturingTransport()


def _withhold_key(request: Any, key_guard: tuple[str, Secret] | None) -> str:
    """Remove every header carrying the key from a request bound elsewhere; return that origin."""
    if key_guard is None:
        return ""
    origin, secret = key_guard
    key = secret.reveal()
    if not key or same_origin(str(request.url), origin):
        return ""
    parts = urlsplit(str(request.url))
    destination = f"{parts.scheme}://{parts.netloc}"
    carrying = [name for name, value in request.headers.items() if key in value]
    for name in carrying:
        del request.headers[name]
    return destination if carrying else ""


def http_timeout(module: ModuleType, timeouts: Timeouts) -> Any:
    return module.Timeout(connect=timeouts.connect, read=timeouts.read, write=timeouts.read, pool=timeouts.connect)


@dataclass
class WireResponse:
    """A fully read (bounded) raw response."""

    status: int
    headers: httpx.Headers
    body: bytes
    exchange: RecordedExchange
    history: list[RecordedExchange]

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body as JSON, or raise ``ValueError``."""
        return json.loads(self.body)

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None

    def sse(self) -> SSEParse:
        return parse_sse(self.body)


class WireClient:
    """Raw HTTP to the target, shaped like the SDK's requests but with nothing hidden."""

    def __init__(self, target: Target, recorder: Recorder, *, follow_redirects: bool = True) -> None:
        self.target = target
        self.recorder = recorder
        self._client = httpx.Client(
            transport=capturing_transport(httpx, recorder, target.timeouts, key_guard=(target.origin, target.api_key)),
            timeout=http_timeout(httpx, target.timeouts),
            follow_redirects=follow_redirects,
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def headers(self, *, auth: bool | str = True, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"accept": "application/json", "user-agent": USER_AGENT}
        if auth is True:
            headers["authorization"] = f"Bearer {self.target.api_key.reveal()}"
        elif isinstance(auth, str):
            headers["authorization"] = auth
        if extra:
            headers.update(extra)
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        auth: bool | str = True,
        headers: dict[str, str] | None = None,
        absolute_url: str | None = None,
        follow_redirects: bool | None = None,
        no_backoff: bool = False,
    ) -> WireResponse:
        url = absolute_url or self.target.url(path)
        send_headers = self.headers(auth=auth, extra=headers)
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
        if content is not None:
            send_headers.setdefault("content-type", "application/json")
        scope_start = len(self.recorder.scope)
        request = self._client.build_request(
            method,
            url,
            content=content,
            headers=send_headers,
            extensions={NO_BACKOFF: True} if no_backoff else {},
        )
        kwargs: dict[str, Any] = {}
        if follow_redirects is not None:
            kwargs["follow_redirects"] = follow_redirects
        try:
            response = self._client.send(request, **kwargs)
        except httpx.TooManyRedirects as exc:
            raise TransportFailure("protocol", f"redirect loop: {exc}") from None
        except (httpx.TransportError, TransportFailure) as exc:
            raise _failure_of(exc, self.recorder) from None
        exchanges = self.recorder.scope[scope_start:] or ([self.recorder.last] if self.recorder.last else [])
        return WireResponse(
            status=response.status_code,
            headers=response.headers,
            body=response.content,
            exchange=exchanges[-1] if exchanges else RecordedExchange(method, url, [], b"", 0.0),
            history=list(exchanges[:-1]),
        )

    def get(self, path: str, **kwargs: Any) -> WireResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> WireResponse:
        return self.request("POST", path, json_body=json_body, **kwargs)


def _failure_of(exc: BaseException, recorder: Recorder) -> TransportFailure:
    if isinstance(exc, TransportFailure):
        return exc
    if recorder.last is not None and recorder.last.failure is not None:
        return recorder.last.failure
    return TransportFailure("protocol", f"{type(exc).__name__}: {exc}")


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
        if exchange.failure is not None:
            return exchange.failure
    return None

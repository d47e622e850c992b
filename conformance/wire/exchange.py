"""One HTTP exchange as the suite recorded it, and what it is evidence of.

A :class:`RecordedExchange` is what the capturing transport saw (request, response head, the
bounded body as it arrived, a transport failure); it turns itself into redacted evidence. The
redirect vocabulary lives here because it reads an exchange: which redirects demote a POST,
and where a redirect leaves the target's origin.

Depends on ``redact`` and ``target`` only.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from conformance.redact import Redactor
from conformance.target import same_origin

# How much of a body is kept for evidence (the check itself sees the whole bounded body): its head
# (RECORDED_HEAD_BYTES as it arrives; EVIDENCE_BODY_BYTES of a JSON or text body, EVIDENCE_SSE_LINES of
# a stream) and, of a stream longer than that, its end: the last RECORDED_TAIL_BYTES as they arrived,
# and the last EVIDENCE_SSE_TAIL_LINES lines of it, where a missing `data: [DONE]` or a stream cut short shows.
EVIDENCE_BODY_BYTES = 64 * 1024
EVIDENCE_SSE_LINES = 400
EVIDENCE_SSE_TAIL_LINES = 50
RECORDED_HEAD_BYTES = EVIDENCE_BODY_BYTES * 4
RECORDED_TAIL_BYTES = 16 * 1024


class TransportFailure(Exception):
    """The server did not deliver a complete response within the bounds.

    ``kind`` is one of: ``connect`` (refused, DNS), ``no_response`` (timeout before any byte of
    the response), ``stall`` (silence after the response began), ``too_slow`` (exceeded the
    total time bound), ``too_large`` (exceeded the body size bound), ``protocol`` (broken HTTP),
    ``redirects`` (more redirects in a row than clients follow, a loop most often),
    ``deadline`` (the run's own deadline came first: never the server's fault, never a verdict).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# The kinds of TransportFailure that are about time: the server was silent or slow (a server that
# shows them again and again is stalling: ``bounds.StallWatch``).
TIME_FAILURES = frozenset({"no_response", "stall", "too_slow"})


@dataclass(frozen=True)
class TimeLimit:
    """The most one response may take, head and body together, and what reaching it means.

    ``kind`` is the :class:`TransportFailure` kind raised when it is reached: ``too_slow`` (the
    server's: a limit sized to what the request asks for) or ``deadline`` (the run's own deadline,
    which judges nothing); ``why`` is said in the failure's detail.
    """

    seconds: float = float("inf")
    kind: str = "too_slow"
    why: str = ""


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
    tail: bytearray = field(default_factory=bytearray)  # the last bytes after ``body``, when it overflowed
    elapsed: float | None = None
    failure: TransportFailure | None = None
    note: str | None = None
    # lost on a reused keep-alive connection before any byte of an answer, and sent again on a
    # fresh one: evidence of what happened, never of what the server answers
    resent: bool = False

    def keep(self, chunk: bytes) -> None:
        """Record a chunk of the body as it arrives: the first RECORDED_HEAD_BYTES whole, then the last
        RECORDED_TAIL_BYTES (``tail``), so that the end of a long stream is evidence too (``body_bytes``
        counts them all: the transport's)."""
        room = RECORDED_HEAD_BYTES - len(self.body)
        if room > 0:
            self.body += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            del self.tail[: max(len(self.tail) - RECORDED_TAIL_BYTES, 0)]

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
            "headers": redactor.headers(self.request_headers, sent=True),
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
                response.update(self._sse_evidence(body, redactor))
                truncated = truncated or "sse_tail" in response
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
        if self.resent:
            evidence["resent"] = True
        return evidence

    def _sse_evidence(self, body: bytes, redactor: Redactor) -> dict[str, Any]:
        """``sse``: the stream's first lines; of a longer stream, ``sse_tail``: its last lines, and
        ``sse_lines``: how many it had, when every byte was recorded (else the middle is unknown)."""
        lines = redactor.text(body.decode("utf-8", errors="replace")).splitlines()
        evidence: dict[str, Any] = {"sse": lines[:EVIDENCE_SSE_LINES]}
        tail: list[str] = []
        encoded = (self.response_header("content-encoding") or "").strip().lower() not in ("", "identity")
        if self.tail and not encoded:  # a compressed stream's end cannot be read without its start
            # its first line began before the tail did: only the whole lines after it
            tail = redactor.text(bytes(self.tail).decode("utf-8", errors="replace")).splitlines()[1:]
        elif len(lines) > EVIDENCE_SSE_LINES:
            tail = lines[EVIDENCE_SSE_LINES:]
            evidence["sse_lines"] = len(lines)
        if tail:
            evidence["sse_tail"] = tail[-EVIDENCE_SSE_TAIL_LINES:]
        return evidence


def _body_evidence(body: bytes, redactor: Redactor) -> dict[str, Any]:
    text = body[:EVIDENCE_BODY_BYTES].decode("utf-8", errors="replace")
    if len(body) <= EVIDENCE_BODY_BYTES:
        try:
            return {"body": redactor.obj(json.loads(text))}
        except ValueError:
            pass
    return {"body_text": redactor.text(text)}


# Redirects that turn a POST into a body-less GET in httpx and the SDK (RFC 9110 allows it;
# docs/sdk-facts.md#redirects), and those that keep method and body.
METHOD_CHANGING_REDIRECTS = (301, 302, 303)
METHOD_KEEPING_REDIRECTS = (307, 308)


def cross_origin_redirect(exchange: RecordedExchange, origin: str) -> str | None:
    """The origin (``scheme://host:port``) a redirect sends the request to, when it is not ``origin``.

    There httpx and the SDK drop the Authorization header, so the call arrives unauthenticated.
    ``None`` for anything but a 3xx with a Location on ``origin``.
    """
    location = exchange.response_header("location")
    if exchange.status is None or not 300 <= exchange.status < 400 or not location:
        return None
    parts = urlsplit(urljoin(exchange.url, location))
    if same_origin(parts.geturl(), origin):
        return None
    return f"{parts.scheme}://{parts.netloc}"

"""The raw HTTP client: requests shaped like the SDK's, with nothing hidden.

Checks use it where the bytes are the point (a stream's framing, a redirect not followed, a
header the SDK would add); every request goes through the capturing transport.

Depends on ``sse``, ``target`` and ``wire.exchange``, ``wire.recorder``, ``wire.transport``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.sse import SSEParse, parse_sse
from conformance.target import Target
from conformance.wire.exchange import RecordedExchange, TransportFailure
from conformance.wire.recorder import Recorder
from conformance.wire.transport import NO_BACKOFF, capturing_transport, http_timeout

USER_AGENT = "openai-conformance (raw-http)"


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
        transport = capturing_transport(
            httpx, recorder, target.timeouts, key_guard=(target.origin, target.secrets()), verify=target.verify()
        )
        self._client = httpx.Client(
            transport=transport,
            timeout=http_timeout(httpx, target.timeouts),
            follow_redirects=follow_redirects,
            trust_env=False,
            params=dict(target.query),  # the target's query parameters (api-version) on every request, as the SDK's
        )

    def close(self) -> None:
        self._client.close()

    def headers(self, *, auth: bool | str = True, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"accept": "application/json", "user-agent": USER_AGENT}
        if auth is True:
            headers["authorization"] = f"Bearer {self.target.api_key.reveal()}"
        elif isinstance(auth, str):
            headers["authorization"] = auth
        # the target's own headers, as the SDK sends them; its credential ones only with its key
        headers.update(
            {name.lower(): value for name, value in self.target.request_headers(credentials=auth is True).items()}
        )
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
        except httpx.DecodingError as exc:
            # the bytes arrived whole, but not in the Content-Encoding the server named: its fault, not ours
            raise TransportFailure(
                "protocol", f"the body does not decode as its content-encoding says: {exc}"
            ) from None
        except (httpx.TransportError, httpx.TooManyRedirects, TransportFailure) as exc:
            # the transport ends a redirect loop itself (MAX_REDIRECTS); httpx's own limit is the fallback
            raise _failure_of(exc, self.recorder.scope[scope_start:], self.recorder) from None
        exchanges = self.recorder.scope[scope_start:] or ([self.recorder.last] if self.recorder.last else [])
        exchanges = [e for e in exchanges if not e.resent]  # a send lost on a stale connection is no hop
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


def _failure_of(exc: BaseException, sent: list[RecordedExchange], recorder: Recorder) -> TransportFailure:
    """The failure the transport recorded for this request: on one of ``sent`` (its exchanges in the
    check's scope: other checks may be sending on other threads), or, outside a check (preflight, one
    thread), on the recorder's last exchange."""
    if isinstance(exc, TransportFailure):
        return exc
    for exchange in reversed(sent):
        if exchange.failure is not None and not exchange.resent:
            return exchange.failure
    if not sent and recorder.last is not None and recorder.last.failure is not None:
        return recorder.last.failure
    if isinstance(exc, httpx.TooManyRedirects):
        return TransportFailure("protocol", f"a redirect loop: {exc}")
    return TransportFailure("protocol", f"{type(exc).__name__}: {exc}")

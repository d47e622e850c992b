"""A hostile server: every route, ``GET /v1/models`` included, misbehaves in one named way.

Built on :mod:`tests.scripted` (raw sockets, loopback only, a free port, stopped on leaving the
``with`` block, stalled handlers included). A run against it must end, in bounded time, with a
verdict for every feature; the modes are what a vendor's broken proxy, a wrong port or an attacker
can answer:

- ``endless_stream``: 200 ``text/event-stream``, a chunk every few milliseconds, forever;
- ``drip``: a valid answer, one byte per second (status line and headers included);
- ``stalled_headers``: reads the request and never sends a status line;
- ``huge_body``: a 64 MiB JSON body, announced in ``Content-Length`` and sent;
- ``redirect_loop``: 302 to the very URL requested;
- ``redirect_elsewhere``: 307 to a second loopback server (another origin: another port), which
  records every request it receives and answers 401, as an API does without its key;
- ``garbage``: random bytes instead of HTTP;
- ``truncated``: a valid answer whose ``Content-Length`` is larger than the body sent, then a close;
- ``reset``: a TCP RST right after reading the request.

    with HostileServer("drip") as server:
        ... server.base_url ...            # http://127.0.0.1:<port>/v1
        ... server.elsewhere.requests ...  # redirect_elsewhere: what the other origin received
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable
from typing import Any

from tests.scripted import CHUNK, Request, Route, Script, hang_up, reset, start_sse

MODES = (
    "endless_stream",
    "drip",
    "stalled_headers",
    "huge_body",
    "redirect_loop",
    "redirect_elsewhere",
    "garbage",
    "truncated",
    "reset",
)

HUGE_BODY_BYTES = 64 * 1024 * 1024
# endless_stream's pace: a token every 20 ms is a fast model, so the stream looks alive to every read
STREAM_INTERVAL_S = 0.02
# how long a stalled handler waits for stop() at a time (it never answers: this only bounds one wait)
STALL_S = 3600.0

MODEL = {"id": "m", "object": "model", "created": 1, "owned_by": "hostile"}
NOT_FOUND = {"error": {"message": "no route", "type": "invalid_request_error", "param": None, "code": None}}
NO_KEY = {"error": {"message": "No API key provided.", "type": "invalid_request_error", "param": None, "code": None}}


def completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-hostile",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hi"}, "logprobs": None, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def response_bytes(status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response with its Content-Length."""
    head = f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    return head.encode() + b"\r\n" + body


def valid_answer(request: Request) -> bytes:
    """What a well-behaved server answers ``request`` (a model list, a model, a chat completion, a
    stream of one), the bytes the byte-level modes then break; 404 with OpenAI's envelope elsewhere."""
    path = request.path.split("?", 1)[0]
    if request.method == "GET" and path == "/v1/models":
        return response_bytes(200, "application/json", json.dumps({"object": "list", "data": [MODEL]}).encode())
    if request.method == "GET" and path.startswith("/v1/models/"):
        return response_bytes(200, "application/json", json.dumps({**MODEL, "id": path.rsplit("/", 1)[1]}).encode())
    if request.method == "POST" and path == "/v1/chat/completions":
        try:
            asked = json.loads(request.body or b"{}")
        except ValueError:
            asked = {}
        asked = asked if isinstance(asked, dict) else {}
        model = str(asked.get("model") or "m")
        if asked.get("stream"):
            last = {**CHUNK, "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            frames = [{**CHUNK, "model": model}, last]
            body = "".join(f"data: {json.dumps(frame)}\n\n" for frame in frames) + "data: [DONE]\n\n"
            return response_bytes(200, "text/event-stream", body.encode())
        return response_bytes(200, "application/json", json.dumps(completion(model)).encode())
    return response_bytes(404, "application/json", json.dumps(NOT_FOUND).encode())


def _written(script: Script, request: Request, wfile: Any, data: bytes) -> None:
    """Write ``data``; a client that gave up (the connection closed under us) ends the route, quietly."""
    try:
        wfile.write(data)
        wfile.flush()
    except OSError:
        hang_up(request)


def endless_stream(script: Script, request: Request, wfile: Any) -> None:
    try:
        start_sse(wfile)
    except OSError:
        hang_up(request)
    frame = f"data: {json.dumps(CHUNK)}\n\n".encode()
    while not script.wait(STREAM_INTERVAL_S):
        _written(script, request, wfile, frame)
    hang_up(request)


def drip(script: Script, request: Request, wfile: Any) -> None:
    for byte in valid_answer(request):
        _written(script, request, wfile, bytes([byte]))
        if script.wait(1.0):
            hang_up(request)


def stalled_headers(script: Script, request: Request, wfile: Any) -> None:
    while not script.wait(STALL_S):
        pass
    hang_up(request)


def _huge_json_body() -> tuple[bytes, bytes, bytes]:
    """A model list of exactly HUGE_BODY_BYTES, as (its opening, a block to repeat, its end)."""
    item = json.dumps(MODEL).encode() + b","
    return b'{"object":"list","data":[', item * (1024 * 1024 // len(item)), json.dumps(MODEL).encode() + b"]}"


def huge_body(script: Script, request: Request, wfile: Any) -> None:
    opening, block, end = _huge_json_body()
    head = f"HTTP/1.1 200 X\r\ncontent-type: application/json\r\ncontent-length: {HUGE_BODY_BYTES}\r\n\r\n"
    _written(script, request, wfile, head.encode() + opening)
    left = HUGE_BODY_BYTES - len(opening) - len(end)
    while left >= len(block):
        if script.stopping.is_set():
            hang_up(request)
        _written(script, request, wfile, block)
        left -= len(block)
    _written(script, request, wfile, b" " * left + end)  # JSON allows the whitespace


def redirect_loop(script: Script, request: Request, wfile: Any) -> None:
    location = f"http://127.0.0.1:{script.port}{request.path}"
    _written(script, request, wfile, f"HTTP/1.1 302 X\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n".encode())


def redirect_to(other: Script) -> Route:
    """307 (which keeps a POST and its body: everything is sent again) to the same path on ``other``."""

    def redirect_elsewhere(script: Script, request: Request, wfile: Any) -> None:
        location = f"http://127.0.0.1:{other.port}{request.path}"
        head = f"HTTP/1.1 307 X\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
        _written(script, request, wfile, head.encode())

    return redirect_elsewhere


def unauthorized(script: Script, request: Request, wfile: Any) -> None:
    _written(script, request, wfile, response_bytes(401, "application/json", json.dumps(NO_KEY).encode()))


def garbage(script: Script, request: Request, wfile: Any) -> None:
    noise = random.Random(f"{request.connection}/{request.on_connection}").randbytes(1024)
    _written(script, request, wfile, noise)
    hang_up(request)


def truncated(script: Script, request: Request, wfile: Any) -> None:
    answer = valid_answer(request)
    head, _, body = answer.partition(b"\r\n\r\n")
    _written(script, request, wfile, head + b"\r\n\r\n" + body[: len(body) // 2])
    hang_up(request)


def reset_connection(script: Script, request: Request, wfile: Any) -> None:
    reset(request)


def answer_bytes(payload: bytes) -> Route:
    """A route that answers every request with ``payload``, whatever it is, then closes the connection."""

    def answer(script: Script, request: Request, wfile: Any) -> None:
        _written(script, request, wfile, payload)
        hang_up(request)

    return answer


ROUTES: dict[str, Callable[[Script, Request, Any], None]] = {
    "endless_stream": endless_stream,
    "drip": drip,
    "stalled_headers": stalled_headers,
    "huge_body": huge_body,
    "redirect_loop": redirect_loop,
    "garbage": garbage,
    "truncated": truncated,
    "reset": reset_connection,
}


class HostileServer:
    """The hostile server of one mode (and, for ``redirect_elsewhere``, the other origin it redirects to)."""

    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown hostile mode {mode!r}: one of {', '.join(MODES)}")
        self.mode = mode
        self.elsewhere: Script | None = None
        if mode == "redirect_elsewhere":
            self.elsewhere = Script({("*", "*"): unauthorized})
            route = redirect_to(self.elsewhere)
        else:
            route = ROUTES[mode]
        self.script = Script({("*", "*"): route})
        self._stack = contextlib.ExitStack()

    @property
    def base_url(self) -> str:
        return self.script.base_url

    @property
    def requests(self) -> list[Request]:
        """What the hostile server itself received."""
        return self.script.requests

    def __enter__(self) -> HostileServer:
        with contextlib.ExitStack() as stack:
            if self.elsewhere is not None:
                stack.enter_context(self.elsewhere)
            stack.enter_context(self.script)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

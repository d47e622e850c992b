"""A scripted HTTP server for harness-robustness tests: it misbehaves on purpose, at the byte level.

Each route is a function that writes raw bytes to the socket, so a test can stall, stream
forever or break HTTP in ways no well-behaved framework would. Loopback only, free port, and
``stop()`` ends every handler (stalled ones included).
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Route = Callable[["Script", Request, Any], None]


class Script:
    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.stopping = threading.Event()
        self.requests: list[Request] = []
        script = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while not script.stopping.is_set():
                    request = _read_request(self.rfile)
                    if request is None:
                        return
                    script.requests.append(request)
                    route = script.routes.get((request.method, request.path)) or script.routes.get(("*", "*"))
                    if route is None:
                        send_json(
                            self.wfile,
                            404,
                            {
                                "error": {
                                    "message": "no route",
                                    "type": "invalid_request_error",
                                    "param": None,
                                    "code": None,
                                }
                            },
                        )
                        continue
                    route(script, request, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def wait(self, seconds: float) -> bool:
        """Sleep, unless the server is stopping; True when it is."""
        return self.stopping.wait(seconds)

    def __enter__(self) -> Script:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def _read_request(rfile: Any) -> Request | None:
    line = rfile.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        header = rfile.readline().decode("latin-1").strip()
        if not header:
            break
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = rfile.read(int(headers.get("content-length", "0") or 0))
    return Request(method, path, headers, body)


def send_json(wfile: Any, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(payload).encode()
    head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    wfile.write(head.encode() + b"\r\n" + body)
    wfile.flush()


def start_sse(wfile: Any) -> None:
    wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
    wfile.flush()


CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "hi "}, "finish_reason": None}],
}


def models_ok(script: Script, request: Request, wfile: Any) -> None:
    send_json(wfile, 200, {"object": "list", "data": [{"id": "m", "object": "model", "created": 1, "owned_by": "x"}]})


def stall_before_answering(script: Script, request: Request, wfile: Any) -> None:
    script.wait(60)


def stall_mid_stream(script: Script, request: Request, wfile: Any) -> None:
    start_sse(wfile)
    wfile.write(f"data: {json.dumps(CHUNK)}\n\n".encode())
    wfile.flush()
    script.wait(60)


def stream_forever(script: Script, request: Request, wfile: Any) -> None:
    start_sse(wfile)
    frame = f"data: {json.dumps(CHUNK)}\n\n".encode()
    try:
        while not script.wait(0.001):
            wfile.write(frame)
            wfile.flush()
    except OSError:
        return

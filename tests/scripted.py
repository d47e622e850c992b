"""A scripted HTTP server for harness-robustness tests: it misbehaves on purpose, at the byte level.

Each route is a function that writes raw bytes to the socket, so a test can stall, stream
forever or break HTTP in ways no well-behaved framework would. Loopback only, free port, and
``stop()`` ends every handler (stalled ones included).

Each request knows the connection it came on (``connection``, numbered from 1 in order of
arrival) and its place there (``on_connection``, from 1), so a route can misbehave on a reused
keep-alive connection only; :func:`reset` drops a connection with a TCP RST, as a server
closing its idle connections does when a request arrives on one.

``stop()`` (leaving the ``with`` block) also shuts down every connection still open, so that a
handler blocked reading the next request on an idle keep-alive connection ends too.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
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
    connection: int = 0  # which connection it came on, in order of arrival (from 1)
    on_connection: int = 0  # its place on that connection (from 1): above 1, a reused keep-alive connection


Route = Callable[["Script", Request, Any], None]


class Script:
    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.stopping = threading.Event()
        self.requests: list[Request] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()  # connections not yet closed, shut down on stop
        script = self

        class Handler(socketserver.StreamRequestHandler):
            def setup(self) -> None:
                super().setup()
                with script._lock:
                    script._open.add(self.connection)

            def finish(self) -> None:
                with script._lock:
                    script._open.discard(self.connection)
                super().finish()

            def handle(self) -> None:
                with script._lock:
                    script.connections += 1
                    connection = script.connections
                served = 0
                while not script.stopping.is_set():
                    request = _read_request(self.rfile)
                    if request is None:
                        return
                    served += 1
                    request.connection, request.on_connection = connection, served
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
                    try:
                        route(script, request, self.wfile)
                    except _Hangup as hangup:
                        if hangup.rst:  # SO_LINGER 0: closing sends an RST, not a FIN
                            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        # the files hold the socket open until they are closed
                        self.rfile.close()
                        self.wfile.close()
                        self.connection.close()
                        return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                if not script.stopping.is_set():  # a connection shut down by stop() is no error
                    super().handle_error(request, client_address)

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
        with self._lock:
            still_open = list(self._open)
        for connection in still_open:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler or its peer


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


class _Hangup(Exception):
    def __init__(self, rst: bool) -> None:
        super().__init__("rst" if rst else "fin")
        self.rst = rst


def reset(request: Request) -> None:
    """End the connection ``request`` came on with a TCP RST (a route's last word): a connection
    reset, as when a server closed it while idle and the request arrives on it."""
    raise _Hangup(rst=True)


def hang_up(request: Request) -> None:
    """End the connection ``request`` came on with a plain close (FIN), after whatever the route wrote."""
    raise _Hangup(rst=False)


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

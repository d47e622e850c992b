"""Serving the mock: uvicorn on a loopback socket, in a background thread, always stoppable.

``MockServer`` is what the rest of the project knows of the mock: it resolves quirk and profile
names, builds the ASGI app (with the seed of its sampled behaviour) and serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import uvicorn

from conformance.mock.app import MockApp
from conformance.mock.profiles import resolve_profile, target_models
from conformance.mock.quirks import Quirk, resolve_quirks
from conformance.mock.served import DEFAULT_MODELS, MockModel

DEFAULT_API_KEY = "mock-api-key"
LOOPBACK = "127.0.0.1"


# asyncio logs "socket.send() raised exception." whenever a client hangs up mid-stream, which
# checks of broken streams do on purpose: that is the mock's noise, not the user's business.
logging.getLogger("asyncio").setLevel(logging.ERROR)


def bind_socket(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says TCP, and without it every response waits 40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class MockServer:
    """The reference mock on ``host:port`` (port 0: a free one), as a context manager."""

    def __init__(
        self,
        *,
        quirks: Sequence[str | Quirk] = (),
        api_key: str = DEFAULT_API_KEY,
        host: str = LOOPBACK,
        port: int = 0,
        models: Sequence[MockModel] | None = None,
        profile: str | None = None,
        seed: int = 0,
        latency_ms: int = 0,
    ) -> None:
        # a vendor profile brings its models and its documented quirks; more quirks may be added
        self.profile = resolve_profile(profile) if profile else None
        if models is None:
            models = (self.profile.models if self.profile else ()) or DEFAULT_MODELS
        self.quirks = resolve_quirks([*(self.profile.quirks if self.profile else ()), *quirks])
        self.api_key = api_key
        # the seed of a sampling model's draws (the model-behaviour quirks, profile "chatty"): the same
        # seed and the same requests give the same answers; without such quirks it changes nothing
        self.seed = seed
        self.app = MockApp(
            api_key=api_key, effects=[q.effects for q in self.quirks], models=models, seed=seed, latency_ms=latency_ms
        )
        self._socket = bind_socket(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def target_models(self) -> dict[str, str]:
        """Capability -> model: what a run against this server configures (its profile's, or the mock's own)."""
        return target_models(self.profile)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def start(self) -> MockServer:
        self._thread = threading.Thread(target=self._serve, name=f"conformance-mock-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the reference mock did not start")
            time.sleep(0.005)
        return self

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (``conformance mock``).

        Until uvicorn installs its own handler, a Ctrl-C (a script that read the base URL and stops
        the mock at once) asks it to stop as well: raised as KeyboardInterrupt there, it would break
        the event loop's construction into a screenful of "Exception ignored".
        """
        previous = signal.signal(signal.SIGINT, self._stop_on_signal)
        try:
            with contextlib.suppress(KeyboardInterrupt):
                self._server.run(sockets=[self._socket])
        finally:
            signal.signal(signal.SIGINT, previous)
            self._socket.close()

    def _stop_on_signal(self, signum: int, frame: object) -> None:
        self._server.should_exit = True

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

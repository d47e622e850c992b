"""`conformance mock` in a process of its own, for the benchmarks: on a free loopback port, always stopped.

Its own process, not a thread of the benchmark's: the load generator or the run under test must not
share an interpreter (and its lock) with the server it measures.
"""

from __future__ import annotations

import secrets
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from conformance.mock.profiles import target_models

START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10


@dataclass(frozen=True)
class ServedMock:
    base_url: str  # ends in /v1
    api_key: str
    pid: int
    # capability -> model, as a run against the embedded mock configures them (no vendor profile)
    models: dict[str, str] = field(default_factory=lambda: target_models(None))


@contextmanager
def served_mock(latency_ms: int = 0) -> Iterator[ServedMock]:
    """Start ``conformance mock --latency-ms N`` on 127.0.0.1 with a fresh key; stop it on the way out."""
    api_key = "mock-bench-" + secrets.token_hex(8)
    command = [sys.executable, "-m", "conformance", "mock", "--host", "127.0.0.1", "--port", "0"]
    command += ["--api-key", api_key, "--latency-ms", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        # the mock prints its base URL on stdout once it listens: port 0 and no race for a free port
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        base_url = process.stdout.readline().strip() if ready else ""
        if not base_url.startswith("http://"):
            raise SystemExit(f"`{' '.join(command[1:])}` did not start (exit {process.poll()}); its stderr is above")
        yield ServedMock(base_url, api_key, process.pid)
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a user stops `conformance mock`; killed if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()

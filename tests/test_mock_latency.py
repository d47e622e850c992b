"""The mock's latency: every response waits before its head, and concurrent requests wait together.

The timed tests prove a lower bound (a request waits at least the latency) and overlap (eight
concurrent requests take far less than eight waits in a row); the bounds are loose on purpose,
for a loaded machine. How fast a run is belongs to ``bench/``, not here.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.cli import main
from conformance.embedded import embedded_target
from conformance.mock.app import MockApp
from conformance.mock.server import MockServer

LATENCY_MS = 300
CONCURRENT_REQUESTS = 8
CHAT_BODY = {"model": "mock-chat", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}


def _scope(method: str, path: str, key: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {key}".encode())],
    }


async def _first_step(app: MockApp, scope: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """Step the ASGI call once by hand: what it sent, and whether it suspended (waited on the loop).

    The mock does no I/O of its own, so with receive and send that never suspend, an app that does
    not wait finishes in one step; one that waits suspends before sending anything.
    """
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    call = app(scope, receive, send)
    try:
        call.send(None)
    except StopIteration:
        return sent, False
    call.close()
    return sent, True


def test_without_latency_the_mock_answers_without_waiting() -> None:
    app = MockApp(api_key="k")
    sent, suspended = asyncio.run(_first_step(app, _scope("GET", "/v1/models", "k")))
    assert not suspended
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200


def test_with_latency_the_mock_waits_before_the_head() -> None:
    app = MockApp(api_key="k", latency_ms=LATENCY_MS)
    sent, suspended = asyncio.run(_first_step(app, _scope("GET", "/v1/models", "k")))
    assert suspended and sent == []


def test_a_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 0"):
        MockApp(api_key="k", latency_ms=-1)


def test_every_response_takes_at_least_the_latency() -> None:
    with MockServer(latency_ms=LATENCY_MS) as server:
        headers = {"authorization": f"Bearer {server.api_key}"}
        with httpx.Client(base_url=server.base_url + "/", headers=headers, timeout=10) as client:
            client.get("models").raise_for_status()  # the connection is open: what follows is the wait
            for send in (
                lambda: client.post("chat/completions", json=CHAT_BODY),
                lambda: client.get("no-such-route"),  # an error waits as long as an answer
            ):
                started = time.perf_counter()
                response = send()
                elapsed = time.perf_counter() - started
                assert response.status_code in (200, 404)
                assert elapsed >= LATENCY_MS / 1000, elapsed


def test_concurrent_requests_wait_at_the_same_time() -> None:
    async def one(client: httpx.AsyncClient) -> float:
        started = time.perf_counter()
        response = await client.post("chat/completions", json=CHAT_BODY)
        response.raise_for_status()
        return time.perf_counter() - started

    async def together(server: MockServer) -> tuple[float, list[float]]:
        headers = {"authorization": f"Bearer {server.api_key}"}
        limits = httpx.Limits(max_connections=CONCURRENT_REQUESTS)
        async with httpx.AsyncClient(
            base_url=server.base_url + "/", headers=headers, timeout=30, limits=limits
        ) as client:
            started = time.perf_counter()
            each = await asyncio.gather(*(one(client) for _ in range(CONCURRENT_REQUESTS)))
            return time.perf_counter() - started, list(each)

    with MockServer(latency_ms=LATENCY_MS) as server:
        wall, each = asyncio.run(together(server))
    assert min(each) >= LATENCY_MS / 1000
    # one after another they would take 8 waits; overlapping, about one. Four leaves room for a
    # loaded machine while still failing any server that serialises them.
    assert wall < 4 * LATENCY_MS / 1000, (wall, each)


def test_the_embedded_mock_passes_the_latency_through() -> None:
    with embedded_target(latency_ms=50) as target:
        assert "50 ms latency" in target.name
        headers = {"authorization": f"Bearer {target.api_key.reveal()}"}
        started = time.perf_counter()
        httpx.get(target.base_url + "/models", headers=headers, timeout=10).raise_for_status()
        assert time.perf_counter() - started >= 0.05


def test_run_takes_the_mock_latency_for_the_embedded_mock_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--mock-latency-ms", "5", "--select", "models.list", "--out", str(out)]) == 0
    assert "5 ms latency" in json.loads((out / "results.json").read_text())["target"]["name"]
    # against a server of the user's, the mock's latency is a mistake, not silently ignored
    assert main(["run", "--base-url", "http://127.0.0.1:9/v1", "--mock-latency-ms", "5", "--out", str(out)]) == 2


def test_the_command_line_refuses_a_negative_latency(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["mock", "--latency-ms", "-1"])
    assert exit_.value.code == 2
    assert "--latency-ms: must be at least 0" in capsys.readouterr().err

"""The reference mock as a load-test target: requests per second under concurrent clients.

    python bench/mock_throughput.py [--seconds S] [--clients N]

Measures non-streamed chat completions, streamed ones (whole stream read) and GET /models, each
with N concurrent keep-alive clients in threads of this process (so the figures are a floor: the
load generator shares the two cores with the server).
"""

from __future__ import annotations

import argparse
import threading
import time

import httpx

from conformance.mock.server import MockServer

BODY = {"model": "mock-chat", "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 16}


def hammer(base_url: str, key: str, seconds: float, clients: int, send) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        with httpx.Client(base_url=base_url + "/", headers={"authorization": f"Bearer {key}"}, timeout=10) as client:
            while time.perf_counter() < deadline:
                send(client)
                counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    cases = {
        "chat completion": lambda c: c.post("chat/completions", json=BODY).raise_for_status(),
        "streamed chat completion": lambda c: c.post(
            "chat/completions", json={**BODY, "stream": True}
        ).raise_for_status(),
        "GET /models": lambda c: c.get("models").raise_for_status(),
    }
    with MockServer() as server:
        for name, send in cases.items():
            done, elapsed = hammer(server.base_url, server.api_key, args.seconds, args.clients, send)
            print(f"{name}: {done / elapsed:.0f} requests/s ({done} in {elapsed:.1f} s, {args.clients} clients)")


if __name__ == "__main__":
    main()

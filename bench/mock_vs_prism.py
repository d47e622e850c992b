"""The reference mock and Stoplight Prism under the same load: requests/s, p50 and p99 latency of each.

    python bench/mock_vs_prism.py [--seconds S] [--clients N]

One load generator for both servers: N concurrent keep-alive clients (asyncio + httpx, one process)
sending the same small non-streamed POST /chat/completions, with the same body, for S seconds after
a short warm-up. Each server runs in its own process on a free loopback port and is measured alone:
`conformance mock` (no latency), then Prism mocking OpenAI's published spec, started from the
cached install as scripts/regenerate_peer_reports.py starts it (../shared/peers/prism.sh). Without
a cached Prism the mock is measured alone; nothing is installed, nothing leaves the machine.

The load generator shares the two cores with the server it measures, so the figures are floors,
comparable with each other, not with a dedicated load-testing host.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from _mock_process import served_mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import regenerate_peer_reports as peers  # noqa: E402  (a script: its directory is not a package)

# "mock-chat" is the mock's chat model; Prism accepts any model name, so the body is the same byte for byte
BODY = {"model": "mock-chat", "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 16}
WARM_UP_S = 1.0  # Node's JIT and the first connections: not what a steady load sees
REQUEST_TIMEOUT_S = 10.0  # Prism never answers some malformed requests: a hang must end


@dataclass(frozen=True)
class Load:
    completed: int
    failed: int  # non-2xx answers or transport errors: counted, not timed
    elapsed_s: float
    latencies_s: list[float]

    def summary(self) -> str:
        cuts = statistics.quantiles(self.latencies_s, n=100) if len(self.latencies_s) > 1 else [0.0] * 99
        line = (
            f"{self.completed / self.elapsed_s:8.0f} requests/s   p50 {cuts[49] * 1000:6.1f} ms   "
            f"p99 {cuts[98] * 1000:6.1f} ms   ({self.completed} in {self.elapsed_s:.1f} s)"
        )
        return line + (f", {self.failed} FAILED" if self.failed else "")


async def hammer(chat_url: str, api_key: str, seconds: float, clients: int) -> Load:
    """``clients`` loops, each sending BODY one request after another until the deadline."""
    latencies: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_S) as client:

        async def loop(deadline: float, timed: bool) -> None:
            nonlocal failed
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post(chat_url, json=BODY)
                    ok = response.is_success
                except httpx.HTTPError:
                    ok = False
                if timed and ok:
                    latencies.append(time.perf_counter() - started)
                elif timed:
                    failed += 1

        warm_until = time.perf_counter() + WARM_UP_S
        await asyncio.gather(*(loop(warm_until, timed=False) for _ in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(loop(started + seconds, timed=True) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Load(len(latencies), failed, elapsed, latencies)


def cached_prism_version() -> str | None:
    """The version of Prism installed in the peers' cache, or None: then nothing may start it."""
    binary = peers.peers_dir() / "prism" / "node_modules" / ".bin" / "prism"
    if not binary.is_file():
        return None
    shown = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    return shown.stdout.strip() or None


@contextmanager
def served_prism(version: str) -> Iterator[peers.RunningPeer]:
    # prism.sh installs whenever the installed version is not the one asked for; asking for the
    # cached one keeps npm (the network) out of a benchmark
    previous = os.environ.get("PRISM_VERSION")
    os.environ["PRISM_VERSION"] = version
    try:
        with peers.running(peers.PEERS["prism"]) as prism:
            yield prism
    finally:
        if previous is None:
            del os.environ["PRISM_VERSION"]
        else:
            os.environ["PRISM_VERSION"] = previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per server (after warm-up)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    args = parser.parse_args()
    if args.seconds <= 0 or args.clients < 1:
        parser.error("--seconds must be above 0 and --clients at least 1")
    print(f"POST /chat/completions, non-streamed, {args.clients} clients, {args.seconds:g} s each", flush=True)
    figures: dict[str, Load] = {}
    with served_mock() as mock:
        figures["reference mock"] = asyncio.run(
            hammer(mock.base_url + "/chat/completions", mock.api_key, args.seconds, args.clients)
        )
    version = cached_prism_version()
    if version is None:
        print(f"Prism is not installed in {peers.peers_dir() / 'prism'}: measuring the mock alone", flush=True)
    else:
        with served_prism(version) as prism:
            # Prism serves the spec's paths at its root: no /v1
            figures[f"Prism {version}"] = asyncio.run(
                hammer(prism.base_url + "/chat/completions", prism.api_key, args.seconds, args.clients)
            )
    width = max(len(name) for name in figures)
    for name, load in figures.items():
        print(f"{name.ljust(width)}  {load.summary()}")


if __name__ == "__main__":
    # a terminated benchmark still unwinds through its context managers, so its servers are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    main()

"""Regenerate the reports of the suite against real servers written by other people ("peers"):

    python scripts/regenerate_peer_reports.py [prism] [litellm] [llamacpp]

For each peer (default: all), start it with ../shared/peers/<peer>.sh on a free loopback port,
run `conformance run --config fixtures/targets/<peer>.yaml` against it into reports/peers/<peer>/
(results.json, matrix.md, junit.xml, report.html), then `conformance docs` into
reports/peers/<peer>/docs/, and stop the server, whatever happened. The peers install themselves
once into $CONFORMANCE_PEERS_DIR/<peer> (default ~/.cache/conformance-peers/<peer>); npm and PyPI
are the only network they need.

The hand-written reports/peers/<peer>/TRIAGE.md is never touched: after a regeneration,
tests/test_peer_triage.py says which of its rows no longer match the verdicts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from conformance.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TARGETS = ROOT / "fixtures" / "targets"
REPORTS = ROOT / "reports" / "peers"
START_TIMEOUT_S = 1800  # a first start installs the peer (npm, pip) before waiting for it
STOP_TIMEOUT_S = 10


@dataclass(frozen=True)
class Peer:
    name: str
    key_env: str  # the target file's api_key_env
    default_key: str  # used when the start script prints no API_KEY= (Prism accepts any bearer)
    # the server reads its key from key_env when it starts (without one, llama-cpp-python requires none)
    started_with_key: bool = False


PEERS = {
    "prism": Peer("prism", "PRISM_API_KEY", "sk-prism-accepts-any-key"),
    "litellm": Peer("litellm", "LITELLM_API_KEY", "sk-test"),
    # a real (tiny) model: its first start compiles llama.cpp, about 5 minutes on 2 cores
    "llamacpp": Peer("llamacpp", "LLAMACPP_API_KEY", "sk-llamacpp-peer", started_with_key=True),
}


@dataclass(frozen=True)
class RunningPeer:
    base_url: str
    api_key: str
    pid: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peers_dir() -> Path:
    configured = os.environ.get("CONFORMANCE_PEERS_DIR")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "conformance-peers"


def start_script(peer: Peer) -> Path:
    script = SHARED / "peers" / f"{peer.name}.sh"
    if not script.is_file():
        raise SystemExit(
            f"{script} not found: this script needs the shared directory next to the repository "
            f"({SHARED}), which holds the peers' start scripts and OpenAI's spec"
        )
    return script


def parse_announcement(stdout: str) -> dict[str, str]:
    """The KEY=VALUE lines a start script prints (BASE_URL, PID, LOG, and API_KEY for LiteLLM)."""
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(pid: int) -> None:
    """SIGTERM the server the script started, then SIGKILL it if it lingers."""
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            if not is_alive(pid):
                return
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already gone


@contextmanager
def running(peer: Peer) -> Iterator[RunningPeer]:
    script = start_script(peer)
    directory = peers_dir() / peer.name
    port = free_port()
    # The script writes its server's pid here before waiting: the fallback when it is interrupted.
    pid_file = directory / f"{peer.name}-{port}.pid"
    pid: int | None = None
    launched_at = time.time()
    print(f"starting {peer.name} on port {port} (installs into {directory} if needed)", flush=True)
    try:
        started = subprocess.run(
            ["bash", str(script), str(directory), str(port)],
            stdout=subprocess.PIPE,
            text=True,
            timeout=START_TIMEOUT_S,
            env={**os.environ, peer.key_env: peer.default_key} if peer.started_with_key else None,
        )
        announced = parse_announcement(started.stdout)
        if "PID" in announced:
            pid = int(announced["PID"])
        if started.returncode != 0 or pid is None or "BASE_URL" not in announced:
            raise SystemExit(f"{script.name} failed (exit {started.returncode}); its stderr is above")
        yield RunningPeer(announced["BASE_URL"], announced.get("API_KEY", peer.default_key), pid)
    finally:
        if pid is None and pid_file.is_file() and pid_file.stat().st_mtime >= launched_at - 1:
            pid = int(pid_file.read_text().strip())  # written by this launch, not a stale one
        if pid is not None:
            stop(pid)
            print(f"stopped {peer.name} (pid {pid})", flush=True)


def conformance(*args: str) -> None:
    code = main(list(args))
    if code not in (0, 1):  # 1: the peer is not conformant, which is what the reports show
        raise SystemExit(f"conformance {' '.join(args)} exited {code}")


def regenerate(peer: Peer) -> None:
    out = REPORTS / peer.name
    with running(peer) as server:
        os.environ[peer.key_env] = server.api_key
        conformance(
            "run",
            "--config",
            str(TARGETS / f"{peer.name}.yaml"),
            "--base-url",
            server.base_url,
            "--out",
            str(out),
            "--quiet",
        )
    docs = out / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    conformance("docs", str(out / "results.json"), "--out", str(docs))


def parse_args() -> list[Peer]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peers", nargs="*", metavar="PEER", help=f"peers to run: {', '.join(PEERS)} (default: all)")
    names = parser.parse_args().peers or list(PEERS)
    unknown = [name for name in names if name not in PEERS]
    if unknown:
        parser.error(f"unknown peer {', '.join(unknown)} (know {', '.join(PEERS)})")
    return [PEERS[name] for name in names]


if __name__ == "__main__":
    # A terminated run still unwinds through `running`, so the servers it started are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    for selected in parse_args():
        regenerate(selected)

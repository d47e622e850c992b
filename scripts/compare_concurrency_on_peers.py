"""Do verdicts depend on the concurrency? Run each peer with `-j 1` and with the default, and compare.

    python scripts/compare_concurrency_on_peers.py [prism] [litellm] [llamacpp]

For each peer (default: prism and litellm), start it once (as scripts/regenerate_peer_reports.py
does), run `conformance run --config fixtures/targets/<peer>.yaml` twice against it, one feature at a
time and with the default concurrency, and print each run's wall time, requests and counts, then
every feature whose verdict differs, in either reading (compatible, strict). Exits 1 when one does.
The schedule may change how long a run takes; it must never change what the run says.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from regenerate_peer_reports import PEERS, TARGETS, conformance, running  # noqa: E402

MODES: dict[str, tuple[str, ...]] = {"-j 1": ("-j", "1"), "default": ()}


def verdicts(results: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each feature's status in the compatible and the strict reading."""
    return {
        feature_id: (
            entry["status"],
            ((entry.get("readings") or {}).get("strict") or {}).get("status", entry["status"]),
        )
        for feature_id, entry in results["features"].items()
    }


def compare(peer_name: str) -> bool:
    peer = PEERS[peer_name]
    seen: dict[str, dict[str, tuple[str, str]]] = {}
    with running(peer) as server, tempfile.TemporaryDirectory() as scratch:
        os.environ[peer.key_env] = server.api_key
        for label, flags in MODES.items():
            out = Path(scratch) / label.replace(" ", "")
            started = time.monotonic()
            conformance(
                "run", "--config", str(TARGETS / f"{peer.name}.yaml"), "--base-url", server.base_url,
                "--out", str(out), "--quiet", *flags,
            )  # fmt: skip
            results = json.loads((out / "results.json").read_text(encoding="utf-8"))
            seen[label] = verdicts(results)
            print(
                f"{peer.name} {label}: {time.monotonic() - started:.1f} s, {results['requests']} requests, "
                f"{results['summary']}, schedule {results.get('schedule', {}).get('concurrency')}"
                f" (lowest {results.get('schedule', {}).get('lowest_concurrency')})",
                flush=True,
            )
    one, default = seen["-j 1"], seen["default"]
    differences = [
        f"  {feature_id}: -j 1 {one.get(feature_id)} vs default {default.get(feature_id)}"
        for feature_id in sorted(set(one) | set(default))
        if one.get(feature_id) != default.get(feature_id)
    ]
    print(f"{peer.name}: " + ("verdicts identical" if not differences else f"{len(differences)} differ"))
    print("\n".join(differences)) if differences else None
    return not differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peers", nargs="*", metavar="PEER", help=f"peers: {', '.join(PEERS)} (default: prism litellm)")
    names = parser.parse_args().peers or ["prism", "litellm"]
    return 0 if all([compare(name) for name in names]) else 1


if __name__ == "__main__":
    raise SystemExit(main())

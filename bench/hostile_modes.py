"""Time a default `conformance run` against each hostile server mode, and print the figures.

    python bench/hostile_modes.py [--mode MODE ...] [--limit SECONDS]

Each mode of tests/hostile.py (endless stream, drip, stalled headers, huge body, redirect loop,
redirect to another origin, garbage, truncated body, reset) answers every route; the command runs as
a vendor would run it, with the default settings. Target: every mode ends, with results.json
written, in under two minutes (tests/test_hostile.py holds it to that). Prints, per mode, the wall
time, the exit code, the verdict counts and the command's last line on stderr (why it stopped, if it
did).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.hostile: the fixture is the tests', not the package's

from tests.hostile import MODES, HostileServer  # noqa: E402

KEY = "sk-hostile-bench-key-0123456789"


def run_mode(mode: str, limit_s: float) -> tuple[float, str, dict[str, int], str]:
    """One default run against ``mode``: wall seconds, exit code (or "killed"), verdict counts, last stderr line."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    with HostileServer(mode) as server, tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "conformance", "run", "--base-url", server.base_url]
        command += ["--api-key", KEY, "--model", "m", "--out", out]
        started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=limit_s, cwd=ROOT, env=environment)
            code, stderr = str(done.returncode), done.stderr
        except subprocess.TimeoutExpired as killed:
            code = "killed"
            stderr = killed.stderr.decode(errors="replace") if isinstance(killed.stderr, bytes) else ""
        seconds = time.perf_counter() - started
        counts: dict[str, int] = {}
        results = Path(out) / "results.json"
        if results.is_file():
            features = json.loads(results.read_text())["features"]
            counts = dict(collections.Counter(feature["status"] for feature in features.values()))
    last_line = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
    return seconds, code, counts, last_line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", action="append", choices=MODES, help="a mode to run (default: every mode)")
    parser.add_argument("--limit", type=float, default=300.0, help="kill a run after this many seconds")
    args = parser.parse_args()
    for mode in args.mode or MODES:
        seconds, code, counts, last_line = run_mode(mode, args.limit)
        verdicts = ", ".join(f"{status} {count}" for status, count in sorted(counts.items())) or "no results.json"
        print(f"{mode:<20} {seconds:6.1f} s  exit {code:<6} {verdicts}")
        if last_line.startswith("conformance:"):
            print(f"{'':<20} {last_line[:200]}")


if __name__ == "__main__":
    main()

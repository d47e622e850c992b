"""Time whole runs of the suite against the embedded reference mock, and print the figures.

    python bench/full_run.py [--runs N]

Target: a full `conformance run` against the embedded mock finishes in under 60 s on a 2-core
machine, so that vendors and CI can run it on every change; in practice well under one second of
checking plus start-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

from conformance.catalog import load_catalog
from conformance.embedded import embedded_target
from conformance.engine import Engine


def in_process(runs: int) -> list[tuple[float, int, int]]:
    catalog = load_catalog()
    figures = []
    for _ in range(runs):
        with embedded_target() as target:
            started = time.perf_counter()
            with Engine(target, catalog) as engine:
                run = engine.run()
            figures.append((time.perf_counter() - started, run.requests, run.completion_tokens_requested))
    return figures


def whole_command() -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "conformance", "run", "--quiet", "--out", out], check=True, capture_output=True
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    figures = in_process(args.runs)
    seconds = [f[0] for f in figures]
    print(f"features: {len(load_catalog())}")
    print(
        f"checking, in process: median {statistics.median(seconds) * 1000:.0f} ms, "
        f"min {min(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms over {args.runs} runs"
    )
    print(f"requests per run: {figures[0][1]}, completion tokens requested per run: {figures[0][2]}")
    print(f"`conformance run` end to end (interpreter start, imports, mock, reports): {whole_command():.2f} s")


if __name__ == "__main__":
    main()

"""What concurrency buys a whole run against a server that takes time to answer, and what it must not change.

    python bench/concurrency.py [--latency-ms N] [--runs N]

Starts `conformance mock --latency-ms N` (default 300) in its own process on a free loopback port,
then times full `conformance run`s against it, as against any server (--base-url, --api-key): with
`-j 1` (one request at a time) and with the default concurrency (no -j). Prints, per mode, the
median wall time of the command, the critical path (results.json `schedule.critical_path_requests`:
the longest chain of requests that must go one after another, preflight included, times the
latency) and wall / critical path; then the speed-up, and whether every run gave the same verdicts.

Target: with the default concurrency, wall / critical path stays near 1 (the run waits for its
longest chain and little else), and the verdicts are those of `-j 1`, feature for feature.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _mock_process import ServedMock, served_mock

from conformance.capabilities import CAPABILITIES

CONCURRENCY_OPTION = "--concurrency"
# the modes compared: a label, and the flags that choose the concurrency
MODES: dict[str, tuple[str, ...]] = {"-j 1": ("-j", "1"), "default concurrency": ()}


@dataclass(frozen=True)
class TimedRun:
    wall_s: float  # the whole command: interpreter start, preflight, checks, reports
    duration_s: float | None  # results.json duration_s: the checking alone
    requests: int | None
    critical_path_requests: int | None
    run_wall_s: float | None  # results.json schedule.wall_s: preflight and checks, end to end
    verdicts: dict[str, str]  # feature ID -> status


def require_concurrency_option() -> None:
    """Stop at once, with the reason, when `conformance run` cannot choose its concurrency."""
    shown = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--help"], capture_output=True, text=True, check=False
    )
    if CONCURRENCY_OPTION not in shown.stdout:
        raise SystemExit(
            f"`conformance run` has no -j/{CONCURRENCY_OPTION} option in this checkout: this benchmark "
            "compares -j 1 with the default concurrency and cannot run without it"
        )


def timed_run(mock: ServedMock, out: Path, flags: tuple[str, ...]) -> TimedRun:
    command = [sys.executable, "-m", "conformance", "run", "--base-url", mock.base_url, "--api-key", mock.api_key]
    # the models the embedded mock would configure, so that the same features run as against it
    for capability in CAPABILITIES:
        command += [f"--{capability.option}", mock.models[capability.name]]
    command += ["--out", str(out), "--quiet", *flags]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - started
    written = out / "results.json"
    # 1 is a failed gate, still a run whose verdicts can be compared; but a crash exits 1 as well
    if done.returncode not in (0, 1) or not written.is_file():
        raise SystemExit(f"`conformance run {' '.join(flags)}` exited {done.returncode}:\n{done.stderr[-2000:]}")
    results: dict[str, Any] = json.loads(written.read_text(encoding="utf-8"))
    return TimedRun(
        wall_s=wall_s,
        duration_s=results.get("duration_s"),
        requests=results.get("requests"),
        critical_path_requests=(results.get("schedule") or {}).get("critical_path_requests"),
        run_wall_s=(results.get("schedule") or {}).get("wall_s"),
        verdicts={feature_id: entry["status"] for feature_id, entry in results["features"].items()},
    )


def describe(label: str, runs: list[TimedRun], latency_ms: int) -> str:
    wall_s = statistics.median(run.wall_s for run in runs)
    first = runs[0]
    line = f"{label}: wall {wall_s:.1f} s (median of {len(runs)})"
    if first.duration_s is not None:
        line += f", checking {statistics.median(run.duration_s or 0.0 for run in runs):.1f} s"
    if first.requests is not None:
        line += f", {first.requests} requests"
    if first.critical_path_requests is None:
        return line + "; critical path: unknown (results.json has no schedule.critical_path_requests)"
    critical_s = first.critical_path_requests * latency_ms / 1000
    line += f"; critical path {first.critical_path_requests} requests = {critical_s:.1f} s"
    if critical_s and first.run_wall_s is not None:
        # the run's own wall time (preflight to last verdict) is what concurrency can shorten; the
        # command's adds the interpreter's start and the reports, the same at any concurrency
        run_wall_s = statistics.median(run.run_wall_s or 0.0 for run in runs)
        line += f"; run wall {run_wall_s:.2f} s, run wall / critical path {run_wall_s / critical_s:.2f}"
    if critical_s:
        line += f"; command wall / critical path {wall_s / critical_s:.2f}"
    return line


def verdict_differences(by_mode: dict[str, list[TimedRun]]) -> list[str]:
    """Every feature whose verdict differs from the first run's, in any run of any mode."""
    reference_label = next(iter(by_mode))
    reference = by_mode[reference_label][0].verdicts
    differences: list[str] = []
    for label, runs in by_mode.items():
        for index, run in enumerate(runs, start=1):
            for feature_id in sorted(reference.keys() | run.verdicts.keys()):
                expected, got = reference.get(feature_id), run.verdicts.get(feature_id)
                if expected != got:
                    differences.append(f"{label} run {index}: {feature_id} {got} ({reference_label} run 1: {expected})")
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=300, help="the mock's wait before each response")
    parser.add_argument("--runs", type=int, default=1, help="runs per mode (the median wall time is printed)")
    args = parser.parse_args()
    if args.latency_ms < 0 or args.runs < 1:
        parser.error("--latency-ms must be at least 0 and --runs at least 1")
    require_concurrency_option()
    by_mode: dict[str, list[TimedRun]] = {label: [] for label in MODES}
    with served_mock(args.latency_ms) as mock, tempfile.TemporaryDirectory() as scratch:
        print(f"mock: {mock.base_url}, {args.latency_ms} ms before each response", flush=True)
        for index in range(args.runs):
            for label, flags in MODES.items():
                out = Path(scratch) / f"{label.replace(' ', '-')}-{index}"
                by_mode[label].append(timed_run(mock, out, flags))
                print(f"  {label}, run {index + 1}: {by_mode[label][-1].wall_s:.1f} s", flush=True)
    for label, runs in by_mode.items():
        print(describe(label, runs, args.latency_ms))
    serial, concurrent = (statistics.median(run.wall_s for run in runs) for runs in by_mode.values())
    print(f"speed-up: {serial / concurrent:.2f}x ({' / '.join(MODES)})")
    runs_made = sum(len(runs) for runs in by_mode.values())
    differences = verdict_differences(by_mode)
    if differences:
        print(f"verdicts: DIFFER, {len(differences)} differences over {runs_made} runs")
        print("\n".join(f"  {difference}" for difference in differences))
        raise SystemExit(1)  # concurrency must never change what a run finds
    print(f"verdicts: identical in all {runs_made} runs ({len(by_mode['-j 1'][0].verdicts)} features)")


if __name__ == "__main__":
    # a terminated benchmark still unwinds through its context managers, so its servers are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    main()

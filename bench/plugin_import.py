"""What installing the package costs a pytest session that does not use it, and print the figures.

    python bench/plugin_import.py [--runs N]

The pytest plugin is registered through the ``pytest11`` entry point, so every pytest session in an
environment where the package is installed imports ``conformance.plugin``, conformance checks or not.
Target: nothing measurable. The entry module imports pytest and the capability table only; the
engine, the SDK, the catalog and the mock are imported when a ``--conformance-*`` option (or its
ini key) is set or the checks directory is collected.

Three figures:

- ``import conformance.plugin``, as ``python -X importtime`` reports it (cumulative, the module and
  everything it imported that pytest had not already imported);
- the wall-clock of ``python -c "import pytest, conformance.plugin"`` minus ``python -c "import pytest"``
  (median of N runs each);
- the wall-clock of an unrelated ``pytest`` session (one trivial test) with the plugin minus the same
  session with ``-p no:conformance`` (median of N runs each).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def importtime_ms() -> float:
    """The cumulative import time of conformance.plugin, after pytest (which any pytest session has)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest; import conformance.plugin"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s?(\s*)conformance\.plugin$", line)
        if match and not match.group(2):  # the top-level import, not a nested one
            return int(match.group(1)) / 1000
    raise RuntimeError("conformance.plugin not in the -X importtime output:\n" + done.stderr[-2000:])


def wall_s(command: list[str], cwd: str | None = None) -> float:
    started = time.perf_counter()
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(command, check=True, capture_output=True, cwd=cwd, env=environment)
    return time.perf_counter() - started


def medians_s(first: list[str], second: list[str], runs: int, cwd: str | None = None) -> tuple[float, float]:
    """The median wall-clock of each command, run alternately (a busy machine slows both alike)."""
    wall_s(first, cwd), wall_s(second, cwd)  # warm the file cache
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        times[0].append(wall_s(first, cwd))
        times[1].append(wall_s(second, cwd))
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    print(f"import conformance.plugin (-X importtime, after pytest): {importtime_ms():.1f} ms")

    bare, with_plugin = medians_s(
        [sys.executable, "-c", "import pytest"], [sys.executable, "-c", "import pytest, conformance.plugin"], args.runs
    )
    print(f"python -c 'import pytest, conformance.plugin': {(with_plugin - bare) * 1000:+.0f} ms over pytest alone")

    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "test_unrelated.py").write_text("def test_nothing():\n    assert True\n")
        session = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_unrelated.py"]
        without, installed = medians_s([*session, "-p", "no:conformance"], session, args.runs, directory)
    print(
        f"an unrelated pytest session: {installed * 1000:.0f} ms with the plugin, {without * 1000:.0f} ms "
        f"without (-p no:conformance): {(installed - without) * 1000:+.0f} ms"
    )


if __name__ == "__main__":
    main()

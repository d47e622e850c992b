"""Run the openai SDK's own generated API tests against the reference mock, and print the counts.

    python scripts/sdk_api_tests.py [--work DIR]

The pinned SDK's source distribution ships tests/api_resources/, written to run against a mock server
at TEST_API_BASE_URL (upstream runs them against Prism). This downloads that sdist from the package
index, builds a virtual environment with what those tests import (the repository's own package, so
the mock, plus pytest-asyncio, rich and the SDK's aiohttp extra), and runs the tests for the resources
the mock serves: chat completions (stored ones included), legacy completions, embeddings, models,
the Responses API (create and stream, retrieve, delete, cancel, compact, input items, input tokens),
image generation (not edits or variations), transcriptions, translations, speech, moderations, files
and batches.
Exit status: 0 when every test passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = (
    "tests/api_resources/chat/test_completions.py",
    "tests/api_resources/chat/completions/test_messages.py",
    "tests/api_resources/test_completions.py",
    "tests/api_resources/test_embeddings.py",
    "tests/api_resources/test_models.py",
    "tests/api_resources/test_responses.py",
    "tests/api_resources/responses/test_input_items.py",
    "tests/api_resources/responses/test_input_tokens.py",
    "tests/api_resources/test_images.py",
    "tests/api_resources/audio/test_transcriptions.py",
    "tests/api_resources/audio/test_translations.py",
    "tests/api_resources/audio/test_speech.py",
    "tests/api_resources/test_moderations.py",
    "tests/api_resources/test_files.py",
    "tests/api_resources/test_batches.py",
)
# Tests of routes the mock does not serve, in files it otherwise passes: image edits and variations
# (node id prefixes, as pytest's --deselect takes them).
DESELECTED = tuple(
    f"tests/api_resources/test_images.py::{suite}::test_{kind}_{route}"
    for suite in ("TestImages", "TestAsyncImages")
    for kind in ("method", "raw_response", "streaming_response")
    for route in ("edit", "create_variation")
)
TEST_REQUIREMENTS = ("pytest", "pytest-asyncio", "rich")


def pinned_version() -> str:
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'"openai==([^"]+)"', text)
    if not match:
        raise SystemExit("pyproject.toml pins no openai version")
    return match.group(1)


def run(*args: str | Path, **kwargs: object) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[call-overload]


def prepare(work: Path, version: str) -> tuple[Path, Path]:
    """The sdist's source tree and the virtual environment's python (both reused when present)."""
    source = work / f"openai-{version}"
    if not (source / "tests" / "api_resources").exists():
        download = work / "download"
        run(
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"openai=={version}",
            "-d",
            download,
        )
        with tarfile.open(download / f"openai-{version}.tar.gz") as archive:
            archive.extractall(work, filter="data")
    python = work / "venv" / "bin" / "python"
    if not python.exists():
        venv.create(work / "venv", with_pip=True)
        run(
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            ROOT,
            f"openai[aiohttp]=={version}",
            *TEST_REQUIREMENTS,
        )
    return source, python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "conformance-sdk-tests"
    parser.add_argument("--work", type=Path, default=default, help=f"download and venv directory (default {default})")
    args = parser.parse_args()
    version = pinned_version()
    args.work.mkdir(parents=True, exist_ok=True)
    source, python = prepare(args.work, version)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts")}
    report = args.work / "junit.xml"
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "sdk_tests_plugin",
            "-o",
            "addopts=",
            f"--junitxml={report}",
            *(f"--deselect={node}" for node in DESELECTED),
            *TEST_FILES,
        ],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = [line for line in done.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    failures = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    print("\n".join(failures[:40]))
    print(f"openai {version} API tests against the reference mock: {summary[-1] if summary else done.stdout[-2000:]}")
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

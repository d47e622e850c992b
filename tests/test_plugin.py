"""The checks run as plain pytest tests in a vendor's own CI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.catalog import load_catalog
from conformance.mock.quirks import QUIRKS
from conformance.registry import load_checks


def pytest_checks(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "conformance.checks",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfs",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
    )


def test_pyargs_collects_one_test_per_feature_and_passes_on_the_clean_mock(tmp_path: Path) -> None:
    done = pytest_checks("--conformance-out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(load_catalog())} passed" in done.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(results["features"]) == list(load_catalog().features)  # catalog order, whatever pytest's order


def test_a_quirk_fails_exactly_its_features(tmp_path: Path) -> None:
    quirk = QUIRKS["stream.finish_reason_empty_string"]
    done = pytest_checks("--conformance-mock-quirk", quirk.id, cwd=tmp_path)
    assert done.returncode == 1
    assert f"{len(quirk.detects)} failed" in done.stdout
    for feature_id in quirk.detects:
        module = load_checks()[feature_id].function.__module__.rsplit(".", 1)[-1]
        assert f"FAILED {module}.py::{feature_id}" in done.stdout


def test_an_honest_decline_of_an_optional_feature_is_a_skip(tmp_path: Path) -> None:
    done = pytest_checks("--conformance-mock-quirk", "emb.dimensions_rejected", "-k", "embeddings", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "SKIPPED" in done.stdout and "unsupported: declined: 400" in done.stdout


def test_selection_with_k_and_a_usage_error(tmp_path: Path) -> None:
    done = pytest_checks("-k", "models.list", cwd=tmp_path)
    assert done.returncode == 0 and "2 passed" in done.stdout
    done = pytest_checks(
        "--conformance-base-url",
        "http://127.0.0.1:9/v1",
        "--conformance-api-key",
        "x",
        "-k",
        "models.list",
        cwd=tmp_path,
    )
    assert done.returncode != 0 and "no chat model" in done.stdout + done.stderr

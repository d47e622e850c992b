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


def test_known_failures_are_xfail_and_a_stale_entry_fails(tmp_path: Path) -> None:
    config = tmp_path / "target.yaml"
    config.write_text(
        "embedded_mock: true\n"
        "known_failing:\n"
        "  - {feature: chat.stream.done_sentinel, reason: no DONE yet}\n"
        "  - {feature: chat.stream.finish_reason, reason: fixed last week}\n"
    )
    done = pytest_checks(
        "--conformance-config",
        str(config),
        "--conformance-mock-quirk",
        "stream.done_missing",
        "-k",
        "chat.stream",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout
    assert "1 xfailed" in done.stdout  # done_sentinel still fails, as listed
    assert "FAILED streaming.py::chat.stream.finish_reason" in done.stdout  # passes: the entry is stale


def test_a_contradicted_claim_fails_the_test(tmp_path: Path) -> None:
    config = tmp_path / "target.yaml"
    config.write_text("embedded_mock: true\nclaims:\n  unsupported: [chat.n]\n")
    done = pytest_checks("--conformance-config", str(config), "-k", "chat.n", cwd=tmp_path)
    assert done.returncode == 1 and "claimed unsupported, works" in done.stdout


def test_a_vendor_profile_through_the_plugin(tmp_path: Path) -> None:
    done = pytest_checks("--conformance-mock-profile", "flexai", "-k", "chat.n or chat.logprobs", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "2 skipped" in done.stdout and "param=n" in done.stdout

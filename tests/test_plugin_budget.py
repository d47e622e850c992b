"""The plugin's budget: ``--conformance-max-requests`` / ``--conformance-max-completion-tokens`` (and
their ini keys) are ``conformance run``'s ``--max-requests`` / ``--max-completion-tokens``.

The same plan (measured on the reference mock), the same engine guard, the same run order: a plugin
session skips the features ``conformance plan`` forecasts for that budget, less the one request
``conformance run`` spends on preflight, which the plugin does not send.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conformance.cli import main


def pytest_in(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "--pyargs", "conformance.checks"]
        + list(args),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=directory,
    )


def results(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return document


def forecast(*budget: str) -> dict[str, Any]:
    """``conformance plan --json`` with this budget: what a run with it skips, and its preflight."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(["plan", "--json", *budget]) == 0
    document: dict[str, Any] = json.loads(text.getvalue())
    return document


def test_the_plugin_skips_what_the_plan_forecasts_for_its_budget_and_never_overspends(tmp_path: Path) -> None:
    done = pytest_in(tmp_path, "--conformance-max-requests", "30", "--conformance-out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr  # skipped for budget fails nothing
    run = results(tmp_path / "out")
    assert run["requests"] <= 30
    assert run["budget"]["max_requests"] == 30 and run["budget"]["spent"]["requests"] == run["requests"]
    skipped = run["budget"]["skipped_for_budget"]
    assert skipped and all(run["features"][f]["status"] == "skipped" for f in skipped)
    assert "the budget (--max-requests 30) would be exceeded" in done.stdout  # pytest's skip reason
    assert f"{len(skipped)} skipped" in done.stdout
    # conformance run counts preflight's requests in its budget; the plugin sends none
    preflight = forecast("--select", "models.list")["preflight"]["requests"]
    planned = forecast("--max-requests", str(30 + preflight))["budget"]
    assert sorted(planned["skipped_before_sending"] + planned["refused_mid_check"]) == sorted(skipped)
    assert planned["spent"]["requests"] - preflight == run["requests"]


def test_a_token_budget_from_the_ini_file_and_the_command_line_over_it(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nconformance_max_completion_tokens = 500\n")
    done = pytest_in(tmp_path, "--conformance-out", str(tmp_path / "ini"))
    assert done.returncode == 0, done.stdout + done.stderr
    run = results(tmp_path / "ini")
    assert run["budget"]["max_completion_tokens"] == 500 and run["budget"]["max_requests"] is None
    assert run["completion_tokens_requested"] <= 500 and run["budget"]["skipped_for_budget"]
    done = pytest_in(
        tmp_path, "--conformance-max-completion-tokens", "100000", "--conformance-out", str(tmp_path / "flag")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run = results(tmp_path / "flag")
    assert run["budget"]["max_completion_tokens"] == 100000 and run["budget"]["skipped_for_budget"] == []


def test_without_a_budget_option_there_is_no_budget(tmp_path: Path) -> None:
    done = pytest_in(tmp_path, "-k", "models.list", "--conformance-out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "budget" not in results(tmp_path / "out")


def test_budget_values_are_checked_as_conformance_run_checks_its_flags(tmp_path: Path) -> None:
    for args, said in (
        (("--conformance-max-requests", "0"), "must be at least 1, got 0"),
        (("--conformance-max-completion-tokens", "-1"), "must be at least 0, got -1"),
        (("--conformance-max-requests", "many"), "invalid int value: 'many'"),
    ):
        done = pytest_in(tmp_path, "--co", *args)
        assert done.returncode == 4 and said in done.stderr, done.stdout + done.stderr  # pytest's usage error
    (tmp_path / "pytest.ini").write_text("[pytest]\nconformance_max_requests = -3\n")
    done = pytest_in(tmp_path, "--co")
    assert done.returncode != 0 and "conformance_max_requests = -3: must be at least 1" in done.stdout + done.stderr

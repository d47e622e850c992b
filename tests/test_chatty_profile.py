"""A conformant server in front of a chatty small model gets no nonconformant verdict, in any reading.

The ``chatty`` mock profile (``conformance/mock/quirks/model_behaviour.py``) is exact on everything
the server controls and behaves like a real small chat model on everything the model chooses:
verbose replies cut by ``max_tokens`` (and reported as "length"), sampling variation between
identical requests, tool arguments left out of non-strict calls, text under ``tool_choice: "auto"``,
JSON of its own shape. Those are notes or model-quality figures, never the server's failure; five
mock seeds make five different runs, each reproducible. A failure here names, per seed, each
feature that judged the model as the server, with the check's reason.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.document import build_results
from conformance.embedded import embedded_target
from conformance.engine import Engine
from conformance.mock.profiles import PROFILES
from conformance.mock.quirks import QUIRKS
from tests.conftest import TEST_TIMEOUTS
from tests.test_plugin import pytest_checks

SEEDS = (1, 2, 3, 4, 5)
NONCONFORMANT = "nonconformant"


@cache
def chatty_results(seed: int) -> dict[str, Any]:
    catalog = load_catalog()
    with (
        embedded_target(profile="chatty", seed=seed, timeouts=TEST_TIMEOUTS) as target,
        Engine(target, catalog) as engine,
    ):
        run = engine.run()
    return build_results(run, catalog)


def nonconformant(results: dict[str, Any]) -> dict[str, str]:
    """Feature (and reading, when not the compatible verdict) -> the reason, for every nonconformant verdict."""
    found = {}
    for feature_id, entry in results["features"].items():
        if entry["status"] == NONCONFORMANT:
            found[feature_id] = entry["reason"]
        for reading, verdict in (entry.get("readings") or {}).items():
            if (
                isinstance(verdict, dict)
                and verdict.get("status") == NONCONFORMANT
                and entry["status"] != NONCONFORMANT
            ):
                problems = "; ".join(p.get("message", "") for p in verdict.get("problems") or ())
                found[f"{feature_id} ({reading} reading)"] = problems or entry["reason"]
    return found


def test_the_chatty_profile_is_every_model_behaviour_quirk() -> None:
    profile = PROFILES["chatty"]
    assert set(profile.quirks) == {quirk.id for quirk in QUIRKS.values() if quirk.model}
    for quirk_id in profile.quirks:
        quirk = QUIRKS[quirk_id]
        # the model's choice is never the server's failure, and its source is OpenAI's own word for it
        assert quirk.benign and quirk.model and "openai" in quirk.source, quirk_id


@pytest.mark.parametrize("seed", SEEDS)
def test_a_chatty_model_behind_a_conformant_server_is_never_nonconformant(seed: int) -> None:
    results = chatty_results(seed)
    assert results["target"]["embedded_mock"]
    failures = nonconformant(results)
    assert failures == {}, "\n".join(f"seed {seed}: {feature}: {reason}" for feature, reason in failures.items())


def test_the_five_runs_really_are_a_chatty_model() -> None:
    """Not vacuous: over the five seeds the model did what real small models do, and the verdicts
    still differ only where the model decided."""
    runs = [chatty_results(seed) for seed in SEEDS]
    notes = [" ".join(" ".join(f.get("notes") or ()) for f in run["features"].values()) for run in runs]
    # the model answered in text under "auto", or made one call where two were asked for, in some run
    assert any("its choice" in text for text in notes), notes
    # five seeds, five models: the same basic request got five different replies
    replies = {
        run["features"]["chat.basic"]["evidence"][0]["response"]["body"]["choices"][0]["message"]["content"]
        for run in runs
    }
    assert len(replies) == len(SEEDS)
    # and the Responses API is the same model: five different Responses to the same request
    responses = {
        json.dumps(run["features"]["responses.create.shape"]["evidence"][0]["response"]["body"]["output"])
        for run in runs
    }
    assert len(responses) == len(SEEDS)


def test_a_streamed_response_the_model_runs_past_the_budget_is_not_the_servers_fault() -> None:
    """Seed 11's model writes past the 64 output tokens of the suite's streamed Response: the stream ends
    with ``response.incomplete``, where the lifecycle, the deltas and the SDK's helper (asked again with
    a larger budget) must judge the server, not the reply's length."""
    results = chatty_results(11)
    assert nonconformant(results) == {}
    lifecycle = results["features"]["responses.stream.lifecycle"]
    assert "response.incomplete" in " ".join(lifecycle["notes"] or ()), lifecycle  # not vacuous: it was cut


def test_the_mock_seed_from_the_command_line_and_the_plugin(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert (
        main(
            [
                "run",
                "--mock-profile",
                "chatty",
                "--mock-seed",
                "2",
                "--select",
                "chat.tools.auto",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["target"]["name"].endswith("mock seed 2") and results["summary"]["supported"] == 1
    assert main(["run", "--base-url", "http://127.0.0.1:9/v1", "--mock-seed", "2", "--out", str(out)]) == 2
    done = pytest_checks(
        "--conformance-mock-profile", "chatty", "--conformance-mock-seed", "3", "-k", "chat.tools.auto", cwd=tmp_path
    )
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr

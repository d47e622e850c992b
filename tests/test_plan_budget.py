"""``conformance plan --max-requests N / --max-completion-tokens N``: what a run with that budget skips.

The plan decides it as the run does: the engine, the budget on, each feature's measured plan checked
against what remains in run order, against a fresh reference mock. So against the mock the features
it names are exactly those a real run with the same budget skips, and it spends what the run spends.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from tests.test_budget import cli, plan

# plan --select chat.basic chat.stream.sdk_helper: preflight and one request each (tests/test_budget.py)
SELECTED = ("--select", "chat.basic", "chat.stream.sdk_helper")


@pytest.mark.parametrize(
    "budget",
    [
        ("--max-requests", "10"),  # tight: a request a skipped feature shared falls to a later one
        ("--max-requests", "50"),
        ("--max-completion-tokens", "500"),
        ("--max-requests", "70", "--max-completion-tokens", "1000"),
    ],
)
def test_the_features_plan_says_a_budget_skips_are_those_a_run_skips(tmp_path: Path, budget: tuple[str, ...]) -> None:
    forecast = plan(*budget)["budget"]
    # the plan forecasts a run that decides feature by feature (-j 1), as the pytest plugin runs too
    code, _ = cli("run", "--quiet", "-j", "1", "--out", str(tmp_path), *budget)
    assert code == 0
    run = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    skipped = run["budget"]["skipped_for_budget"]
    assert skipped  # every budget here is smaller than the full plan
    assert sorted(forecast["skipped_before_sending"] + forecast["refused_mid_check"]) == sorted(skipped)
    before_sending = [f for f in skipped if run["features"][f]["reason"].startswith("skipped: the budget (")]
    assert sorted(forecast["skipped_before_sending"]) == sorted(before_sending)
    assert forecast["spent"] == run["budget"]["spent"]  # the totals within the budget
    limits = dict(zip(budget[::2], budget[1::2], strict=True))
    assert forecast["max_requests"] == run["budget"]["max_requests"] == _int(limits.get("--max-requests"))
    assert forecast["max_completion_tokens"] == _int(limits.get("--max-completion-tokens"))


def _int(text: str | None) -> int | None:
    return int(text) if text is not None else None


def test_the_plan_prints_what_the_budget_skips() -> None:
    code, text = cli("plan", *SELECTED, "--max-requests", "2")
    assert code == 0
    lines = text.splitlines()
    # preflight takes one request, chat.basic the other: the helper's plan does not fit
    assert next(line for line in lines if line.startswith("chat.stream.sdk_helper")).endswith("skip")
    assert not next(line for line in lines if line.startswith("chat.basic")).endswith(("skip", "stop"))
    assert (
        "budget (--max-requests 2): 1 feature skipped before sending (skip), 0 stopped mid-check when a request "
        "would exceed it (stop); within it: 2 requests, 24 completion tokens"
    ) in lines
    assert "skipped before sending: chat.stream.sdk_helper" in lines
    assert any(line.startswith("note: budget: decided as a run decides it") for line in lines)


def test_a_plan_without_a_budget_says_nothing_of_one() -> None:
    document = plan(*SELECTED)
    assert "budget" not in document
    _, text = cli("plan", *SELECTED)
    assert "budget (" not in text and "skipped before sending" not in text


def test_the_plan_checks_its_budget_flags_as_run_does() -> None:
    for flags in (["--max-requests", "0"], ["--max-completion-tokens", "-1"], ["--max-requests", "many"]):
        with pytest.raises(SystemExit) as exit_:
            main(["plan", *flags])
        assert exit_.value.code == 2
    nothing_generated = plan(*SELECTED, "--max-completion-tokens", "0")["budget"]
    assert nothing_generated["skipped_before_sending"] == ["chat.basic", "chat.stream.sdk_helper"]
    assert nothing_generated["spent"] == {"requests": 1, "completion_tokens": 0}  # preflight's GET /models

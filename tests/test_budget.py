"""Plan before sending, budget while sending: ``conformance plan`` and ``run --max-requests``.

``conformance plan`` measures what a run may spend by running the selected features against the
reference mock (never the target); ``--max-requests`` / ``--max-completion-tokens`` skip a feature
whose plan would not fit and refuse, in the transport, any request over the budget. Real commands,
through ``conformance.cli.main``.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.capabilities import CAPABILITIES
from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.embedded import embedded_target
from conformance.engine import Engine
from conformance.mock.server import MockServer
from conformance.report.results import validate_results
from conformance.target import DEFAULT_TRIALS, with_trials
from tests.scripted import Script, send_json

# a full default run against the reference mock (the figures every other test pins too)
FULL_RUN = {"requests": 171, "completion_tokens": 1704}
# plan --select chat.basic chat.stream.sdk_helper: preflight + one request each; the helper may ask again at 4x
TOTAL_ROW = ["3", "48", "4", "144"]


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def plan(*argv: str) -> dict[str, Any]:
    code, text = cli("plan", "--json", *argv)
    assert code == 0
    document: dict[str, Any] = json.loads(text)
    return document


def results(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    validate_results(document)
    return document


@pytest.fixture(scope="module")
def full_plan() -> dict[str, Any]:
    return plan()


def test_the_plan_totals_are_what_a_full_run_against_the_mock_spends(tmp_path: Path, full_plan: dict[str, Any]) -> None:
    code, _ = cli("run", "--quiet", "--out", str(tmp_path))
    run = results(tmp_path)
    assert code == 0
    assert "budget" not in run  # no budget, nothing new in results.json
    total = full_plan["total"]
    assert (total["requests"], total["completion_tokens"]) == (run["requests"], run["completion_tokens_requested"])
    assert {"requests": total["requests"], "completion_tokens": total["completion_tokens"]} == FULL_RUN
    # the worst case is an upper bound of the nominal one, and says it includes trials and the budget retry
    assert total["max_requests"] > total["requests"] and total["max_completion_tokens"] > total["completion_tokens"]
    assert any("--trials" in note for note in full_plan["notes"])
    assert any("first feature that sends it" in note for note in full_plan["notes"])


def test_the_plan_per_feature_is_what_each_feature_spends_in_a_run(full_plan: dict[str, Any]) -> None:
    catalog = load_catalog()
    with embedded_target() as target, Engine(with_trials(target, DEFAULT_TRIALS), catalog) as engine:
        engine.wire.get("models")  # preflight's one request against the mock
        run = engine.run()
    planned = {
        feature_id: (row["requests"], row["completion_tokens"]) for feature_id, row in full_plan["features"].items()
    }
    spent = {
        feature_id: (spend.requests, spend.completion_tokens) for feature_id, spend in run.spent_by_feature.items()
    }
    assert planned == spent
    assert list(full_plan["features"]) == list(run.spent_by_feature)  # run order, as the run sends
    assert full_plan["preflight"] == run.preflight.to_json() == {"requests": 1, "completion_tokens": 0}


def test_the_plan_sends_nothing_to_the_target() -> None:
    def anything(script: Script, request: Any, wfile: Any) -> None:
        send_json(wfile, 200, {"object": "list", "data": []})

    with Script({("*", "*"): anything}) as script:
        document = plan("--base-url", script.base_url, "--api-key", "sk-test-plan-0000000000", "--model", "m")
        assert script.requests == []
    assert document["total"]["requests"] > 0
    # the target has only a chat model: features needing another model cost nothing in the plan
    assert document["features"]["embeddings.basic"]["requests"] == 0


def test_the_plan_prints_a_table_with_totals() -> None:
    code, text = cli("plan", "--select", "chat.basic", "chat.stream.sdk_helper")
    assert code == 0
    lines = text.splitlines()
    assert lines[0].startswith("plan: 2 features, --trials")
    assert any(line.startswith("preflight") for line in lines)
    total = next(line for line in lines if line.startswith("total"))
    assert total.split()[1:] == TOTAL_ROW
    assert any("charged to the first feature" in line for line in lines)


@pytest.mark.parametrize("budget", [10, 50, FULL_RUN["requests"] - 1])
def test_a_request_budget_smaller_than_the_plan_skips_features_and_is_never_exceeded(
    tmp_path: Path, budget: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--quiet", "--out", str(tmp_path), "--max-requests", str(budget)])
    run = results(tmp_path)
    assert run["requests"] <= budget
    record = run["budget"]
    assert record["max_requests"] == budget and record["max_completion_tokens"] is None
    assert record["planned"] == FULL_RUN
    assert record["spent"] == {"requests": run["requests"], "completion_tokens": run["completion_tokens_requested"]}
    skipped = record["skipped_for_budget"]
    assert skipped
    for feature_id in skipped:
        feature = run["features"][feature_id]
        assert feature["status"] == "skipped"
        assert f"the budget (--max-requests {budget}) would be exceeded" in feature["reason"] or (
            "a request was not sent" in feature["reason"]
        )
    # the features it ran have the full run's verdicts (the mock: supported, or skipped for a missing model)
    assert {f["status"] for i, f in run["features"].items() if i not in skipped} <= {"supported", "skipped"}
    assert run["certification"]["state"] == "partial" and not run["certified"]  # never certified
    line = f"budget: spent {run['requests']} of {budget} requests, {run['completion_tokens_requested']} tokens"
    assert line in capsys.readouterr().out
    assert code == 0  # skipped for budget fails nothing; the run is partial, never certified


def test_a_token_budget_is_never_exceeded(tmp_path: Path) -> None:
    main(["run", "--quiet", "--out", str(tmp_path), "--max-completion-tokens", "500"])
    run = results(tmp_path)
    assert run["completion_tokens_requested"] <= 500
    assert run["budget"]["skipped_for_budget"]
    assert run["requests"] < FULL_RUN["requests"]


def test_a_budget_the_plan_fits_skips_nothing(tmp_path: Path) -> None:
    main(["run", "--quiet", "--out", str(tmp_path), "--max-requests", "171", "--max-completion-tokens", "1704"])
    run = results(tmp_path)
    assert run["budget"]["skipped_for_budget"] == []
    assert run["budget"]["spent"] == run["budget"]["planned"] == FULL_RUN
    assert run["summary"]["supported"] == len(run["features"]) - run["summary"]["skipped"]


def test_the_transport_guard_stops_a_check_that_spends_more_than_planned(tmp_path: Path) -> None:
    # A sampling model (the chatty profile) cuts chat.stream.sdk_helper's first reply: the check asks
    # again with 4x the budget, one request more than the plan measured on the reference mock. With
    # the budget at the plan, that request never leaves: the feature ends skipped, not nonconformant.
    with MockServer(profile="chatty", seed=0, api_key="sk-test-guard-000000000") as server:
        options = {capability.name: capability.option for capability in CAPABILITIES}
        flags = ["--base-url", server.base_url, "--api-key", "sk-test-guard-000000000", "--trials", "3"]
        for capability, model in server.target_models.items():
            flags += [f"--{options[capability]}", model]
        flags += ["--select", "chat.stream.sdk_helper"]
        planned = plan(*flags)["total"]
        assert planned["max_requests"] > planned["requests"]
        code = main(["run", "--quiet", "--out", str(tmp_path), *flags, "--max-requests", str(planned["requests"])])
    run = results(tmp_path)
    assert code == 0
    assert run["requests"] == planned["requests"]
    feature = run["features"]["chat.stream.sdk_helper"]
    assert feature["status"] == "skipped"
    assert feature["reason"].startswith("skipped: a request was not sent: the budget (--max-requests")
    assert run["budget"]["skipped_for_budget"] == ["chat.stream.sdk_helper"]


def test_budget_options_are_checked() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--max-requests", "0"])
    assert exit_.value.code == 2

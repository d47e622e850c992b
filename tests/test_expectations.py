"""Claims and known failures: how a vendor's docs and open bugs turn verdicts into a CI gate."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.document import judge_document
from conformance.expectations import Expectations, KnownFailure
from conformance.expectations import load_expectations as load
from conformance.policy import EntryState, gate_of
from conformance.target import ConfigError
from tests.sample_results import sample_results

TODAY = dt.date(2026, 11, 22)


def gated(results: dict[str, Any], expectations: Expectations) -> dict[str, Any]:
    return judge_document(results, expectations, TODAY)


def gate_failures(results: dict[str, Any]) -> list[str]:
    return list(gate_of(results).failures)


def exit_code(results: dict[str, Any]) -> int:
    return gate_of(results).exit_code


def test_claims_are_compared_with_the_verdicts() -> None:
    # sample: chat.basic supported, chat.n unsupported (optional), chat.stream.done_sentinel nonconformant
    results = gated(
        sample_results(),
        Expectations(supported=("chat.basic", "chat.stream.*"), unsupported=("chat.n", "embeddings.basic")),
    )
    features = results["features"]
    assert features["chat.basic"]["claim"] == {"claimed": "supported", "agrees": True}
    assert features["chat.n"]["claim"] == {"claimed": "unsupported", "agrees": True}
    assert features["chat.stream.done_sentinel"]["claim"]["agrees"] is False  # claimed, but broken
    assert features["embeddings.basic"]["claim"]["agrees"] is None  # skipped: neither way
    assert results["claims"]["disagreements"] == ["chat.stream.done_sentinel"]
    assert "chat.stream.done_sentinel: claimed supported, broken" in gate_failures(results)


def test_a_claimed_unsupported_feature_that_works_fails_the_gate() -> None:
    results = gated(sample_results(), Expectations(unsupported=("chat.basic",)))
    assert results["features"]["chat.basic"]["claim"]["agrees"] is False
    assert "chat.basic: claimed unsupported, works" in gate_failures(results)


def test_the_more_specific_unsupported_claim_wins() -> None:
    expectations = Expectations(supported=("chat.*",), unsupported=("chat.n",))
    assert expectations.claim("chat.n") == "unsupported" and expectations.claim("chat.basic") == "supported"
    assert expectations.claim("embeddings.basic") is None


def test_a_known_failure_keeps_the_gate_green_while_it_still_fails() -> None:
    plain = sample_results()
    plain["features"]["chat.usage"]["status"] = "supported"  # leave only done_sentinel failing
    assert exit_code(plain) == 1
    known = KnownFailure("chat.stream.done_sentinel", "fixed in 2.4", "https://tracker.example/1", dt.date(2027, 1, 1))
    results = gated(plain, Expectations(known_failing=(known,)))
    entry = results["features"]["chat.stream.done_sentinel"]["known_failing"]
    assert entry["state"] == EntryState.STILL_FAILING and entry["issue"] == "https://tracker.example/1"
    assert exit_code(results) == 0
    assert results["known_failing"]["stale"] == []


def test_a_known_failure_that_passes_is_stale_and_fails_the_gate() -> None:
    results = gated(sample_results(), Expectations(known_failing=(KnownFailure("chat.basic", "was broken"),)))
    assert results["features"]["chat.basic"]["known_failing"]["state"] == EntryState.STALE
    assert results["known_failing"]["stale"] == ["chat.basic"]
    assert any("chat.basic: listed as known-failing but passes" in r for r in gate_failures(results))


def test_an_expired_known_failure_excuses_nothing() -> None:
    known = KnownFailure("chat.stream.done_sentinel", "fixed soon", expires=dt.date(2026, 11, 1))
    results = gated(sample_results(), Expectations(known_failing=(known,)))
    assert results["features"]["chat.stream.done_sentinel"]["known_failing"]["state"] == EntryState.EXPIRED
    assert results["known_failing"]["expired"] == ["chat.stream.done_sentinel"]
    assert "chat.stream.done_sentinel: nonconformant" in gate_failures(results)


def test_an_undecided_known_failure_is_neither_stale_nor_excusing() -> None:
    results = gated(sample_results(), Expectations(known_failing=(KnownFailure("chat.usage", "flaky"),)))
    assert results["features"]["chat.usage"]["known_failing"]["state"] == EntryState.UNDECIDED


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"claims": {"supported": ["chat.nope"]}}, "matches no feature"),
        ({"known_failing": [{"feature": "nope.*", "reason": "x"}]}, "matches no feature"),
        ({"known_failing": [{"feature": "chat.n"}]}, "expected 'feature' and 'reason'"),
        ({"known_failing": [{"feature": "chat.n", "reason": "x", "expires": "soon"}]}, "expected a date"),
        ({"claims": ["chat.n"]}, "expected a mapping"),
        ({"claims": {"works": ["chat.n"]}}, "expected a mapping"),
    ],
)
def test_config_errors_are_caught(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(config, load_catalog())


def test_config_dates_parse_from_yaml_and_strings() -> None:
    loaded = load({"known_failing": [{"feature": "chat.n", "reason": "r", "expires": "2027-01-31"}]}, load_catalog())
    assert loaded.known_failing[0].expires == dt.date(2027, 1, 31)


# --- end to end: the CLI's exit code follows the gate -------------------------------------------


def run_with(tmp_path: Path, config: str, *quirks: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "target.yaml"
    path.write_text("embedded_mock: true\n" + config)  # a target file says which server it is about
    args = [
        "run",
        "--config",
        str(path),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--select",
        "chat.stream",
        "chat.n",
    ]
    for quirk in quirks:
        args += ["--mock-quirk", quirk]
    code = main(args)
    return code, json.loads((tmp_path / "out" / "results.json").read_text())


def test_cli_known_failing_keeps_ci_green_but_not_certified(tmp_path: Path) -> None:
    config = "known_failing:\n  - feature: chat.stream.done_sentinel\n    reason: no [DONE] yet, fixed in 2.4\n"
    code, results = run_with(tmp_path, config, "stream.done_missing")
    assert code == 0 and results["certified"] is False and results["gate"]["passes"] is True


def test_cli_stale_known_failing_fails(tmp_path: Path) -> None:
    code, results = run_with(tmp_path, "known_failing:\n  - feature: chat.stream.done_sentinel\n    reason: old\n")
    assert code == 1 and results["known_failing"]["stale"] == ["chat.stream.done_sentinel"]


def test_cli_claims_disagreement_fails_and_is_reported(tmp_path: Path) -> None:
    code, results = run_with(tmp_path, "claims:\n  unsupported: [chat.n]\n")
    assert code == 1 and results["claims"]["disagreements"] == ["chat.n"]
    assert "## Where the vendor's claims and this run disagree" in (tmp_path / "out" / "matrix.md").read_text()


def test_cli_bad_claims_are_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "target.yaml"
    path.write_text("claims:\n  supported: [chat.does_not_exist]\n")
    assert main(["run", "--config", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "matches no feature" in capsys.readouterr().err

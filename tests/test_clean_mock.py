"""Against the faithful reference mock every feature is supported, cheaply."""

from __future__ import annotations

from conformance.catalog import load_catalog
from conformance.document import build_results
from conformance.engine import RunResult
from conformance.policy import gate_of
from conformance.report.results import validate_results
from conformance.verdict import Status


def test_every_feature_is_supported_against_the_clean_mock(clean_run: RunResult) -> None:
    not_supported = {
        fid: (r.outcome.status.value, r.outcome.reason)
        for fid, r in clean_run.results.items()
        if r.outcome.status is not Status.SUPPORTED
    }
    assert not_supported == {}
    assert set(clean_run.results) == set(load_catalog().features)


def test_every_verdict_records_its_oracle_and_evidence(clean_run: RunResult) -> None:
    for feature_id, result in clean_run.results.items():
        assert result.outcome.oracle is not None, feature_id
        assert result.outcome.evidence, f"{feature_id} has no evidence"
        for exchange in result.outcome.evidence:
            # PUT: http.path.wrong_method; DELETE: responses.retrieve deletes the response it stored
            assert exchange["request"]["method"] in ("GET", "POST", "PUT", "DELETE")
            assert "response" in exchange


def test_the_run_counts_requests_and_bounds_every_generation(clean_run: RunResult) -> None:
    # a cost guard: shared requests keep a run near one request per feature, and every chat request
    # the suite sends carries max_tokens, so a run against a paid endpoint costs cents
    assert 10 < clean_run.requests <= 1.2 * len(clean_run.results)
    assert clean_run.unbounded_generation_requests == 0
    assert 0 < clean_run.completion_tokens_requested < 2500


def test_results_json_validates_against_the_shipped_schema(clean_run: RunResult) -> None:
    results = build_results(clean_run, load_catalog())
    validate_results(results)
    assert results["summary"]["supported"] == len(results["features"])
    assert results["certified"] is True
    assert gate_of(results).certified and gate_of(results).passes


def test_the_slash_id_check_sends_each_form_of_the_id_once(clean_run: RunResult) -> None:
    # the id comes from GET /models here; that listing once passed for the SDK's retrieve, so the
    # SDK's form went out twice (3.x sends %2F and the check sends the raw form; 1.x the other way)
    sent = [
        e["request"]["url"].split("/v1/", 1)[1] for e in clean_run.results["models.retrieve.slash_id"].outcome.evidence
    ]
    assert sent[0] == "models"
    assert sorted(sent[1:]) == ["models/mock-org%2Fmock-chat", "models/mock-org/mock-chat"]

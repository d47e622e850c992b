"""A vendor that declines features cleanly (400, envelope, param) gets `unsupported`, not `nonconformant`,
and is still certified when only optional or recommended features are declined."""

from __future__ import annotations

from conformance.catalog import load_catalog
from conformance.document import build_results
from conformance.verdict import Status
from tests.conftest import run_against_mock

DECLINES = {
    "params.n_rejected": "chat.n",
    "params.logprobs_rejected": "chat.logprobs",
    "params.logit_bias_unsupported": "chat.params.logit_bias",
    "params.system_fingerprint_missing": "chat.response.system_fingerprint",
    "stream.stream_options_rejected": "chat.stream.include_usage",
    "so.json_schema_declined": "chat.response_format.json_schema",
    "emb.dimensions_rejected": "embeddings.dimensions",
}


def test_clean_declines_are_unsupported_and_the_vendor_still_certifies() -> None:
    run = run_against_mock(list(DECLINES))
    statuses = {fid: r.outcome.status for fid, r in run.results.items()}
    declined = {fid for fid, status in statuses.items() if status is Status.UNSUPPORTED}
    # chat.parse rides on json_schema, so it is declined with it
    assert declined == set(DECLINES.values()) | {"chat.parse"}
    assert {fid for fid, s in statuses.items() if s is Status.NONCONFORMANT} == set()
    for feature_id in declined:
        outcome = run.results[feature_id].outcome
        assert outcome.evidence and ("declined" in outcome.reason or "not" in outcome.reason)
    assert build_results(run, load_catalog())["certified"] is True

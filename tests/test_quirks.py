"""Every quirk is detected by exactly the features it names, and moves nothing else.

This is how the suite's power to detect real bugs is itself tested: each quirk reproduces a
vendor's documented wire bug; a quirk no check detects fails here, and so does a check that
cries wolf on a benign deviation. The strict reading (OpenAI's published schemas over the same
evidence) is held to the same standard: a quirk benign for the compatible reading moves exactly
the features its ``detects_strict`` names there, and the strict reading never passes what the
compatible one fails.
"""

from __future__ import annotations

import re

import pytest

from conformance.catalog import load_catalog
from conformance.document import feature_verdict
from conformance.engine import RunResult
from conformance.mock.quirks import QUIRKS, Quirk
from conformance.policy import Reading
from conformance.verdict import Status
from tests.conftest import run_against_mock
from tests.test_reasons import OUTSIDE_CITATION

# Features proven able to fail by a unit test instead of a quirk, and where.
PROVEN_ELSEWHERE: dict[str, str] = {}


def test_the_quirk_table_is_large_enough_and_well_formed() -> None:
    assert len(QUIRKS) >= 12
    catalog = load_catalog()
    for quirk in QUIRKS.values():
        assert quirk.description and quirk.area and quirk.source, quirk.id
        # a source names its public reports (URLs, or owner/repo#N) or a page of this repository's docs
        assert re.search(r"https://\S+|[\w.-]+/[\w.-]+#\d+|docs", quirk.source), quirk.id
        # ... and never a document outside the repository (test_reasons.py checks the rest of the code)
        assert not OUTSIDE_CITATION.search(quirk.source), quirk.id
        for feature_id, verdict in quirk.detects.items():
            assert feature_id in catalog.features, f"{quirk.id} names unknown feature {feature_id}"
            assert verdict in (Status.NONCONFORMANT.value, Status.UNSUPPORTED.value, Status.SKIPPED.value)
        for feature_id in quirk.notes:
            assert feature_id in catalog.features
        for feature_id, verdict in quirk.detects_strict.items():
            assert feature_id in catalog.features and feature_id not in quirk.detects, f"{quirk.id}: {feature_id}"
            assert verdict == Status.NONCONFORMANT.value  # the strict reading only makes a verdict worse
        # (a model's choice is noted only when a draw shows it: quirks/model_behaviour.py)
        assert quirk.detects or quirk.detects_strict or quirk.notes or quirk.harness or quirk.model, (
            f"{quirk.id} neither detected nor noted"
        )
        assert not (quirk.model and quirk.detects), f"{quirk.id}: the model's choice is never the server's failure"


def test_every_feature_can_be_made_to_fail() -> None:
    # a quirk that only makes a feature skip proves nothing about its power to fail
    detected = {
        feature
        for quirk in QUIRKS.values()
        for feature, verdict in quirk.detects.items()
        if verdict != Status.SKIPPED.value
    }
    never = set(load_catalog().features) - detected - set(PROVEN_ELSEWHERE)
    assert never == set(), "features no quirk (and no unit test) can make fail"


def strict_statuses(run: RunResult) -> dict[str, tuple[str, list[str]]]:
    """Each feature's verdict in the strict reading, and the strict oracle's findings behind it."""
    found = {}
    for feature_id, result in run.results.items():
        verdict, problems = feature_verdict(result, run.target.base_url, Reading.STRICT)
        found[feature_id] = (verdict.status.value, problems)
    return found


@pytest.fixture(scope="module")
def clean_strict(clean_run: RunResult) -> dict[str, tuple[str, list[str]]]:
    return strict_statuses(clean_run)


@pytest.mark.parametrize("quirk", list(QUIRKS.values()), ids=list(QUIRKS))
def test_quirk_moves_exactly_the_features_it_names(
    quirk: Quirk, clean_run: RunResult, clean_strict: dict[str, tuple[str, list[str]]]
) -> None:
    run = run_against_mock([quirk.id])
    changed = {
        feature_id: result.outcome.status.value
        for feature_id, result in run.results.items()
        if result.outcome.status is not clean_run.results[feature_id].outcome.status
    }
    assert changed == dict(quirk.detects), "\n".join(
        f"{fid}: {run.results[fid].outcome.status.value}: {run.results[fid].outcome.reason}"
        for fid in set(changed) | set(quirk.detects)
    )
    for feature_id in quirk.detects:
        outcome = run.results[feature_id].outcome
        assert outcome.evidence, f"{feature_id} failed without evidence"
        if outcome.status is not Status.SKIPPED:
            assert outcome.oracle is not None
    for feature_id, text in quirk.notes.items():
        notes = " ".join(run.results[feature_id].outcome.notes)
        assert text.lower() in notes.lower(), f"{feature_id} does not report the benign deviation: {notes!r}"
    # the strict reading: worse wherever the compatible one is, and exactly detects_strict beyond that
    # for a quirk that declares it or is benign (a detected bug's strict findings spread to every
    # feature whose evidence holds the same answer, which that quirk need not list)
    strict = strict_statuses(run)
    moved = {f: status for f, (status, _) in strict.items() if status != clean_strict[f][0]}
    assert set(moved) >= set(changed)
    if quirk.detects_strict or quirk.benign:
        beyond = {f: status for f, status in moved.items() if f not in quirk.detects}
        assert beyond == dict(quirk.detects_strict), "\n".join(
            f"{f}: {strict[f][0]}: {strict[f][1][:1]}" for f in set(beyond) ^ set(quirk.detects_strict)
        )
    for feature_id in quirk.detects_strict:
        assert strict[feature_id][1], f"{feature_id} is nonconformant in the strict reading without a finding"

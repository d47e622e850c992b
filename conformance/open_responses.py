"""What the Open Responses compliance suite would find, read from this run's verdicts.

Open Responses (openresponses.org) is the compliance suite vendors run against their Responses API.
``matrix.yaml`` maps each of its test IDs to the features that together cover it (``open_responses``),
so that passing ours implies passing theirs. This module scores a run against that table, once: a
test *passes* when every feature covering it is supported, *fails* when one is declined or broken,
and is *not tested* when none failed but one was not decided (no model for it, not selected). Tests
no feature covers are listed with the reason and counted in neither number. ``N/M`` is the tests
passed out of the tests the table covers. ``results.json`` carries the score (``open_responses``),
so a page rendered from a results file gathered elsewhere says the same; reports only render it.

A pure function of the table and the verdicts; depends on :mod:`conformance.verdict` only.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.verdict import Status

SUITE = "Open Responses"


class CaseState(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_TESTED = "not tested"  # nothing failed, but a covering feature was not decided
    NOT_COVERED = "not covered"  # no feature of ours tests what it sends (yet)
    NOT_APPLICABLE = "not applicable"  # it needs what open implementations do not serve

    @property
    def counted(self) -> bool:
        """Whether the test is one of the M of N/M."""
        return self not in (CaseState.NOT_COVERED, CaseState.NOT_APPLICABLE)


@dataclass(frozen=True)
class FeatureStatus:
    """What the score reads of one feature: its verdict in the reading scored, and why."""

    status: Status
    reason: str


def score(table: Mapping[str, Any], verdicts: Mapping[str, FeatureStatus], reading: str) -> dict[str, Any]:
    """The score of a run (``results.json``'s ``open_responses``) from the alias table as results.json
    carries it (or an earlier score, which carries the table too) and each feature's verdict in
    ``reading``. Each test keeps its entry and gains its ``state`` and the features that decided it
    (``because``); ``decided`` counts the tests passed or failed (none: the run ran none of their
    features, and the score says nothing)."""
    tests = [_test(test, verdicts) for test in table.get("tests") or ()]
    counted = [test for test in tests if CaseState(test["state"]).counted]
    return {
        "suite": SUITE,
        "source": table.get("source", ""),
        "reading": reading,
        "passed": sum(test["state"] == CaseState.PASSED for test in counted),
        "applicable": len(counted),
        "decided": sum(test["state"] in (CaseState.PASSED, CaseState.FAILED) for test in counted),
        "tests": tests,
        "not_applicable": dict(table.get("not_applicable") or {}),
    }


def _test(test: Mapping[str, Any], verdicts: Mapping[str, FeatureStatus]) -> dict[str, Any]:
    entry = {key: value for key, value in test.items() if key not in ("state", "because")}
    if test.get("not_applicable"):
        return entry | {"state": CaseState.NOT_APPLICABLE.value}
    if not test.get("features"):
        return entry | {"state": CaseState.NOT_COVERED.value}
    absent = FeatureStatus(Status.SKIPPED, "not run")
    found = {feature: verdicts.get(feature, absent) for feature in test["features"]}
    failing = [f for f, v in found.items() if v.status in (Status.UNSUPPORTED, Status.NONCONFORMANT)]
    undecided = [f for f, v in found.items() if v.status in (Status.SKIPPED, Status.ERROR)]
    if failing:
        state, why = CaseState.FAILED, failing
    elif undecided:
        state, why = CaseState.NOT_TESTED, undecided
    else:
        state, why = CaseState.PASSED, []
    because = [{"feature": f, "status": found[f].status.value, "reason": found[f].reason} for f in why]
    return entry | {"state": state.value, "because": because}

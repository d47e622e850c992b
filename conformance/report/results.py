"""``results.json``: the one document every report is derived from (contract: DESIGN.md §4)."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from conformance import TOOL_NAME, __version__
from conformance.catalog import Catalog
from conformance.engine import RunResult
from conformance.expectations import STALE, STILL_FAILING, Expectations, disagreement_text, judge
from conformance.sdk import SDK_PACKAGE
from conformance.verdict import Level, Status

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "results.schema.json"
STATUSES = [status.value for status in Status]


def is_certified(features: dict[str, dict[str, Any]]) -> bool:
    """The certification rule (DESIGN.md §1): nothing nonconformant, no required feature unsupported,
    and, because an undecided feature is never counted as a pass, no required feature in error."""
    for feature in features.values():
        status, level = feature["status"], feature["level"]
        if status == Status.NONCONFORMANT.value:
            return False
        if level == Level.REQUIRED.value and status in (Status.UNSUPPORTED.value, Status.ERROR.value):
            return False
    return True


def gate_failures(results: dict[str, Any]) -> list[str]:
    """Why the run fails CI, one line each (empty: it passes).

    DESIGN.md §3: a nonconformant feature, or an unsupported required one, fails the run, unless a
    known-failing entry still excuses it (issue 6); a claim the run contradicts fails it, and so
    does a known-failing entry for a feature that now passes (the list is stale).
    """
    reasons = []
    for feature_id, feature in results["features"].items():
        status, level = feature["status"], feature["level"]
        known = feature.get("known_failing") or {}
        excused = known.get("state") == STILL_FAILING
        if status == Status.NONCONFORMANT.value and not excused:
            reasons.append(f"{feature_id}: nonconformant")
        elif status == Status.UNSUPPORTED.value and level == Level.REQUIRED.value and not excused:
            reasons.append(f"{feature_id}: required but unsupported")
        if known.get("state") == STALE:
            reasons.append(f"{feature_id}: listed as known-failing but passes (remove the stale entry)")
        claim = feature.get("claim") or {}
        if claim.get("agrees") is False:
            reasons.append(f"{feature_id}: {disagreement_text(claim['claimed'], status)}")
    return reasons


def exit_code(results: dict[str, Any]) -> int:
    """0 when nothing fails the gate (see :func:`gate_failures`), 1 otherwise."""
    return 1 if gate_failures(results) else 0


def build_results(
    run: RunResult,
    catalog: Catalog,
    expectations: Expectations | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    features: dict[str, dict[str, Any]] = {}
    for feature_id, result in run.results.items():
        feature, outcome = result.feature, result.outcome
        entry: dict[str, Any] = {
            "status": outcome.status.value,
            "level": feature.level.value,
            "title": feature.title,
            "area": feature.area,
            "endpoint": feature.endpoint,
            "oracle": outcome.oracle.value if outcome.oracle else None,
            "reason": outcome.reason,
            "duration_s": result.duration_s,
            "evidence": list(outcome.evidence),
        }
        if outcome.problems:
            entry["problems"] = [{"oracle": p.oracle.value, "message": p.message} for p in outcome.problems]
        if outcome.notes:
            entry["notes"] = list(outcome.notes)
        if outcome.extensions:
            entry["extensions"] = list(outcome.extensions)
        if outcome.status in (Status.NONCONFORMANT, Status.UNSUPPORTED):
            guides = catalog.troubleshooting_for(feature_id)
            if guides:
                entry["troubleshooting"] = [{"id": g.id, "symptom": g.symptom, "fix": g.fix} for g in guides]
        features[feature_id] = entry

    verdicts = judge(features, expectations, today or dt.date.today()) if expectations else None

    summary = {status: 0 for status in STATUSES}
    for entry in features.values():
        summary[entry["status"]] += 1

    results = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "sdk": {"package": SDK_PACKAGE, "version": run.sdk_version},
        "target": {**run.target.describe(), "embedded_mock": run.target.embedded_mock},
        "started_at": run.started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "duration_s": run.duration_s,
        "requests": run.requests,
        "completion_tokens_requested": run.completion_tokens_requested,
        "unbounded_generation_requests": run.unbounded_generation_requests,
        "summary": summary,
        "certified": is_certified(features),
        "areas": {area.id: area.title for area in catalog.areas.values()},
        "politeness": {"backoffs": run.backoffs, "rate_limited": run.rate_limited},
        "security_findings": [
            {"feature": feature_id, "finding": finding}
            for feature_id, result in run.results.items()
            for finding in result.outcome.security
        ],
        "features": features,
        # the docs page's layout travels with the verdicts, so `conformance docs` needs nothing else
        "docs": [section.to_json() for section in catalog.docs],
    }
    if verdicts is not None:
        results.update(verdicts)
    failures = gate_failures(results)
    results["gate"] = {"passes": not failures, "failures": failures}
    return results


@lru_cache(maxsize=1)
def results_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def validate_results(results: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``results`` breaks the shipped schema."""
    jsonschema.validate(results, results_schema(), cls=jsonschema.Draft202012Validator)


def dumps(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"

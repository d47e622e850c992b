"""``results.json`` built from a run: verdicts, the policy's judgements and the gate (contract: docs/contracts.md).

The one document every report is derived from. The engine gives verdicts; :mod:`conformance.policy`
judges them against the level, the vendor's claims and its known failures; this module puts both
into the document, which ``report/`` only renders.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from conformance import TOOL_NAME, __version__
from conformance.catalog import Catalog
from conformance.engine import RunResult
from conformance.expectations import Expectations
from conformance.policy import EntryState, FeatureVerdict, Known, claim_agrees, judge_features, judge_run
from conformance.sdk import SDK_PACKAGE
from conformance.verdict import Level, Status

SCHEMA_VERSION = 1


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

    summary = {status.value: 0 for status in Status}
    for entry in features.values():
        summary[entry["status"]] += 1

    results: dict[str, Any] = {
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
    return judge_document(results, expectations, today or dt.date.today())


def judge_document(results: dict[str, Any], expectations: Expectations | None, today: dt.date) -> dict[str, Any]:
    """The document with the policy's view added: each feature's judgement (and claim and
    known-failing entry), the vendor's claims and known failures, the gate and certification."""
    results = copy.deepcopy(results)
    features: dict[str, dict[str, Any]] = results["features"]
    verdicts = {i: FeatureVerdict(Status(f["status"]), Level(f["level"])) for i, f in features.items()}
    judgements, known = judge_features(verdicts, expectations, today)
    for feature_id, entry in features.items():
        entry["judgement"] = judgements[feature_id].to_json()
        if expectations:
            claimed = expectations.claim(feature_id)
            if claimed is not None:
                entry["claim"] = {"claimed": claimed, "agrees": claim_agrees(claimed, verdicts[feature_id].status)}
            if feature_id in known:
                entry["known_failing"] = {**known[feature_id].entry.to_json(), "state": known[feature_id].state.value}
    if expectations:
        results.update(_expectations_summary(expectations, features, known))
    gate = judge_run(judgements)
    results["certified"] = gate.certified
    results["gate"] = {"passes": gate.passes, "failures": list(gate.failures)}
    return results


def _expectations_summary(
    expectations: Expectations, features: dict[str, dict[str, Any]], known: dict[str, Known]
) -> dict[str, Any]:
    stale = [
        # a stale entry is reported by the features it wrongly excuses: those that pass
        feature_id
        for feature_id, applied in known.items()
        if applied.state is EntryState.STALE and features[feature_id]["status"] == Status.SUPPORTED.value
    ]
    return {
        "claims": {
            "supported": list(expectations.supported),
            "unsupported": list(expectations.unsupported),
            "disagreements": [f for f, v in features.items() if (v.get("claim") or {}).get("agrees") is False],
        },
        "known_failing": {
            "entries": [k.to_json() for k in expectations.known_failing],
            "stale": stale,
            "expired": [f for f, applied in known.items() if applied.state is EntryState.EXPIRED],
        },
    }

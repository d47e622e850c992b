"""``results.json`` built from a run: verdicts, the policy's judgements and the gate (contract: docs/contracts.md).

The one document every report is derived from. The engine gives verdicts; :mod:`conformance.policy`
judges them against the level, the vendor's claims and its known failures; this module puts both
into the document, which ``report/`` only renders.

Two readings of the run go in (README "Certification and the CI gate"): the *compatible* one, every
check's verdict (``status``, the contract), and the *strict* one, which also holds each feature's
evidence against OpenAI's published schemas (:mod:`conformance.openapi`, no request of its own).
Each feature carries both (``readings``), the run a summary and gate per reading; ``judgement``,
``certified`` and ``gate`` are those of the reading the gate judged (``gate.reading``).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from typing import Any

from conformance import TOOL_NAME, __version__
from conformance.catalog import Catalog
from conformance.causes import find_causes
from conformance.engine import FeatureResult, RunResult
from conformance.expectations import Expectations
from conformance.open_responses import FeatureStatus
from conformance.open_responses import score as open_responses_score
from conformance.openapi.published import judge_evidence, spec_source
from conformance.policy import (
    EntryState,
    FeatureVerdict,
    Judgement,
    Known,
    Reading,
    Selection,
    claim_agrees,
    judge_features,
    judge_run,
    reading_verdict,
    unfinished_gate,
)
from conformance.sdk import SDK_PACKAGE
from conformance.verdict import Level, Status

SCHEMA_VERSION = 1


def build_results(
    run: RunResult,
    catalog: Catalog,
    expectations: Expectations | None = None,
    today: dt.date | None = None,
    gate: Reading = Reading.COMPATIBLE,
    patterns: Sequence[str] = (),
) -> dict[str, Any]:
    """``patterns``: what chose the run's features (``--select``). A run of fewer features than the
    catalog holds is partial (``selection``), never certified, whatever chose them (``-k`` in pytest)."""
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
        "redaction": run.redaction,  # how the key was masked (redact.py): "full" or "sent_only", and why
        "security_findings": [
            {"feature": feature_id, "finding": finding}
            for feature_id, result in run.results.items()
            for finding in result.outcome.security
        ],
        "features": features,
        # the docs page's layout travels with the verdicts, so `conformance docs` needs nothing else
        "docs": [section.to_json() for section in catalog.docs],
        # and so does the Open Responses alias table: judge_document scores the run against it
        **({"open_responses": catalog.open_responses.to_json()} if catalog.open_responses else {}),
        # features the budget skipped were not run: a budgeted run that skipped any is partial, never certified
        "selection": Selection(
            len(run.results) - len(_skipped_for_budget(run)), len(catalog), tuple(patterns)
        ).to_json(),
    }
    if run.budget is not None:  # --max-requests / --max-completion-tokens: planned vs spent (engine.py)
        results["budget"] = run.budget
    if run.interrupted:  # Ctrl-C: the features not decided are skipped, "not run" (engine.NOT_RUN)
        results["interrupted"] = True
    if run.schedule:  # how the features were scheduled (engine.py, bounds.py): concurrency, critical path
        results["schedule"] = run.schedule
    if run.stopped is not None:  # stalling target, deadline: the features not decided are errors with the cause
        results["stopped"] = run.stopped
    return judge_document(with_strict_findings(results), expectations, today or dt.date.today(), gate)


def strict_problems(evidence: Any, base_url: str) -> list[dict[str, str]]:
    """What the strict oracle finds in a feature's evidence (``results.json`` exchanges)."""
    return [problem.to_json() for problem in judge_evidence(evidence, base_url)]


def with_strict_findings(results: dict[str, Any]) -> dict[str, Any]:
    """The document with each feature's strict findings (``readings.strict.problems``) judged from its
    evidence, and the strict oracle's pin; also how a stored results.json is judged again offline
    (then :func:`judge_document` for the verdicts)."""
    results = copy.deepcopy(results)
    base_url = results["target"]["base_url"]
    for entry in results["features"].values():
        readings = entry.setdefault("readings", {})
        readings["strict"] = {"problems": strict_problems(entry.get("evidence") or (), base_url)}
    source = spec_source()
    results.setdefault("readings", {})["strict"] = {
        "oracle": {"name": "OpenAI's published OpenAPI schemas", **source},
    }
    return results


def feature_verdict(result: FeatureResult, base_url: str, reading: Reading) -> tuple[FeatureVerdict, list[str]]:
    """One feature's verdict in ``reading`` while the run is still going (the pytest plugin), and the
    strict findings behind it."""
    found = strict_problems(result.outcome.evidence, base_url) if reading is Reading.STRICT else []
    verdict = reading_verdict(result.outcome.status, result.feature.level, reading, bool(found))
    return verdict, [problem["message"] for problem in found]


def judge_document(
    results: dict[str, Any],
    expectations: Expectations | None,
    today: dt.date,
    gate: Reading = Reading.COMPATIBLE,
) -> dict[str, Any]:
    """The document with the policy's view added, in each reading: each feature's verdict and
    judgement (``readings``), the run's summary, gate and certification per reading; and, for the
    reading ``gate`` names, the judgement (and claim and known-failing entry) of each feature, the
    vendor's claims and known failures, the gate and certification, as before readings."""
    results = copy.deepcopy(results)
    features: dict[str, dict[str, Any]] = results["features"]
    run_readings: dict[str, dict[str, Any]] = results.setdefault("readings", {})
    for reading in Reading:
        verdicts = {
            feature_id: reading_verdict(
                Status(entry["status"]), Level(entry["level"]), reading, bool(_strict_findings(entry))
            )
            for feature_id, entry in features.items()
        }
        judgements, known = judge_features(verdicts, expectations, today)
        for feature_id, entry in features.items():
            recorded = (entry.get("readings") or {}).get(reading.value) or {}
            entry.setdefault("readings", {})[reading.value] = {
                "status": verdicts[feature_id].status.value,
                **{key: value for key, value in recorded.items() if key not in ("status", "judgement")},
                "judgement": judgements[feature_id].to_json(),
            }
        run_gate = judge_run(judgements, Selection.of(results))
        run_gate = unfinished_gate(run_gate, results)
        summary = {status.value: 0 for status in Status}
        for verdict in verdicts.values():
            summary[verdict.status.value] += 1
        run_readings[reading.value] = {
            **run_readings.get(reading.value, {}),
            "summary": summary,
            "certified": run_gate.certified,
            "gate": {"passes": run_gate.passes, "failures": list(run_gate.failures)},
        }
        if reading is Reading.STRICT:
            run_readings[reading.value]["beyond_compatible"] = [i for i, v in verdicts.items() if v.strict_only]
        if reading is gate:
            _gate_view(results, expectations, verdicts, judgements, known)
            results["certified"] = run_gate.certified
            results["certification"] = run_gate.certification_json()
            results["gate"] = {"passes": run_gate.passes, "failures": list(run_gate.failures), "reading": gate.value}
            _score_open_responses(results, verdicts, gate)
    # compatible first, then strict, however they were added
    results["readings"] = {r.value: run_readings[r.value] for r in Reading}
    for entry in features.values():
        entry["readings"] = {r.value: entry["readings"][r.value] for r in Reading}
    # one server behaviour behind several failures is named once (conformance/causes.py)
    causes = find_causes(features)
    results["causes"] = [cause.to_json() for cause in causes]
    for cause in causes:
        for feature_id in cause.features:
            features[feature_id]["cause"] = cause.id
    return results


def _score_open_responses(results: dict[str, Any], verdicts: dict[str, FeatureVerdict], reading: Reading) -> None:
    """What the Open Responses suite would find, in the gate's reading, from the alias table the
    document carries (an earlier score carries it too, and is replaced)."""
    table = results.get("open_responses")
    if not table:
        return
    features: dict[str, dict[str, Any]] = results["features"]
    found = {
        feature_id: FeatureStatus(verdict.status, _why(features[feature_id], verdict))
        for feature_id, verdict in verdicts.items()
    }
    results["open_responses"] = open_responses_score(table, found, reading.value)


def _why(entry: dict[str, Any], verdict: FeatureVerdict) -> str:
    """The reason for a feature's verdict: the strict oracle's first finding where only it fails the feature."""
    strict = [str(problem.get("message")) for problem in _strict_findings(entry)] if verdict.strict_only else []
    return strict[0] if strict else str(entry["reason"])


def _strict_findings(entry: dict[str, Any]) -> list[Any]:
    return list(((entry.get("readings") or {}).get("strict") or {}).get("problems") or ())


def _gate_view(
    results: dict[str, Any],
    expectations: Expectations | None,
    verdicts: dict[str, FeatureVerdict],
    judgements: dict[str, Judgement],
    known: dict[str, Known],
) -> None:
    """The gate reading's judgements where every front end reads them: each feature's ``judgement``,
    its claim and known-failing entry, and the run's claims and known failures."""
    features: dict[str, dict[str, Any]] = results["features"]
    for feature_id, entry in features.items():
        entry["judgement"] = judgements[feature_id].to_json()
        if expectations:
            claimed = expectations.claim(feature_id)
            if claimed is not None:
                entry["claim"] = {"claimed": claimed, "agrees": claim_agrees(claimed, verdicts[feature_id].status)}
            if feature_id in known:
                entry["known_failing"] = {**known[feature_id].entry.to_json(), "state": known[feature_id].state.value}
    if expectations:
        results.update(_expectations_summary(expectations, features, known, verdicts))


def _expectations_summary(
    expectations: Expectations,
    features: dict[str, dict[str, Any]],
    known: dict[str, Known],
    verdicts: dict[str, FeatureVerdict],
) -> dict[str, Any]:
    stale = [
        # a stale entry is reported by the features it wrongly excuses: those that pass
        feature_id
        for feature_id, applied in known.items()
        if applied.state is EntryState.STALE and verdicts[feature_id].status is Status.SUPPORTED
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


def _skipped_for_budget(run: RunResult) -> list[str]:
    skipped = (run.budget or {}).get("skipped_for_budget")
    return list(skipped) if isinstance(skipped, list) else []

"""Two runs compared, and the features a run failed: ``conformance diff`` and ``run --select-from --failed``.

Both read ``results.json`` documents only, and judge them the way the document itself was judged
(:func:`conformance.policy.judgement_of`, in the reading its gate judged): nothing is re-derived.

**Failed** (what ``--select-from RESULTS.json --failed`` reruns): a feature whose judgement fails the
gate (``fail`` or ``error``), or whose verdict is ``nonconformant``, ``unsupported`` or ``error``
whatever its judgement (an honest decline of an optional feature, an expected failure under a
known-failing entry: each may have changed since). ``supported`` and ``skipped`` features are not
rerun.

**A diff** (``conformance diff OLD.json NEW.json``) puts every feature of either run in one class:

- ``regression``: passing in OLD (its judgement does not fail the gate), failing in NEW (it does);
- ``fix``: failing in OLD, passing in NEW;
- ``changed``: both pass or both fail, but the verdict changed (``supported`` -> ``unsupported`` on
  an optional feature, ``nonconformant`` -> ``error``, ...);
- ``added`` / ``removed``: in one run only (a catalog change, or a subset run);
- unchanged features are counted, not listed.

The exit code of ``conformance diff`` is 1 when there is a regression, 0 otherwise: the check an
SDK-pin-bump job runs against the last results of the old pin.

Depends on :mod:`conformance.policy` and :mod:`conformance.verdict`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.policy import gate_reading, judgement_of, reading_status
from conformance.verdict import Status

# Verdicts a rerun of "what failed" takes again, whatever their judgement was.
RERUN_STATUSES = frozenset({Status.NONCONFORMANT, Status.UNSUPPORTED, Status.ERROR})
KINDS = ("regression", "fix", "changed", "added", "removed")


def _status(feature: Mapping[str, Any], document: Mapping[str, Any]) -> Status:
    return reading_status(feature, gate_reading(document))


def _fails(feature: Mapping[str, Any]) -> bool:
    return judgement_of(feature).disposition.fails_gate


def failed_features(document: Mapping[str, Any]) -> list[str]:
    """The features of a results.json document that ``--failed`` reruns, in the document's order."""
    return [
        feature_id
        for feature_id, feature in document["features"].items()
        if _fails(feature) or _status(feature, document) in RERUN_STATUSES
    ]


@dataclass(frozen=True)
class VerdictChange:
    feature: str
    kind: str  # one of KINDS
    old: str | None  # the verdict in OLD ("supported"), None when the feature is not in it
    new: str | None
    why: str  # the NEW judgement's reason (the OLD one's for a removed feature)

    def to_json(self) -> dict[str, Any]:
        return {"feature": self.feature, "kind": self.kind, "old": self.old, "new": self.new, "why": self.why}


@dataclass
class ResultsDiff:
    old: Mapping[str, Any]
    new: Mapping[str, Any]
    changes: list[VerdictChange] = field(default_factory=list)
    unchanged: int = 0

    def of_kind(self, kind: str) -> list[VerdictChange]:
        return [change for change in self.changes if change.kind == kind]

    @property
    def regressed(self) -> bool:
        return any(change.kind == "regression" for change in self.changes)

    @property
    def exit_code(self) -> int:
        return 1 if self.regressed else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "old": _describe_run(self.old),
            "new": _describe_run(self.new),
            "summary": {kind: len(self.of_kind(kind)) for kind in KINDS} | {"unchanged": self.unchanged},
            "regressed": self.regressed,
            "changes": [change.to_json() for change in self.changes],
        }


def _describe_run(document: Mapping[str, Any]) -> dict[str, Any]:
    target = document.get("target") or {}
    return {
        "target": target.get("name") or target.get("base_url"),
        "sdk": (document.get("sdk") or {}).get("version"),
        "started_at": document.get("started_at"),
        "reading": gate_reading(document).value,
    }


def diff_results(old: Mapping[str, Any], new: Mapping[str, Any]) -> ResultsDiff:
    """Every feature of either document, classified (see the module); in NEW's order, then OLD's."""
    diff = ResultsDiff(old, new)
    before, after = old["features"], new["features"]
    for feature_id in [*after, *(f for f in before if f not in after)]:
        if feature_id not in before:
            feature = after[feature_id]
            diff.changes.append(
                VerdictChange(feature_id, "added", None, _status(feature, new).value, judgement_of(feature).why)
            )
            continue
        if feature_id not in after:
            feature = before[feature_id]
            diff.changes.append(
                VerdictChange(feature_id, "removed", _status(feature, old).value, None, judgement_of(feature).why)
            )
            continue
        was, now = before[feature_id], after[feature_id]
        old_status, new_status = _status(was, old), _status(now, new)
        failed_before, fails_now = _fails(was), _fails(now)
        if not failed_before and fails_now:
            kind = "regression"
        elif failed_before and not fails_now:
            kind = "fix"
        elif old_status is not new_status:
            kind = "changed"
        else:
            diff.unchanged += 1
            continue
        why = judgement_of(now).why
        reason = now.get("reason")
        if reason and kind != "fix":
            why = f"{why}: {reason}"
        diff.changes.append(VerdictChange(feature_id, kind, old_status.value, new_status.value, why))
    return diff


_COUNTED = {"regression": "regressions", "fix": "fixes", "changed": "changed", "added": "added", "removed": "removed"}
_HEADINGS = {
    "regression": "Regressions (passing before, failing now)",
    "fix": "Fixes (failing before, passing now)",
    "changed": "Other verdict changes",
    "added": "Only in the new run",
    "removed": "Only in the old run",
}


def render_diff_text(diff: ResultsDiff, names: Sequence[str] = ("OLD", "NEW")) -> str:
    """The diff as text: a summary line, then each non-empty class with one line per feature."""
    summary = diff.to_json()["summary"]
    counts = ", ".join(f"{summary[kind]} {_COUNTED[kind]}" for kind in KINDS)
    lines = [f"{names[0]} -> {names[1]}: {counts}, {summary['unchanged']} unchanged"]
    for kind in KINDS:
        changes = diff.of_kind(kind)
        if not changes:
            continue
        lines += ["", f"{_HEADINGS[kind]}:"]
        for change in changes:
            lines.append(f"  {change.feature}: {change.old or '-'} -> {change.new or '-'} ({change.why})")
    lines += ["", "REGRESSED" if diff.regressed else "no regression"]
    return "\n".join(lines) + "\n"

"""A vendor's claims and known failures, and how they turn verdicts into a CI gate.

Both live in the target config file (``--config``)::

    claims:                      # what the vendor's docs say (feature IDs or globs)
      supported: [chat.*, embeddings.basic]
      unsupported: [chat.n, chat.logprobs]      # wins over a broader `supported` pattern
    known_failing:               # bugs being fixed: the run stays green while they still fail
      - feature: chat.stream.done_sentinel
        reason: the stream ends without [DONE]; fixed in 2.4
        issue: https://tracker.vendor.example/123
        expires: 2027-01-31

A claim the run contradicts fails the run: the vendor's docs would lie. A known-failing entry
that passes fails the run too (the list is stale: delete the entry), and one past its expiry date
no longer excuses anything (connectrpc's and MCP's suites work the same way; see
../shared/research/anchors-conformance.md §1.6, §1.7). A pattern that matches no feature is a
configuration error, so a typo cannot silently excuse nothing.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from typing import Any

from conformance.catalog import Catalog
from conformance.target import ConfigError

SUPPORTED, UNSUPPORTED = "supported", "unsupported"
# known-failing states
STILL_FAILING, STALE, EXPIRED, UNDECIDED = "still failing", "stale", "expired", "undecided"


@dataclass(frozen=True)
class KnownFailure:
    pattern: str
    reason: str
    issue: str | None = None
    expires: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pattern": self.pattern, "reason": self.reason}
        if self.issue:
            out["issue"] = self.issue
        if self.expires:
            out["expires"] = self.expires.isoformat()
        return out


@dataclass(frozen=True)
class Expectations:
    supported: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    known_failing: tuple[KnownFailure, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.supported or self.unsupported or self.known_failing)

    def claim(self, feature_id: str) -> str | None:
        if _matches(feature_id, self.unsupported):
            return UNSUPPORTED
        if _matches(feature_id, self.supported):
            return SUPPORTED
        return None

    def known_failure(self, feature_id: str) -> KnownFailure | None:
        return next((k for k in self.known_failing if _matches(feature_id, (k.pattern,))), None)


def _matches(feature_id: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(feature_id, p) or feature_id.startswith(p.rstrip(".") + ".") for p in patterns)


def load_expectations(config: dict[str, Any], catalog: Catalog) -> Expectations:
    """Read ``claims`` and ``known_failing`` from a target config; every pattern must match a feature."""
    claims = config.get("claims") or {}
    if not isinstance(claims, dict) or set(claims) - {SUPPORTED, UNSUPPORTED}:
        raise ConfigError("claims: expected a mapping with 'supported' and/or 'unsupported' lists of feature IDs")
    supported = _patterns(claims.get(SUPPORTED), "claims.supported")
    unsupported = _patterns(claims.get(UNSUPPORTED), "claims.unsupported")
    known = []
    for index, entry in enumerate(config.get("known_failing") or ()):
        where = f"known_failing[{index}]"
        if not isinstance(entry, dict) or not entry.get("feature") or not entry.get("reason"):
            raise ConfigError(f"{where}: expected 'feature' and 'reason' (and optionally 'issue', 'expires')")
        expires = entry.get("expires")
        if expires is not None and not isinstance(expires, dt.date):
            try:
                expires = dt.date.fromisoformat(str(expires))
            except ValueError:
                raise ConfigError(f"{where}.expires: expected a date (YYYY-MM-DD), got {expires!r}") from None
        known.append(KnownFailure(str(entry["feature"]), str(entry["reason"]), entry.get("issue"), expires))
    expectations = Expectations(supported, unsupported, tuple(known))
    ids = [f.id for f in catalog]
    for pattern in (*supported, *unsupported, *(k.pattern for k in known)):
        if not any(_matches(i, (pattern,)) for i in ids):
            raise ConfigError(f"{pattern!r} (in claims or known_failing) matches no feature of the catalog")
    return expectations


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of feature IDs or globs")
    return tuple(value)


def judge(features: dict[str, dict[str, Any]], expectations: Expectations, today: dt.date) -> dict[str, Any]:
    """Annotate each feature with its claim and known-failing state; return the run-level summary."""
    disagreements, stale, expired = [], [], []
    for feature_id, feature in features.items():
        status = feature["status"]
        claimed = expectations.claim(feature_id)
        if claimed is not None:
            verdict = agrees(claimed, status)
            feature["claim"] = {"claimed": claimed, "agrees": verdict}
            if verdict is False:
                disagreements.append(feature_id)
        known = expectations.known_failure(feature_id)
        if known is not None:
            state = known_state(known, status, today)
            feature["known_failing"] = {**known.to_json(), "state": state}
            if state == STALE:
                stale.append(feature_id)
            elif state == EXPIRED:
                expired.append(feature_id)
    return {
        "claims": {
            "supported": list(expectations.supported),
            "unsupported": list(expectations.unsupported),
            "disagreements": disagreements,
        },
        "known_failing": {
            "entries": [k.to_json() for k in expectations.known_failing],
            "stale": stale,
            "expired": expired,
        },
    }


def agrees(claimed: str, status: str) -> bool | None:
    """None when the run could not decide (skipped, error): neither confirmed nor contradicted."""
    if status in ("skipped", "error"):
        return None
    if claimed == SUPPORTED:
        return status == "supported"
    return status != "supported"  # claimed unsupported: declining (or failing) agrees, working does not


def known_state(known: KnownFailure, status: str, today: dt.date) -> str:
    if known.expires is not None and known.expires < today:
        return EXPIRED
    if status == "supported":
        return STALE
    if status in ("nonconformant", "unsupported"):
        return STILL_FAILING
    return UNDECIDED


def disagreement_text(claimed: str, status: str) -> str:
    if claimed == SUPPORTED:
        return "claimed supported, declined" if status == "unsupported" else "claimed supported, broken"
    return "claimed unsupported, works"

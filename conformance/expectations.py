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

This module reads them and says which apply to a feature; :mod:`conformance.policy` decides what
they do to the run (a contradicted claim fails it, a live known failure excuses, a stale entry
fails). A pattern that matches no feature is a configuration error, so a typo cannot silently
excuse nothing.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from typing import Any

from conformance.catalog import Catalog
from conformance.target import ConfigError

SUPPORTED, UNSUPPORTED = "supported", "unsupported"


@dataclass(frozen=True)
class KnownFailure:
    pattern: str
    reason: str
    issue: str | None = None
    expires: dt.date | None = None

    def matches(self, feature_id: str) -> bool:
        return _matches(feature_id, (self.pattern,))

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
        return next((k for k in self.known_failing if k.matches(feature_id)), None)


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

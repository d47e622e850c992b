"""What fails a run: the one place that decides, per feature and for the run.

A verdict (``Status``) says what the server did. Whether that fails the vendor's CI also depends on
the feature's level, on what the vendor's docs claim, and on the known failures it listed (the
target config, :mod:`conformance.expectations`). This module turns those four into a
:class:`Judgement` per feature and a :class:`Gate` for the run; ``results.json`` carries both, and
every output (exit code, JUnit, the pytest plugin, the console, the step summary, the docs page
and the badge) *maps* them and decides nothing. ``tests/test_policy.py`` runs every combination
and asserts that the exit code, JUnit and pytest agree.

The rules (README "Certification and the CI gate" says the same to users):

- ``nonconformant``, and ``unsupported`` on a required feature, fail; ``unsupported`` elsewhere is
  a skip: an honest "no" to an optional feature is allowed.
- ``error`` means the harness could not decide. On a required feature it fails (certification
  cannot rest on an undecided feature, and exit 0 would count it as a pass); elsewhere it is a
  skip that says so, since it is no finding about the server.
- A live known-failing entry turns a feature's failure into an expected failure: the gate passes,
  the run is still not certified. An entry is *stale*, and each feature it matches that passes
  fails with "remove the stale entry", only when none of the features it matches still fails, so a
  glob (``chat.stream.*``) excuses its failing features without condemning the passing ones. An
  entry past its expiry date excuses nothing.
- A verdict that contradicts the vendor's claim fails, whatever else applies: the docs would lie.
- Certified: no feature blocks certification (anything nonconformant; a required feature
  unsupported or undecided), known failures included, and the run ran the whole catalog: a run of
  some features (``--select``) is *partial*, never certified, however well they did. Features
  skipped for a capability the target has no model for count as run (the catalog for the
  configured capabilities); features left out by the selection do not.

Two readings of one run are judged by these same rules. The *compatible* reading is every check's
verdict: what the pinned SDK and common clients need. The *strict* reading also asks OpenAI's
published schemas (the strict oracle, :mod:`conformance.openapi`): its verdict is the compatible one
made worse by strict-only findings (:func:`strict_status`). The run's gate judges one reading,
compatible unless the user chose strict; findings only the strict reading makes never fail the
compatible gate.

Depends on :mod:`conformance.verdict` and :mod:`conformance.expectations` only.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from conformance.expectations import SUPPORTED, Expectations, KnownFailure
from conformance.verdict import Level, Status


class Disposition(enum.StrEnum):
    """What a feature's verdict means for CI; each front end maps it to its own vocabulary."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    EXPECTED_FAIL = "expected_fail"  # a live known-failing entry excuses it: green, never certified
    ERROR = "error"  # the harness could not decide a required feature

    @property
    def fails_gate(self) -> bool:
        return self in (Disposition.FAIL, Disposition.ERROR)


class Reading(enum.StrEnum):
    """Which verdicts a judgement reads (README "Certification and the CI gate")."""

    COMPATIBLE = "compatible"  # every check's verdict: what the pinned SDK and common clients need
    STRICT = "strict"  # also OpenAI's published schemas: required-nullable keys present, and so on


def strict_status(compatible: Status, strict_findings: bool) -> Status:
    """The strict reading's verdict: the compatible one, made worse by strict-only findings.

    A supported feature, or an honest decline, whose evidence breaks the published schemas is
    nonconformant; a feature that already fails, or was not decided, keeps its verdict.
    """
    if strict_findings and compatible in (Status.SUPPORTED, Status.UNSUPPORTED):
        return Status.NONCONFORMANT
    return compatible


STRICT_ONLY_WHY = "nonconformant to OpenAI's published schemas (strict reading)"


class EntryState(enum.StrEnum):
    """A known-failing entry, judged over every feature of the run it matches."""

    STILL_FAILING = "still failing"
    STALE = "stale"  # none of its features fails any more, and at least one passes
    EXPIRED = "expired"
    UNDECIDED = "undecided"  # none of its features was decided


@dataclass(frozen=True)
class Known:
    """The known-failing entry that applies to a feature, and its state in this run."""

    entry: KnownFailure
    state: EntryState


@dataclass(frozen=True)
class Judgement:
    disposition: Disposition
    why: str  # one line: "nonconformant", "claimed unsupported, works", "known failure (reason)"
    blocks_certification: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "disposition": self.disposition.value,
            "why": self.why,
            "blocks_certification": self.blocks_certification,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Judgement:
        return cls(Disposition(data["disposition"]), str(data["why"]), bool(data["blocks_certification"]))


class Certification(enum.StrEnum):
    """What a run may claim; each writer says it in its own words (badge, console, docs page)."""

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not certified"
    PARTIAL = "partial"  # some of the catalog's features were not run: never certified


@dataclass(frozen=True)
class Selection:
    """How much of the catalog a run ran (``results.json`` ``selection``): certification needs all of it."""

    run: int  # features run (those skipped for a missing model included)
    catalog: int  # features in the catalog
    patterns: tuple[str, ...] = ()  # what chose them (``--select``), when something did

    @property
    def partial(self) -> bool:
        return self.run < self.catalog

    def describe(self) -> str:
        """``partial: 5 of 85 features``, as every writer says it."""
        return f"partial: {self.run} of {self.catalog} features"

    def to_json(self) -> dict[str, Any]:
        return {"partial": self.partial, "run": self.run, "catalog": self.catalog, "patterns": list(self.patterns)}

    @classmethod
    def of(cls, results: Mapping[str, Any]) -> Selection | None:
        """A results.json document's selection (None in documents older than it: judged as whole runs)."""
        data = results.get("selection")
        if not data:
            return None
        return cls(int(data["run"]), int(data["catalog"]), tuple(data.get("patterns") or ()))


@dataclass(frozen=True)
class Gate:
    passes: bool
    certified: bool
    failures: tuple[str, ...]  # "feature: why", one per feature that fails the gate
    blocking: tuple[str, ...] = ()  # the features that block certification
    selection: Selection | None = None

    @property
    def exit_code(self) -> int:
        """docs/contracts.md#cli: 0 when nothing fails the gate, 1 otherwise (2, usage errors, is the CLI's)."""
        return 0 if self.passes else 1

    @property
    def partial(self) -> bool:
        return self.selection is not None and self.selection.partial

    @property
    def certification(self) -> Certification:
        if self.partial:
            return Certification.PARTIAL
        return Certification.CERTIFIED if self.certified else Certification.NOT_CERTIFIED

    @property
    def certification_reason(self) -> str:
        """One line: why the run is (not) certified."""
        blocked = ""
        if self.blocking:
            more = f" and {len(self.blocking) - 5} more" if len(self.blocking) > 5 else ""
            blocked = f"{len(self.blocking)} feature(s) block certification: {', '.join(self.blocking[:5])}{more}"
        if self.selection is not None and self.selection.partial:
            chosen = f" (--select {' '.join(self.selection.patterns)})" if self.selection.patterns else ""
            reason = f"{self.selection.describe()}{chosen}; certification needs the whole catalog"
            return f"{reason}; {blocked}" if blocked else reason
        if blocked:
            return blocked
        if not self.certified:  # not for a feature's sake: for the run's (interrupted)
            return next((f.removeprefix("run: ") for f in self.failures if f.startswith("run: ")), "not certified")
        return "nothing nonconformant and no required feature unsupported or undecided, over the whole catalog"

    def certification_json(self) -> dict[str, Any]:
        """``results.json`` ``certification``: the state and its reason (``certified`` is its boolean)."""
        return {"state": self.certification.value, "reason": self.certification_reason}


def blocks_certification(status: Status, level: Level) -> bool:
    if status is Status.NONCONFORMANT:
        return True
    return level is Level.REQUIRED and status in (Status.UNSUPPORTED, Status.ERROR)


def claim_agrees(claimed: str, status: Status) -> bool | None:
    """None when the run could not decide (skipped, error): neither confirmed nor contradicted."""
    if status in (Status.SKIPPED, Status.ERROR):
        return None
    if claimed == SUPPORTED:
        return status is Status.SUPPORTED
    return status is not Status.SUPPORTED  # claimed unsupported: declining (or failing) agrees, working does not


def disagreement_text(claimed: str, status: Status) -> str:
    if claimed == SUPPORTED:
        return "claimed supported, declined" if status is Status.UNSUPPORTED else "claimed supported, broken"
    return "claimed unsupported, works"


def judge_feature(
    status: Status,
    level: Level,
    claim: str | None = None,
    known: Known | None = None,
    strict_only: bool = False,
) -> Judgement:
    """The disposition of one feature (the rules are in the module docstring). ``strict_only``: the
    status is the strict reading's, worse than the compatible one (the why says so)."""
    blocks = blocks_certification(status, level)
    if claim is not None and claim_agrees(claim, status) is False:
        return Judgement(Disposition.FAIL, disagreement_text(claim, status), blocks)
    failing = status is Status.NONCONFORMANT or (status is Status.UNSUPPORTED and level is Level.REQUIRED)
    if known is not None and known.state is EntryState.STALE and status is Status.SUPPORTED:
        return Judgement(
            Disposition.FAIL,
            f"listed as known-failing but passes: remove the stale entry ({known.entry.pattern}: {known.entry.reason})",
            blocks,
        )
    if known is not None and known.state is EntryState.STILL_FAILING and status in FAILING_STATUSES:
        return Judgement(Disposition.EXPECTED_FAIL, f"known failure: {known.entry.reason}", blocks)
    if status is Status.SUPPORTED:
        return Judgement(Disposition.PASS, "supported", blocks)
    if failing:
        why = "nonconformant" if status is Status.NONCONFORMANT else "required but unsupported"
        return Judgement(Disposition.FAIL, STRICT_ONLY_WHY if strict_only else why, blocks)
    if status is Status.UNSUPPORTED:
        return Judgement(Disposition.SKIP, "unsupported", blocks)  # an honest "no" to a feature that is not required
    if status is Status.ERROR:
        if level is Level.REQUIRED:
            return Judgement(Disposition.ERROR, "could not decide a required feature", blocks)
        return Judgement(Disposition.SKIP, "could not decide", blocks)  # no finding about the server either way
    return Judgement(Disposition.SKIP, "skipped", blocks)


# the verdicts a known-failing entry can excuse, and that keep it from going stale
FAILING_STATUSES = (Status.NONCONFORMANT, Status.UNSUPPORTED)


def entry_states(
    expectations: Expectations, statuses: Mapping[str, Status], today: dt.date
) -> dict[KnownFailure, EntryState]:
    """Each known-failing entry's state over every feature of the run its pattern matches."""
    states = {}
    for entry in expectations.known_failing:
        matched = [status for feature_id, status in statuses.items() if entry.matches(feature_id)]
        if entry.expires is not None and entry.expires < today:
            states[entry] = EntryState.EXPIRED
        elif any(status in FAILING_STATUSES for status in matched):
            states[entry] = EntryState.STILL_FAILING
        elif any(status is Status.SUPPORTED for status in matched):
            states[entry] = EntryState.STALE
        else:
            states[entry] = EntryState.UNDECIDED
    return states


@dataclass(frozen=True)
class FeatureVerdict:
    """What the policy reads of a feature: its verdict (in the reading judged) and its level."""

    status: Status
    level: Level
    strict_only: bool = False  # the strict reading's verdict, worse than the compatible one


def reading_verdict(compatible: Status, level: Level, reading: Reading, strict_findings: bool) -> FeatureVerdict:
    """A feature's verdict in ``reading``, from its compatible verdict and whether the strict oracle found anything."""
    if reading is Reading.COMPATIBLE:
        return FeatureVerdict(compatible, level)
    status = strict_status(compatible, strict_findings)
    return FeatureVerdict(status, level, strict_only=status is not compatible)


def judge_features(
    verdicts: Mapping[str, FeatureVerdict], expectations: Expectations | None, today: dt.date
) -> tuple[dict[str, Judgement], dict[str, Known]]:
    """Every feature's judgement, and the known-failing entry (with its state) that applied to each.

    A feature's judgement depends on its own verdict and on the verdicts of the features that share
    its known-failing entry; the pytest plugin relies on that to judge a feature before the run ends.
    """
    expectations = expectations or Expectations()
    states = entry_states(expectations, {i: v.status for i, v in verdicts.items()}, today)
    judgements: dict[str, Judgement] = {}
    applied: dict[str, Known] = {}
    for feature_id, verdict in verdicts.items():
        entry = expectations.known_failure(feature_id)
        known = Known(entry, states[entry]) if entry is not None else None
        if known is not None:
            applied[feature_id] = known
        judgements[feature_id] = judge_feature(
            verdict.status, verdict.level, expectations.claim(feature_id), known, verdict.strict_only
        )
    return judgements, applied


def judge_run(judgements: Mapping[str, Judgement], selection: Selection | None = None) -> Gate:
    """The run's gate; ``selection``: how much of the catalog it ran (a partial run is never certified)."""
    failures = tuple(f"{feature_id}: {j.why}" for feature_id, j in judgements.items() if j.disposition.fails_gate)
    blocking = tuple(feature_id for feature_id, j in judgements.items() if j.blocks_certification)
    certified = not blocking and not (selection is not None and selection.partial)
    return Gate(passes=not failures, certified=certified, failures=failures, blocking=blocking, selection=selection)


INTERRUPTED_FAILURE = "run: interrupted before every feature was decided (the rest: skipped, not run)"


def interrupted_gate(gate: Gate) -> Gate:
    """The gate of a run Ctrl-C cut short (results.json ``interrupted``): it certifies nothing and
    passes nothing, whatever it decided, since the features it did not run were not judged."""
    return replace(gate, passes=False, certified=False, failures=(*gate.failures, INTERRUPTED_FAILURE))


def stopped_gate(gate: Gate, stopped: Mapping[str, Any]) -> Gate:
    """The gate of a run that stopped before deciding every feature (results.json ``stopped``: a
    stalling target, the deadline): like an interrupted run, it certifies and passes nothing."""
    failure = f"run: stopped before every feature was decided: {stopped.get('cause', '')}"
    return replace(gate, passes=False, certified=False, failures=(*gate.failures, failure))


def unfinished_gate(gate: Gate, results: Mapping[str, Any]) -> Gate:
    """``gate``, for a results.json document whose run may not have decided every feature
    (``interrupted``, ``stopped``): such a run certifies and passes nothing."""
    if results.get("interrupted"):
        gate = interrupted_gate(gate)
    if results.get("stopped"):
        gate = stopped_gate(gate, results["stopped"])
    return gate


def certification_of(results: Mapping[str, Any]) -> Certification:
    """What a results.json document may claim, as it records it (``certification``; in documents
    older than it, ``certified`` and ``selection``): writers map it, they never work it out."""
    recorded = (results.get("certification") or {}).get("state")
    if recorded:
        return Certification(recorded)
    selection = Selection.of(results)
    if selection is not None and selection.partial:
        return Certification.PARTIAL
    return Certification.CERTIFIED if results.get("certified") else Certification.NOT_CERTIFIED


def gate_reading(results: Mapping[str, Any]) -> Reading:
    """The reading a results.json document's gate judged (compatible in documents older than readings)."""
    return Reading((results.get("gate") or {}).get("reading", Reading.COMPATIBLE.value))


def reading_status(feature: Mapping[str, Any], reading: Reading) -> Status:
    """A results.json feature's verdict in ``reading``: ``status`` is the compatible one (the contract),
    and a document older than readings has no other."""
    if reading is Reading.COMPATIBLE:
        return Status(feature["status"])
    recorded = ((feature.get("readings") or {}).get(reading.value) or {}).get("status")
    return Status(recorded or feature["status"])


def judgement_of(feature: Mapping[str, Any], reading: Reading | None = None) -> Judgement:
    """The judgement a results.json feature carries: the gate's reading's (``judgement``), or the
    named reading's. Documents written before judgements were recorded carry none: they are judged
    here from what they do carry (claim, known-failing state)."""
    if reading is None:
        recorded = feature.get("judgement")
    else:
        readings = feature.get("readings") or {}
        recorded = (readings.get(reading.value) or {}).get("judgement")
        if recorded is None and not readings and reading is Reading.COMPATIBLE:
            recorded = feature.get("judgement")  # before readings, the judgement was the compatible one
    if recorded:
        return Judgement.from_json(recorded)
    claim = (feature.get("claim") or {}).get("claimed")
    recorded_known = feature.get("known_failing")
    known = None
    if recorded_known:
        entry = KnownFailure(str(recorded_known.get("pattern", "")), str(recorded_known.get("reason", "")))
        known = Known(entry, EntryState(recorded_known["state"]))
    status = reading_status(feature, reading or Reading.COMPATIBLE)
    strict_only = status is not Status(feature["status"])
    return judge_feature(status, Level(feature["level"]), claim, known, strict_only)


def gate_of(results: Mapping[str, Any], reading: Reading | None = None) -> Gate:
    """The gate of a results.json document, from its features' judgements: in the reading its gate
    judged, or in ``reading``."""
    reading = reading or gate_reading(results)
    judgements = {feature_id: judgement_of(f, reading) for feature_id, f in results["features"].items()}
    gate = judge_run(judgements, Selection.of(results))
    return unfinished_gate(gate, results)

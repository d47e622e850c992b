"""Verdicts, oracles and outcomes: the only vocabulary a check speaks.

Depends on nothing else in the project. A check returns an :class:`Outcome` (usually built by
:meth:`Findings.outcome`, or :meth:`Findings.fail` where it stops on a problem) or raises
:class:`StopCheck` to end at once with one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any


class Status(enum.StrEnum):
    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"
    NONCONFORMANT = "nonconformant"
    SKIPPED = "skipped"
    ERROR = "error"


class Oracle(enum.StrEnum):
    """Which source of truth decided a verdict (docs/contracts.md#oracles)."""

    SDK = "sdk"
    SCHEMA = "schema"
    BEHAVIOUR = "behaviour"
    WIRE = "wire"


class Level(enum.StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"
    OPTIONAL = "optional"


@dataclass(frozen=True)
class Problem:
    """One mismatch between what the server did and what the contract says."""

    oracle: Oracle
    message: str

    def __str__(self) -> str:
        return f"[{self.oracle}] {self.message}"


@dataclass(frozen=True)
class Outcome:
    """The verdict for one feature, with what decided it.

    ``evidence`` holds redacted HTTP exchanges (plain JSON-ready dicts); the engine attaches
    them, checks do not build them by hand.
    """

    status: Status
    reason: str
    oracle: Oracle | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()
    # security findings (a server that serves without a key): reported apart, never a verdict
    security: tuple[str, ...] = ()
    # vendor extension fields seen (``usage.cache_read_input_tokens``): allowed, additive, documented
    extensions: tuple[str, ...] = ()

    def with_evidence(self, evidence: tuple[dict[str, Any], ...]) -> Outcome:
        return replace(self, evidence=evidence)


def unsupported(reason: str, oracle: Oracle = Oracle.WIRE) -> Outcome:
    return Outcome(Status.UNSUPPORTED, reason, oracle)


def nonconformant(reason: str, oracle: Oracle, problems: tuple[Problem, ...] = ()) -> Outcome:
    return Outcome(Status.NONCONFORMANT, reason, oracle, problems or (Problem(oracle, reason),))


def skipped(reason: str) -> Outcome:
    return Outcome(Status.SKIPPED, reason)


def harness_error(reason: str) -> Outcome:
    return Outcome(Status.ERROR, reason)


class StopCheck(Exception):
    """Raised inside a check (or a helper it calls) to end the check at once with ``outcome``."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


@dataclass
class Findings:
    """Collects every mismatch a check sees, so one run reports all of them, not the first.

    Messages follow one pattern, ``<what>: received X, expected Y``, so a reader learns it once.
    """

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)

    def expect(self, condition: bool, oracle: Oracle, message: str) -> bool:
        if not condition:
            self.problems.append(Problem(oracle, message))
        return condition

    def add(self, oracle: Oracle, message: str) -> None:
        if Problem(oracle, message) not in self.problems:  # one finding, however often it is seen
            self.problems.append(Problem(oracle, message))

    def extend(self, oracle: Oracle, messages: list[str]) -> None:
        for message in messages:
            self.add(oracle, message)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def extension(self, sdk_type: str, paths: list[str]) -> None:
        """Vendor extension fields on an SDK type's object (``ChatCompletion``, ``usage.x``): a note,
        and data for the docs page (``ChatCompletion.usage.x``)."""
        if paths:
            self.note(f"vendor extension fields on {sdk_type} (allowed, additive): {', '.join(sorted(paths))}")
            self.extensions += [f"{sdk_type}.{p}" for p in sorted(paths) if f"{sdk_type}.{p}" not in self.extensions]

    @property
    def ok(self) -> bool:
        return not self.problems

    def outcome(self, supported_reason: str, oracle: Oracle | None = None) -> Outcome:
        """Supported with ``supported_reason`` when nothing was found, else nonconformant (:meth:`fail`)."""
        if not self.problems:
            return Outcome(
                Status.SUPPORTED, supported_reason, oracle, notes=tuple(self.notes), extensions=tuple(self.extensions)
            )
        return self.fail()

    def fail(self) -> Outcome:
        """End here as nonconformant, on the problems recorded so far.

        It never returns supported: called with no problem recorded it raises, and the engine
        reports a harness error, because a check that stops on a problem it never recorded has a bug.
        """
        if not self.problems:
            raise RuntimeError("Findings.fail() with no problem recorded: the check stopped on nothing")
        first = self.problems[0]
        more = len(self.problems) - 1
        reason = first.message + (f" (and {more} more)" if more else "")
        return Outcome(
            Status.NONCONFORMANT,
            reason,
            first.oracle,
            tuple(self.problems),
            tuple(self.notes),
            extensions=tuple(self.extensions),
        )

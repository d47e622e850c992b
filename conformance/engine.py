"""Runs checks against a target and gives every selected feature exactly one outcome.

Features run in :func:`~conformance.catalog.in_run_order` (run-wide ones, ``observes: run``,
after the rest) and are reported in catalog order. What a check cannot judge itself (an error
status, a transport failure) the engine judges here. The engine emits results; it does not know
who reads them (``report/`` writes files, the CLI prints, the pytest plugin maps outcomes to test
results).
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from conformance import sdk as sdk_module
from conformance.catalog import Catalog, Feature, in_run_order
from conformance.context import CheckContext, RunState, StatusError, TransportProblem
from conformance.cost import BUDGET_FAILURE, Budget, CostMeter, Spend
from conformance.envelope import judge_decline
from conformance.redact import Redactor
from conformance.registry import CheckSpec, load_checks
from conformance.target import Target
from conformance.verdict import (
    Level,
    Oracle,
    Outcome,
    Problem,
    Status,
    StopCheck,
    harness_error,
    nonconformant,
    skipped,
    unsupported,
)
from conformance.wire import (
    METHOD_CHANGING_REDIRECTS,
    RecordedExchange,
    Recorder,
    TransportFailure,
    WireClient,
    cross_origin_redirect,
)

MAX_EVIDENCE_EXCHANGES = 10
# the reason of every feature a Ctrl-C left undecided (status skipped: the status enum is a contract)
NOT_RUN = "not run: the run was interrupted"
# how the reason of every feature the budget skipped begins (before it ran, or when the guard refused a request)
BUDGET_SKIP = "skipped:"


@dataclass(frozen=True)
class FeatureResult:
    feature: Feature
    outcome: Outcome
    duration_s: float


@dataclass
class RunResult:
    target: Target
    started_at: dt.datetime
    duration_s: float
    results: dict[str, FeatureResult]
    requests: int
    completion_tokens_requested: int
    unbounded_generation_requests: int
    backoffs: list[dict[str, object]] = field(default_factory=list)
    rate_limited: list[dict[str, object]] = field(default_factory=list)
    sdk_version: str = sdk_module.SDK_VERSION
    # how the key was masked in this run's evidence ({"mode": "full" | "sent_only", "reason": ...}; redact.py)
    redaction: dict[str, str] = field(default_factory=dict)
    # Ctrl-C ended the run early: the features it did not decide are skipped with reason NOT_RUN
    interrupted: bool = False
    # what each feature sent (a shared request is charged to the first feature that sends it), what it
    # could send more against a server that makes its trials repeat, and what preflight sent before them
    spent_by_feature: dict[str, Spend] = field(default_factory=dict)
    headroom_by_feature: dict[str, Spend] = field(default_factory=dict)
    preflight: Spend = Spend()
    # --max-requests / --max-completion-tokens: limits, planned vs spent, features skipped (results.json "budget")
    budget: dict[str, object] | None = None

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results.values() if r.outcome.status is status)


ProgressCallback = Callable[[int, int, Feature, "FeatureResult | None"], None]


class Engine:
    def __init__(
        self,
        target: Target,
        catalog: Catalog,
        *,
        registry: dict[str, CheckSpec] | None = None,
        progress: ProgressCallback | None = None,
        max_requests: int | None = None,
        max_completion_tokens: int | None = None,
        plan: Mapping[str, Spend] | None = None,
    ) -> None:
        """``max_requests`` / ``max_completion_tokens``: the run's budget, guarded before each request
        leaves; ``plan``: what each feature spends against the reference mock (``conformance plan``'s
        measurement): a feature whose plan exceeds what remains is skipped before it sends anything."""
        self.target = target
        self.catalog = catalog
        self.registry = registry if registry is not None else load_checks()
        self.progress = progress
        self.cost = CostMeter()
        self.budget: Budget | None = None
        if max_requests is not None or max_completion_tokens is not None:
            self.budget = Budget(self.cost, max_requests, max_completion_tokens)
        self.plan = dict(plan or {})
        self.spent_by_feature: dict[str, Spend] = {}
        self.headroom_by_feature: dict[str, Spend] = {}
        self.skipped_for_budget: list[str] = []
        self._preflight = Spend()
        guards = [self.budget.admit] if self.budget is not None else []
        self.recorder = Recorder(observers=[self.cost.answered], guards=guards)
        self.redactor = Redactor([secret.reveal() for secret in target.secrets()])  # the key, credential headers
        self.wire = WireClient(target, self.recorder)
        self.state = RunState()
        self.started_at = dt.datetime.now(dt.UTC)
        self._clock = time.monotonic()

    def close(self) -> None:
        self.wire.close()
        for client in [*self.state.clients.values(), *self.state.one_off_clients]:
            client.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- running ---------------------------------------------------------------------------
    def run(self, features: Iterable[Feature] | None = None) -> RunResult:
        """Run ``features`` (all of the catalog by default), run-wide ones last; results in catalog order.

        A Ctrl-C (``KeyboardInterrupt``) ends the run, not the caller: the features decided so far
        keep their verdicts, the feature in flight and the rest are skipped with reason ``NOT_RUN``,
        and the result says ``interrupted`` (the CLI writes it, then exits 130).
        """
        chosen = in_run_order(features if features is not None else self.catalog)
        self._preflight = self._spent()  # what was sent before the features (preflight)
        self.started_at = dt.datetime.now(dt.UTC)
        self._clock = time.monotonic()
        results: dict[str, FeatureResult] = {}
        try:
            for index, feature in enumerate(chosen):
                if self.progress:
                    self.progress(index, len(chosen), feature, None)
                result = self.execute(feature)
                results[feature.id] = result
                if self.progress:
                    self.progress(index + 1, len(chosen), feature, result)
        except KeyboardInterrupt:
            for feature in chosen:
                results.setdefault(feature.id, FeatureResult(feature, skipped(NOT_RUN), 0.0))
            return replace(self.result(results), interrupted=True)
        return self.result(results)

    def result(self, results: dict[str, FeatureResult]) -> RunResult:
        """The run so far, with its counters; features in catalog order."""
        order = {feature_id: index for index, feature_id in enumerate(self.catalog.features)}
        ordered = dict(sorted(results.items(), key=lambda item: order.get(item[0], len(order))))
        return RunResult(
            target=self.target,
            started_at=self.started_at,
            duration_s=round(time.monotonic() - self._clock, 3),
            results=ordered,
            requests=self.recorder.requests,
            completion_tokens_requested=self.cost.completion_tokens_requested,
            unbounded_generation_requests=self.cost.unbounded_generation_requests,
            backoffs=[b.__dict__ for b in self.recorder.backoffs],
            rate_limited=[
                {
                    "url": self.redactor.url(e.url),
                    "status": e.status,
                    "headers": {
                        k: v
                        for k, v in self.redactor.headers(e.response_headers).items()
                        if k.startswith(("retry-after", "x-ratelimit"))
                    },
                }
                for e in self.recorder.rate_limit_responses
            ],
            redaction=self.redactor.describe(),
            spent_by_feature=dict(self.spent_by_feature),
            headroom_by_feature=dict(self.headroom_by_feature),
            preflight=self._preflight,
            budget=self._budget_summary(results),
        )

    def _spent(self) -> Spend:
        return Spend(self.recorder.requests, self.cost.completion_tokens_requested)

    def _budget_summary(self, results: dict[str, FeatureResult]) -> dict[str, object] | None:
        if self.budget is None:
            return None
        planned = sum((self.plan.get(feature_id, Spend()) for feature_id in results), self._preflight)
        return {
            "max_requests": self.budget.max_requests,
            "max_completion_tokens": self.budget.max_completion_tokens,
            "planned": planned.to_json(),
            "spent": self._spent().to_json(),
            "skipped_for_budget": [f for f in self.skipped_for_budget if f in results],
        }

    def execute(self, feature: Feature) -> FeatureResult:
        clock = time.monotonic()
        before = self._spent()
        missing = [need for need in feature.needs if not self.target.has(need)]
        spec = self.registry.get(feature.id)
        over = self.budget.shortfall(self.plan.get(feature.id, Spend())) if self.budget is not None else None
        if missing:
            outcome = skipped(f"no {', '.join(missing)} model configured for this target")
        elif spec is None:
            outcome = harness_error(f"no check is registered for {feature.id}")
        elif over is not None:  # planned from the reference mock: skipped before it sends anything
            outcome = skipped(over)
        else:
            outcome = self._run_check(feature, spec)
        if (
            outcome.status is Status.SKIPPED
            and outcome.reason.startswith(BUDGET_SKIP)
            and "the budget (" in outcome.reason
        ):
            self.skipped_for_budget.append(feature.id)
        self.spent_by_feature[feature.id] = self._spent() - before
        return FeatureResult(feature, outcome, round(time.monotonic() - clock, 3))

    def _run_check(self, feature: Feature, spec: CheckSpec) -> Outcome:
        scope = self.recorder.begin_scope()
        ctx = CheckContext(feature, self.target, self.recorder, self.wire, self.state, scope)
        refusals = self.budget.refusals if self.budget is not None else 0
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                # The SDK's own warnings (pydantic on a wrong-typed field) are evidence: keep them.
                warnings.simplefilter("always")
                outcome = spec.function(ctx)
        except StopCheck as stop:
            outcome = stop.outcome
        except StatusError as error:
            outcome = self._judge_status(error, ctx.exchanges(), feature)
        except TransportProblem as problem:
            outcome = self._judge_transport(problem.failure)
        except TransportFailure as failure:
            outcome = self._judge_transport(failure)
        except Exception as exc:  # a bug in the suite must never look like a server verdict
            outcome = harness_error(
                f"harness error in {spec.name}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"
            )
        finally:
            self.recorder.end_scope()
            self.headroom_by_feature[feature.id] = ctx.headroom
        if self.budget is not None and self.budget.refusals > refusals and outcome.status is not Status.SKIPPED:
            # the guard refused one of its requests: whatever the check made of that, no verdict
            outcome = skipped(f"{BUDGET_SKIP} a request was not sent: {self.budget.last_refusal}")
        outcome = _with_warnings(outcome, caught)
        exchanges = ctx.exchanges()[:MAX_EVIDENCE_EXCHANGES]
        evidence = tuple(exchange.to_evidence(self.redactor) for exchange in exchanges)
        outcome = outcome.with_evidence(evidence)
        return _redact_outcome(outcome, self.redactor)

    # --- judging what a check could not --------------------------------------------------------
    def _judge_status(self, error: StatusError, exchanges: list[RecordedExchange], feature: Feature) -> Outcome:
        body = error.body
        elsewhere = _redirected_elsewhere(exchanges, self.target.origin)
        if body.status == 401 and elsewhere:
            return nonconformant(
                f"the request was redirected to another origin ({elsewhere}), where the SDK drops the Authorization "
                f"header, and the server answered 401 there ({body.summary()})",
                Oracle.WIRE,
            )
        demoted = _method_changing_redirect(exchanges)
        if demoted:
            return nonconformant(
                f"the POST was redirected ({demoted}), which the SDK follows as a GET without the body; "
                f"the server answered {body.summary()} there",
                Oracle.WIRE,
            )
        if body.status == 401:
            return harness_error(f"the target rejected the configured API key here ({body.summary()})")
        if body.status == 429:
            return harness_error(f"rate limited even after backing off, could not decide ({body.summary()})")
        honest, problems = judge_decline(body, param=error.decline_param)
        if honest:
            return unsupported(f"declined: {body.summary()}", Oracle.WIRE)
        if body.status == 404 and feature.level is Level.OPTIONAL:
            # The SDK raises NotFoundError for any 404, envelope or not: for an optional feature the
            # server does not serve, that is still its "no" (compatible reading). The missing envelope
            # is the strict reading's finding (the spec oracle judges every error body).
            return unsupported(f"declined: {body.summary()} (without OpenAI's error envelope)", Oracle.WIRE)
        return nonconformant(
            f"{problems[0]} ({body.summary()})", Oracle.WIRE, tuple(Problem(Oracle.WIRE, p) for p in problems)
        )

    def _judge_transport(self, failure: TransportFailure) -> Outcome:
        if failure.kind == BUDGET_FAILURE:  # the budget's guard refused a request: it never left
            return skipped(f"{BUDGET_SKIP} a request was {failure.detail}")
        if failure.kind == "connect":
            return harness_error(f"could not connect to the target: {failure.detail}")
        if failure.kind == "no_response":
            if self._target_alive():
                return nonconformant(
                    f"no response to this request within {self.target.timeouts.read:g} s, "
                    "although the server answers other requests",
                    Oracle.WIRE,
                )
            return harness_error(f"the target stopped answering: {failure.detail}")
        what = {
            "stall": "the response stalled",
            "too_slow": "the response never ended",
            "too_large": "the response never ended",
            "protocol": "the response broke off",
        }.get(failure.kind, failure.kind)
        return nonconformant(f"{what}: {failure.detail}", Oracle.WIRE)

    def _target_alive(self) -> bool:
        """Does the target answer at all? Decides between 'server stalls here' and 'harness blind'.

        The probe is part of the evidence: it shows the server answering while this request got nothing.
        """
        try:
            response = self.wire.get("models")
        except TransportFailure:
            return False
        self.recorder.note(response.exchange, "liveness probe: does the server answer other requests?")
        return True


def _for_budget(reason: str) -> bool:
    return reason.startswith(BUDGET_SKIP) and "the budget (" in reason


def _redirected_elsewhere(exchanges: list[RecordedExchange], origin: str) -> str | None:
    for exchange in exchanges:
        destination = cross_origin_redirect(exchange, origin)
        if destination is not None:
            return destination
    return None


def _method_changing_redirect(exchanges: list[RecordedExchange]) -> str | None:
    for exchange in exchanges:
        if exchange.method == "POST" and exchange.status in METHOD_CHANGING_REDIRECTS:
            return f"{exchange.status} to {exchange.response_header('location') or '(no Location)'}"
    return None


def _with_warnings(outcome: Outcome, caught: list[warnings.WarningMessage]) -> Outcome:
    notes: list[str] = []
    for warning in caught:
        if issubclass(warning.category, ResourceWarning):
            continue  # the garbage collector's, about some socket: not the SDK's word on this request
        lines = [line.strip() for line in str(warning.message).splitlines() if line.strip()]
        note = f"the SDK warned: {lines[-1][:200]}" if lines else ""
        if note and note not in notes and note not in outcome.notes:
            notes.append(note)
    return replace(outcome, notes=outcome.notes + tuple(notes[:3])) if notes else outcome


def _redact_outcome(outcome: Outcome, redactor: Redactor) -> Outcome:
    """Reasons and notes can quote server text; they pass the same redaction as evidence."""
    return replace(
        outcome,
        reason=redactor.text(outcome.reason),
        notes=tuple(redactor.text(n) for n in outcome.notes),
        problems=tuple(Problem(p.oracle, redactor.text(p.message)) for p in outcome.problems),
        security=tuple(redactor.text(s) for s in outcome.security),
        extensions=tuple(redactor.text(e) for e in outcome.extensions),
    )

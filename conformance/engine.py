"""Runs checks against a target and gives every selected feature exactly one outcome.

Features start in :func:`~conformance.catalog.in_run_order` (run-wide ones, ``observes: run``,
after the rest), up to ``-j`` at once on worker threads (:class:`_Schedule`; how long each request
and the run may take, and the concurrency: ``bounds.py``), and are reported in catalog order. What
a check cannot judge itself (an error status, a transport failure) the engine judges here. The
engine emits results; it does not know who reads them (``report/`` writes files, the CLI prints,
the pytest plugin maps outcomes to test results).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import queue
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from conformance import sdk as sdk_module
from conformance.bounds import (
    StallWatch,
    Throttle,
    failed_under_load,
    measured_chains,
    request_time_limit,
    timed_out,
    timed_out_under_load,
)
from conformance.catalog import Catalog, Feature, in_run_order
from conformance.context import CheckContext, RunState, StatusError, TransportProblem
from conformance.cost import BUDGET_FAILURE, Budget, CostMeter, Spend, spend_of
from conformance.envelope import ErrorBody, judge_decline
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
# how the reason of every feature a stopped run left undecided begins (status error: nothing was judged)
NOT_DECIDED = "not decided:"
# how often the scheduler looks at the clock while it waits for a feature to end (deadline, Retry-After)
_TICK_S = 0.05

# The warnings the check in flight on this thread has raised (the SDK's pydantic warnings are evidence).
_CAUGHT: contextvars.ContextVar[list[warnings.WarningMessage] | None] = contextvars.ContextVar(
    "conformance_caught_warnings", default=None
)


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
    # what each feature sent (a shared request is charged to the feature that sends it), what it could
    # send more against a server that makes its trials repeat, and what preflight sent before them
    spent_by_feature: dict[str, Spend] = field(default_factory=dict)
    headroom_by_feature: dict[str, Spend] = field(default_factory=dict)
    preflight: Spend = Spend()
    # --max-requests / --max-completion-tokens: limits, planned vs spent, features skipped (results.json "budget")
    budget: dict[str, object] | None = None
    # how the features were scheduled: concurrency asked and reached, the critical path (results.json "schedule")
    schedule: dict[str, object] = field(default_factory=dict)
    # the run ended before deciding every feature, and why: {"kind": "stall" | "deadline" | "preflight", "cause"}
    stopped: dict[str, str] | None = None
    # each feature's chain of requests one after another, the shared ones it waited for included
    chains: dict[str, int] = field(default_factory=dict)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results.values() if r.outcome.status is status)


ProgressCallback = Callable[[int, int, Feature, "FeatureResult | None"], None]


@dataclass
class _Trace:
    """What one feature's run sent, for the scheduler: its own exchanges, and the requests of the
    shared ones it waited for (another feature sent them)."""

    own: list[RecordedExchange] = field(default_factory=list)
    waited: int = 0
    cited: list[RecordedExchange] = field(default_factory=list)  # shared requests another feature sent

    @property
    def chain(self) -> int:
        """Requests that had to go one after another for this feature to be decided."""
        return self.waited + len(self.own)


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
        concurrency: int = 1,
        deadline_s: float | None = None,
    ) -> None:
        """``max_requests`` / ``max_completion_tokens``: the run's budget, guarded before each request
        leaves; ``plan``: what each feature spends against the reference mock (``conformance plan``'s
        measurement): a feature whose plan exceeds what remains is skipped before it sends anything.
        ``concurrency``: how many features may be in flight at once (``-j``); ``deadline_s``: how long
        the engine may take from now, preflight included (``--deadline``; ``None``: no deadline)."""
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
        # A budget decides which features run from their plans, measured one after another against
        # the reference mock; only a run in that same order, one feature at a time, spends them
        # exactly (under concurrency a shared request may go out with another feature than planned).
        self.throttle = Throttle(1 if self.budget is not None else concurrency)
        self.deadline_s = deadline_s
        self._deadline_at = time.monotonic() + deadline_s if deadline_s is not None else None
        guards = [self.budget.admit] if self.budget is not None else []
        self.recorder = Recorder(
            observers=[self.cost.answered],
            guards=guards,
            throttles=[self.throttle.backed_off],
            time_limits=lambda exchange: request_time_limit(exchange, target.timeouts, self._deadline_at),
        )
        self.redactor = Redactor([secret.reveal() for secret in target.secrets()])  # the key, credential headers
        self.wire = WireClient(target, self.recorder)
        self.state = RunState(deadline_at=self._deadline_at)
        self.started_at = dt.datetime.now(dt.UTC)
        self._clock = time.monotonic()
        if concurrency > 1 and self.budget is None:
            sdk_module.load_resources()  # once, before threads would contend for the GIL importing them
        self._created = time.monotonic()  # the run's wall time counts from here: preflight included
        self._probes: set[int] = set()  # liveness probes (ids of their exchanges): never a feature's own answer
        self._warnings_routed = 0
        self.in_flight = 0  # features running now (the scheduler's count; 0 outside a run)

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

        Up to ``concurrency`` features are in flight at once, started in run order; a feature that
        waits for a request another one shares waits for that one only. A feature that timed out
        while others were in flight is run again alone at the end of its phase: a server that
        queues requests is judged on its own answers, never on our concurrency.

        The run ends early, and says so (``stopped``), when the target is stalling or the deadline
        passes: the features not decided then end as ``error`` with that cause. A Ctrl-C
        (``KeyboardInterrupt``) ends the run, not the caller: the features decided so far keep their
        verdicts, the rest are skipped with reason ``NOT_RUN``, and the result says ``interrupted``
        (the CLI writes it, then exits 130).
        """
        chosen = in_run_order(features if features is not None else self.catalog)
        self._preflight = self._spent()  # what was sent before the features (preflight)
        self.started_at = dt.datetime.now(dt.UTC)
        self._clock = time.monotonic()
        with self._routing_warnings():
            schedule = _Schedule(self, chosen)
            try:
                schedule.run()
            except KeyboardInterrupt:
                results = dict(schedule.results)
                for feature in chosen:
                    results.setdefault(feature.id, FeatureResult(feature, skipped(NOT_RUN), 0.0))
                return replace(self.result(results), interrupted=True, schedule=schedule.describe())
        return replace(
            self.result(schedule.results),
            schedule=schedule.describe(),
            stopped=schedule.stopped,
            chains=dict(schedule.chains),
        )

    def stopped_before(self, features: Iterable[Feature], kind: str, cause: str) -> RunResult:
        """The run of ``features`` when it stopped before the first (preflight got no answer): each is
        an error with that cause, and the result says why it stopped."""
        results = {f.id: FeatureResult(f, harness_error(f"{NOT_DECIDED} {cause}"), 0.0) for f in features}
        return replace(self.result(results), stopped={"kind": kind, "cause": cause})

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
            backoffs=[b.__dict__ for b in list(self.recorder.backoffs)],
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
                for e in list(self.recorder.rate_limit_responses)
            ],
            redaction=self.redactor.describe(),
            spent_by_feature={  # in run order, as `conformance plan` lists it
                f.id: self.spent_by_feature[f.id]
                for f in in_run_order(r.feature for r in ordered.values())
                if f.id in self.spent_by_feature
            },
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
        """Decide one feature now, on this thread (the pytest plugin runs features one by one)."""
        with self._routing_warnings():
            result, _ = self._decide(feature, self.over_budget(feature))
        return result

    def over_budget(self, feature: Feature) -> str | None:
        """Why running ``feature`` now would exceed the budget (its plan, measured on the reference
        mock, over what remains), or ``None``. A budgeted run goes one feature at a time, so what
        remains is all the features before it left."""
        if self.budget is None:
            return None
        return self.budget.shortfall(self.plan.get(feature.id, Spend()))

    def _decide(self, feature: Feature, over: str | None, trace: _Trace | None = None) -> tuple[FeatureResult, _Trace]:
        clock = time.monotonic()
        trace = trace if trace is not None else _Trace()
        missing = [need for need in feature.needs if not self.target.has(need)]
        spec = self.registry.get(feature.id)
        if missing:
            outcome = skipped(f"no {', '.join(missing)} model configured for this target")
        elif spec is None:
            outcome = harness_error(f"no check is registered for {feature.id}")
        elif over is not None:  # planned from the reference mock: skipped before it sends anything
            outcome = skipped(over)
        else:
            outcome = self._run_check(feature, spec, trace)
        if outcome.status is Status.SKIPPED and _for_budget(outcome.reason):
            self.skipped_for_budget.append(feature.id)
        self.spent_by_feature[feature.id] = self.spent_by_feature.get(feature.id, Spend()) + spend_of(trace.own)
        return FeatureResult(feature, outcome, round(time.monotonic() - clock, 3)), trace

    def _run_check(self, feature: Feature, spec: CheckSpec, trace: _Trace) -> Outcome:
        scope = self.recorder.begin_scope()
        trace.own = scope
        ctx = CheckContext(feature, self.target, self.recorder, self.wire, self.state, scope)
        refusals = self.budget.refusals if self.budget is not None else 0
        caught: list[warnings.WarningMessage] = []
        token = _CAUGHT.set(caught)
        decided_by: RecordedExchange | None = None
        try:
            outcome = spec.function(ctx)
        except StopCheck as stop:
            outcome = stop.outcome
        except StatusError as error:
            decided_by = _answering(ctx.exchanges(), error.body)
            outcome = self._judge_status(error, ctx.exchanges(), feature, decided_by)
        except TransportProblem as problem:
            outcome = self._judge_transport(problem.failure)
        except TransportFailure as failure:
            outcome = self._judge_transport(failure)
        except Exception as exc:  # a bug in the suite must never look like a server verdict
            outcome = harness_error(
                f"harness error in {spec.name}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"
            )
        finally:
            _CAUGHT.reset(token)
            self.recorder.end_scope()
            self.headroom_by_feature[feature.id] = ctx.headroom
            trace.waited = ctx.waited
            trace.cited = ctx.cited
        if self.budget is not None and self.budget.refusals > refusals and outcome.status is not Status.SKIPPED:
            # the guard refused one of its requests: whatever the check made of that, no verdict
            # (under concurrency another feature's refusal counts too: a skip, never a wrong verdict)
            outcome = skipped(f"{BUDGET_SKIP} a request was not sent: {self.budget.last_refusal}")
        outcome = _with_warnings(outcome, caught)
        exchanges = ctx.exchanges()
        if decided_by is not None:  # the answer that decided goes last, where root causes read it (causes.py)
            exchanges = [e for e in exchanges if e is not decided_by][: MAX_EVIDENCE_EXCHANGES - 1] + [decided_by]
        exchanges = exchanges[:MAX_EVIDENCE_EXCHANGES]
        evidence = tuple(exchange.to_evidence(self.redactor) for exchange in exchanges)
        outcome = outcome.with_evidence(evidence)
        return _redact_outcome(outcome, self.redactor)

    @contextlib.contextmanager
    def _routing_warnings(self) -> Iterator[None]:
        """While features run, every warning goes to the check in flight on its thread (evidence).

        ``warnings.catch_warnings`` is process-wide, so checks on several threads cannot each catch
        their own: the run installs one ``showwarning`` that files each warning with the check of the
        thread that raised it (``_CAUGHT``), and shows any other as Python would.
        """
        if self._warnings_routed:
            self._warnings_routed += 1
            try:
                yield
            finally:
                self._warnings_routed -= 1
            return
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            shown = warnings.showwarning

            def route(
                message: Warning | str,
                category: type[Warning],
                filename: str,
                lineno: int,
                file: object = None,
                line: str | None = None,
            ) -> None:
                caught = _CAUGHT.get()
                if caught is None:
                    shown(message, category, filename, lineno, file, line)  # type: ignore[arg-type]
                else:
                    caught.append(warnings.WarningMessage(message, category, filename, lineno, None, line))

            warnings.showwarning = route
            self._warnings_routed = 1
            try:
                yield
            finally:
                self._warnings_routed = 0

    # --- judging what a check could not --------------------------------------------------------
    def _judge_status(
        self,
        error: StatusError,
        exchanges: list[RecordedExchange],
        feature: Feature,
        decided_by: RecordedExchange | None = None,
    ) -> Outcome:
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
        # the answer came from a request other than the feature's own (an upload before a batch, a
        # presence probe): the reason names it, or the feature's own request would be blamed
        other = self._other_request(decided_by, feature)
        at = f" {other}" if other else ""
        if honest:
            return unsupported(f"declined{at}: {body.summary()}", Oracle.WIRE)
        if body.status == 404 and feature.level is Level.OPTIONAL:
            # The SDK raises NotFoundError for any 404, envelope or not: for an optional feature the
            # server does not serve, that is still its "no" (compatible reading). The missing envelope
            # is the strict reading's finding (the spec oracle judges every error body).
            return unsupported(f"declined{at}: {body.summary()} (without OpenAI's error envelope)", Oracle.WIRE)
        return nonconformant(
            f"{other + ': ' if other else ''}{problems[0]} ({body.summary()})",
            Oracle.WIRE,
            tuple(Problem(Oracle.WIRE, p) for p in problems),
        )

    def _other_request(self, exchange: RecordedExchange | None, feature: Feature) -> str | None:
        """``METHOD /path?query`` of the exchange that decided, when it is not one of the requests the
        feature's endpoint names; None when it is (or is not known)."""
        if exchange is None:
            return None
        url = urlsplit(exchange.url)
        base = urlsplit(self.target.base_url).path.rstrip("/")
        path = url.path.removeprefix(base) if url.path.startswith(base + "/") else url.path
        if feature.sends(exchange.method, path):
            return None
        return f"{exchange.method} {path}" + (f"?{url.query}" if url.query else "")

    def _judge_transport(self, failure: TransportFailure) -> Outcome:
        if failure.kind == BUDGET_FAILURE:  # the budget's guard refused a request: it never left
            return skipped(f"{BUDGET_SKIP} a request was {failure.detail}")
        if failure.kind == "deadline":  # our own deadline cut it: that judges nothing about the server
            return harness_error(f"{NOT_DECIDED} the run's deadline cut a request short ({failure.detail})")
        if failure.kind == "connect":
            return harness_error(f"could not connect to the target: {failure.detail}")
        if failure.kind == "no_response":
            failed = [e for e in self.recorder.scope if e.failure is failure]
            if self.in_flight > 1 and timed_out_under_load(failed, self.recorder):
                # under our own load, and the server answered nothing sent after it meanwhile: it may
                # be queueing our requests; the scheduler judges this feature again, alone
                return harness_error(
                    f"no response within {self.target.timeouts.read:g} s while {self.in_flight - 1} other "
                    "features were in flight"
                )
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
            "redirects": "the server redirects without end",
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
        self._probes.add(id(response.exchange))
        self.recorder.note(response.exchange, "liveness probe: does the server answer other requests?")
        return True


def _for_budget(reason: str) -> bool:
    return reason.startswith(BUDGET_SKIP) and "the budget (" in reason


def _answering(exchanges: list[RecordedExchange], body: ErrorBody) -> RecordedExchange | None:
    """The exchange that answered ``body``: the last one with its status and bytes (or its status
    alone). A feature's own exchanges come before those it cites, so the place in the list says
    nothing about which answer a shared request re-raised."""
    answered = [e for e in exchanges if e.status == body.status]
    same = [e for e in answered if e.content() == body.raw] or answered
    return max(same, key=lambda e: e.started) if same else None


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


@dataclass
class _Running:
    feature: Feature
    trace: _Trace
    crowded: bool  # another feature was in flight at some moment while this one ran


class _Schedule:
    """One run's features on worker threads: started in run order while the throttle allows,
    run-wide ones once every other is decided, a feature that timed out under load again alone.

    The thread that calls :meth:`run` starts features, collects their results and watches the clock;
    workers only decide. Features in flight when the run stops (stall, deadline, Ctrl-C) are left to
    end on their own (daemon threads: each request is bounded, and the engine's clients close).
    """

    def __init__(self, engine: Engine, chosen: list[Feature]) -> None:
        self.engine = engine
        self.chosen = chosen
        self.results: dict[str, FeatureResult] = {}
        self.chains: dict[str, int] = {}
        self.own_requests: dict[str, int] = {}
        self.deferred: list[str] = []
        self.stopped: dict[str, str] | None = None
        # a server that completes nothing for twice the read timeout while features keep timing out
        # is not busy (a queue drains within a few service times) but stalled
        self.stall = StallWatch(quiet_s=2 * engine.target.timeouts.read, since=engine._created)
        self._running: dict[str, _Running] = {}
        # what a feature held for a run alone had met under load: its verdict if the target turns out
        # to be stalling (then the load did not cause the timeout) before it runs again
        self._held: dict[str, tuple[FeatureResult, _Trace]] = {}
        self._ended: queue.Queue[tuple[Feature, FeatureResult, _Trace]] = queue.Queue()

    # --- the phases ---
    def run(self) -> None:
        everyday = [f for f in self.chosen if not f.observes_run]
        run_wide = [f for f in self.chosen if f.observes_run]
        for phase in (everyday, run_wide):
            retry = self._phase(phase, alone=False)
            if retry and self.stopped is None:
                self.deferred += [f.id for f in retry]
                self._forget_failed_shared_requests(retry)
                if any(timed_out(self._held[f.id][1].own + self._held[f.id][1].cited) for f in retry):
                    self._drain()
                self._phase(retry, alone=True)
            if self.stopped is not None:
                break
        if self.stopped is not None:
            if self.stopped["kind"] == "stall":
                for feature in self.chosen:
                    if feature.id not in self.results and feature.id in self._held:
                        self._decided(feature, *self._held[feature.id])
            for feature in self.chosen:
                if feature.id not in self.results:
                    self.results[feature.id] = FeatureResult(
                        feature, harness_error(f"{NOT_DECIDED} {self.stopped['cause']}"), 0.0
                    )

    def _phase(self, features: list[Feature], *, alone: bool) -> list[Feature]:
        """Run ``features``; return those to run again alone (they failed while others ran)."""
        pending = list(features)
        if not alone and self.engine.throttle.asked > 1:
            # the longest chains first (a stable sort: run order among equals), so that none starts last
            chains = measured_chains()
            pending.sort(key=lambda feature: -chains.get(feature.id, 1))
        retry: list[Feature] = []
        while (pending or self._running) and self.stopped is None:
            self._check_deadline()
            while pending and self.stopped is None and self._may_start(alone):
                self._start(pending.pop(0))
            try:
                feature, result, trace = self._ended.get(timeout=_TICK_S)
            except queue.Empty:
                continue
            running = self._running.pop(feature.id)
            self.engine.in_flight = len(self._running)
            # a failure our concurrency may explain, of its own requests or of a shared one it cited
            # (then sent while others were in flight too): judged again alone, the shared one re-sent
            recorder = self.engine.recorder
            under_load = ""
            if not alone:
                own = failed_under_load(trace.own, recorder) if running.crowded else ""
                under_load = own or failed_under_load(trace.cited, recorder)
            if under_load:
                self.engine.throttle.halve(f"{feature.id} failed while other features were in flight ({under_load})")
            if under_load or (not alone and self._to_confirm(running, result, trace)):
                retry.append(feature)
                self._held[feature.id] = (result, trace)
            else:
                self._decided(feature, self._with_load_note(result), trace)
            exchanges = [e for e in trace.own if id(e) not in self.engine._probes]
            cause = self.stall.ended(feature.id, exchanges)
            if cause and self.stopped is None:
                self.stopped = {"kind": "stall", "cause": cause}
        return retry

    def _to_confirm(self, running: _Running, result: FeatureResult, trace: _Trace) -> bool:
        """A nonconformant verdict reached while other features were in flight is confirmed alone:
        some servers misbehave only under concurrent requests, and a stream they end early without
        a transport failure (llama-cpp-python interrupts the request in flight when another arrives)
        looks like any other deviation. A silence the server kept while it answered later requests
        (``Recorder.overtaken``) is its own, and waiting for it again would double the wait."""
        if not running.crowded or result.outcome.status is not Status.NONCONFORMANT:
            return False
        silent = [e for e in trace.own if e.failure is not None and e.failure.kind == "no_response"]
        return not silent or not all(self.engine.recorder.overtaken(e) for e in silent)

    def _with_load_note(self, result: FeatureResult) -> FeatureResult:
        """A feature judged alone says what it met while others were in flight, when that differs
        (a server fact worth knowing: it breaks under concurrent requests)."""
        held = self._held.get(result.feature.id)
        if held is None:
            return result
        first, trace = held
        failures = [e.failure for e in trace.own + trace.cited if e.failure is not None and not e.resent]
        if not failures and first.outcome.status is result.outcome.status:
            return result  # confirmed alone: the same verdict
        met = f"{failures[0].kind}: {failures[0].detail}" if failures else first.outcome.reason
        note = self.engine.redactor.text(
            f"judged alone: while other features were in flight it was {first.outcome.status.value} ({met[:240]})"
        )
        return replace(result, outcome=replace(result.outcome, notes=(*result.outcome.notes, note)))

    def _may_start(self, alone: bool) -> bool:
        if alone:
            return not self._running
        return self.engine.throttle.may_start(len(self._running))

    def _start(self, feature: Feature) -> None:
        engine = self.engine
        over = engine.over_budget(feature)
        for running in self._running.values():
            running.crowded = True
        trace = _Trace()
        self._running[feature.id] = _Running(feature, trace, crowded=bool(self._running))
        engine.in_flight = len(self._running)
        if engine.progress:
            engine.progress(len(self.results), len(self.chosen), feature, None)
        context = contextvars.Context()  # a fresh one: the worker's scope and warnings are its own

        def work() -> None:
            try:
                result, _ = engine._decide(feature, over, trace)
            except BaseException as exc:  # the scheduler must always hear back
                result = FeatureResult(feature, harness_error(f"harness error running {feature.id}: {exc!r}"), 0.0)
            self._ended.put((feature, result, trace))

        threading.Thread(target=context.run, args=(work,), name=f"conformance {feature.id}", daemon=True).start()

    def _decided(self, feature: Feature, result: FeatureResult, trace: _Trace) -> None:
        self.results[feature.id] = result
        self.chains[feature.id] = trace.chain
        self.own_requests[feature.id] = len(trace.own)
        if self.engine.progress:
            self.engine.progress(len(self.results), len(self.chosen), feature, result)

    def _check_deadline(self) -> None:
        engine = self.engine
        if engine._deadline_at is not None and time.monotonic() >= engine._deadline_at and self.stopped is None:
            self.stopped = {
                "kind": "deadline",
                "cause": f"the run's deadline passed (--deadline {engine.deadline_s:g} s)",
            }

    def _drain(self) -> None:
        """Before judging again alone, give a queueing server the time to finish (or drop) the
        requests we gave up on: else the first one alone waits behind them, and times out again."""
        engine = self.engine
        pause = engine.target.timeouts.read
        if engine._deadline_at is not None:
            pause = min(pause, max(engine._deadline_at - time.monotonic(), 0.0))
        time.sleep(pause)

    def _forget_failed_shared_requests(self, retry: list[Feature]) -> None:
        """A shared request that failed under load (timed out, broke off), or that a feature to be
        judged again alone sent or cited, is sent again by whoever needs it next: the answer it holds
        may be what the load made of it (a stream cut short)."""
        touched = {id(e) for f in retry for e in self._held[f.id][1].own + self._held[f.id][1].cited}
        memo = self.engine.state.memo
        for send, (_, _, exchanges) in list(memo.items()):
            if failed_under_load(exchanges, self.engine.recorder) or any(id(e) in touched for e in exchanges):
                del memo[send]

    # --- what results.json says about it ---
    def describe(self) -> dict[str, object]:
        """results.json ``schedule``: concurrency asked and lowest reached, why it was lowered, the
        features run again alone, and the critical path: the longest chain of requests that had to go
        one after another (preflight, then the longest feature, then the longest run-wide one, then
        every feature run again alone)."""
        throttle = self.engine.throttle
        everyday = [self.chains.get(f.id, 0) for f in self.chosen if not f.observes_run and f.id not in self.deferred]
        # a run-wide feature follows every other, the shared requests it cites included: its own
        # requests alone lengthen the chain
        run_wide = [self.own_requests.get(f.id, 0) for f in self.chosen if f.observes_run and f.id not in self.deferred]
        critical = (
            self.engine._preflight.requests
            + max(everyday, default=0)
            + max(run_wide, default=0)
            + sum(self.chains.get(f, 0) for f in self.deferred)
        )
        return {
            "concurrency": throttle.asked,
            "lowest_concurrency": throttle.lowest(),
            "throttled": [event.__dict__ for event in throttle.events],
            "run_again_alone": list(self.deferred),
            "critical_path_requests": critical,
            # preflight and the features, not the interpreter's start or the reports
            "wall_s": round(time.monotonic() - self.engine._created, 3),
        }

"""What a run will spend, known before it sends anything: its plan, and what a budget would skip.

A plan is measured, not modelled: the selected features run as a run runs them (preflight, run
order, shared requests) against the reference mock, never the target, and counted by the run's own
meter. ``conformance run`` with a budget, ``conformance plan`` and the pytest plugin's budget options
all measure it here, so a budget is always checked against the same figures.

What a budget skips is decided the same way, by the engine itself: the same features against a
fresh reference mock with the budget on, each feature's plan checked against what remains
(:meth:`conformance.cost.Budget.shortfall`) in run order. A simulation over the plan alone would be
wrong wherever a skipped feature was the first sender of a shared request: the next feature that
needs the request sends it, and spends more than its own plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace

from conformance.catalog import Catalog, Feature
from conformance.cost import Spend
from conformance.embedded import embedded_target
from conformance.engine import Engine, RunResult
from conformance.preflight import preflight
from conformance.target import Target, with_trials

# how the reason begins of a feature skipped because its plan did not fit (Budget.shortfall's words);
# a feature the guard stopped mid-check says "a request was not sent" instead
_PLAN_DID_NOT_FIT = "skipped: the budget ("


@contextmanager
def plain_reference(target: Target) -> Iterator[Target]:
    """The reference mock a plan for ``target``, a server, is measured on: a plain one, with a model
    for exactly the capabilities ``target`` has (a feature the target cannot run costs nothing) and
    ``target``'s trials. A run against the embedded mock is measured on another mock like its own."""
    with embedded_target(timeouts=target.timeouts) as mock:
        models = {capability: model for capability, model in mock.models.items() if target.has(capability)}
        yield with_trials(replace(mock, models=models), target.trials)


def measure_plan(reference: Target, catalog: Catalog, features: Iterable[Feature]) -> RunResult:
    """Run ``features`` against ``reference`` as a run would and return the run: ``spent_by_feature``
    is the plan (a shared request is charged to the feature that sends it), ``preflight`` what
    preflight sent, ``headroom_by_feature`` what each could send more against a sampling model."""
    with Engine(reference, catalog) as engine:
        preflight(engine.wire, catalog, force=True)
        return engine.run(list(features))


@dataclass(frozen=True)
class BudgetForecast:
    """What a run with a budget does, decided by the engine against the reference mock."""

    max_requests: int | None
    max_completion_tokens: int | None
    skipped_before_sending: tuple[str, ...]  # the plan exceeded what remained: nothing sent
    refused_mid_check: tuple[str, ...]  # started, then the guard refused one of its requests: skipped too
    spent: Spend  # what the run sends within the budget, preflight included

    def to_json(self) -> dict[str, object]:
        return {
            "max_requests": self.max_requests,
            "max_completion_tokens": self.max_completion_tokens,
            "skipped_before_sending": list(self.skipped_before_sending),
            "refused_mid_check": list(self.refused_mid_check),
            "spent": self.spent.to_json(),
        }


def forecast_budget(
    reference: Target,
    catalog: Catalog,
    features: Iterable[Feature],
    plan: Mapping[str, Spend],
    *,
    max_requests: int | None = None,
    max_completion_tokens: int | None = None,
) -> BudgetForecast:
    """Which ``features`` a run with this budget skips, and what it spends: the run itself, with the
    budget and ``plan`` (:func:`measure_plan`'s ``spent_by_feature``), against ``reference`` (a fresh
    reference mock: its counters must start where the real run's do)."""
    with Engine(
        reference,
        catalog,
        max_requests=max_requests,
        max_completion_tokens=max_completion_tokens,
        plan=plan,
    ) as engine:
        preflight(engine.wire, catalog, force=True)
        run = engine.run(list(features))
        skipped = [feature_id for feature_id in engine.skipped_for_budget if feature_id in run.results]
    before = [f for f in skipped if run.results[f].outcome.reason.startswith(_PLAN_DID_NOT_FIT)]
    return BudgetForecast(
        max_requests=max_requests,
        max_completion_tokens=max_completion_tokens,
        skipped_before_sending=tuple(before),
        refused_mid_check=tuple(f for f in skipped if f not in before),
        spent=Spend(run.requests, run.completion_tokens_requested),
    )

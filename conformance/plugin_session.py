"""The pytest plugin's engine side: the session, the collected files and items, the outcome mapping.

:mod:`conformance.plugin` is what pytest imports in every session of an environment where the
package is installed; it imports this module (the engine, the SDK, the catalog, the mock) only
when a session uses the checks: a ``--conformance-*`` option or ini key is set, or the checks
directory is collected. It hands over the settings it resolved (command line over ini file over
defaults), so nothing here reads pytest's options, and nothing here imports the plugin module.

Each check becomes one test item named by its feature ID, marked with its level (``required``,
``recommended``, ``optional``) and its area (``area_chat``, ``area_streaming``...), so ``-m
required`` or ``-m "area_chat and not optional"`` select as ``-k`` does. Its pytest outcome maps the
disposition :mod:`conformance.policy` gives the verdict (pass; fail; skip; xfail for a live known
failure; a failure marked as a harness error), exactly as ``conformance run``'s exit code and JUnit
do: the plugin decides nothing. Features that judge the whole run (``observes: run``) run after the
others, as in ``conformance run``.

The budget options are ``conformance run``'s: the plan is measured on the reference mock
(:mod:`conformance.planning`) and the engine's :class:`~conformance.cost.Budget` skips a feature
whose plan exceeds what remains and refuses any request over it. The plugin sends no preflight
request, so all of the budget is the features'.

Under pytest-xdist every worker is a process with its own engine, and a run is not divisible: a
shared request would be sent once per worker, a run-wide feature would judge one worker's
exchanges, a known-failing entry its share of the features, and each worker would spend the whole
budget. So the checks stay one run on one worker (:class:`OneWorker`): the same verdicts, requests
and budget as without xdist, while the session's other tests spread over the rest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import Catalog, Feature, in_run_order, load_catalog
from conformance.cost import Spend
from conformance.embedded import embedded_target
from conformance.engine import Engine, FeatureResult
from conformance.expectations import Expectations, load_expectations
from conformance.planning import measure_plan, plain_reference
from conformance.policy import Disposition, FeatureVerdict, Judgement, Reading, judge_features
from conformance.registry import REGISTRY, load_checks
from conformance.target import (
    DEFAULT_TRIALS,
    ConfigError,
    Target,
    Timeouts,
    read_config,
    resolve_target,
    target_options,
    with_trials,
)
from conformance.verdict import Level, Outcome, harness_error

# The key of each pytest-xdist worker's ``workerinput`` that holds the path of the run's claim: the
# worker that runs the checks creates that file first, so that no other worker starts a second run
RUN_CLAIM = "conformance_run_claim"
# --dist modes that cannot keep the checks on one worker: each runs every test on every worker,
# worksteal moves tests between workers mid-run
UNGROUPABLE_DIST = ("each", "worksteal")
# the name of the one work unit (an xdist scope) that holds every check
CHECKS_UNIT = "conformance checks"


def level_marker(level: Level | str) -> str:
    """The marker of a feature's level: ``required``, ``recommended``, ``optional``."""
    return str(Level(level).value)


def area_marker(area: str) -> str:
    """The marker of a catalog area: ``area_`` and the area ID as an identifier (``area_chat``)."""
    return "area_" + re.sub(r"\W", "_", area)


class ConformanceSession:
    """One engine (and, when needed, one mock) for all check items of a pytest session."""

    def __init__(self, config: pytest.Config, settings: Mapping[str, Any]) -> None:
        self.config = config
        self.settings = settings
        self.catalog: Catalog = load_catalog()
        self.results: dict[str, FeatureResult] = {}
        self.selected: list[Feature] = []  # the features of the collected items, in run order
        self.today = dt.date.today()
        self.gate = Reading(settings.get("gate") or Reading.COMPATIBLE.value)
        self.strict_problems: dict[str, list[str]] = {}  # with the strict gate: each feature's strict findings
        self.max_requests: int | None = settings.get("max_requests")
        self.max_completion_tokens: int | None = settings.get("max_completion_tokens")
        self._engine: Engine | None = None
        self._refusal: str | None = None  # under xdist, once decided: why this worker runs no check
        self._claimed = False
        self._stack = contextlib.ExitStack()
        self._register_markers()
        path = settings.get("config")
        try:
            self.expectations = load_expectations(read_config(path), self.catalog) if path else Expectations()
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None

    def _register_markers(self) -> None:
        for level in Level:
            self.config.addinivalue_line("markers", f"{level_marker(level)}: conformance features of level {level}")
        for area in self.catalog.areas.values():
            self.config.addinivalue_line("markers", f"{area_marker(area.id)}: conformance features of {area.title}")

    @property
    def budgeted(self) -> bool:
        return self.max_requests is not None or self.max_completion_tokens is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            target = self._stack.enter_context(self._target())
            engine = Engine(
                target,
                self.catalog,
                max_requests=self.max_requests,
                max_completion_tokens=self.max_completion_tokens,
                plan=self._plan(target) if self.budgeted else None,
            )
            self._engine = self._stack.enter_context(engine)
        return self._engine

    def _plan(self, target: Target) -> dict[str, Spend]:
        """What each selected feature spends against the reference mock, as ``conformance run``
        measures it for a budget; nothing is sent to the target."""
        with self._reference(target) as reference:
            return measure_plan(reference, self.catalog, self.selected).spent_by_feature

    @contextlib.contextmanager
    def _reference(self, target: Target) -> Iterator[Target]:
        """The reference mock a plan is measured on: for the embedded mock, another like it (its
        quirks, profile, seed; a fresh one, whose counters start at nothing); for a server, a plain one."""
        if target.embedded_mock:
            with self._target() as mock:
                yield mock
        else:
            with plain_reference(target) as mock:
                yield mock

    @contextlib.contextmanager
    def _target(self) -> Iterator[Target]:
        setting = self.settings.get
        path: Path | None = setting("config")
        timeouts = Timeouts(read=setting("timeout") or Timeouts.read)
        models = dict(setting("models") or {})
        trials = setting("trials") or DEFAULT_TRIALS
        try:
            config = read_config(path) if path else None
            options = target_options(
                config,
                config_path=path,
                headers=setting("header") or (),
                query=setting("query") or (),
                ca_bundle=setting("ca_bundle"),
                insecure=bool(setting("insecure")),
                name=setting("name"),
            )
            target = resolve_target(
                base_url=setting("base_url"),
                api_key=setting("api_key"),
                models=models,
                config_path=path,
                timeouts=timeouts,
            )
            if target is not None:
                yield with_trials(options.apply(target), trials)
                return
            with embedded_target(
                quirks=setting("mock_quirk") or (),
                profile=setting("mock_profile"),
                seed=setting("mock_seed"),
                timeouts=timeouts,
                models=models,
            ) as mock:
                yield with_trials(options.apply(mock), trials)
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None

    def execute(self, feature_ids: Iterable[str]) -> None:
        """Run these features' checks, once each. A feature that observes the whole run waits for
        every other selected feature first, as it would in ``conformance run``."""
        wanted = {f for f in feature_ids if f not in self.results}
        if any(self.catalog[f].observes_run for f in wanted):
            wanted |= {f.id for f in self.selected if not f.observes_run}
        refusal = self.why_not_run_here()
        for feature in in_run_order(self.catalog[f] for f in wanted):
            if feature.id not in self.results:
                self.results[feature.id] = (
                    FeatureResult(feature, harness_error(refusal), 0.0) if refusal else self.engine.execute(feature)
                )

    def why_not_run_here(self) -> str | None:
        """Why this pytest-xdist worker must run no check (``None``: it may; so may a session without
        xdist). The first worker to run one claims the run; a worker that finds the run claimed by
        another (xdist gives the rest of the checks to a second one when the first crashes) runs none:
        a run is not resumed where shared requests, run-wide features and the budget start afresh."""
        workerinput = getattr(self.config, "workerinput", None)
        if workerinput is None or self._claimed or self._refusal is not None:
            return self._refusal
        claim = workerinput.get(RUN_CLAIM)
        if claim is None:
            self._refusal = (
                "not run: under pytest-xdist the checks must stay on one worker, and the plugin arranges that "
                "only when it sees them at start-up: name them (--pyargs conformance.checks) or set a "
                "--conformance-* option"
            )
            return self._refusal
        try:
            with open(claim, "x", encoding="utf-8") as handle:
                handle.write(str(workerinput.get("workerid", "")))
        except FileExistsError:
            began_on = Path(claim).read_text(encoding="utf-8") or "another worker"
            self._refusal = (
                f"not run: the run began on pytest-xdist worker {began_on}, which stopped mid-run; a run is not "
                "resumed on another worker, where shared requests, run-wide features and the budget would start "
                "afresh"
            )
        except OSError as error:
            self._refusal = (
                f"not run: this pytest-xdist worker cannot claim the run ({error.strerror}: {claim}): the checks' "
                "worker must share a filesystem with the controller (local workers, -n N)"
            )
        else:
            self._claimed = True
        return self._refusal

    def judge(self, feature_id: str) -> Judgement:
        """The policy's judgement of one feature, as the whole run will give it: a known-failing
        entry is judged over every selected feature it matches, so those run first."""
        entries = [entry for entry in self.expectations.known_failing if entry.matches(feature_id)]
        sharing = {f.id for f in self.selected if any(entry.matches(f.id) for entry in entries)}
        self.execute({feature_id} | sharing)
        verdicts = {f: self.verdict(f) for f in {feature_id} | sharing}
        judgements, _ = judge_features(verdicts, self.expectations, self.today)
        return judgements[feature_id]

    def verdict(self, feature_id: str) -> FeatureVerdict:
        """A run feature's verdict in the gate's reading (the strict one asks the strict oracle)."""
        result = self.results[feature_id]
        if self.gate is Reading.COMPATIBLE:
            return FeatureVerdict(result.outcome.status, result.feature.level)
        from conformance.document import feature_verdict

        verdict, self.strict_problems[feature_id] = feature_verdict(result, self.engine.target.base_url, self.gate)
        return verdict

    def finish(self) -> None:
        try:
            out = self.settings.get("out")
            if out is not None and self._engine is not None and self.results:
                from conformance.document import build_results
                from conformance.report import write_reports

                run = self._engine.result(self.results)
                write_reports(build_results(run, self.catalog, self.expectations, self.today, self.gate), out)
        finally:
            self._stack.close()

    def keep_on_one_worker(self) -> None:
        """On pytest-xdist's controller, before the workers start: every check goes to one worker."""
        dist = self.config.getoption("dist")
        if dist in UNGROUPABLE_DIST:
            raise pytest.UsageError(
                f"--dist {dist} cannot keep the conformance checks on one worker, where they are one run "
                "(shared requests, run-wide features, the budget): use --dist load (-n's default), loadgroup, "
                "loadscope or loadfile"
            )
        self.config.pluginmanager.register(OneWorker(self.config), "conformance-one-worker")

    # --- collection ---------------------------------------------------------------------------
    def sort_items(self, items: list[pytest.Item]) -> None:
        """The checks in run order, whatever order the modules were collected (or shuffled) in: the
        catalog's, run-wide features last of the session. The order is part of the run: a shared
        request is charged to the first feature that sends it, and a budget skips by what remains,
        so this is the order ``conformance run`` and its plan go in. Other tests keep their places."""
        catalog_order = {feature_id: index for index, feature_id in enumerate(self.catalog.features)}
        places = [index for index, item in enumerate(items) if isinstance(item, CheckItem)]
        checks = sorted(
            (items[index] for index in places), key=lambda item: catalog_order.get(item.name, len(catalog_order))
        )
        for index, check in zip(places, checks, strict=True):
            items[index] = check
        items.sort(key=lambda item: isinstance(item, CheckItem) and item.feature.observes_run)

    def collection_finished(self, items: Iterable[pytest.Item]) -> None:
        self.selected = in_run_order(item.feature for item in items if isinstance(item, CheckItem))

    def checks_file(self, parent: pytest.Collector, path: Path) -> pytest.Collector:
        collector: pytest.Collector = ChecksFile.from_parent(parent, path=path, checks=self)
        return collector


class OneWorker:
    """pytest-xdist's controller, for a session with the checks: every check in one work unit.

    xdist's scheduler splits the collection into work units (a test each under ``--dist load``, a
    module under ``loadscope``...) and each unit goes whole to one worker. The scheduler made here is
    xdist's own for the ``--dist`` chosen (``load`` becomes ``loadgroup``, which is ``load`` for
    tests without an ``xdist_group`` mark), except that every check belongs to one unit: one worker
    runs them all, in the collection's order, which is run order (run-wide features last).

    If that worker crashes, xdist hands the rest of the unit to another worker; the run is not resumed
    there: the worker that runs the checks first claims the run (a file in a directory this controller
    makes and names to every worker, ``RUN_CLAIM``), and any other finds it claimed and reports each
    remaining check as not run.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.registry = load_checks()  # the controller collects nothing: it learns the checks here
        self.claims = Path(tempfile.mkdtemp(prefix="conformance-xdist-"))

    def is_check(self, nodeid: str) -> bool:
        """Whether ``nodeid`` is a check's item: ``<its module>.py::<feature ID>``, however pytest
        wrote the module's path (relative to the rootdir, to the package named by --pyargs...)."""
        path, _, name = nodeid.partition("::")
        spec = self.registry.get(name)
        return spec is not None and Path(path).name == spec.function.__module__.rpartition(".")[2] + ".py"

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        from xdist.scheduler import LoadFileScheduling, LoadGroupScheduling, LoadScopeScheduling

        dist = config.getoption("dist")
        base: type[Any] = {"loadscope": LoadScopeScheduling, "loadfile": LoadFileScheduling}.get(
            dist, LoadGroupScheduling
        )
        is_check = self.is_check

        # the method xdist's own schedulers (loadscope, loadfile, loadgroup) override: a test's unit
        def _split_scope(scheduling: Any, nodeid: str) -> str:
            return CHECKS_UNIT if is_check(nodeid) else str(base._split_scope(scheduling, nodeid))

        return type("OneConformanceRun", (base,), {"_split_scope": _split_scope})(config, log)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[RUN_CLAIM] = str(self.claims / "run")

    def pytest_unconfigure(self) -> None:
        shutil.rmtree(self.claims, ignore_errors=True)


class ChecksFile(pytest.File):
    def __init__(self, *, checks: ConformanceSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checks = checks

    def collect(self) -> Iterator[pytest.Item]:
        module = importlib.import_module(f"conformance.checks.{self.path.stem}")
        for value in vars(module).values():
            feature_id = getattr(value, "__conformance_feature__", None)
            if feature_id is not None and getattr(value, "__module__", None) == module.__name__:
                item = CheckItem.from_parent(self, name=feature_id, feature_id=feature_id, checks=self.checks)
                item.add_marker(level_marker(item.feature.level))
                item.add_marker(area_marker(item.feature.area))
                yield item


class CheckFailed(Exception):
    """A feature whose disposition is fail, shown as a test failure."""


class HarnessError(Exception):
    """A required feature the harness could not decide: shown as a failure, never as a pass."""


class CheckItem(pytest.Item):
    def __init__(self, *, feature_id: str, checks: ConformanceSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feature_id = feature_id
        self.checks = checks

    @property
    def feature(self) -> Feature:
        return self.checks.catalog[self.feature_id]

    def runtest(self) -> None:
        session = self.checks
        if self.feature_id not in REGISTRY:
            raise HarnessError(f"no check registered for {self.feature_id}")
        session.execute([self.feature_id])
        outcome = session.results[self.feature_id].outcome
        self.user_properties.append(("verdict", outcome.status.value))
        report_judgement(session.judge(self.feature_id), outcome, session.strict_problems.get(self.feature_id, ()))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (CheckFailed, HarnessError)):
            prefix = "harness error: " if isinstance(excinfo.value, HarnessError) else ""
            return prefix + str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"conformance: {self.feature_id}"


def report_judgement(judgement: Judgement, outcome: Outcome, strict_problems: Iterable[str] = ()) -> None:
    """Say the policy's judgement in pytest's words: return (pass), skip, xfail, or raise. With the
    strict gate, ``strict_problems`` are the strict oracle's findings, listed with the check's."""
    said = f"{judgement.why}: {outcome.reason}"
    if judgement.disposition is Disposition.PASS:
        return
    if judgement.disposition is Disposition.SKIP:
        pytest.skip(said)
    if judgement.disposition is Disposition.EXPECTED_FAIL:
        pytest.xfail(said)
    if judgement.disposition is Disposition.ERROR:
        raise HarnessError(said)
    details = "\n".join(
        [f"  - {problem}" for problem in outcome.problems] + [f"  - [strict] {problem}" for problem in strict_problems]
    )
    raise CheckFailed(said + (f"\n{details}" if details else ""))

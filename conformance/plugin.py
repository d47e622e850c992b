"""The pytest plugin: the checks as pytest tests, for a vendor's own CI.

    pytest --pyargs conformance.checks --conformance-base-url URL --conformance-model NAME

Registered as a ``pytest11`` entry point, so installing the package is enough. Each check
becomes one test item named by its feature ID. Its pytest outcome maps the disposition that
:mod:`conformance.policy` gives the verdict (pass; fail; skip; xfail for a live known failure;
a failure marked as a harness error), exactly as ``conformance run``'s exit code and JUnit do:
the plugin decides nothing. ``--conformance-config`` brings the target file's claims and known
failures; ``--conformance-out DIR`` writes the same reports as ``conformance run``;
``--conformance-gate strict`` judges the strict reading (OpenAI's published schemas too) instead of
the compatible one. Without a base
URL the embedded reference mock is used. Features that judge the whole run (``observes: run``)
run after the others, as in ``conformance run``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.capabilities import CAPABILITIES
from conformance.catalog import Catalog, Feature, in_run_order, load_catalog
from conformance.embedded import embedded_target
from conformance.engine import Engine, FeatureResult
from conformance.expectations import Expectations, load_expectations
from conformance.policy import Disposition, FeatureVerdict, Judgement, Reading, judge_features
from conformance.registry import REGISTRY
from conformance.target import DEFAULT_TRIALS, ConfigError, Target, Timeouts, read_config, resolve_target, with_trials
from conformance.verdict import Outcome

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
_SESSION = pytest.StashKey["ConformanceSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "openai-conformance checks")
    group.addoption("--conformance-base-url", help="target base URL (env OPENAI_BASE_URL); default: the embedded mock")
    group.addoption("--conformance-api-key", help="target API key (env OPENAI_API_KEY)")
    for capability in CAPABILITIES:
        group.addoption(f"--conformance-{capability.option}", help=capability.help)
    group.addoption("--conformance-config", type=Path, help="target YAML file")
    group.addoption("--conformance-out", type=Path, help="write results.json, matrix.md and junit.xml here")
    group.addoption("--conformance-timeout", type=float, default=Timeouts.read, help="read timeout in seconds")
    group.addoption("--conformance-mock-profile", help="with the embedded mock: behave as a documented vendor")
    group.addoption(
        "--conformance-mock-seed",
        type=int,
        help="with the embedded mock: seed its model-like behaviour (profile chatty)",
    )
    group.addoption(
        "--conformance-mock-quirk",
        action="append",
        default=[],
        help="with the embedded mock: switch on a named quirk (repeatable)",
    )
    group.addoption(
        "--conformance-trials",
        type=int,
        default=DEFAULT_TRIALS,
        help="at most N requests where sampling decides what a check can judge (as conformance run --trials)",
    )
    group.addoption(
        "--conformance-gate",
        choices=[reading.value for reading in Reading],
        default=Reading.COMPATIBLE.value,
        help="the reading that decides each test's outcome: compatible (default) or strict",
    )


class ConformanceSession:
    """One engine (and, when needed, one mock) for all check items of a pytest session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.catalog: Catalog = load_catalog()
        self.results: dict[str, FeatureResult] = {}
        self.selected: list[Feature] = []  # the features of the collected items, in run order
        self.today = dt.date.today()
        self.gate = Reading(config.getoption("conformance_gate"))
        self.strict_problems: dict[str, list[str]] = {}  # with the strict gate: each feature's strict findings
        self._engine: Engine | None = None
        self._stack = contextlib.ExitStack()
        path = config.getoption("conformance_config")
        try:
            self.expectations = load_expectations(read_config(path), self.catalog) if path else Expectations()
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            target = self._stack.enter_context(self._target())
            self._engine = self._stack.enter_context(Engine(target, self.catalog))
        return self._engine

    @contextlib.contextmanager
    def _target(self) -> Iterator[Target]:
        option = self.config.getoption
        timeouts = Timeouts(read=option("conformance_timeout"))
        models = {c.name: option("conformance_" + c.option.replace("-", "_")) for c in CAPABILITIES}
        try:
            target = resolve_target(
                base_url=option("conformance_base_url"),
                api_key=option("conformance_api_key"),
                models=models,
                config_path=option("conformance_config"),
                timeouts=timeouts,
            )
            if target is not None:
                yield with_trials(target, option("conformance_trials"))
                return
            with embedded_target(
                quirks=option("conformance_mock_quirk"),
                profile=option("conformance_mock_profile"),
                seed=option("conformance_mock_seed"),
                timeouts=timeouts,
                models=models,
            ) as mock:
                yield with_trials(mock, option("conformance_trials"))
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None

    def execute(self, feature_ids: Iterable[str]) -> None:
        """Run these features' checks, once each. A feature that observes the whole run waits for
        every other selected feature first, as it would in ``conformance run``."""
        wanted = {f for f in feature_ids if f not in self.results}
        if any(self.catalog[f].observes_run for f in wanted):
            wanted |= {f.id for f in self.selected if not f.observes_run}
        for feature in in_run_order(self.catalog[f] for f in wanted):
            if feature.id not in self.results:
                self.results[feature.id] = self.engine.execute(feature)

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
            out = self.config.getoption("conformance_out")
            if out is not None and self._engine is not None and self.results:
                from conformance.document import build_results
                from conformance.report import write_reports

                run = self._engine.result(self.results)
                write_reports(build_results(run, self.catalog, self.expectations, self.today, self.gate), out)
        finally:
            self._stack.close()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION] = ConformanceSession(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.finish()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run-wide features last (stable otherwise), whatever order the modules were collected in."""
    items.sort(key=lambda item: isinstance(item, CheckItem) and item.feature.observes_run)


def pytest_collection_finish(session: pytest.Session) -> None:
    checks = session.config.stash[_SESSION]
    checks.selected = in_run_order(item.feature for item in session.items if isinstance(item, CheckItem))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".py" and file_path.parent == CHECKS_DIR and not file_path.name.startswith("_"):
        return ChecksFile.from_parent(parent, path=file_path)
    return None


class ChecksFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        module = importlib.import_module(f"conformance.checks.{self.path.stem}")
        for value in vars(module).values():
            feature_id = getattr(value, "__conformance_feature__", None)
            if feature_id is not None and getattr(value, "__module__", None) == module.__name__:
                yield CheckItem.from_parent(self, name=feature_id, feature_id=feature_id)


class CheckFailed(Exception):
    """A feature whose disposition is fail, shown as a test failure."""


class HarnessError(Exception):
    """A required feature the harness could not decide: shown as a failure, never as a pass."""


class CheckItem(pytest.Item):
    def __init__(self, *, feature_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feature_id = feature_id

    @property
    def feature(self) -> Feature:
        return self.config.stash[_SESSION].catalog[self.feature_id]

    def runtest(self) -> None:
        session = self.config.stash[_SESSION]
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

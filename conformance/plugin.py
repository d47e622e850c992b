"""The pytest plugin: the checks as pytest tests, for a vendor's own CI.

    pytest --pyargs conformance.checks --conformance-base-url URL --conformance-model NAME

Registered as a ``pytest11`` entry point, so installing the package is enough. Each check
becomes one test item named by its feature ID; the verdict maps to a pytest outcome
(supported: pass; nonconformant, or unsupported on a required feature: fail; other unsupported
and skipped: skip; error: fail marked as a harness error). With ``--conformance-config``, the
target file's ``known_failing`` entries make their failures xfail (and a stale entry, now passing,
a failure), and a verdict that contradicts its ``claims`` fails. ``--conformance-out DIR`` writes
the same reports as ``conformance run``. Without a base URL the embedded reference mock is used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import Catalog, load_catalog
from conformance.engine import Engine, FeatureResult
from conformance.expectations import (
    STALE,
    STILL_FAILING,
    Expectations,
    agrees,
    disagreement_text,
    known_state,
    load_expectations,
)
from conformance.registry import REGISTRY
from conformance.target import MODEL_OPTIONS, ConfigError, Secret, Target, Timeouts, read_config, resolve_target
from conformance.verdict import Level, Status

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
_SESSION = pytest.StashKey["ConformanceSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "openai-conformance checks")
    group.addoption("--conformance-base-url", help="target base URL (env OPENAI_BASE_URL); default: the embedded mock")
    group.addoption("--conformance-api-key", help="target API key (env OPENAI_API_KEY)")
    for option, help_text in MODEL_OPTIONS.values():
        group.addoption(f"--conformance-{option}", help=help_text)
    group.addoption("--conformance-config", type=Path, help="target YAML file")
    group.addoption("--conformance-out", type=Path, help="write results.json, matrix.md and junit.xml here")
    group.addoption("--conformance-timeout", type=float, default=Timeouts.read, help="read timeout in seconds")
    group.addoption("--conformance-mock-profile", help="with the embedded mock: behave as a documented vendor")
    group.addoption(
        "--conformance-mock-quirk",
        action="append",
        default=[],
        help="with the embedded mock: switch on a named quirk (repeatable)",
    )


class ConformanceSession:
    """One engine (and, when needed, one mock) for all check items of a pytest session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.catalog: Catalog = load_catalog()
        self.results: dict[str, FeatureResult] = {}
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
        try:
            target = resolve_target(
                base_url=option("conformance_base_url"),
                api_key=option("conformance_api_key"),
                models={
                    capability: option("conformance_" + name.replace("-", "_"))
                    for capability, (name, _) in MODEL_OPTIONS.items()
                },
                config_path=option("conformance_config"),
                timeouts=timeouts,
            )
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None
        if target is not None:
            yield target
            return
        from conformance.cli import MOCK_MODELS
        from conformance.mock.server import MockServer

        key = "mock-" + secrets.token_hex(12)
        profile = option("conformance_mock_profile")
        try:
            server = MockServer(quirks=option("conformance_mock_quirk"), api_key=key, profile=profile)
        except KeyError as error:  # an unknown quirk or profile
            raise pytest.UsageError(str(error.args[0])) from None
        with server:
            yield Target(
                server.base_url,
                Secret(key),
                dict((server.profile.target_models if server.profile else {}) or MOCK_MODELS),
                name=f"{server.profile.vendor} (reference mock profile)" if server.profile else "reference mock",
                timeouts=timeouts,
                embedded_mock=True,
            )

    def finish(self) -> None:
        try:
            out = self.config.getoption("conformance_out")
            if out is not None and self._engine is not None and self.results:
                from conformance.report import write_reports
                from conformance.report.results import build_results

                run = self._engine.result(self.results)
                write_reports(build_results(run, self.catalog, self.expectations), out)
        finally:
            self._stack.close()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION] = ConformanceSession(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.finish()


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
    """A nonconformant (or required-unsupported) verdict, shown as a test failure."""


class HarnessError(Exception):
    """The harness could not decide: shown as a failure, never as a pass."""


class CheckItem(pytest.Item):
    def __init__(self, *, feature_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feature_id = feature_id

    def runtest(self) -> None:
        session = self.config.stash[_SESSION]
        feature = session.catalog[self.feature_id]
        if self.feature_id not in REGISTRY:
            raise HarnessError(f"no check registered for {self.feature_id}")
        result = session.engine.execute(feature)
        session.results[self.feature_id] = result
        outcome = result.outcome
        self.user_properties.append(("verdict", outcome.status.value))
        expectations = session.expectations
        claimed = expectations.claim(self.feature_id)
        if claimed is not None and agrees(claimed, outcome.status.value) is False:
            raise CheckFailed(f"{disagreement_text(claimed, outcome.status.value)}: {outcome.reason}")
        known = expectations.known_failure(self.feature_id)
        if known is not None:
            state = known_state(known, outcome.status.value, dt.date.today())
            if state == STALE:
                raise CheckFailed(f"listed as known-failing ({known.reason}) but passes: remove the stale entry")
            if state == STILL_FAILING:
                pytest.xfail(f"known failure: {known.reason}: {outcome.reason}")
        if outcome.status is Status.SUPPORTED:
            return
        if outcome.status is Status.SKIPPED:
            pytest.skip(outcome.reason)
        if outcome.status is Status.UNSUPPORTED and feature.level is not Level.REQUIRED:
            pytest.skip(f"unsupported: {outcome.reason}")
        if outcome.status is Status.ERROR:
            raise HarnessError(outcome.reason)
        details = "\n".join(f"  - {problem}" for problem in outcome.problems)
        raise CheckFailed(f"{outcome.status.value}: {outcome.reason}" + (f"\n{details}" if details else ""))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (CheckFailed, HarnessError)):
            prefix = "harness error: " if isinstance(excinfo.value, HarnessError) else ""
            return prefix + str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"conformance: {self.feature_id}"

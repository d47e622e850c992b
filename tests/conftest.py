"""Shared fixtures: the reference mock on a free loopback port, and whole runs against it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from conformance.catalog import load_catalog
from conformance.cli import MOCK_MODELS
from conformance.engine import Engine, RunResult
from conformance.mock.server import MockServer
from conformance.target import Secret, Target, Timeouts

# Small bounds: a misbehaving server must give a verdict quickly in tests.
TEST_TIMEOUTS = Timeouts(connect=2.0, read=2.0, total=10.0)


def mock_target(server: MockServer, **overrides: object) -> Target:
    fields: dict[str, object] = {
        "base_url": server.base_url,
        "api_key": Secret(server.api_key),
        "models": dict(MOCK_MODELS),
        "name": "reference mock",
        "timeouts": TEST_TIMEOUTS,
        "embedded_mock": True,
    }
    fields.update(overrides)
    return Target(**fields)  # type: ignore[arg-type]


def run_against_mock(quirks: Sequence[str] = (), select: list[str] | None = None) -> RunResult:
    catalog = load_catalog()
    with MockServer(quirks=quirks) as server, Engine(mock_target(server), catalog) as engine:
        return engine.run(catalog.select(select))


@pytest.fixture
def mock_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture(scope="session")
def clean_run() -> RunResult:
    return run_against_mock()

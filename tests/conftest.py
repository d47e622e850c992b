"""Shared fixtures: the reference mock on a free loopback port, and whole runs against it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from conformance.catalog import load_catalog
from conformance.embedded import embedded_target
from conformance.engine import Engine, RunResult
from conformance.mock.server import MockServer
from conformance.target import Timeouts

# Small bounds: a misbehaving server must give a verdict quickly in tests.
TEST_TIMEOUTS = Timeouts(connect=2.0, read=2.0, total=10.0)


def run_against_mock(quirks: Sequence[str] = (), select: list[str] | None = None) -> RunResult:
    catalog = load_catalog()
    with embedded_target(quirks=quirks, timeouts=TEST_TIMEOUTS) as target, Engine(target, catalog) as engine:
        return engine.run(catalog.select(select))


@pytest.fixture
def mock_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture(scope="session")
def clean_run() -> RunResult:
    return run_against_mock()

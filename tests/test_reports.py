"""Every output format is a pure function of results.json, pinned by snapshots."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Any

import jsonschema
import pytest

from conformance.policy import gate_of
from conformance.report import write_reports
from conformance.report.console import render_summary
from conformance.report.junit import render_junit
from conformance.report.markdown import render_matrix
from conformance.report.results import validate_results
from tests.sample_results import sample_results


@pytest.fixture
def results() -> dict[str, Any]:
    return sample_results()


def test_the_hand_made_results_are_valid(results: dict[str, Any]) -> None:
    validate_results(results)


def test_matrix_markdown(results: dict[str, Any], snapshot) -> None:  # type: ignore[no-untyped-def]
    assert render_matrix(results) == snapshot


def test_junit_xml(results: dict[str, Any], snapshot) -> None:  # type: ignore[no-untyped-def]
    text = render_junit(results)
    assert text == snapshot
    cases = {case.get("name"): case for case in ET.fromstring(text).iter("testcase")}
    assert len(cases) == len(results["features"])
    assert cases["chat.stream.done_sentinel"].find("failure") is not None
    assert cases["chat.n"].find("skipped") is not None  # unsupported, not required
    assert cases["chat.usage"].find("error") is not None
    assert cases["chat.basic"].get("classname") == "chat"


def test_console_summary(results: dict[str, Any], snapshot) -> None:  # type: ignore[no-untyped-def]
    assert render_summary(results, width=100) == snapshot


def test_certification_and_exit_code_rules(results: dict[str, Any]) -> None:
    def passes(document: dict[str, Any]) -> bool:
        return gate_of(document).exit_code == 0

    def certified(document: dict[str, Any]) -> bool:
        return gate_of(document).certified

    assert not passes(results) and not certified(results)
    fixed = copy.deepcopy(results)
    fixed["features"]["chat.stream.done_sentinel"]["status"] = "supported"
    # an undecided required feature is never a pass (docs/contracts.md#verdicts: `error` is never
    # silently counted as one): it blocks certification and fails the gate, as JUnit's <error> and
    # pytest's failure say
    assert not passes(fixed) and not certified(fixed)
    fixed["features"]["chat.usage"]["status"] = "supported"
    assert passes(fixed) and certified(fixed)
    fixed["features"]["chat.n"]["level"] = "required"
    assert not passes(fixed) and not certified(fixed)
    fixed["features"]["chat.n"]["level"] = "optional"
    fixed["features"]["chat.basic"].update(status="error", level="recommended")
    assert passes(fixed) and certified(fixed)  # no finding about the server either way: a skip that says so


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r["features"]["chat.stream.done_sentinel"].update(evidence=[]),  # failing without evidence
        lambda r: r["features"]["chat.basic"].update(status="passed"),
        lambda r: r.pop("summary"),
        lambda r: r["sdk"].update(package="other"),
        lambda r: r["features"].update({"Bad ID": r["features"]["chat.basic"]}),
    ],
)
def test_the_schema_rejects_broken_results(results: dict[str, Any], mutate) -> None:  # type: ignore[no-untyped-def]
    mutate(results)
    with pytest.raises(jsonschema.ValidationError):
        validate_results(results)


def test_write_reports_writes_the_run_outputs(results: dict[str, Any], tmp_path) -> None:  # type: ignore[no-untyped-def]
    written = write_reports(results, tmp_path / "out")
    assert sorted(p.name for p in written) == ["junit.xml", "matrix.md", "report.html", "results.json"]

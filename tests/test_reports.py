"""Every output format is a pure function of results.json, pinned by snapshots."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Any

import jsonschema
import pytest

from conformance.report import write_reports
from conformance.report.console import render_summary
from conformance.report.junit import render_junit
from conformance.report.markdown import render_matrix
from conformance.report.results import exit_code, is_certified, validate_results
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
    assert exit_code(results) == 1 and not is_certified(results["features"])
    fixed = copy.deepcopy(results)
    fixed["features"]["chat.stream.done_sentinel"]["status"] = "supported"
    assert exit_code(fixed) == 0  # contract: only nonconformant / required unsupported fail the exit code
    assert not is_certified(fixed["features"])  # ...but an undecided required feature is never a pass
    fixed["features"]["chat.usage"]["status"] = "supported"
    assert is_certified(fixed["features"])
    fixed["features"]["chat.n"]["level"] = "required"
    assert exit_code(fixed) == 1


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

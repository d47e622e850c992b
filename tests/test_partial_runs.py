"""A run of some features is partial, never certified, and every output says so.

``--select models`` (5 of the catalog's features) printed CERTIFIED and made a green "certified 5/5"
badge. Certification needs the whole catalog for the configured capabilities: features skipped for
a capability without a model count as run, features the selection left out do not. The policy
decides (``policy.judge_run`` with the run's ``Selection``), ``results.json`` records it
(``selection``, ``certification``) and every writer maps it. A mistyped pattern among valid ones is
an error, not silently dropped.
"""

from __future__ import annotations

import contextlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.document import build_results
from conformance.policy import (
    Certification,
    Disposition,
    Judgement,
    Selection,
    certification_of,
    gate_of,
    judge_run,
)
from conformance.report.badge import CERTIFIED_COLOUR, PARTIAL_COLOUR, badge_colour, badge_value
from conformance.report.results import validate_results
from tests.conftest import run_against_mock
from tests.sample_results import sample_results

SVG = "{http://www.w3.org/2000/svg}"
TOTAL = len(load_catalog())
MODELS = len(load_catalog().select(["models"]))


@pytest.fixture(scope="module")
def subset_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``conformance run --select models`` and ``conformance docs`` on its results, once."""
    out = tmp_path_factory.mktemp("subset")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["run", "--select", "models", "--out", str(out / "run")])
        docs_code = main(["docs", str(out / "run" / "results.json"), "--out", str(out / "docs")])
    return {"code": code, "docs_code": docs_code, "out": out, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


PARTIAL = f"partial: {MODELS} of {TOTAL} features"


def test_a_subset_run_passes_the_gate_but_is_not_certified(subset_run: dict[str, Any]) -> None:
    assert subset_run["code"] == 0 and subset_run["docs_code"] == 0  # nothing failed: the gate passes
    results = json.loads((subset_run["out"] / "run" / "results.json").read_text())
    validate_results(results)
    assert results["selection"] == {"partial": True, "run": MODELS, "catalog": TOTAL, "patterns": ["models"]}
    assert results["certified"] is False and results["gate"]["passes"] is True
    assert results["certification"]["state"] == "partial"
    assert results["certification"]["reason"].startswith(f"{PARTIAL} (--select models)")
    assert all(reading["certified"] is False for reading in results["readings"].values())


def test_the_console_says_partial(subset_run: dict[str, Any]) -> None:
    out, err = subset_run["stdout"], subset_run["stderr"]
    assert f"PARTIAL: {MODELS} of {TOTAL} features (--select models), not certified (compatible reading)" in out
    assert "CERTIFIED" not in out.replace("not certified", "")
    assert f"({PARTIAL}, never certified)" in err.splitlines()[0]


def test_the_badge_says_partial_and_is_not_green(subset_run: dict[str, Any]) -> None:
    badge = ET.parse(subset_run["out"] / "docs" / "reference-mock.svg").getroot()
    title = badge.findtext(f"{SVG}title") or ""
    assert title == f"openai-compatible: partial (compatible) · {MODELS}/{MODELS}"
    fills = [rect.get("fill") for rect in badge.iter(f"{SVG}rect")]
    assert PARTIAL_COLOUR in fills and CERTIFIED_COLOUR not in fills


def test_the_docs_page_matrix_html_and_junit_say_partial(subset_run: dict[str, Any]) -> None:
    run, docs = subset_run["out"] / "run", subset_run["out"] / "docs"
    page = (docs / "reference-mock.md").read_text()
    assert f"**{PARTIAL}**, not certified" in page and "**certified**" not in page
    assert f"- Result: **{PARTIAL}**, not certified" in (run / "matrix.md").read_text()
    html = (run / "report.html").read_text()
    assert '<p class="result partial">' in html and PARTIAL in html
    properties = {p.get("name"): p.get("value") for p in ET.parse(run / "junit.xml").iter("property")}
    assert properties["certification"] == "partial" and properties["selection"] == PARTIAL
    assert properties["certified"] == "false"


def test_a_whole_run_is_certified_and_says_nothing_partial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "partial" not in (out + err).lower()
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["selection"] == {"partial": False, "run": TOTAL, "catalog": TOTAL, "patterns": []}
    assert results["certified"] is True and results["certification"]["state"] == "certified"
    assert badge_value(results).startswith("certified (compatible)") and badge_colour(results) == CERTIFIED_COLOUR


def test_a_selection_of_every_feature_is_a_whole_run() -> None:
    catalog = load_catalog()
    results = build_results(run_against_mock(select=["*"]), catalog, patterns=["*"])
    assert results["selection"]["partial"] is False and results["certified"] is True


def test_any_run_of_fewer_features_is_partial_whatever_chose_them() -> None:
    # the pytest plugin's -k builds results from the features it ran: no patterns, still partial
    results = build_results(run_against_mock(select=["chat.basic"]), load_catalog())
    assert results["selection"] == {"partial": True, "run": 1, "catalog": TOTAL, "patterns": []}
    assert certification_of(results) is Certification.PARTIAL and gate_of(results).certified is False


# --- the policy -----------------------------------------------------------------------------------


PASS = Judgement(Disposition.PASS, "supported", False)
SKIP = Judgement(Disposition.SKIP, "skipped", False)
FAIL = Judgement(Disposition.FAIL, "nonconformant", True)


def test_skipped_for_a_missing_model_counts_as_run_excluded_by_selection_does_not() -> None:
    judgements = {"a": PASS, "b": SKIP, "c": PASS}  # b: no model for its capability
    whole = judge_run(judgements, Selection(run=3, catalog=3))
    assert whole.certified and whole.certification is Certification.CERTIFIED
    subset = judge_run({"a": PASS}, Selection(run=1, catalog=3, patterns=("a",)))
    assert subset.passes and not subset.certified and subset.certification is Certification.PARTIAL
    assert subset.certification_reason == "partial: 1 of 3 features (--select a); certification needs the whole catalog"


def test_a_partial_run_with_a_failure_says_both() -> None:
    gate = judge_run({"a": FAIL, "b": PASS}, Selection(run=2, catalog=3))
    assert not gate.passes and gate.certification is Certification.PARTIAL
    assert gate.certification_reason == (
        "partial: 2 of 3 features; certification needs the whole catalog; 1 feature(s) block certification: a"
    )


def test_documents_older_than_selection_are_judged_as_whole_runs() -> None:
    results = sample_results()
    assert "selection" not in results and certification_of(results) is Certification.NOT_CERTIFIED
    assert gate_of(results).selection is None


# --- mistyped patterns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "patterns, message",
    [
        (["chat.basic", "chat.bsaic"], "no feature matches --select chat.bsaic (did you mean chat.basic?)"),
        (["models", "erors"], "no feature matches --select erors (did you mean errors?)"),
        (
            ["chat.bsaic", "modls", "zzz"],
            "--select chat.bsaic (did you mean chat.basic?), modls (did you mean models?), zzz",
        ),
    ],
)
def test_a_mistyped_pattern_among_valid_ones_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], patterns: list[str], message: str
) -> None:
    assert main(["run", "--select", *patterns, "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "results.json").exists()

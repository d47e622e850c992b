"""The vendor docs page, the comparison page and the CI step summary: pure functions of results.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from conformance.cli import main
from conformance.open_responses import FeatureStatus, score
from conformance.report.docs import (
    BROKEN,
    NO,
    NOT_TESTED,
    PARTIAL,
    YES,
    render_comparison,
    render_docs_page,
    render_step_summary,
    row_verdicts,
    slug,
)
from conformance.report.markdown import open_responses_line, render_matrix
from conformance.report.results import validate_results
from conformance.verdict import Status
from tests.sample_results import OPEN_RESPONSES_TABLE, docs_results, open_responses_score


def test_the_hand_made_document_is_valid() -> None:
    validate_results(docs_results())


def test_row_verdicts_cover_every_status() -> None:
    rows = {row.id: row for _, _, section in row_verdicts(docs_results()) for row in section}
    assert rows["request.basics"].status == YES
    assert rows["request.n"].status == NO and rows["request.n"].notes == "Declined: 400 with param n."
    assert (
        rows["request.streaming"].status == BROKEN and rows["request.streaming"].evidence == "chat.stream.done_sentinel"
    )
    assert rows["request.mixed"].status == PARTIAL and "400 with param n" in rows["request.mixed"].notes
    assert rows["request.embeddings"].status == NOT_TESTED
    # extension fields land on the row with the most specific prefix; a row with none is left out
    assert rows["response.usage"].label == "usage.cache_read_input_tokens"
    assert rows["response.other"].label == "x_vendor"
    assert "response.models" not in rows


def test_docs_page(snapshot: SnapshotAssertion) -> None:
    page = render_docs_page(docs_results(), report="vendor.html")
    assert page == snapshot
    assert "(vendor.html#ev-chat.stream.done_sentinel)" in page
    assert "## Where the vendor's claims and this run disagree" in page


def test_comparison_page(snapshot: SnapshotAssertion) -> None:
    other = copy.deepcopy(docs_results())
    other["target"]["name"] = "Other vendor"
    other["features"]["chat.stream.done_sentinel"]["status"] = "supported"
    page = render_comparison([docs_results(), other])
    assert page == snapshot
    assert "| `chat.stream.done_sentinel` | required | ❌ nonconformant | ✅ supported |" in page


def test_step_summary(snapshot: SnapshotAssertion) -> None:
    summary = render_step_summary(docs_results())
    assert summary == snapshot
    assert "**CI gate: fails**" in summary


def test_slugs_are_file_names() -> None:
    results = docs_results()
    assert slug(results) == "vendor"
    results["target"]["name"] = ""
    assert slug(results) == "api-vendor-example-v1"


def test_the_docs_command_writes_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(docs_results()))
    other = docs_results()
    other["target"]["name"] = "Other"
    second.write_text(json.dumps(other))
    assert main(["docs", str(first), str(second), "--out", str(tmp_path / "docs")]) == 0
    names = sorted(p.name for p in (tmp_path / "docs").iterdir())
    assert names == [
        "comparison.md",
        "other.badge.json",
        "other.html",
        "other.junit.xml",
        "other.md",
        "other.summary.md",
        "other.svg",
        "vendor.badge.json",
        "vendor.html",
        "vendor.junit.xml",
        "vendor.md",
        "vendor.summary.md",
        "vendor.svg",
    ]
    # beside each badge, the same badge for shields.io's endpoint badge
    endpoint = json.loads((tmp_path / "docs" / "vendor.badge.json").read_text())
    assert endpoint["schemaVersion"] == 1 and endpoint["label"] == "openai-compatible"
    assert endpoint["message"] == "not certified (compatible) · 2/5" and endpoint["color"] == "c62828"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"schema_version": 1}))
    assert main(["docs", str(broken), "--out", str(tmp_path / "x")]) == 2
    assert "not a results.json" in capsys.readouterr().err


def test_a_run_writes_the_step_summary_in_github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["run", "--out", str(tmp_path / "out"), "--quiet", "--select", "models"]) == 0
    assert "**CI gate: passes**" in summary.read_text()


# --- Open Responses compliance: N/M ---------------------------------------------------------------


def states(scored: dict) -> dict[str, str]:
    return {test["id"]: test["state"] for test in scored["tests"]}


def test_open_responses_all_pass() -> None:
    verdicts = {f: FeatureStatus(Status.SUPPORTED, "works") for f in ("chat.basic", "chat.stream.done_sentinel")}
    verdicts["embeddings.basic"] = FeatureStatus(Status.SUPPORTED, "works")
    scored = score(OPEN_RESPONSES_TABLE, verdicts, "compatible")
    # the test no feature covers and the one that is not applicable count in neither number
    assert (scored["passed"], scored["applicable"], scored["decided"]) == (3, 3, 3)
    assert states(scored)["file-input"] == "not covered" and states(scored)["file-search"] == "not applicable"


def test_open_responses_one_failed_names_the_feature_and_why() -> None:
    results = docs_results()
    scored = results["open_responses"]
    assert (scored["passed"], scored["applicable"]) == (1, 3)
    assert states(scored) == {
        "basic-response": "passed",
        "streaming-response": "failed",  # chat.basic passes, chat.stream.done_sentinel is broken
        "image-input": "not tested",  # its feature was skipped: not passed, still counted
        "file-input": "not covered",
        "file-search": "not applicable",
    }
    failed = next(test for test in scored["tests"] if test["id"] == "streaming-response")
    assert failed["because"] == [
        {
            "feature": "chat.stream.done_sentinel",
            "status": "nonconformant",
            "reason": results["features"]["chat.stream.done_sentinel"]["reason"],
        }
    ]
    assert open_responses_line(results) == "Open Responses compliance: **1/3** (fails: streaming-response)"
    page = render_docs_page(results, report="vendor.html")
    assert "Open Responses compliance: **1/3** (fails: streaming-response)" in page
    assert "| `streaming-response` Streaming Response | Fails | `chat.stream.done_sentinel` nonconformant:" in page
    assert "- **POST /responses/compact**: OpenAI's own compaction" in page
    assert "- Open Responses compliance: **1/3** (fails: streaming-response)" in render_matrix(results)


def test_open_responses_a_declined_feature_fails_its_tests() -> None:
    results = docs_results()
    results["features"]["chat.basic"]["status"] = "unsupported"
    scored = open_responses_score(results)
    assert (scored["passed"], scored["applicable"]) == (0, 3)
    assert states(scored)["basic-response"] == states(scored)["streaming-response"] == "failed"


def test_open_responses_a_stored_score_scores_again_alike() -> None:
    # judge_document scores the table a stored document carries: its earlier score carries it too
    results = docs_results()
    assert open_responses_score(results, results["open_responses"]) == results["open_responses"]


def test_no_open_responses_score_without_its_features() -> None:
    # a run of chat features only (--select chat): the table's features were not run
    results = docs_results()
    unrun = [
        {**test, "features": ["responses.create.shape"]} if "features" in test else test
        for test in OPEN_RESPONSES_TABLE["tests"]
    ]
    results["open_responses"] = open_responses_score(results, {**OPEN_RESPONSES_TABLE, "tests": unrun})
    assert set(states(results["open_responses"]).values()) == {"not tested", "not covered", "not applicable"}
    assert results["open_responses"]["decided"] == 0
    validate_results(results)
    assert open_responses_line(results) is None
    assert "Open Responses" not in render_docs_page(results) + render_matrix(results) + render_step_summary(results)

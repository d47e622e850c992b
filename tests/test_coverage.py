"""Every field of the pinned SDK's chat types is exercised by a feature or excused with a reason."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from conformance.catalog import DEFAULT_CATALOG_PATH, load_catalog, parse_catalog
from conformance.cli import main
from conformance.sdk import SDK_VERSION
from conformance.sdk.coverage import compute_coverage


def test_conformance_coverage_accounts_for_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage"]) == 0
    out = capsys.readouterr().out
    assert "0 in neither list" in out
    # the report names covered fields with their features and excused ones with their reasons
    assert "covered      tool_calls" in out and "chat.tools.required" in out
    assert "not covered  audio" in out and "audio-capable model" in out


def test_coverage_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["totals"]["missing"] == 0
    assert report["totals"]["covered"] > 100
    assert {t["type"] for t in report["types"]} >= {
        "ChatCompletion",
        "ChatCompletionChunk",
        "CompletionCreateParamsBase",
    }


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DEFAULT_CATALOG_PATH.read_text())


def test_a_field_in_neither_list_fails_the_report(document: dict) -> None:
    """What a pin bump that adds a field looks like: the field is suddenly in neither list."""
    trimmed = copy.deepcopy(document)
    del trimmed["not_covered"]["ChatCompletionCreateParams.verbosity"]
    report = compute_coverage(parse_catalog(trimmed), SDK_VERSION)
    assert not report.ok
    missing = {(t.label, name) for t in report.types for name in t.missing}
    assert missing == {("CompletionCreateParamsBase", "verbosity")}


def test_a_field_a_feature_stops_exercising_fails_the_report(document: dict) -> None:
    trimmed = copy.deepcopy(document)
    for feature in trimmed["features"]:
        feature["sdk_fields"] = [f for f in feature["sdk_fields"] if not f.endswith(".seed")]
    report = compute_coverage(parse_catalog(trimmed), SDK_VERSION)
    assert {name for t in report.types for name in t.missing} == {"seed"}


def test_a_not_covered_path_that_does_not_resolve_is_reported(document: dict) -> None:
    broken = copy.deepcopy(document)
    broken["not_covered"]["ChatCompletion.no_such_field"] = "a reason that is long enough"
    report = compute_coverage(parse_catalog(broken), SDK_VERSION)
    assert not report.ok and "no_such_field" in report.problems[0]


def test_coverage_matches_the_installed_catalog() -> None:
    assert compute_coverage(load_catalog(), SDK_VERSION).ok

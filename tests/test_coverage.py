"""Every field of the pinned SDK's request and response types is exercised by a feature or excused with a reason."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from conformance.catalog import DEFAULT_CATALOG_PATH, load_catalog, parse_catalog
from conformance.cli import main
from conformance.sdk import SDK_VERSION, coverage
from conformance.sdk.coverage import COVERAGE_ROOTS, compute_coverage, render_coverage, resolve_roots
from conformance.sdk.live import LIVE
from conformance.sdk.paths import UnresolvedField, subtree, walk


def test_conformance_coverage_accounts_for_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage"]) == 0
    out = capsys.readouterr().out
    assert "0 in neither list" in out
    # the report names covered fields with their features and excused ones with their reasons
    assert "covered      tool_calls" in out and "chat.tools.required" in out
    assert "not covered  audio" in out and "a model that hears and speaks" in out


def test_coverage_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["totals"]["missing"] == 0
    assert report["totals"]["covered"] > 100
    assert {t["type"] for t in report["types"]} >= {
        "ChatCompletion",
        "ChatCompletionChunk",
        "CompletionCreateParamsBase",
        "ResponseCreateParamsBase",
        "Response",
        "ResponseTextDeltaEvent",
    }
    assert report["roots"] == list(COVERAGE_ROOTS) and report["skipped_roots"] == {}
    # the stream events are a union: its members are the roots, each a class a path can name
    assert {"ResponseCreatedEvent", "ResponseTextDeltaEvent", "ResponseCompletedEvent"} <= set(
        report["union_members"]["ResponseStreamEvent"]
    )


def test_the_responses_types_reach_their_features_and_reasons() -> None:
    report = compute_coverage(load_catalog(), SDK_VERSION)
    types = {t.label: t for t in report.types}
    assert "responses.create.shape" in types["Response"].covered["output"]
    assert "responses.tools.round_trip" in types["ResponseCreateParamsBase"].covered["input"]
    assert "responses.stream.deltas" in types["ResponseTextDeltaEvent"].covered["delta"]
    # a union member picked by its class name: the function call item, not every item with a call_id
    assert "responses.tools.function" in types["ResponseFunctionToolCall"].covered["call_id"]
    assert "call_id" not in types["ResponseComputerToolCall"].covered
    assert "OpenAI-hosted tool" in types["ResponseComputerToolCall"].not_covered["call_id"]
    # a hosted tool's stream events are excused as a whole (a type name alone in not_covered)
    assert set(types["ResponseWebSearchCallSearchingEvent"].not_covered) == {
        "item_id",
        "output_index",
        "sequence_number",
        "type",
    }


def test_the_endpoint_types_reach_their_features_and_reasons() -> None:
    report = compute_coverage(load_catalog(), SDK_VERSION)
    types = {t.label: t for t in report.types}
    assert "batches.complete" in types["Batch"].covered["completed_at"]
    assert "batches.request_counts" in types["BatchRequestCounts"].covered["failed"]
    assert "files.content" in types["FileObject"].covered["bytes"]
    assert "audio.transcriptions.formats" in types["TranscriptionSegment"].covered["no_speech_prob"]
    assert "cursor pagination" in types["FileListParams"].not_covered["after"]
    assert "GPT image models" in types["ImageGenerateParamsBase"].not_covered["quality"]
    # a moderation category is named as on the wire (the SDK's alias), not by its Python attribute
    assert "moderations.shape" in types["Categories"].covered["self-harm/intent"]
    assert "moderations.shape" in types["CategoryScores"].covered["violence/graphic"]


def test_a_path_segment_may_be_a_wire_alias() -> None:
    _, crossed = walk(LIVE, "Moderation.categories.harassment/threatening")
    assert [name for _, name in crossed] == ["categories", "harassment/threatening"]
    with pytest.raises(UnresolvedField, match="bad segment"):
        walk(LIVE, "Moderation.categories.harassment threatening")


def test_a_class_name_in_a_path_keeps_one_member_of_the_union() -> None:
    _, crossed = walk(LIVE, "Response.output[].ResponseFunctionToolCall.call_id")
    assert [(tp.__name__, name) for tp, name in crossed] == [
        ("Response", "output"),
        ("ResponseFunctionToolCall", "call_id"),
    ]
    _, every = walk(LIVE, "Response.output[].call_id")  # without it, every item type that has the field
    assert len(every) > 3
    with pytest.raises(UnresolvedField, match="no member 'NoSuchItem'"):
        walk(LIVE, "Response.output[].NoSuchItem.call_id")


def test_an_excuse_stops_at_another_root() -> None:
    """A stream event holds a whole Response: excusing the event excuses its own fields, not the
    Response's, which are decided at the Response root."""
    excused = {(tp.__name__, name) for tp, name in subtree(LIVE, "ResponseQueuedEvent")}
    assert ("ResponseQueuedEvent", "response") in excused
    assert not any(tp == "Response" for tp, _ in excused)


def test_a_root_the_installed_line_lacks_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under an older SDK line a root (or the module of a union root) may not exist yet: the report
    skips it and says so, and still accounts for every field of the roots it has."""
    monkeypatch.setattr(coverage, "COVERAGE_ROOTS", (*COVERAGE_ROOTS, "NoSuchParams", "NoSuchEvents"))
    monkeypatch.setitem(coverage.UNION_ROOTS, "NoSuchEvents", ("openai.types.no_such_module", "NoSuchEvents"))
    roots = resolve_roots()
    assert set(roots.skipped) == {"NoSuchParams", "NoSuchEvents"}
    assert list(roots.names) == list(COVERAGE_ROOTS)
    report = compute_coverage(load_catalog(), SDK_VERSION, roots)
    assert report.ok
    text = render_coverage(report, verbose=False)
    assert "skipped: NoSuchParams" in text and "skipped: NoSuchEvents" in text
    assert report.to_json()["skipped_roots"].keys() == {"NoSuchParams", "NoSuchEvents"}


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DEFAULT_CATALOG_PATH.read_text())


def test_a_field_in_neither_list_fails_the_report(document: dict) -> None:
    """What a pin bump that adds a field looks like: the field is suddenly in neither list."""
    trimmed = copy.deepcopy(document)
    del trimmed["not_covered"]["ChatCompletionCreateParams.verbosity"]
    del trimmed["not_covered"]["ResponseCreateParams.truncation"]
    report = compute_coverage(parse_catalog(trimmed), SDK_VERSION)
    assert not report.ok
    missing = {(t.label, name) for t in report.types for name in t.missing}
    assert missing == {("CompletionCreateParamsBase", "verbosity"), ("ResponseCreateParamsBase", "truncation")}


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

"""The SDK pin gate: the pinned SDK's surface is a snapshot, and pin-bump diffs name features.

``test_the_pinned_sdk_surface_is_audited`` is the gate: it fails on any change to the catalog's
part of the installed SDK (types, fields, enums, endpoints, exceptions) until the snapshot is
updated with ``pytest --snapshot-update`` after the diff is reviewed (README: Bumping the SDK pin).
It applies when the installed SDK is the pinned one; the sessions that run the suite under the other
SDK lines check instead that the shipped surface of their line matches what is installed.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.amber import AmberSnapshotExtension

from conformance.catalog import load_catalog, parse_catalog
from conformance.cli import main
from conformance.sdk import PINNED_VERSION, SDK_VERSION
from conformance.sdk.surface.diff import diff_surfaces
from conformance.sdk.surface.extract import catalog_modules, extract_surface
from conformance.sdk.surface.model import (
    Surface,
    SurfaceError,
    dumps,
    fixture_path,
    load_document,
    shipped_surface,
    shipped_versions,
)
from conformance.sdk.surface.text import render_diff_markdown, render_surface_listing

SDK_LINES = ("1.109.1", "2.54.0", "3.54.0")


class FieldDiff(AmberSnapshotExtension):
    """Amber files, but a failure shows a plain unified diff of every changed line (field), where
    syrupy's own diff stops at the first few differences."""

    def diff_lines(self, serialized_data: Any, snapshot_data: Any) -> Iterator[str]:
        yield from difflib.unified_diff(
            str(snapshot_data).splitlines(), str(serialized_data).splitlines(), "audited", "installed", lineterm="", n=1
        )


@pytest.fixture(scope="module")
def installed() -> Surface:
    return Surface(extract_surface(catalog_modules()))


def test_the_pinned_sdk_surface_is_audited(installed: Surface, snapshot: SnapshotAssertion) -> None:
    if SDK_VERSION != PINNED_VERSION:
        pytest.skip(f"the pin gate applies to the pinned openai {PINNED_VERSION}; this session runs {SDK_VERSION}")
    # on failure: review with `conformance sdk diff`, accept with `pytest --snapshot-update` (README)
    assert render_surface_listing(installed) == snapshot.use_extension(FieldDiff)


def test_the_shipped_surface_of_the_installed_line_is_what_is_installed(installed: Surface) -> None:
    shipped = shipped_surface(SDK_VERSION)
    if shipped is None:
        pytest.skip(f"no shipped surface for openai {SDK_VERSION} (fixtures/sdk has {shipped_versions()})")
    assert render_surface_listing(shipped) == render_surface_listing(installed)


def test_every_supported_sdk_line_ships_a_surface() -> None:
    assert set(SDK_LINES) <= set(shipped_versions())
    assert PINNED_VERSION in shipped_versions()
    for version in SDK_LINES:
        surface = shipped_surface(version)
        assert surface is not None and surface.version == version
        assert surface.endpoints["chat.completions.create"]["path"] == "/chat/completions"


def test_stored_surfaces_are_stable_bytes(installed: Surface, tmp_path: Path) -> None:
    first, second = dumps(installed.document), dumps(copy.deepcopy(installed.document))
    assert first == second  # no timestamp in the gzip header, sorted keys
    path = tmp_path / "s.json.gz"
    path.write_bytes(first)
    assert load_document(str(path)) == installed.document


def test_the_diff_between_the_seed_pin_and_ours(snapshot: SnapshotAssertion) -> None:
    diff = diff_surfaces(Surface.load("1.109.1"), Surface.load("3.54.0"), load_catalog())
    markdown = render_diff_markdown(diff)
    assert markdown == snapshot.use_extension(FieldDiff)
    changes = {(c.kind, c.where): c for c in diff.in_scope()}
    # request fields added since 1.109.1 are listed, each with what covers it
    effort = changes[("enum", "ChatCompletionCreateParams.reasoning_effort")]
    assert effort.features == ["chat.params.reasoning_effort"] and '"xhigh"' in effort.detail
    retention = changes[("field added", "ChatCompletionCreateParams.prompt_cache_retention")]
    assert retention.features == [] and retention.excused
    assert changes[("field added", "Model.shutdown_date")].features == ["models.list", "models.retrieve"]
    assert changes[("field added", "ChatCompletion.usage.prompt_tokens_details.text_tokens")].features == ["chat.usage"]
    parse = changes[("method changed", "chat.completions.parse")]
    assert "chat.parse" in parse.features and "chat.basic" not in parse.features
    # run to run, byte for byte
    again = diff_surfaces(Surface.load("1.109.1"), Surface.load("3.54.0"), load_catalog())
    assert render_diff_markdown(again) == markdown
    assert json.dumps(again.to_json()) == json.dumps(diff.to_json())


# --- the diff catches every kind of change (synthetic surfaces) -------------------------------------

ROOT = "openai.types.chat.chat_completion.ChatCompletion"


def _surface(version: str, properties: dict[str, Any], required: list[str], **extra: Any) -> Surface:
    document = {
        "format": 1,
        "sdk": {"package": "openai", "version": version},
        "endpoints": extra.get(
            "endpoints", {"chat.completions.create": {"verb": "POST", "path": "/chat/completions", "params": ["model"]}}
        ),
        "exceptions": extra.get("exceptions", {"by_status": {"400": "BadRequestError"}, "classes": {}}),
        "types": {
            ROOT: {"kind": "model", "schema": {"type": "object", "properties": properties, "required": required}}
        },
    }
    return Surface(document)


def _catalog(sdk_fields: list[str]) -> Any:
    feature = {
        "id": "chat.x",
        "title": "x",
        "area": "chat",
        "endpoint": "POST /chat/completions",
        "level": "required",
        "description": "a feature for this test",
        "server_controls": "nothing here",
        "model_chooses": "nothing",
        "sdk_fields": sdk_fields,
    }
    return parse_catalog({"schema_version": 1, "areas": [{"id": "chat", "title": "Chat"}], "features": [feature]})


@pytest.mark.parametrize(
    ("before", "after", "kind", "detail"),
    [
        ({"id": {"type": "string"}}, {"id": {"type": "string"}, "new": {"type": "integer"}}, "field added", "integer"),
        (
            {"id": {"type": "string"}, "old": {"type": "integer"}},
            {"id": {"type": "string"}},
            "field removed",
            "was integer",
        ),
        ({"id": {"type": "string"}}, {"id": {"type": "integer"}}, "type changed", "type string -> integer"),
        ({"id": {"enum": ["a"]}}, {"id": {"enum": ["a", "b"]}}, "enum", 'values added "b"'),
    ],
)
def test_each_kind_of_field_change_is_found_and_mapped(
    before: dict[str, Any], after: dict[str, Any], kind: str, detail: str
) -> None:
    catalog = _catalog(["ChatCompletion.id"])
    diff = diff_surfaces(_surface("1", before, ["id"]), _surface("2", after, ["id"]), catalog)
    [change] = diff.changes
    assert (change.kind, change.detail) == (kind, detail)
    assert change.features == (["chat.x"] if change.where == "ChatCompletion.id" else [])
    assert change.uncovered == (change.where != "ChatCompletion.id")


def test_required_ness_methods_and_exceptions_are_compared() -> None:
    catalog = _catalog(["ChatCompletion.id", "APIStatusError.status_code"])
    old = _surface("1", {"id": {"type": "string"}}, [])
    new = _surface(
        "2",
        {"id": {"type": "string"}},
        ["id"],
        endpoints={"chat.completions.create": {"verb": "POST", "path": "/v2/chat", "params": ["model"]}},
        exceptions={"by_status": {"400": "UnprocessableEntityError"}, "classes": {}},
    )
    kinds = {c.kind: c for c in diff_surfaces(old, new, catalog).changes}
    assert kinds["required"].detail == "now required" and kinds["required"].features == ["chat.x"]
    assert kinds["method changed"].detail == "POST /chat/completions -> POST /v2/chat"
    assert kinds["method changed"].features == ["chat.x"]
    assert kinds["exception"].detail == "BadRequestError -> UnprocessableEntityError"


def test_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sdk", "diff", "2.54.0", "3.54.0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["old"] == "2.54.0" and report["summary"]["in_scope"] > 0
    assert main(["sdk", "diff", "0.0.1", "3.54.0"]) == 2
    assert "no surface '0.0.1'" in capsys.readouterr().err
    assert main(["sdk", "surface"]) == 0
    assert capsys.readouterr().out.startswith(f"openai {SDK_VERSION}\n")


def test_an_unknown_surface_is_a_clear_error() -> None:
    with pytest.raises(SurfaceError, match="shipped: 1.109.1"):
        Surface.load("9.9.9")
    assert fixture_path("3.54.0").exists()

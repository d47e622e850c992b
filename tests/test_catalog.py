"""The catalog is data; every ID has exactly one check and every check one ID."""

from __future__ import annotations

import copy
from typing import Any

import openai
import pytest
import yaml

from conformance.catalog import DEFAULT_CATALOG_PATH, CatalogError, in_run_order, load_catalog, parse_catalog
from conformance.registry import load_checks
from conformance.sdk import PINNED_VERSION, SDK_VERSION
from conformance.sdk.live import LIVE
from conformance.sdk.paths import TypeGraph, UnresolvedField, subtree, walk
from conformance.sdk.surface.model import (
    EXCEPTION_PREFIX,
    other_line_with,
    shipped_surface,
    shipped_versions,
    version_key,
)
from conformance.verdict import Level


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DEFAULT_CATALOG_PATH.read_text())


def test_catalog_has_the_first_cut_of_features() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 30
    areas = {feature.area for feature in catalog}
    assert {"models", "chat", "streaming", "errors", "embeddings"} <= areas


def test_every_catalog_id_has_a_check_and_every_check_a_catalog_id() -> None:
    catalog_ids = set(load_catalog().features)
    check_ids = set(load_checks())
    assert catalog_ids - check_ids == set(), "catalog features without a check"
    assert check_ids - catalog_ids == set(), "checks without a catalog feature"


def test_every_feature_is_complete() -> None:
    for feature in load_catalog():
        assert feature.title and feature.endpoint and len(feature.description) >= 10, feature.id
        assert isinstance(feature.level, Level)
        assert feature.sdk_fields, f"{feature.id} lists no sdk_fields"


# --- the catalog's field paths, on both backends (conformance.sdk.paths) -----------------------------

# every path the catalog writes: those features exercise, and those it excuses
CATALOG_PATHS = sorted({p for f in load_catalog() for p in f.sdk_fields} | set(load_catalog().not_covered))
# the installed SDK's classes (what `conformance coverage` reads), and the newest shipped surface
# (what pin-bump diffs read, whatever SDK line this session runs)
BACKENDS = ("installed", "newest shipped")


def backend(name: str) -> TypeGraph[Any]:
    if name == "installed":
        return LIVE
    newest = shipped_versions()[-1]
    surface = shipped_surface(newest)
    assert surface is not None and version_key(newest) >= version_key(PINNED_VERSION)
    return surface


@pytest.mark.parametrize("name", BACKENDS)
def test_every_catalog_path_resolves(name: str) -> None:
    graph, unresolved = backend(name), []
    for path in CATALOG_PATHS:
        try:
            walk(graph, path)
        except UnresolvedField as error:
            # the catalog follows the newest line: under an older one, a field it lacks is no error;
            # and it still excuses a field a newer line dropped, for the sessions of an older line
            if (graph is LIVE and other_line_with(path) is None) or (graph is not LIVE and not older_line_with(path)):
                unresolved.append(str(error))
    assert unresolved == []


def older_line_with(path: str) -> bool:
    """Whether a shipped line older than the newest has the path (a field the newest line dropped)."""
    for version in shipped_versions()[:-1]:
        surface = shipped_surface(version)
        try:
            if surface is not None:
                walk(surface, path)
                return True
        except UnresolvedField:
            continue
    return False


@pytest.mark.parametrize("name", BACKENDS)
def test_a_path_the_sdk_does_not_have_is_caught(name: str) -> None:
    graph = backend(name)
    for path in (
        "ChatCompletion.choices[].message.no_such_field",
        "ChatCompletion.id[]",  # not a list
        "ChatCompletion.choices.message",  # a list: the path must step into it
        "ChatCompletion.choices[]x",
        "NoSuchType.id",
    ):
        with pytest.raises(UnresolvedField):
            walk(graph, path)
    # a body field of the create() call, not of the params type, is one
    root = graph.root("ChatCompletionCreateParams")
    assert walk(graph, "ChatCompletionCreateParams.stream")[1] == [(root, "stream")]


def surface_key(tp: Any) -> str:
    """A class's key in a stored surface (conformance.sdk.surface.extract)."""
    if isinstance(tp, type) and issubclass(tp, openai.OpenAIError):
        return EXCEPTION_PREFIX + tp.__name__
    return f"{tp.__module__}.{tp.__name__}"


def test_both_backends_read_every_catalog_path_alike() -> None:
    """On the installed line's shipped surface, a path crosses the same fields, and excuses the same
    subtree, as on the installed classes."""
    shipped = shipped_surface(SDK_VERSION)
    if shipped is None:
        pytest.skip(f"no shipped surface for openai {SDK_VERSION}")
    for path in CATALOG_PATHS:
        try:
            _, crossed = walk(LIVE, path)
        except UnresolvedField:
            with pytest.raises(UnresolvedField):
                walk(shipped, path)
            continue
        assert [(surface_key(tp), name) for tp, name in crossed] == walk(shipped, path)[1], path
        assert {(surface_key(tp), name) for tp, name in subtree(LIVE, path)} == subtree(shipped, path), path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["features"].append(copy.deepcopy(d["features"][0])), "duplicate feature id"),
        (lambda d: d["features"][0].update(area="nowhere"), "unknown area"),
        (lambda d: d["features"][0].pop("description"), "description"),
        (lambda d: d["features"][0].update(level="mandatory"), "level"),
        (lambda d: d["features"][0].update(id="Chat Basic"), "id"),
        (lambda d: d["features"][0].update(observes="everything"), "observes"),
        # the Open Responses alias table names only features the catalog has, each test once, and
        # either features or why none (not both)
        (lambda d: d["open_responses"]["tests"][0]["features"].append("responses.nowhere"), "unknown features"),
        (lambda d: d["open_responses"]["tests"].append(copy.deepcopy(d["open_responses"]["tests"][0])), "duplicate"),
        (lambda d: d["open_responses"]["tests"][0].update(not_covered="no feature tests this"), "open_responses"),
        (lambda d: d["open_responses"]["tests"][0].pop("features"), "open_responses"),
    ],
)
def test_a_broken_catalog_fails_loudly(document: dict, mutate, message: str) -> None:
    broken = copy.deepcopy(document)
    mutate(broken)
    with pytest.raises(CatalogError, match=message):
        parse_catalog(broken)


def test_select_by_id_glob_prefix_and_area() -> None:
    catalog = load_catalog()
    assert [f.id for f in catalog.select(["chat.basic"])] == ["chat.basic"]
    assert {f.id for f in catalog.select(["chat.stream.*"])} == {
        f.id for f in catalog if f.id.startswith("chat.stream.")
    }
    assert catalog.select(["chat.stream"]) == catalog.select(["chat.stream.*"])
    assert {f.area for f in catalog.select(["embeddings"])} == {"embeddings"}
    assert catalog.select(["nothing.matches"]) == []


def test_run_wide_features_are_declared_and_run_after_the_rest() -> None:
    catalog = load_catalog()
    run_wide = [f.id for f in catalog if f.observes_run]
    # the features that judge what the whole run met (every 429, every redirect)
    assert run_wide == ["http.redirect.same_origin", "errors.rate_limit"]
    order = [f.id for f in in_run_order(catalog)]
    assert order[-len(run_wide) :] == run_wide
    rest = [f.id for f in catalog if not f.observes_run]
    assert order[: len(rest)] == rest  # everything else keeps catalog order
    # a selection is ordered the same way, whatever order it came in
    chosen = [catalog["errors.rate_limit"], catalog["chat.basic"], catalog["models.list"]]
    assert [f.id for f in in_run_order(chosen)] == ["chat.basic", "models.list", "errors.rate_limit"]


def test_the_packaged_catalog_is_the_top_level_one() -> None:
    """``conformance/matrix.yaml`` (what an installed package reads) links to ``matrix.yaml`` (what
    people edit): an editor that writes a copy in place of the link would let the two drift."""
    top_level = DEFAULT_CATALOG_PATH.parent.parent / "matrix.yaml"
    assert DEFAULT_CATALOG_PATH.is_symlink() and DEFAULT_CATALOG_PATH.resolve() == top_level.resolve()


def test_the_open_responses_table_maps_every_test_of_theirs() -> None:
    table = load_catalog().open_responses
    assert table is not None
    # the tests of their CLI (src/lib/compliance-tests.ts), optional ones included
    assert {test.id for test in table.tests} == {
        "basic-response",
        "streaming-response",
        "system-prompt",
        "tool-calling",
        "tool-calling-streaming",
        "image-input",
        "multi-turn",
        "function-call-roundtrip",
        "file-input",
        "previous-response-id",
        "file-search",
        "offline-web-search",
    }
    responses = {f.id for f in load_catalog() if f.area == "responses"}
    for test in table.tests:
        # every request of theirs is a POST /responses whose answer must be a valid Response
        assert not test.features or "responses.create.shape" in test.features, test.id
        assert set(test.features) <= responses, test.id
        assert bool(test.features) != bool(test.not_covered or test.not_applicable), test.id
    # hosted tools and OpenAI's own endpoints are not applicable to open implementations
    assert {t.id for t in table.tests if t.not_applicable} == {"file-search", "offline-web-search"}
    assert "POST /responses/compact" in table.not_applicable


def test_a_feature_knows_the_requests_its_endpoint_names() -> None:
    features = load_catalog().features
    cancel = features["batches.cancel"]  # POST /batches, POST /batches/{batch_id}/cancel, GET /batches/{batch_id}
    assert cancel.sends("POST", "/batches/batch_1/cancel") and cancel.sends("GET", "/batches/batch_1")
    assert not cancel.sends("POST", "/files") and not cancel.sends("DELETE", "/batches/batch_1")
    assert features["chat.basic"].sends("POST", "/chat/completions")  # the note "(stream)" etc. is no path
    assert not features["files.content"].sends("GET", "/files/file-1")
    # an endpoint that is not a plain list of requests tells nothing apart
    assert features["http.path.unknown_route"].sends("GET", "/anything")  # "GET, POST /{unknown}"

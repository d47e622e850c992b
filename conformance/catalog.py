"""The feature catalog: ``matrix.yaml`` turned into :class:`Feature` objects.

The catalog is data. Code binds to its IDs; reports, JUnit names and coverage are generated
from it. It is validated against ``schemas/matrix.schema.json`` on load, so a typo in the
YAML fails loudly instead of silently dropping a feature.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from conformance import capabilities
from conformance.verdict import Level

PACKAGE_DIR = Path(__file__).resolve().parent
# The catalog lives at the repository root (a contract); the package carries a link to it so
# that installed copies find it too.
DEFAULT_CATALOG_PATH = PACKAGE_DIR / "matrix.yaml"
SCHEMA_PATH = PACKAGE_DIR / "schemas" / "matrix.schema.json"


class CatalogError(ValueError):
    pass


@dataclass(frozen=True)
class Feature:
    id: str
    title: str
    area: str
    endpoint: str
    level: Level
    description: str
    sdk_fields: tuple[str, ...]
    needs: tuple[str, ...] = ()
    sdk_behaviour: tuple[str, ...] = ()
    seen_in: tuple[str, ...] = ()
    # "run": the verdict judges what the whole run met (every 429, every redirect), not only the
    # feature's own requests; such a feature runs after the rest (see in_run_order)
    observes: str | None = None
    # what the server is judged on (only that can be nonconformant), and what the model decides
    # (notes or model-quality figures, never a failure; "nothing" where the answer is deterministic)
    server_controls: str = ""
    model_chooses: str = ""

    @property
    def observes_run(self) -> bool:
        return self.observes == "run"

    def sends(self, method: str, path: str) -> bool:
        """Is ``method path`` (``GET /files/file-1/content``, relative to the base URL) one of the
        requests the feature's ``endpoint`` names (``GET /files/{file_id}/content``)? True where the
        endpoint is not a plain list of requests (``any``, ``GET, POST /{unknown}``): only a request
        known to be another one is told apart."""
        parsed = [_REQUEST.match(part.strip()) for part in self.endpoint.split(",")]
        named = [m for m in parsed if m is not None]
        if len(named) < len(parsed):
            return True
        return any(
            method.upper() == m["method"] and path_pattern(m["path"].rstrip("/")).match(path.rstrip("/") or "/")
            for m in named
        )


# "POST /batches/{batch_id}/cancel", optionally followed by a note: "POST /chat/completions (stream)"
_REQUEST = re.compile(r"^(?P<method>GET|POST|PUT|PATCH|DELETE) (?P<path>/\S*)")


def path_pattern(template: str, parameter: str = "[^/]+") -> re.Pattern[str]:
    """A path template (``/files/{file_id}/content``, the catalog's and OpenAI's spec's form) as a
    pattern of the whole path: each ``{name}`` matches ``parameter`` (one path segment by default)."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join(parameter if p.startswith("{") else re.escape(p) for p in parts) + "$")


def in_run_order(features: Iterable[Feature]) -> list[Feature]:
    """The order to run ``features`` in: as given (catalog order), except that run-wide ones come last.

    A run-wide feature (``observes: run``) judges what every other check met, so it must see
    them all, whichever front end runs the checks (the CLI's engine, the pytest plugin).
    Results are reported in catalog order regardless.
    """
    chosen = list(features)
    return [f for f in chosen if not f.observes_run] + [f for f in chosen if f.observes_run]


@dataclass(frozen=True)
class Troubleshooting:
    """A symptom users meet, its cause and the fix, and the features that detect the cause."""

    id: str
    symptom: str
    cause: str
    fix: str
    features: tuple[str, ...]
    vendor_docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocsRow:
    """One row of the vendor docs page: a verdict over the features it names."""

    id: str
    label: str
    features: tuple[str, ...]
    extensions: str | None = None  # list the vendor extension fields seen under this prefix
    consequence: str | None = None  # what users lose when the row is No or Broken


@dataclass(frozen=True)
class DocsSection:
    title: str
    column: str
    rows: tuple[DocsRow, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "column": self.column,
            "rows": [
                {"id": r.id, "label": r.label, "features": list(r.features)}
                | ({"extensions": r.extensions} if r.extensions else {})
                | ({"consequence": r.consequence} if r.consequence else {})
                for r in self.rows
            ],
        }


@dataclass(frozen=True)
class OpenResponsesTest:
    """A test of the Open Responses compliance suite and what answers for it here: the features that
    together cover it (passing them all implies passing it), or why none does."""

    id: str
    name: str
    checks: str  # what it sends and requires
    features: tuple[str, ...] = ()
    not_covered: str | None = None  # no feature tests what it sends
    not_applicable: str | None = None  # it needs what open implementations do not serve

    def to_json(self) -> dict[str, Any]:
        why = {"not_covered": self.not_covered, "not_applicable": self.not_applicable}
        return (
            {"id": self.id, "name": self.name, "checks": self.checks}
            | ({"features": list(self.features)} if self.features else {})
            | {key: value for key, value in why.items() if value}
        )


@dataclass(frozen=True)
class OpenResponses:
    """The Open Responses alias table (conformance/open_responses.py scores a run against it)."""

    source: str
    tests: tuple[OpenResponsesTest, ...]
    # OpenAI-only surfaces outside the score, and why: not applicable to open implementations
    not_applicable: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tests": [test.to_json() for test in self.tests],
            "not_applicable": dict(self.not_applicable),
        }


@dataclass(frozen=True)
class Area:
    id: str
    title: str


@dataclass(frozen=True)
class Catalog:
    areas: dict[str, Area]
    features: dict[str, Feature]
    not_covered: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    troubleshooting: tuple[Troubleshooting, ...] = ()
    docs: tuple[DocsSection, ...] = ()
    open_responses: OpenResponses | None = None

    def troubleshooting_for(self, feature_id: str) -> list[Troubleshooting]:
        return [entry for entry in self.troubleshooting if feature_id in entry.features]

    def __iter__(self) -> Iterator[Feature]:
        return iter(self.features.values())

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, feature_id: str) -> Feature:
        return self.features[self.aliases.get(feature_id, feature_id)]

    def select(self, patterns: list[str] | None) -> list[Feature]:
        """Features whose ID (or area) matches any glob pattern; all of them when none given."""
        if not patterns:
            return list(self.features.values())
        return [feature for feature in self.features.values() if any(_selects(feature, p) for p in patterns)]

    def unmatched(self, patterns: Iterable[str] | None, option: str = "--select") -> str | None:
        """One line naming every pattern that selects no feature, each with its likeliest meaning
        (``--select chat.basic chat.bsaic`` must not quietly run one feature); None when all match."""
        bad = [p for p in patterns or () if not any(_selects(feature, p) for feature in self.features.values())]
        if not bad:
            return None
        names = [*self.features, *self.areas]
        described = []
        for pattern in bad:
            guess = difflib.get_close_matches(pattern, names, n=1, cutoff=0.6)
            described.append(f"{pattern} (did you mean {guess[0]}?)" if guess else pattern)
        return f"no feature matches {option} {', '.join(described)}"


def _selects(feature: Feature, pattern: str) -> bool:
    """An ID or glob (``chat.stream.*``), an area (``errors``), or a bare prefix selecting a subtree
    (``chat.stream`` selects ``chat.stream.*``)."""
    return (
        fnmatch.fnmatchcase(feature.id, pattern)
        or feature.area == pattern
        or feature.id.startswith(pattern.rstrip(".") + ".")
    )


def _schema() -> dict[str, Any]:
    """The shipped schema, with the capabilities a feature may need taken from the capability table."""
    schema = json.loads(SCHEMA_PATH.read_text())
    _needs_items(schema)["enum"] = list(capabilities.NAMES)
    return schema


def _needs_items(node: Any) -> dict[str, Any]:
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and "needs" in node["properties"]:
            items: dict[str, Any] = node["properties"]["needs"]["items"]
            return items
        for value in node.values():
            with contextlib.suppress(LookupError):
                return _needs_items(value)
    raise LookupError("the catalog schema has no 'needs' property")


def parse_catalog(document: dict[str, Any]) -> Catalog:
    try:
        jsonschema.validate(document, _schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise CatalogError(f"matrix.yaml is invalid at {where or 'top level'}: {exc.message}") from None

    areas = {a["id"]: Area(a["id"], a["title"]) for a in document["areas"]}
    features: dict[str, Feature] = {}
    aliases: dict[str, str] = {}
    for entry in document["features"]:
        fid = entry["id"]
        if fid in features:
            raise CatalogError(f"duplicate feature id {fid!r} in matrix.yaml")
        if entry["area"] not in areas:
            raise CatalogError(f"feature {fid!r} names unknown area {entry['area']!r}")
        features[fid] = Feature(
            id=fid,
            title=entry["title"],
            area=entry["area"],
            endpoint=entry["endpoint"],
            level=Level(entry["level"]),
            description=_one_line(entry["description"]),
            sdk_fields=tuple(entry.get("sdk_fields", ())),
            needs=tuple(entry.get("needs", ())),
            sdk_behaviour=tuple(entry.get("sdk_behaviour", ())),
            seen_in=tuple(entry.get("seen_in", ())),
            observes=entry.get("observes"),
            server_controls=_one_line(entry.get("server_controls", "")),
            model_chooses=_one_line(entry.get("model_chooses", "")),
        )
        for alias in entry.get("aliases", ()):
            aliases[alias] = fid
    clash = set(aliases) & set(features)
    if clash:
        raise CatalogError(f"alias shadows a feature id: {sorted(clash)}")
    troubleshooting = tuple(
        Troubleshooting(
            id=entry["id"],
            symptom=_one_line(entry["symptom"]),
            cause=_one_line(entry["cause"]),
            fix=_one_line(entry["fix"]),
            features=tuple(entry["features"]),
            vendor_docs=tuple(entry.get("vendor_docs", ())),
        )
        for entry in document.get("troubleshooting") or ()
    )
    for entry in troubleshooting:
        unknown = [f for f in entry.features if f not in features]
        if unknown:
            raise CatalogError(f"troubleshooting entry {entry.id!r} names unknown features {unknown}")
    docs = tuple(
        DocsSection(
            section["title"],
            section["column"],
            tuple(
                DocsRow(row["id"], row["label"], tuple(row["features"]), row.get("extensions"), row.get("consequence"))
                for row in section["rows"]
            ),
        )
        for section in document.get("docs") or ()
    )
    row_ids = [row.id for section in docs for row in section.rows]
    if len(row_ids) != len(set(row_ids)):
        raise CatalogError("duplicate docs row id in matrix.yaml")
    for row in (row for section in docs for row in section.rows):
        unknown = [f for f in row.features if f not in features]
        if unknown:
            raise CatalogError(f"docs row {row.id!r} names unknown features {unknown}")
    open_responses = _open_responses(document.get("open_responses"), features)
    return Catalog(
        areas, features, document.get("not_covered", {}) or {}, aliases, troubleshooting, docs, open_responses
    )


def _open_responses(section: dict[str, Any] | None, features: dict[str, Feature]) -> OpenResponses | None:
    if section is None:
        return None
    tests = tuple(
        OpenResponsesTest(
            id=entry["id"],
            name=entry["name"],
            checks=_one_line(entry["checks"]),
            features=tuple(entry.get("features", ())),
            not_covered=_one_line(entry["not_covered"]) if entry.get("not_covered") else None,
            not_applicable=_one_line(entry["not_applicable"]) if entry.get("not_applicable") else None,
        )
        for entry in section["tests"]
    )
    ids = [test.id for test in tests]
    if len(ids) != len(set(ids)):
        raise CatalogError("duplicate open_responses test id in matrix.yaml")
    for test in tests:
        unknown = [f for f in test.features if f not in features]
        if unknown:
            raise CatalogError(f"open_responses test {test.id!r} names unknown features {unknown}")
    not_applicable = {surface: _one_line(why) for surface, why in (section.get("not_applicable") or {}).items()}
    return OpenResponses(section["source"], tests, not_applicable)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@lru_cache(maxsize=4)
def load_catalog(path: Path | None = None) -> Catalog:
    path = path or DEFAULT_CATALOG_PATH
    with open(path, encoding="utf-8") as handle:
        return parse_catalog(yaml.safe_load(handle))

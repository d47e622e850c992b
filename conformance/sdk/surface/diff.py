"""Two SDK surfaces compared, every change mapped to the catalog features it touches.

A change touches a feature when the field (or type, method, exception) it concerns is one the
feature's ``sdk_fields`` exercise, resolved on the surface where the change exists (the new one for
additions and changes, the old one for removals). A change in a field the catalog excuses under
``not_covered`` is marked excused; anything else in scope is covered by no feature, which is the
list a pin bump's reviewer has to decide about.

The scope is the catalog's part of the SDK: the types reachable from the catalog's root types, the
chat, completions, embeddings and models endpoints, and the exceptions. Everything else is counted,
and listed with ``everything=True``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.catalog import Catalog
from conformance.sdk.paths import UnresolvedField
from conformance.sdk.surface.model import EXCEPTION_PREFIX, FieldView, Pair, Surface
from conformance.sdk.types import PRESENCE_ROOTS

PRESENCE_EXCUSE = "the endpoint is probed for presence only: fields its check does not send or read are not exercised"
# Endpoint name prefixes in the catalog's scope (resource paths in the client's tree).
SCOPE_ENDPOINTS = (
    "chat.completions.",
    "completions.",
    "embeddings.",
    "models.",
    "responses.",
    "images.",
    "audio.",
    "moderations.",
    "batches.",
    "files.",
    "fine_tuning.jobs.",
    "beta.assistants.",
)
ENUM_LISTED = 12
TYPES_PREFIX = "openai.types."  # enum values listed in Markdown before "(+N more)"


@dataclass
class Change:
    kind: str  # type added | type removed | field added | field removed | type changed | required | enum
    #            | method added | method removed | method changed | exception
    where: str  # a readable place: a catalog path where one exists, else Type.field
    detail: str
    features: list[str] = field(default_factory=list)
    excused: str | None = None  # the not_covered reason, when the catalog excuses the field
    in_scope: bool = True

    @property
    def uncovered(self) -> bool:
        return self.in_scope and not self.features and self.excused is None


@dataclass
class SurfaceDiff:
    old: str
    new: str
    changes: list[Change]

    def in_scope(self) -> list[Change]:
        return [c for c in self.changes if c.in_scope]

    def outside(self) -> list[Change]:
        return [c for c in self.changes if not c.in_scope]

    def to_json(self) -> dict[str, Any]:
        scoped = self.in_scope()
        return {
            "old": self.old,
            "new": self.new,
            "summary": {
                "in_scope": len(scoped),
                "touching_features": sum(1 for c in scoped if c.features),
                "excused": sum(1 for c in scoped if c.excused is not None and not c.features),
                "uncovered": sum(1 for c in scoped if c.uncovered),
                "outside_scope": len(self.outside()),
            },
            "changes": [asdict(c) for c in self.changes],
        }


class _Coverage:
    """Which features (and which not_covered reasons) cover which fields, on one surface."""

    def __init__(self, surface: Surface, catalog: Catalog) -> None:
        self.by_pair: dict[Pair, set[str]] = {}
        self.by_type: dict[str, set[str]] = {}
        for feature in catalog:
            for path in feature.sdk_fields:
                try:
                    pairs = surface.covered(path)
                except UnresolvedField:
                    continue  # a field this SDK line does not have
                for pair in pairs:
                    self.by_pair.setdefault(pair, set()).add(feature.id)
                    self.by_type.setdefault(pair[0], set()).add(feature.id)
        self.excused: dict[Pair, str] = {}
        for path, reason in catalog.not_covered.items():
            try:
                pairs = surface.covered(path)
            except UnresolvedField:
                continue
            for pair in pairs:
                self.excused.setdefault(pair, reason)
        self.endpoints: dict[str, set[str]] = {}
        for feature in catalog:
            self.endpoints.setdefault(feature.endpoint, set()).add(feature.id)
        self.texts = {f.id: " ".join((f.title, f.description, *f.sdk_behaviour)) for f in catalog}
        self.surface = surface
        # the types each feature exercises on this surface (what a method it names must touch)
        self.types_of: dict[str, set[str]] = {}
        for type_key, ids in self.by_type.items():
            for feature_id in ids:
                self.types_of.setdefault(feature_id, set()).add(type_key)

    def features(self, key: str, name: str | None) -> list[str]:
        found = self.by_pair.get((key, name), set()) if name is not None else self.by_type.get(key, set())
        return sorted(found)

    def for_endpoint(self, entry: dict[str, Any] | None) -> set[str]:
        """Features whose endpoint is this method's request (none for a helper without one)."""
        if not entry or entry.get("helper"):
            return set()
        wanted = f"{entry['verb']} {entry['path']}"
        return {f for endpoint, ids in self.endpoints.items() if wanted in endpoint for f in ids}

    def naming(self, method: str) -> set[str]:
        """Features whose text names the method (``parse()``) and that exercise a type of its resource:
        its helpers' behaviour is theirs.

        A name alone says little (every resource has a ``create()``, ``list()``, ``parse()``): a mention
        counts when it is qualified with the method's own resource (``client.models.list()``, also
        said of an alias such as ``beta.chat.completions.parse``), or when it is bare (``parse()``) and
        the feature exercises a type the method's resource defines (:func:`resource_types`). So
        ``audio.voice_consents.create`` touches no chat feature, and ``responses.parse`` not the
        features of ``chat.completions.parse``.
        """
        resource, _, short = method.rpartition(".")
        pattern = re.compile(rf"(?<![A-Za-z0-9_])((?:[A-Za-z_][A-Za-z0-9_]*\.)*){re.escape(short)}\(")
        owned = resource_types(self.surface, resource)
        found = set()
        for feature_id, text in self.texts.items():
            for match in pattern.finditer(text):
                qualifier = match.group(1).rstrip(".").removeprefix("client").lstrip(".")
                if qualifier:
                    if resource == qualifier or resource.endswith("." + qualifier):
                        found.add(feature_id)
                elif self.types_of.get(feature_id, set()) & owned:
                    found.add(feature_id)
        return found


def resource_types(surface: Surface, resource: str) -> set[str]:
    """The types a resource of the client defines, as the SDK lays them out: in the package of its
    parent resource (``openai.types.audio`` for ``audio.voice_consents``; an alias such as
    ``beta.chat.completions`` uses ``openai.types.chat``), in modules named for the resource
    (``voice_consent``, ``voice_consent_create_params``, ``chat_completion_chunk``,
    ``parsed_chat_completion`` for ``chat.completions``)."""
    if not resource:
        return set()
    parent, _, last = resource.rpartition(".")
    stems = {last}
    if last.endswith("ies"):
        stems.add(last[:-3] + "y")
    if last.endswith("es"):
        stems.add(last[:-2])
    if last.endswith("s"):
        stems.add(last[:-1])
    module_pattern = re.compile(rf"(?:^|_)(?:{'|'.join(map(re.escape, sorted(stems)))})(?:_|$)")
    owned = set()
    for key in surface.types:
        if not key.startswith(TYPES_PREFIX):
            continue
        package, _, module = key.removeprefix(TYPES_PREFIX).rpartition(".")[0].rpartition(".")
        if package != parent and not (package and parent.endswith("." + package)):
            continue
        if module_pattern.search(module):
            owned.add(key)
    return owned


def diff_surfaces(old: Surface, new: Surface, catalog: Catalog) -> SurfaceDiff:
    sides = {"old": _Side(old, catalog), "new": _Side(new, catalog)}
    changes: list[Change] = []
    changes += _type_changes(sides["old"], sides["new"])
    changes += _endpoint_changes(old, new, {name: side.coverage for name, side in sides.items()})
    changes += _exception_changes(old, new, {name: side.coverage for name, side in sides.items()}, catalog)
    return SurfaceDiff(old.version, new.version, changes)


class _Side:
    """One surface with what the catalog covers on it and its scope (the types under the roots)."""

    def __init__(self, surface: Surface, catalog: Catalog) -> None:
        self.surface = surface
        self.coverage = _Coverage(surface, catalog)
        self.scope = surface.scope()
        self.presence = {surface.root(root) for root in PRESENCE_ROOTS}

    def change(self, kind: str, key: str, name: str | None, detail: str) -> Change:
        """A change that lives on this side: its place, features, excuse and scope read here."""
        if name is None:
            excuses = [
                self.coverage.excused[(key, n)] for n in self.surface.views(key) if (key, n) in self.coverage.excused
            ]
            excused = excuses[0] if excuses else None
        else:
            excused = self.coverage.excused.get((key, name))
        features = self.coverage.features(key, name)
        if excused is None and not features and key in self.presence:
            excused = PRESENCE_EXCUSE
        return Change(kind, self.surface.readable(key, name), detail, features, excused, key in self.scope)


def _type_changes(old: _Side, new: _Side) -> list[Change]:
    changes: list[Change] = []
    for key in sorted(set(old.surface.types) | set(new.surface.types)):
        if key not in old.surface.types:
            changes.append(new.change("type added", key, None, ""))
            continue
        if key not in new.surface.types:
            changes.append(old.change("type removed", key, None, ""))
            continue
        before, after = old.surface.views(key), new.surface.views(key)
        for name in sorted(set(before) | set(after)):
            change = _field_change(name, before.get(name), after.get(name))
            if change is not None:
                changes.append((old if name not in after else new).change(*change[:1], key, name, change[1]))
    return changes


def _field_change(name: str, before: FieldView | None, after: FieldView | None) -> tuple[str, str] | None:
    if before is None and after is not None:
        required = ", required" if after.required else ""
        values = f", one of {_listed(sorted(after.enum))}" if after.enum else ""
        return "field added", f"{after.label}{required}{values}"
    if after is None and before is not None:
        return "field removed", f"was {before.label}"
    assert before is not None and after is not None
    parts = []
    if before.label != after.label:
        parts.append(f"type {before.label} -> {after.label}")
    if before.required != after.required:
        parts.append("now required" if after.required else "now optional")
    added, removed = after.enum - before.enum, before.enum - after.enum
    if added or removed:
        parts.append(_enum_delta(added, removed))
    if not parts:
        return None
    kind = (
        "type changed" if before.label != after.label else ("required" if before.required != after.required else "enum")
    )
    return kind, "; ".join(parts)


def _enum_delta(added: frozenset[str], removed: frozenset[str]) -> str:
    parts = []
    if added:
        parts.append(f"values added {_listed(sorted(added))}")
    if removed:
        parts.append(f"values removed {_listed(sorted(removed))}")
    return ", ".join(parts)


def _listed(values: list[str]) -> str:
    shown = ", ".join(values[:ENUM_LISTED])
    more = len(values) - ENUM_LISTED
    return shown + (f" (+{more} more)" if more > 0 else "")


def _endpoint_changes(old: Surface, new: Surface, coverage: dict[str, _Coverage]) -> list[Change]:
    changes: list[Change] = []
    for name in sorted(set(old.endpoints) | set(new.endpoints)):
        in_scope = name.startswith(SCOPE_ENDPOINTS)
        before, after = old.endpoints.get(name), new.endpoints.get(name)
        named = coverage["old"].naming(name) | coverage["new"].naming(name)
        if before and after and bool(before.get("helper")) != bool(after.get("helper")):
            # still the same request underneath (a helper now wraps it): only the features naming it care
            touched = sorted(named)
        else:
            touched = sorted(coverage["old"].for_endpoint(before) | coverage["new"].for_endpoint(after) | named)
        if before is None and after is not None:
            changes.append(Change("method added", name, _describe_endpoint(after), touched, in_scope=in_scope))
            continue
        if after is None and before is not None:
            changes.append(Change("method removed", name, _describe_endpoint(before), touched, in_scope=in_scope))
            continue
        assert before is not None and after is not None
        request_changed = _describe_endpoint(before) != _describe_endpoint(after)
        parts = [f"{_describe_endpoint(before)} -> {_describe_endpoint(after)}"] if request_changed else []
        added = [p for p in after.get("params", ()) if p not in before.get("params", ())]
        removed = [p for p in before.get("params", ()) if p not in after.get("params", ())]
        if added:
            parts.append(f"parameters added: {', '.join(added)}")
        if removed:
            parts.append(f"parameters removed: {', '.join(removed)}")
        if not parts:
            continue
        if request_changed:
            changes.append(Change("method changed", name, "; ".join(parts), touched, in_scope=in_scope))
        else:
            # a new keyword parameter is a request field's change, reported (and mapped) with the field
            why = "parameters mirror the request type's fields, reported there"
            changes.append(Change("method changed", name, "; ".join(parts), [], why, in_scope))
    return changes


def _describe_endpoint(entry: dict[str, Any]) -> str:
    if entry.get("helper"):
        return "helper (no request of its own)"
    return f"{entry.get('verb')} {entry.get('path')}" + (" (paginated)" if entry.get("paginated") else "")


def _exception_changes(old: Surface, new: Surface, coverage: dict[str, _Coverage], catalog: Catalog) -> list[Change]:
    changes: list[Change] = []
    status_features = sorted(
        {f.id for f in catalog if any(p.startswith(("APIError", "APIStatusError")) for p in f.sdk_fields)}
    )
    before, after = old.exceptions["by_status"], new.exceptions["by_status"]
    for status in sorted(set(before) | set(after), key=int):
        if before.get(status) != after.get(status):
            changes.append(
                Change("exception", f"HTTP {status}", f"{before.get(status)} -> {after.get(status)}", status_features)
            )
    old_classes, new_classes = old.exceptions["classes"], new.exceptions["classes"]
    for name in sorted(set(old_classes) | set(new_classes)):
        key = EXCEPTION_PREFIX + name
        if name not in new_classes:
            changes.append(Change("exception", name, "class removed", coverage["old"].features(key, None)))
            continue
        if name not in old_classes:
            changes.append(Change("exception", name, f"class added ({', '.join(new_classes[name]['bases'])})"))
            continue
        if old_classes[name]["bases"] != new_classes[name]["bases"]:
            changes.append(
                Change(
                    "exception",
                    name,
                    f"bases {old_classes[name]['bases']} -> {new_classes[name]['bases']}",
                    coverage["new"].features(key, None),
                )
            )
        for attribute in sorted(set(old_classes[name]["attributes"]) ^ set(new_classes[name]["attributes"])):
            added = attribute in new_classes[name]["attributes"]
            side = "new" if added else "old"
            changes.append(
                Change(
                    "field added" if added else "field removed",
                    f"{name}.{attribute}",
                    "exception attribute",
                    coverage[side].features(key, attribute),
                )
            )
    return changes

"""A stored SDK surface, read back: its types and their fields, as a TypeGraph over JSON Schema.

The catalog's ``sdk_fields`` paths (``ChatCompletion.choices[].message.content``) resolve here
(:mod:`conformance.sdk.paths`) against a surface document instead of the installed SDK, so a diff
between two stored surfaces can name the features a change touches without either SDK installed.

Depends on :mod:`conformance.sdk.types` and :mod:`conformance.sdk.paths`; the installed SDK only
to extract a surface (``installed``) and to know which line is installed.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from conformance.sdk.paths import UnresolvedField, children, foreign_roots, reachable, root_fields, walk
from conformance.sdk.types import EXPORTED_FROM, PRESENCE_ROOTS, catalog_roots, locate

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "sdk"
EXCEPTION_PREFIX = "exception:"

Pair = tuple[str, str]  # (type key, field name)


class SurfaceError(LookupError):
    pass


@dataclass(frozen=True)
class FieldView:
    """What a diff compares about one field: a readable type, required-ness, enum values."""

    label: str
    required: bool
    enum: frozenset[str]


def fixture_path(version: str, directory: Path = FIXTURES_DIR) -> Path:
    return directory / f"openai-{version}.json.gz"


def shipped_versions(directory: Path = FIXTURES_DIR) -> list[str]:
    found = [p.name.removeprefix("openai-").removesuffix(".json.gz") for p in directory.glob("openai-*.json.gz")]
    return sorted(found, key=version_key)


def dumps(surface: dict[str, Any]) -> bytes:
    """Stable bytes: sorted keys, and a gzip header without a timestamp."""
    text = json.dumps(surface, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    return gzip.compress(text.encode(), mtime=0)


def load_document(spec: str, directory: Path = FIXTURES_DIR) -> dict[str, Any]:
    """A surface by version (a shipped snapshot), by file path, or ``installed`` (extracted now)."""
    if spec == "installed":
        from conformance.sdk.surface.extract import extract_surface

        return extract_surface()
    path = Path(spec)
    if not path.exists():
        path = fixture_path(spec, directory)
    if not path.exists():
        shipped = ", ".join(shipped_versions(directory)) or "none"
        raise SurfaceError(f"no surface {spec!r}: not a file, and no shipped snapshot (shipped: {shipped})")
    raw = path.read_bytes()
    return dict(json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw))


class Surface:
    """A surface document; as a :class:`~conformance.sdk.paths.TypeGraph`, a type is its key
    (``openai.types.chat.chat_completion.ChatCompletion``, ``exception:APIError``) and a field's
    node is its schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.version: str = document["sdk"]["version"]
        self.types: dict[str, Any] = document["types"]
        self.endpoints: dict[str, Any] = document["endpoints"]
        self.exceptions: dict[str, Any] = document["exceptions"]

    @classmethod
    def load(cls, spec: str, directory: Path = FIXTURES_DIR) -> Surface:
        return cls(load_document(spec, directory))

    # --- the TypeGraph -------------------------------------------------------------------------
    def root(self, name: str) -> str:
        located = locate(name)
        if located is None:
            return self._exported(name)
        module, attr = located
        if module == "openai":
            return EXCEPTION_PREFIX + attr
        return f"{module}.{attr}"

    def _exported(self, name: str) -> str:
        """A class the installed SDK does not export (an older line than this surface's): the one of
        that name defined right under a package the SDK exports its types from, searched in the
        same order as :func:`~conformance.sdk.types.locate`."""
        for package in EXPORTED_FROM:
            for key in self._by_name.get(name, ()):
                if key.rsplit(".", 2)[0] == package:
                    return key
        raise KeyError(name)

    @cached_property
    def _by_name(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for key in sorted(self.types):
            found.setdefault(key.rpartition(".")[2], []).append(key)
        return found

    def fields(self, key: str) -> dict[str, Any]:
        if key.startswith(EXCEPTION_PREFIX):
            return {name: None for name in self._attributes(key)}
        properties: dict[str, Any] = self.schema(key).get("properties") or {}
        return properties

    def members(self, node: Any) -> list[str]:
        """Type keys a schema node points at directly (through unions, not into arrays)."""
        if not isinstance(node, dict):
            return []
        if "$ref" in node:
            return [node["$ref"]]
        found = []
        for combinator in ("anyOf", "oneOf", "allOf"):
            for member in node.get(combinator, ()):
                found += self.members(member)
        return found

    def items(self, node: Any) -> list[str] | None:
        """Type keys of the array items a schema node holds (through unions); None if no array."""
        if not isinstance(node, dict):
            return None
        found = None
        if node.get("type") == "array":
            found = self.members(node["items"]) if isinstance(node.get("items"), dict) else []
        for combinator in ("anyOf", "oneOf", "allOf"):
            for member in node.get(combinator, ()):
                listed = self.items(member)
                if listed is not None:
                    found = (found or []) + listed
        return found

    def values(self, node: Any) -> list[str]:
        """Type keys of the values of the maps a schema node holds (through unions)."""
        if not isinstance(node, dict):
            return []
        found = self.members(node.get("additionalProperties"))
        for combinator in ("anyOf", "oneOf", "allOf"):
            for member in node.get(combinator, ()):
                found += self.values(member)
        return found

    def name(self, key: str) -> str:
        return short_name(key)

    def class_name(self, key: str) -> str:
        return key.removeprefix(EXCEPTION_PREFIX).rpartition(".")[2]

    # --- types and fields, as a diff compares them ---------------------------------------------
    def schema(self, key: str) -> dict[str, Any]:
        entry = self.types.get(key)
        return entry["schema"] if entry else {}

    def views(self, key: str) -> dict[str, FieldView]:
        if key.startswith(EXCEPTION_PREFIX):
            return {name: FieldView("attribute", True, frozenset()) for name in self._attributes(key)}
        schema = self.schema(key)
        required = set(schema.get("required", ()))
        return {
            name: FieldView(label(sub), name in required, frozenset(enum_values(sub)))
            for name, sub in (schema.get("properties") or {}).items()
        }

    def _attributes(self, key: str) -> list[str]:
        return list(self.exceptions["classes"].get(key.removeprefix(EXCEPTION_PREFIX), {}).get("attributes", []))

    def closure(self, keys: Iterable[str], stop: Collection[str] = ()) -> set[str]:
        """The types reachable from ``keys`` (themselves included), not entering those in ``stop``."""
        seen: set[str] = set()
        queue = deque(keys)
        while queue:
            key = queue.popleft()
            if key in seen or key not in self.types or key in stop:
                continue
            seen.add(key)
            queue.extend(child for node in self.fields(key).values() for _, child in children(self, node))
        return seen

    # --- catalog paths -------------------------------------------------------------------------
    def scope(self) -> set[str]:
        """The catalog's part of the types: everything under its deep roots, and the presence roots
        themselves."""
        deep = [
            self.root(r) for r, (module, _) in catalog_roots().items() if module != "openai" and r not in PRESENCE_ROOTS
        ]
        shallow = {self.root(r) for r in PRESENCE_ROOTS} & set(self.types)
        # a deep root that holds a presence root (a stream event holds a Response) does not pull in
        # what the presence root nests
        return self.closure(deep, stop=shallow) | shallow

    def covered(self, path: str) -> set[Pair]:
        """Every field a catalog path exercises: those it crosses and everything nested under the types
        it ends on (not under a list's items unless the path steps into them), short of another
        pinned root (:func:`~conformance.sdk.paths.foreign_roots`)."""
        end, crossed = walk(self, path)
        stop = foreign_roots(self, path.partition(".")[0])
        return set(crossed) | set(reachable(self, [(path, key) for key in end], stop))

    @cached_property
    def paths(self) -> dict[Pair, str]:
        """A readable path for every field reachable from the catalog's roots (the first one found)."""
        return root_fields(self, list(catalog_roots()))

    @cached_property
    def _shared_paths(self) -> set[str]:
        counts: dict[str, int] = {}
        for path in self.paths.values():
            counts[path] = counts.get(path, 0) + 1
        return {path for path, n in counts.items() if n > 1}

    def readable(self, key: str, field: str | None = None) -> str:
        """A catalog-style path where one reaches the field (the declaring type added when several
        union members share it), else ``Type (module).field``."""
        if field is not None and (key, field) in self.paths:
            path = self.paths[(key, field)]
            return f"{path} (in {key.rsplit('.', 1)[-1]})" if path in self._shared_paths else path
        name = short_name(key)
        return f"{name}.{field}" if field else name


def short_name(key: str) -> str:
    if key.startswith(EXCEPTION_PREFIX):
        return key.removeprefix(EXCEPTION_PREFIX)
    module, _, name = key.rpartition(".")
    return f"{name} ({module.removeprefix('openai.types.')})" if module else name


# --- schema nodes as readable labels --------------------------------------------------------------


def label(node: Any) -> str:
    """A short, stable type label: ``string | null``, ``array<ChatCompletionMessageToolCall>``, ``enum``."""
    if not isinstance(node, dict):
        return "any"
    if "$ref" in node:
        return node["$ref"].rsplit(".", 1)[-1]
    for combinator in ("anyOf", "oneOf"):
        if combinator in node:
            return " | ".join(sorted({label(member) for member in node[combinator]}))
    if "allOf" in node:
        return " & ".join(label(member) for member in node["allOf"])
    if "const" in node or "enum" in node:
        return "enum"
    kind = node.get("type")
    if kind == "array":
        return f"array<{label(node.get('items'))}>"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map<{label(node['additionalProperties'])}>"
    if isinstance(kind, list):
        return " | ".join(sorted(str(k) for k in kind))
    return str(kind or "any")


def enum_values(node: Any) -> set[str]:
    """The literal values a field accepts, through unions and arrays (not into referenced types)."""
    if not isinstance(node, dict) or "$ref" in node:
        return set()
    values: set[str] = set()
    if "const" in node:
        values.add(json.dumps(node["const"]))
    for value in node.get("enum") or ():
        values.add(json.dumps(value))
    for combinator in ("anyOf", "oneOf", "allOf"):
        for member in node.get(combinator, ()):
            values |= enum_values(member)
    if isinstance(node.get("items"), dict):
        values |= enum_values(node["items"])
    return values


@functools.cache
def shipped_surface(version: str) -> Surface | None:
    path = fixture_path(version)
    return Surface.load(str(path)) if path.exists() else None


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def newer_than_installed(path: str) -> str | None:
    """The newer shipped SDK line that has a catalog path the installed SDK lacks, if any.

    The catalog is written against the newest line; run under an older one (the SDK-line sessions,
    or a pin moved back), a field that line does not have yet is not a catalog error.
    """
    from conformance.sdk.client import SDK_VERSION

    for version in reversed(shipped_versions()):
        if version_key(version) <= version_key(SDK_VERSION):
            break
        if _resolves_in(version, path):
            return version
    return None


def _resolves_in(version: str, path: str) -> bool:
    """Whether a catalog path names a field of the shipped surface of ``version``."""
    surface = shipped_surface(version)
    try:
        if surface is not None:
            walk(surface, path)
            return True
    except UnresolvedField:
        pass
    return False


def other_line_with(path: str) -> str | None:
    """The shipped SDK line, other than the installed one, that has a catalog path the installed
    SDK lacks: a newer line (:func:`newer_than_installed`), else an older supported one, whose field
    a newer line dropped and the catalog still excuses for the sessions that run that line."""
    from conformance.sdk.client import SDK_VERSION

    newer = newer_than_installed(path)
    if newer is not None:
        return newer
    for version in shipped_versions():
        if version_key(version) >= version_key(SDK_VERSION):
            break
        if _resolves_in(version, path):
            return version
    return None

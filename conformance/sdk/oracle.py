"""The schema oracle: responses judged against JSON Schema derived from the pinned SDK's own models.

Deriving (rather than shipping) the schemas keeps them in step with the pin. The schema catches
what the SDK's lax parser lets through (``created: 1.7e9``, ``finish_reason: "eos"``) and, unlike
the strict parser, does not coerce (``"1700000000"`` stays a string and fails).

Depends on :mod:`conformance.sdk.types` (which type a short name is, and its schema) and jsonschema.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema

from conformance.openapi.published import most_specific
from conformance.sdk.types import schema_for

MAX_REPORTED = 8


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema_for(name))


def _path(error: jsonschema.ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(instance: Any, name: str) -> list[str]:
    """Problems of ``instance`` against the SDK type ``name``, as ``$.path: message`` lines."""
    problems: list[str] = []
    for error in sorted(_validator(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        leaf = most_specific(error)
        message = leaf.message if len(leaf.message) <= 200 else leaf.message[:199] + "…"
        line = f"{_path(leaf)}: {message}"
        if line not in problems:
            problems.append(line)
    if len(problems) > MAX_REPORTED:
        problems = problems[:MAX_REPORTED] + [f"... and {len(problems) - MAX_REPORTED} more schema errors"]
    return problems


def extension_fields(instance: Any, name: str) -> list[str]:
    """Paths of the fields in ``instance`` that the SDK type ``name`` does not declare, at any depth
    (``usage.cache_read_input_tokens``, ``choices[].message.reasoning_content``): vendor extensions,
    which the SDK keeps as extra attributes. Maps (``metadata``) are not extensions."""
    schema = schema_for(name)
    found: set[str] = set()
    _extensions(instance, schema, schema.get("$defs", {}), "", found)
    return sorted(found)


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
    return node


def _members(node: Any, defs: dict[str, Any]) -> list[dict[str, Any]]:
    node = _resolve(node, defs)
    if not isinstance(node, dict):
        return []
    union = node.get("anyOf") or node.get("oneOf")
    if isinstance(union, list):
        return [m for member in union for m in _members(member, defs)]
    return [node]


def _extensions(value: Any, node: Any, defs: dict[str, Any], path: str, found: set[str]) -> None:
    members = _members(node, defs)
    if isinstance(value, list):
        items = [m["items"] for m in members if m.get("type") == "array" and isinstance(m.get("items"), dict)]
        for item in value:
            for schema in items[:1]:
                _extensions(item, schema, defs, f"{path}[]", found)
        return
    if not isinstance(value, dict):
        return
    objects = [m for m in members if "properties" in m]
    if not objects:
        return  # a map, or a type the schema leaves open
    # in a union, judge against the member that declares most of the keys present
    best = max(objects, key=lambda m: sum(1 for key in value if key in m["properties"]))
    for key, sub in value.items():
        where = f"{path}.{key}" if path else key
        if key in best["properties"]:
            _extensions(sub, best["properties"][key], defs, where, found)
        else:
            found.add(where)

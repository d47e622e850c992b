"""JSON Schema for the mock: OpenAI's strict-mode rules, and deterministic valid instances.

The mock answers forced tool calls with arguments generated from the tool's ``parameters`` and
``json_schema`` requests with an instance of the schema, so behavioural checks can validate the
output exactly. Strict mode is validated the way OpenAI does (every object closes
``additionalProperties`` and requires all its properties), which is what the SDK's ``parse()``
helpers send.
"""

from __future__ import annotations

from typing import Any

from conformance.mock.content import VOCABULARY, fingerprint

STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def strict_schema_problems(schema: Any, where: str = "") -> list[str]:
    """Violations of OpenAI's strict structured-output rules, as OpenAI words them."""
    problems: list[str] = []
    if not isinstance(schema, dict):
        return [f"In context=({where}), schema must be an object"]
    if not where and schema.get("type") != "object" and "$ref" not in schema:
        problems.append("In context=(), schema must be a JSON Schema of 'type: \"object\"'")
    kinds = schema.get("type")
    if kinds == "object" or (isinstance(kinds, list) and "object" in kinds) or "properties" in schema:
        properties = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            problems.append(f"In context=({where}), 'additionalProperties' is required to be supplied and to be false")
        missing = [name for name in properties if name not in (schema.get("required") or [])]
        if missing:
            problems.append(
                f"In context=({where}), 'required' is required to be supplied and to be an array "
                f"including every key in properties. Missing '{missing[0]}'"
            )
        for name, sub in properties.items():
            problems += strict_schema_problems(sub, f"{where}, 'properties', '{name}'".lstrip(", "))
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            problems += strict_schema_problems(schema[key], f"{where}, '{key}'".lstrip(", "))
    for key in ("anyOf", "oneOf", "allOf"):
        for index, sub in enumerate(schema.get(key) or ()):
            problems += strict_schema_problems(sub, f"{where}, '{key}', {index}".lstrip(", "))
    for name, sub in (schema.get("$defs") or schema.get("definitions") or {}).items():
        problems += strict_schema_problems(sub, f"'$defs', '{name}'")
    return problems


class InstanceGenerator:
    """A deterministic, schema-valid instance: the same schema and seed give the same value."""

    def __init__(self, root: dict[str, Any], seed: bytes) -> None:
        self.root = root
        self.seed = seed
        self.counter = 0

    def _next(self) -> int:
        self.counter += 1
        return int.from_bytes(fingerprint([self.seed.hex(), self.counter])[:4], "big")

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            return self._resolve(target) if isinstance(target, dict) else {}
        return schema

    def instance(self, schema: Any) -> Any:
        if not isinstance(schema, dict):
            return None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][self._next() % len(schema["enum"])]
        for key in ("anyOf", "oneOf"):
            options = [o for o in schema.get(key) or () if isinstance(o, dict) and o.get("type") != "null"]
            if options:
                return self.instance(options[0])
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self._resolve(part) if isinstance(part, dict) else {})
            return self.instance(merged)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        handler = {
            "object": self._object,
            "array": self._array,
            "string": self._string,
            "integer": self._integer,
            "number": self._float,
            "boolean": lambda _: True,
            "null": lambda _: None,
        }.get(kind, self._string)
        return handler(schema)

    def _object(self, schema: dict[str, Any]) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = schema.get("required") or list(properties)
        return {name: self.instance(properties[name]) for name in properties if name in required}

    def _array(self, schema: dict[str, Any]) -> list[Any]:
        count = max(int(schema.get("minItems") or 1), 1)
        if schema.get("maxItems") is not None:
            count = min(count, int(schema["maxItems"]))
        return [self.instance(schema.get("items") or {"type": "string"}) for _ in range(count)]

    def _string(self, schema: dict[str, Any]) -> str:
        if schema.get("format") in STRING_FORMATS:
            return STRING_FORMATS[schema["format"]]
        word = VOCABULARY[self._next() % len(VOCABULARY)]
        minimum, maximum = int(schema.get("minLength") or 0), schema.get("maxLength")
        while len(word) < minimum:
            word += word
        return word[: int(maximum)] if maximum is not None else word

    def _bounds(self, schema: dict[str, Any], step: float) -> tuple[float, float]:
        low = schema.get("minimum")
        if low is None and "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + step
        high = schema.get("maximum")
        if high is None and "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - step
        low = 0 if low is None else low
        high = low + 10 if high is None else high
        return low, max(high, low)

    def _integer(self, schema: dict[str, Any]) -> int:
        low, high = self._bounds(schema, 1)
        return int(low) + self._next() % (int(high) - int(low) + 1)

    def _float(self, schema: dict[str, Any]) -> float:
        low, high = self._bounds(schema, 0.001)
        return round(low + (high - low) * (self._next() % 1000) / 1000, 3)

"""Request validation rules for the mock, answering exactly as OpenAI does (400, ``param`` set).

Each body field has a rule in a table; a field the pinned SDK knows but the table does not
is accepted as is, and a field nobody knows is rejected with ``unknown_parameter``. The chat
request (``mock/chat/request.py``) builds on these rules; the embeddings request is parsed here.
Depends on the mock's vocabulary, and on the pinned SDK's request types for the known fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance.mock.messages import (
    ErrorSpec,
    MockError,
    invalid_type,
    invalid_value,
    missing_parameter,
    out_of_range,
    unknown_parameter,
)

Rule = Callable[[str, Any], "ErrorSpec | None"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float))) and not isinstance(value, bool)


def integer(minimum: int | None = None, maximum: int | None = None) -> Rule:
    def rule(name: str, value: Any) -> ErrorSpec | None:
        if not _is_int(value):
            return invalid_type(name, "an integer", value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            return out_of_range(name, value, minimum=minimum, maximum=maximum, kind="integer")
        return None

    return rule


def number(minimum: float, maximum: float) -> Rule:
    def rule(name: str, value: Any) -> ErrorSpec | None:
        if not _is_number(value):
            return invalid_type(name, "a decimal", value)
        if value < minimum or value > maximum:
            return out_of_range(name, value, minimum=minimum, maximum=maximum, kind="decimal")
        return None

    return rule


def boolean(name: str, value: Any) -> ErrorSpec | None:
    return None if isinstance(value, bool) else invalid_type(name, "a boolean", value)


def string(name: str, value: Any) -> ErrorSpec | None:
    return None if isinstance(value, str) else invalid_type(name, "a string", value)


def one_of(*choices: str) -> Rule:
    def rule(name: str, value: Any) -> ErrorSpec | None:
        if not isinstance(value, str):
            return invalid_type(name, "a string", value)
        if value not in choices:
            listed = ", ".join(f"'{c}'" for c in choices)
            return invalid_value(name, f"Invalid value: '{value}'. Supported values are: {listed}.")
        return None

    return rule


def stop_rule(name: str, value: Any) -> ErrorSpec | None:
    if isinstance(value, str):
        return None
    if isinstance(value, list):
        if len(value) > 4:
            return invalid_value(
                name, f"Invalid '{name}': array too long. Expected at most 4 items.", "array_above_max_length"
            )
        for index, item in enumerate(value):
            if not isinstance(item, str):
                return invalid_type(f"{name}[{index}]", "a string", item)
        return None
    return invalid_type(name, "a string or array of strings", value)


def string_map(value_rule: Rule, max_keys: int = 16) -> Rule:
    def rule(name: str, value: Any) -> ErrorSpec | None:
        if not isinstance(value, dict):
            return invalid_type(name, "an object", value)
        if len(value) > max_keys:
            return invalid_value(name, f"Invalid '{name}': too many keys. Expected at most {max_keys}.")
        for key, item in value.items():
            problem = value_rule(f"{name}.{key}", item)
            if problem:
                return problem
        return None

    return rule


def object_rule(name: str, value: Any) -> ErrorSpec | None:
    return None if isinstance(value, dict) else invalid_type(name, "an object", value)


def array_rule(name: str, value: Any) -> ErrorSpec | None:
    return None if isinstance(value, list) else invalid_type(name, "an array", value)


EMBEDDING_RULES: dict[str, Rule] = {
    "model": string,
    "encoding_format": one_of("float", "base64"),
    "dimensions": integer(1),
    "user": string,
}


@cache
def sdk_body_fields(params_module: str, class_name: str) -> frozenset[str]:
    """Every body field the pinned SDK can send for this endpoint."""
    module = __import__(params_module, fromlist=[class_name])
    # __annotations__ of a TypedDict holds every key, inherited ones included, unevaluated.
    return frozenset(getattr(module, class_name).__annotations__) | {"stream"}


def check_fields(body: dict[str, Any], rules: dict[str, Rule], known: frozenset[str]) -> None:
    for name, value in body.items():
        rule = rules.get(name)
        if rule is None:
            if name not in known:
                raise MockError(unknown_parameter(name))
            continue
        if value is None and name not in ("model", "messages", "input"):
            continue  # an explicit null is "not given", as the SDK sends it
        problem = rule(name, value)
        if problem:
            raise MockError(problem)


@dataclass(frozen=True)
class EmbeddingRequest:
    raw: dict[str, Any]
    model: str
    inputs: list[str]
    encoding_format: str
    dimensions: int | None


def _embedding_inputs(value: Any) -> list[str]:
    """Normalise the four input forms to texts (token arrays become their ids as words)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            return list(value)
        if all(_is_int(v) for v in value):
            return [" ".join(map(str, value))]
        if all(isinstance(v, list) and v and all(_is_int(t) for t in v) for v in value):
            return [" ".join(map(str, v)) for v in value]
    if isinstance(value, list) and not value:
        raise MockError(
            invalid_value(
                "input", "Invalid 'input': empty array. Expected an array with minimum length 1.", "empty_array"
            )
        )
    raise MockError(
        invalid_type("input", "a string, array of strings, array of integers or array of integer arrays", value)
    )


def parse_embedding_request(body: Any) -> EmbeddingRequest:
    if not isinstance(body, dict):
        raise MockError(ErrorSpec(400, "The request body must be a JSON object.", "validation"))
    for required in ("model", "input"):
        if body.get(required) is None:
            raise MockError(missing_parameter(required))
    check_fields(
        body,
        EMBEDDING_RULES | {"input": lambda n, v: None},
        sdk_body_fields("openai.types.embedding_create_params", "EmbeddingCreateParams"),
    )
    inputs = _embedding_inputs(body["input"])
    if any(text == "" for text in inputs):
        raise MockError(invalid_value("input", "Invalid 'input': empty string. Expected a non-empty string."))
    return EmbeddingRequest(
        raw=body,
        model=body["model"],
        inputs=inputs,
        encoding_format=body.get("encoding_format") or "float",
        dimensions=body.get("dimensions"),
    )
